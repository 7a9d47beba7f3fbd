"""Speed worker: measures the jobs of ONE framework in a fresh process (``suite.bench.speed`` starts it).

    python -m suite.bench.speed_worker JOBS.json RESULTS.jsonl

JOBS.json: {"framework": str, "threads": int, "denormals": "flush" | "keep", "device": "cpu" | "cuda",
"timer": {...}, "jobs": [{"job_id", "spec", "batch", "seq_len", "contexts", "infer", "guard"}]}. Before the framework's
first op the floating-point policy is applied (``suite.bench.fp_mode``: thread pools created later
inherit it) and the thread count fixed (``set_threads``). RESULTS.jsonl gets one JSON line for the
worker (versions, threads, the observed floating-point mode, matmul peak, RSS after imports) and then
one line per job as soon as it finishes, so a crash loses only the job it hit. Only plain numbers and
strings cross the process boundary, never tensors.

device 'cuda' (torch only; NumPy and Keras stay on the CPU and say so in their path): the default
device is set to CUDA before the model is built, inputs are copied there once outside the clock, the
timer's sync hook is ``torch.cuda.synchronize``, and the path records the device and whether the
recurrent kernels dispatch to cuDNN (``cudnn``: cuDNN available and enabled, the layer eligible).

Per job: build the model, ``configure_training(lr=1e-3, clip_norm=1.0)``, then time
    train_step      model.train_step(x, y) on one fixed random batch (forward + backward + Adam)
    infer           model.predict_native(x) on the whole (B, T, X) batch
    step@c          batch 1: init_state, c steps to reach context c, then ONE more step is timed.
                    Before every timed call the state is restored to a pristine copy of the state
                    at context c (outside the clock), so the Transformer's cache, which grows by
                    one position per step, stays at c; each sample is then a single call.
A failure in any of these becomes an error entry for that metric; the next one goes on.
"""
from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from typing import Any

import numpy as np

from suite.bench.fp_mode import apply_policy, probe
from suite.bench.threads import set_threads
from suite.bench.timer import Measurement, MeasurementAborted, Timer, load_average

LR, CLIP_NORM = 1e-3, 1.0
STEP_SAMPLES = 50            # one call per sample for streaming steps: take more of them


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    Linux: VmHWM of /proc/self/status (the high-water mark of this process image). Not ru_maxrss:
    that survives fork + exec, so a worker started by a 800 MB parent (a notebook kernel with torch and
    TensorFlow loaded) would report the parent's size. Elsewhere ru_maxrss is the fallback."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def one_line_error(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip().splitlines()
    return (text[0] if text else type(err).__name__)[:500]


