"""Memory worker: the peak memory of ONE training step (and of one inference pass) in a fresh process.

    python -m suite.bench.memory_worker JOB.json RESULT.json

JOB.json: {"spec": {...ModelSpec fields}, "batch": B, "seq_lens": [T, ...], "threads": n}. The worker sets its
thread count, builds the model and configures Adam once; then, for each T in increasing order, it runs one
untimed train step and inference at that T (allocator warm-up, lazy initialisation, tracing) and, for each of
train step and inference:

    malloc_trim(0)                             (freed heap memory goes back to the OS: VmRSS = live memory)
    rss_before = VmRSS                         (the process's resident size just before the call)
    reset VmHWM to VmRSS                       (write "5" to /proc/self/clear_refs, Linux >= 4.0)
    one call
    step_peak_mb = VmHWM - rss_before          (the extra memory the call itself needed at its peak)

so the figure excludes the framework's import size (Keras: ~700 MB before any model) and the model's
resident weights, and includes activations kept for the backward pass, gradients and temporaries. Where the
high-water mark cannot be reset (not Linux), the result says so and gives no figure.

One process per model, its T in turn: a point after a smaller T is measured exactly as a point after its own
warm-up call is (freed memory trimmed, the mark reset), and a process per (model, T) cost ~7 s of imports each
(torch, and torch._dynamo on the first optimizer call). RESULT.json: {"ok": true, "params": n, "points":
[{"seq_len", "train_step_peak_mb", "infer_peak_mb", "rss_mb"}, ...]}, or {"ok": false, "error", "points"
(those measured before the error)}.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def status_kb(field: str) -> int:
    """A 'kB' field of /proc/self/status (VmRSS, VmHWM)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Set VmHWM back to the current VmRSS (Linux clear_refs, value 5)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")


def release_free_memory() -> None:
    """Hand memory that earlier calls freed back to the OS (glibc malloc_trim), so VmRSS counts only live
    memory and the measured call's own allocations show in the high-water mark."""
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def peak_of(call) -> float:
    """MiB above the resident size before ``call`` at its peak."""
    release_free_memory()
    before = status_kb("VmRSS")
    reset_peak()
    call()
    return max(0, status_kb("VmHWM") - before) / 1024.0


def measure(job: dict, points: list) -> dict:
    """Measure every T of the job, appending each point to ``points`` as it is done."""
    from suite.bench.speed_worker import random_batch, to_native
    from suite.bench.threads import set_threads
    from suite.models import build_model
    from suite.spec import ModelSpec
    spec = ModelSpec(**job["spec"])
    set_threads(job.get("threads", 1), spec.framework)
    model = build_model(spec)
    model.configure_training(lr=1e-3, clip_norm=1.0)
    for seq_len in sorted(job["seq_lens"]):
        x, y = random_batch(spec, job["batch"], seq_len)
        xn, yn = to_native(x, spec.framework), to_native(y, spec.framework)
        model.train_step(xn, yn)                               # warm-up: lazy init, allocator pools, tracing
        model.predict_native(xn)
        points.append({"seq_len": seq_len, "train_step_peak_mb": peak_of(lambda: model.train_step(xn, yn)),
                       "infer_peak_mb": peak_of(lambda: model.predict_native(xn)),
                       "rss_mb": status_kb("VmRSS") / 1024.0})
        del x, y, xn, yn
    return {"params": int(model.num_params())}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m suite.bench.memory_worker JOB.json RESULT.json", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text())
    points: list = []
    try:
        result = {"ok": True, **measure(job, points), "points": points}
    except Exception as err:  # noqa: BLE001 -- reported as failed rows by the caller
        text = f"{type(err).__name__}: {err}".splitlines()
        result = {"ok": False, "error": (text[0] if text else type(err).__name__)[:500], "points": points}
    Path(argv[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
