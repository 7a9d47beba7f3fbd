"""Speed worker: measures the jobs of ONE framework in a fresh process (``suite.bench.speed`` starts it).

    python -m suite.bench.speed_worker JOBS.json RESULTS.jsonl

JOBS.json: {"framework": str, "threads": int, "denormals": "flush" | "keep", "device": "cpu" | "cuda",
"timer": {...}, "jobs": [{"job_id", "spec", "batch", "seq_len", "contexts", "infer", "guard"}]}. Before the framework's
first op the floating-point policy is applied (``suite.bench.fp_mode``: thread pools created later
inherit it) and the thread count fixed (``set_threads``). RESULTS.jsonl gets one JSON line for the
worker (versions, threads, the observed floating-point mode, matmul peak, RSS after imports) and then
one line per job as soon as its group finishes, so a crash loses only the group it hit. Only plain numbers and
strings cross the process boundary, never tensors.

device 'cuda' (torch only; NumPy and Keras stay on the CPU and say so in their path): the default
device is set to CUDA before the model is built, inputs are copied there once outside the clock, the
timer's sync hook is ``torch.cuda.synchronize``, and the path records the device and whether the
recurrent kernels dispatch to cuDNN (``cudnn``: cuDNN available and enabled, the layer eligible).

The jobs that share a shape (B, T) form a group (``shape_groups``): their models are built side by side
(``configure_training(lr=1e-3, clip_norm=1.0)``) and each metric is timed for all of them interleaved,
one block of each model in turn (``suite.bench.timer.measure_interleaved``), so a GRU/LSTM ratio compares
times taken in the same moments of a shared machine. The metrics, in this order:
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
from suite.bench.timer import MeasurementAborted, Timer, load_average, measure_interleaved

LR, CLIP_NORM = 1e-3, 1.0
STEP_SAMPLES = 50            # one call per sample for streaming steps: take more of them
STEP_BURST = 10              # ... 10 in a row per model when interleaved, so each model's calls stay warm


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
    """One measurement of one statement (``timed_together`` with a single timer)."""
    return timed_together(name, context, {0: make_timer}, timer_opts, {0: guard})[0]


def timed_together(name: str, context: int | None, makers: dict, timer_opts: dict,
                   guards: dict | None = None) -> dict:
    """{key: entry}: the timers ``makers[key]()`` measured interleaved (``suite.bench.timer.measure_interleaved``)
    for the metric ``name``; any exception becomes {'error': ...} for its key only (an oversubscribed thread
    count {'error': ..., 'skipped': True})."""
    entries, timers, aborts = {}, {}, {}
    for key, make_timer in makers.items():
        entries[key] = {"metric": name, "context": context}
        try:
            timers[key] = make_timer()
        except Exception as err:  # noqa: BLE001 -- recorded as a failed row, the worker goes on
            traceback.print_exc(file=sys.stderr)
            entries[key]["error"] = one_line_error(err)
            continue
        aborts[key] = oversubscription_guard((guards or {}).get(key), name, timer_opts.get("min_samples", 3))
    opts = {k: v for k, v in timer_opts.items() if k in ("n_samples", "min_sample_s", "max_time_s", "min_samples",
                                                          "retakes", "burst")}
    measured = measure_interleaved(timers, **opts, abort_if={k: a for k, a in aborts.items() if a}) if timers else {}
    for key, result in measured.items():
        if isinstance(result, MeasurementAborted):
            entries[key]["error"], entries[key]["skipped"] = str(result), True
        elif isinstance(result, Exception):
            print(f"{name} of job {key}: {one_line_error(result)}", file=sys.stderr)
            entries[key]["error"] = one_line_error(result)
        else:
            entries[key]["measurement"] = result.to_dict()
    return entries


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


def build_job(job: dict, device: str = "cpu") -> dict:
    """Build and configure one job's model: {'out': its result line so far, 'model', 'spec', 'device'}; on a
    failure 'model' is None and the line carries the error."""
    from suite.spec import ModelSpec
    out: dict[str, Any] = {"job_id": job["job_id"], "metrics": [], "error": None}
    built = {"out": out, "model": None, "job": job, "start": time.perf_counter()}
    try:
        spec = ModelSpec(**job["spec"])
        built["device"] = model_device(spec.framework, device)
        built["spec"], built["model"] = spec, build_on_device(spec, built["device"])
        built["model"].configure_training(lr=LR, clip_norm=CLIP_NORM)
        out["params"] = int(built["model"].num_params())
        out["path"] = execution_path(built["model"], spec.framework, built["device"])
    except Exception as err:  # noqa: BLE001 -- a failed row, not a failed run
        traceback.print_exc(file=sys.stderr)
        built["model"], out["error"] = None, one_line_error(err)
    return built


def run_group(jobs: list[dict], timer_opts: dict, device: str = "cpu") -> list[dict]:
    """Build the models of jobs that share one shape (B, T) and time them interleaved, metric by metric:
    the train step of every model, then inference, then the streaming step at each context. Returns one
    result line per job (with the floating-point mode observed after the group and the worker's peak RSS)."""
    built = [build_job(job, device) for job in jobs]
    ready = [b for b in built if b["model"] is not None]
    for b in ready:
        spec, job = b["spec"], b["job"]
        x, y = random_batch(spec, job["batch"], job["seq_len"])
        b["x"], b["y"] = to_native(x, spec.framework, b["device"]), to_native(y, spec.framework, b["device"])
        b["sync"] = framework_sync(spec.framework, b["device"])
    guards = {b["job"]["job_id"]: b["job"].get("guard") for b in ready}

    def train_timer(b):
        return lambda: Timer(lambda: b["model"].train_step(b["x"], b["y"]), sync=b["sync"],
                             label=f"{b['spec'].name} train")

    def infer_timer(b):
        return lambda: Timer(lambda: b["model"].predict_native(b["x"]), sync=b["sync"],
                             label=f"{b['spec'].name} infer")

    def step_maker(b, c):
        return lambda: step_timer(b["model"], b["spec"], c, b["sync"], b["device"])

    plan = [("train_step", None, {b["job"]["job_id"]: train_timer(b) for b in ready}, timer_opts)]
    plan.append(("infer", None, {b["job"]["job_id"]: infer_timer(b) for b in ready if b["job"].get("infer", True)},
                 timer_opts))
    step_opts = {**timer_opts, "n_samples": max(timer_opts.get("n_samples", 10), STEP_SAMPLES), "burst": STEP_BURST}
    contexts = sorted({c for b in ready for c in b["job"].get("contexts", [])})
    for c in contexts:
        plan.append(("step", c, {b["job"]["job_id"]: step_maker(b, c) for b in ready
                                 if c in b["job"].get("contexts", [])}, step_opts))
    by_id = {b["job"]["job_id"]: b for b in ready}
    for name, context, makers, opts in plan:
        if makers:
            for job_id, entry in timed_together(name, context, makers, opts, guards).items():
                by_id[job_id]["out"]["metrics"].append(entry)
    for b in ready:
        b["out"]["fp_mode"] = probe(b["spec"].framework)
        b["out"]["peak_rss_mb"] = peak_rss_mb()
        b["out"]["wall_s"] = time.perf_counter() - b["start"]
        b["out"]["interleaved"] = len(ready)
    return [b["out"] for b in built]


def run_job(job: dict, timer_opts: dict, device: str = "cpu") -> dict:
    """Build, configure and time one model alone; returns its result line."""
    return run_group([job], timer_opts, device)[0]


def shape_groups(jobs: list[dict]) -> list[list[dict]]:
    """The jobs in groups that share (B, T), in the order their first job appears: each group is timed
    interleaved (``run_group``)."""
    groups: dict[tuple, list[dict]] = {}
    for job in jobs:
        groups.setdefault((job["batch"], job["seq_len"]), []).append(job)
    return list(groups.values())


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
        for group in shape_groups(cfg["jobs"]):
            for result in run_group(group, cfg.get("timer", {}), cfg.get("device", "cpu")):
                out.write(json.dumps({"kind": "job", **result}) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
