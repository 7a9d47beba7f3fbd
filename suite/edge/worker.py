"""Latency and peak memory of ONE streaming step in a fresh process (``suite.edge.measure`` starts it).

    python -m suite.edge.worker JOB.json RESULT.json

JOB.json: {"kind": "onnxruntime" | "litert" | "torch" | "keras", "threads": int, "timer": {...},
"stream": path of an .npy (T, X) float32, "context": c, and either "exported" (an ExportedStep dict) for a
runtime or "spec" (a ModelSpec dict) + "weights" (an .npz of canonical weights) for a framework}.

1. Only what the kind needs is imported (numpy and onnxruntime / ai_edge_litert, or the framework with its
   thread count fixed first by ``suite.bench.threads.set_threads``), then ``idle_mb`` = VmRSS.
2. The session / interpreter / model is created, the first c tokens of the stream are fed through it,
   and one more step (token c, from the state at context c) is timed with ``suite.bench.timer.Timer``:
   every call gets the same input state (the step's new state is dropped), so the work per call is fixed.
3. ``peak_mb`` = VmHWM (the process's high-water mark) - ``idle_mb``: what the session and its steps added
   on top of the imported runtime (an upper bound where the import itself peaked higher than it settled).
RESULT.json: {"median_s", "iqr_s", "n", "number", "noisy", "idle_mb", "hwm_mb", "peak_mb", ...}.

Group mode, {"kind": "group", "threads", "timer", "jobs": [job, ...]} (jobs of one kind): every job's step is
set up as above in this one process and the steps are timed interleaved, one block of each in turn
(``suite.bench.timer.measure_interleaved``), so their latencies are compared at the same moments of the
machine; RESULT.json: {"results": [{"median_s", "iqr_s", "n", "number", "noisy", "samples_s"} or {"error"}, ...]} in job
order (no memory figures: the sessions share the process).
"""
from __future__ import annotations

import json
import sys

import numpy as np


def _status_mb(key: str) -> float | None:
    """VmRSS / VmHWM of this process from /proc/self/status in MiB (None off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _runtime_step(job: dict, threads: int):
    """(step(x, state), state at context c, x_c, extra) for an exported file."""
    from suite.edge.runtime import ExportedStep, open_runner
    import_runtime(job["kind"])
    idle = _status_mb("VmRSS")
    xs = np.load(job["stream"])
    runner = open_runner(ExportedStep.from_dict(job["exported"]), threads)
    state = runner.init_state()
    for x_t in xs[:job["context"]]:
        _, state = runner.run(x_t[None, :], state)
    extra = {"runtime_ops": runner.op_names()} if hasattr(runner, "op_names") else {}
    return runner.run, state, np.ascontiguousarray(xs[job["context"]][None, :]), idle, extra


def import_runtime(kind: str) -> None:
    if kind == "onnxruntime":
        import onnxruntime  # noqa: F401
    else:
        import ai_edge_litert.interpreter  # noqa: F401


def _framework_step(job: dict, threads: int):
    """(model.step, state at context c, x_c, idle, extra) for a torch / Keras model with given weights."""
    from suite.bench.speed_worker import to_native
    from suite.bench.threads import set_threads
    framework = job["kind"]
    applied = set_threads(threads, framework)
    from suite.models import build_model, model_class
    from suite.spec import ModelSpec
    spec = ModelSpec(**job["spec"])
    model_class(spec.arch, spec.framework)          # the model's module (and Keras) imported before 'idle'
    idle = _status_mb("VmRSS")
    model = build_model(spec)
    with np.load(job["weights"]) as w:
        model.set_weights({k: w[k] for k in w.files})
    xs = np.load(job["stream"])
    state = model.init_state(1)
    for x_t in xs[:job["context"]]:
        _, state = model.step(to_native(x_t[None, :], framework), state)
    x = to_native(np.ascontiguousarray(xs[job["context"]][None, :]), framework)
    return model.step, state, x, idle, {"threads_applied": applied, "mode": model.execution_path().get("mode")}


def measure_group(group: dict) -> dict:
    """Group mode (module docstring): the jobs' steps timed interleaved in this process."""
    from suite.bench.timer import Timer, measure_interleaved
    threads = int(group.get("threads", 1))
    timers, results = {}, {}
    for i, job in enumerate(group["jobs"]):
        try:
            make = _runtime_step if job["kind"] in ("onnxruntime", "litert") else _framework_step
            step, state, x, _, _ = make({**job, "context": group.get("context", job.get("context"))}, threads)
            timers[i] = Timer(lambda step=step, x=x, state=state: step(x, state), label=job["kind"], threads=threads)
        except Exception as err:  # noqa: BLE001 -- this job only
            results[i] = {"error": f"{type(err).__name__}: {err}".splitlines()[0][:300]}
    for i, m in measure_interleaved(timers, **group.get("timer", {})).items():
        results[i] = ({"error": f"{type(m).__name__}: {m}".splitlines()[0][:300]} if isinstance(m, Exception) else
                      {"median_s": m.median, "iqr_s": m.iqr, "n": m.n, "number": m.number, "noisy": m.noisy,
                       "samples_s": m.samples})
    return {"results": [results[i] for i in range(len(group["jobs"]))]}


def measure(job: dict) -> dict:
    from suite.bench.timer import Timer
    threads = int(job.get("threads", 1))
    make = _runtime_step if job["kind"] in ("onnxruntime", "litert") else _framework_step
    step, state, x, idle, extra = make(job, threads)
    m = Timer(lambda: step(x, state), label=job["kind"], threads=threads).measure(**job.get("timer", {}))
    hwm = _status_mb("VmHWM")
    return {"median_s": m.median, "iqr_s": m.iqr, "n": m.n, "number": m.number, "noisy": m.noisy,
            "idle_mb": idle, "hwm_mb": hwm,
            "peak_mb": None if hwm is None or idle is None else max(hwm - idle, 0.0), **extra}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m suite.edge.worker JOB.json RESULT.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    result = measure_group(job) if job["kind"] == "group" else measure(job)
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump(result, f, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