# --- data ------------------------------------------------------------------------------------
def random_batch(spec, batch: int, seq_len: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x (B, T, X) standard normal; y shaped and typed for the spec's head and output."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, seq_len, spec.input_size)).astype(spec.dtype)
    lead = (batch, seq_len) if spec.output == "sequence" else (batch,)
    if spec.head == "classes":
        y = rng.integers(0, spec.output_size, size=lead).astype(np.int64)
    elif spec.head == "multilabel":
        y = (rng.random(lead + (spec.output_size,)) < 0.5).astype(spec.dtype)
    else:
        y = rng.standard_normal(lead + (spec.output_size,)).astype(spec.dtype)
    return x, y


def to_native(array: np.ndarray, framework: str, device: str = "cpu") -> Any:
    """The framework's own tensor (converted once, outside the clock, on ``device``); NumPy stays NumPy."""
    if framework == "torch":
        import torch
        return torch.from_numpy(np.ascontiguousarray(array)).to(device)
    if framework == "keras":
        import tensorflow as tf
        return tf.convert_to_tensor(array)
    return array


def framework_sync(framework: str, device: str) -> Any:
    """The sync hook for the timer: CUDA synchronize for torch on a GPU, else None (no-op)."""
    if framework == "torch" and str(device).startswith("cuda"):
        import torch
        return torch.cuda.synchronize
    return None


def framework_version(framework: str) -> str:
    if framework == "torch":
        import torch
        return f"torch {torch.__version__}"
    if framework == "keras":
        import keras
        import tensorflow as tf
        return f"keras {keras.__version__} / tensorflow {tf.__version__}"
    return f"numpy {np.__version__}"


def clone_state(state: Any) -> Any:
    """A copy of a streaming state that a step cannot alter: containers recursed, arrays and
    torch tensors copied; immutable tensors (TensorFlow) returned as they are."""
    if isinstance(state, (list, tuple)):
        return type(state)(clone_state(s) for s in state)
    if isinstance(state, dict):
        return {k: clone_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return state.copy()
    if hasattr(state, "clone") and callable(state.clone):       # torch.Tensor
        return state.clone()
    return state


# --- measurements ----------------------------------------------------------------------------
def oversubscription_guard(guard: dict | None, name: str, min_samples: int):
    """``abort_if`` for the timer: give up on this thread count when one call takes more than
    guard['factor'] x the same job's time at the fewest threads (measured just before in this round) AND
    the measurement would last more than guard['budget_s'] ((min_samples + 2) calls): the other processes
    on the machine then hold the cores, and the figure would measure them, for minutes."""
    reference = ((guard or {}).get("reference_s") or {}).get(name)
    if not reference:
        return None

    def abort_if(per_call: float) -> str | None:
        if per_call > guard["factor"] * reference and per_call * (min_samples + 2) > guard["budget_s"]:
            load = load_average()
            return (f"oversubscribed: at {guard['threads']} threads one call took {per_call / reference:.0f}x the "
                    f"time at {guard['fewest']} ({per_call * 1e3:.0f} vs {reference * 1e3:.0f} ms) with load "
                    f"average {load if load is None else round(load, 1)}: other processes hold the cores")
        return None
    return abort_if


def timed(name: str, context: int | None, make_timer, timer_opts: dict, guard: dict | None = None) -> dict:
    """Run one measurement; any exception becomes {'error': ...} for this metric only (an oversubscribed
    thread count {'error': ..., 'skipped': True})."""
    entry = {"metric": name, "context": context}
    try:
        abort_if = oversubscription_guard(guard, name, timer_opts.get("min_samples", 3))
        m: Measurement = make_timer().measure(**timer_opts, abort_if=abort_if)
        entry["measurement"] = m.to_dict()
    except MeasurementAborted as err:
        entry["error"], entry["skipped"] = str(err), True
    except Exception as err:  # noqa: BLE001 -- recorded as a failed row, the worker goes on
        traceback.print_exc(file=sys.stderr)
        entry["error"] = one_line_error(err)
    return entry


def step_timer(model, spec, context: int, sync, device: str = "cpu") -> Timer:
    """Timer of one streaming step at context ``context`` (batch 1), state restored each call."""
    xs, _ = random_batch(spec, 1, context + 1, seed=1)
    framework = spec.framework
    state = model.init_state(1)
    for t in range(context):
        _, state = model.step(to_native(xs[:, t], framework, device), state)
    pristine, x_next = state, to_native(xs[:, context], framework, device)
    holder = {}

    def restore():
        holder["state"] = clone_state(pristine)

    return Timer(lambda: model.step(x_next, holder["state"]), setup_each=restore, sync=sync,
                 label=f"{spec.name} step@{context}")


def model_device(framework: str, device: str) -> str:
    """Where this framework's model runs: 'cuda' for torch when asked (and present), else 'cpu'."""
    if framework != "torch" or device == "cpu":
        return "cpu"
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r}: torch {torch.__version__} sees no CUDA device")
    return device


def build_on_device(spec, device: str):
    """The model, built with its parameters on ``device`` (torch's default device while building, so
    tensors the model makes later, e.g. positions and masks, land there too)."""
    from suite.models import build_model
    if device == "cpu":
        return build_model(spec)
    import torch
    torch.set_default_device(device)
    model = build_model(spec)
    model.net.to(device)
    return model


def execution_path(model, framework: str, device: str) -> dict:
    """The model's own path, with the device it really runs on and, on CUDA, the cuDNN dispatch."""
    path = {k: _plain(v) for k, v in model.execution_path().items()}
    if framework == "torch" and device != "cpu":
        import torch
        path["device"] = str(next(model.net.parameters()).device)
        path["cudnn"] = bool(torch.backends.cudnn.is_available() and torch.backends.cudnn.enabled
                             and path.get("cudnn_eligible"))
        path["cudnn_version"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        path["gpu"] = torch.cuda.get_device_name()
    return path


def run_job(job: dict, timer_opts: dict, device: str = "cpu") -> dict:
    """Build, configure and time one model; returns a JSON-able dict (with the floating-point mode
    observed after the job)."""
    from suite.spec import ModelSpec
    out: dict[str, Any] = {"job_id": job["job_id"], "metrics": [], "error": None}
    start = time.perf_counter()
    try:
        spec = ModelSpec(**job["spec"])
        device = model_device(spec.framework, device)
        model = build_on_device(spec, device)
        model.configure_training(lr=LR, clip_norm=CLIP_NORM)
        out["params"] = int(model.num_params())
        out["path"] = execution_path(model, spec.framework, device)
    except Exception as err:  # noqa: BLE001 -- a failed row, not a failed run
        traceback.print_exc(file=sys.stderr)
        out["error"] = one_line_error(err)
        return out
    out["metrics"] = measure_model(model, spec, job, timer_opts, device)
    out["fp_mode"] = probe(spec.framework)
    out["peak_rss_mb"] = peak_rss_mb()
    out["wall_s"] = time.perf_counter() - start
    return out


def measure_model(model, spec, job: dict, timer_opts: dict, device: str = "cpu") -> list[dict]:
    fw, B, T = spec.framework, job["batch"], job["seq_len"]
    sync = framework_sync(fw, device)
    x, y = random_batch(spec, B, T)
    xn, yn = to_native(x, fw, device), to_native(y, fw, device)
    guard = job.get("guard")
    entries = [timed("train_step", None, lambda: Timer(lambda: model.train_step(xn, yn), sync=sync,
                                                       label=f"{spec.name} train"), timer_opts, guard)]
    if job.get("infer", True):
        entries.append(timed("infer", None, lambda: Timer(lambda: model.predict_native(xn), sync=sync,
                                                          label=f"{spec.name} infer"), timer_opts, guard))
    step_opts = {**timer_opts, "n_samples": max(timer_opts.get("n_samples", 10), STEP_SAMPLES)}
    for c in job.get("contexts", []):
        entries.append(timed("step", c, lambda c=c: step_timer(model, spec, c, sync, device), step_opts))
    return entries


def _plain(value):
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)


# --- main --------------------------------------------------------------------------------------
def worker_header(framework: str, threads: int, peak_size: int, denormals: str = "flush",
                  device: str = "cpu") -> dict:
    """Floating-point policy and threads first (before any op), then the mode observed in the framework's
    threads, versions, RSS after imports, and the matmul peak."""
    header: dict[str, Any] = {"kind": "worker", "framework": framework, "fp_policy": denormals}
    apply_policy(denormals, framework)
    header["threads_applied"] = set_threads(threads, framework)
    header["fp_mode"] = probe(framework)
    header["framework_version"] = framework_version(framework)
    header["import_rss_mb"] = peak_rss_mb()
    try:
        from suite.bench.peak import matmul_gflops_by_path
        header["peak_by_path"] = matmul_gflops_by_path(threads, framework, size=peak_size,
                                                       device=model_device(framework, device))
        header["peak_gflops"] = max(header["peak_by_path"].values())
    except Exception as err:  # noqa: BLE001 -- the times are still valid without a peak
        header["peak_gflops"], header["peak_error"] = None, one_line_error(err)
    return header


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m suite.bench.speed_worker JOBS.json RESULTS.jsonl", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        cfg = json.load(f)
    with open(argv[1], "a", encoding="utf-8") as out:
        header = worker_header(cfg["framework"], cfg["threads"], cfg.get("peak_size", 1024),
                               cfg.get("denormals", "flush"), cfg.get("device", "cpu"))
        out.write(json.dumps(header) + "\n")
        out.flush()
        for job in cfg["jobs"]:
            result = run_job(job, cfg.get("timer", {}), cfg.get("device", "cpu"))
            out.write(json.dumps({"kind": "job", **result}) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
