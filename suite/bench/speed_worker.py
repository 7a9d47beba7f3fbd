"""Speed worker: measures the jobs of ONE framework in a fresh process (``suite.bench.speed`` starts it).

    python -m suite.bench.speed_worker JOBS.json RESULTS.jsonl

JOBS.json: a ``SpeedWorkerJob`` (framework, threads, denormals, device, timer, jobs: one ``SpeedJobSpec``
each); ``suite.bench.launcher`` writes it, starts the worker and reads RESULTS.jsonl back. The floating-point
policy is applied first, before numpy is imported (``suite.bench.fp_mode``: every thread pool started later
copies it), then the thread count is fixed (``set_threads``). RESULTS.jsonl gets one line for the worker
(``SpeedWorkerHeader``: versions, threads, the observed floating-point mode, matmul peak, RSS after imports) and
then one ``SpeedJobResult`` per job as soon as its group finishes, so a crash loses only the group it hit. Only
plain numbers and strings cross the process boundary, never tensors.

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

if __name__ == "__main__":     # a worker process: the policy before numpy, whose OpenBLAS pool starts when it loads
    from suite.bench.fp_mode import apply_startup_policy
    apply_startup_policy()

import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field

from suite.bench.fp_mode import apply_policy, probe
from suite.bench.launcher import Payload, TimerOptions, Worker, WorkerJob, worker_main
from suite.bench.proc_memory import peak_rss_mb
from suite.bench.threads import set_threads
from suite.bench.timer import MeasurementAborted, Timer, load_average, measure_interleaved
from suite.errors import one_line_error

LR, CLIP_NORM = 1e-3, 1.0
STEP_SAMPLES = 50            # one call per sample for streaming steps: take more of them
STEP_BURST = 10              # ... 10 in a row per model when interleaved, so each model's calls stay warm


PlainValue = bool | int | float | str | None


# --- payloads --------------------------------------------------------------------------------------
class OversubscriptionGuard(Payload):
    """When to give up on a thread count (``oversubscription_guard``)."""

    reference_s: dict[str, float] | None = None   # metric -> median s per call at the fewest threads, this round
    factor: float                                 # one call slower than this x the reference ...
    budget_s: float                               # ... and a measurement longer than this: give up
    threads: int                                  # this worker's thread count
    fewest: int                                   # the count the reference was measured at


class SpeedJobSpec(Payload):
    """One model at one shape (``suite.bench.speed.SpeedJob``), as the worker is given it."""

    job_id: int
    spec: dict[str, Any]          # ModelSpec fields; built (so checked) per job: a bad spec fails its own rows
    batch: int = Field(ge=1)
    seq_len: int = Field(ge=1)
    contexts: list[int] = []
    infer: bool = True
    guard: OversubscriptionGuard | None = None


class SpeedWorkerJob(WorkerJob):
    """The jobs of one framework, at one thread count."""

    framework: Literal["numpy", "torch", "keras"]
    device: Literal["cpu", "cuda"] = "cpu"
    timer: TimerOptions
    peak_size: int = Field(1024, ge=1)     # the matmul peak's matrix size
    jobs: list[SpeedJobSpec]


class MeasurementRecord(Payload):
    """``suite.bench.timer.Measurement.to_dict()``: raw samples (s per call) and their summary."""

    samples: list[float]
    number: int
    label: str
    threads: int | None
    calibration_s: float
    total_s: float
    meta: dict[str, Any]          # the timer's notes: load_before / load_after, cpus, interleaved_with, discarded
    n: int
    median: float
    q1: float
    q3: float
    iqr: float
    noisy: bool
    drift_p: float | None
    drift_shift: float | None
    unstable: bool
    retakes: int


class MetricResult(Payload):
    """One metric of one job: its measurement, or why there is none."""

    metric: Literal["train_step", "infer", "step"]
    context: int | None = None
    measurement: MeasurementRecord | None = None
    error: str | None = None
    skipped: bool = False         # given up on (oversubscribed), not failed


class SpeedJobResult(Payload):
    """One job's result line."""

    job_id: int
    metrics: list[MetricResult] = []
    error: str | None = None      # the model could not be built / configured
    params: int | None = None
    path: dict[str, PlainValue] = {}
    fp_mode: str | None = None    # observed after the job's group (``suite.bench.fp_mode.probe``)
    peak_rss_mb: float | None = None
    wall_s: float | None = None
    interleaved: int | None = None    # models in the job's shape group


class SpeedWorkerHeader(Payload):
    """The worker's first line."""

    framework: str
    fp_policy: str
    threads_applied: dict[str, int | str]
    fp_mode: str
    framework_version: str
    import_rss_mb: float
    peak_by_path: dict[str, float] | None = None
    peak_gflops: float | None = None
    peak_error: str | None = None


SPEED_WORKER = Worker("speed", "suite.bench.speed_worker", SpeedWorkerJob, SpeedJobResult, SpeedWorkerHeader)


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
def oversubscription_guard(guard: OversubscriptionGuard | None, name: str, min_samples: int):
    """``abort_if`` for the timer: give up on this thread count when one call takes more than
    guard.factor x the same job's time at the fewest threads (measured just before in this round) AND
    the measurement would last more than guard.budget_s ((min_samples + 2) calls): the other processes
    on the machine then hold the cores, and the figure would measure them, for minutes."""
    reference = (guard.reference_s or {}).get(name) if guard is not None else None
    if not reference:
        return None

    def abort_if(per_call: float) -> str | None:
        if per_call > guard.factor * reference and per_call * (min_samples + 2) > guard.budget_s:
            load = load_average()
            return (f"oversubscribed: at {guard.threads} threads one call took {per_call / reference:.0f}x the "
                    f"time at {guard.fewest} ({per_call * 1e3:.0f} vs {reference * 1e3:.0f} ms) with load "
                    f"average {load if load is None else round(load, 1)}: other processes hold the cores")
        return None
    return abort_if


def timed(name: str, context: int | None, make_timer, timer: TimerOptions,
          guard: OversubscriptionGuard | None = None, burst: int = 1) -> MetricResult:
    """One measurement of one statement (``timed_together`` with a single timer)."""
    return timed_together(name, context, {0: make_timer}, timer, {0: guard}, burst)[0]


def timed_together(name: str, context: int | None, makers: dict, timer: TimerOptions,
                   guards: dict | None = None, burst: int = 1) -> dict[Any, MetricResult]:
    """{key: result}: the timers ``makers[key]()`` measured interleaved (``suite.bench.timer.measure_interleaved``,
    ``burst`` blocks in a row each) for the metric ``name``; any exception becomes an error for its key only (an
    oversubscribed thread count an error with ``skipped``)."""
    errors: dict[Any, str] = {}
    timers, aborts = {}, {}
    for key, make_timer in makers.items():
        try:
            timers[key] = make_timer()
        except Exception as err:  # noqa: BLE001 -- recorded as a failed row, the worker goes on
            traceback.print_exc(file=sys.stderr)
            errors[key] = one_line_error(err)
            continue
        aborts[key] = oversubscription_guard((guards or {}).get(key), name, timer.min_samples)
    measured = (measure_interleaved(timers, **timer.timer_kwargs(), burst=burst,
                                    abort_if={k: a for k, a in aborts.items() if a}) if timers else {})
    entries = {}
    for key in makers:
        result = measured.get(key)
        if key in errors:
            entries[key] = MetricResult(metric=name, context=context, error=errors[key])
        elif isinstance(result, MeasurementAborted):
            entries[key] = MetricResult(metric=name, context=context, error=str(result), skipped=True)
        elif isinstance(result, Exception):
            print(f"{name} of job {key}: {one_line_error(result)}", file=sys.stderr)
            entries[key] = MetricResult(metric=name, context=context, error=one_line_error(result))
        else:
            entries[key] = MetricResult(metric=name, context=context,
                                        measurement=MeasurementRecord(**result.to_dict()))
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


@dataclass
class BuiltJob:
    """One job's model, built and configured (``model`` None when that failed: ``error`` says why), and its
    inputs once ``run_group`` has made them."""

    job: SpeedJobSpec
    start: float = field(default_factory=time.perf_counter)
    model: Any = None
    spec: Any = None
    device: str = "cpu"
    error: str | None = None
    params: int | None = None
    path: dict = field(default_factory=dict)
    x: Any = None
    y: Any = None
    sync: Any = None


def build_job(job: SpeedJobSpec, device: str = "cpu") -> BuiltJob:
    """Build and configure one job's model; on a failure ``model`` is None and ``error`` holds the reason."""
    from suite.spec import ModelSpec
    built = BuiltJob(job)
    try:
        built.spec = ModelSpec(**job.spec)
        built.device = model_device(built.spec.framework, device)
        built.model = build_on_device(built.spec, built.device)
        built.model.configure_training(lr=LR, clip_norm=CLIP_NORM)
        built.params = int(built.model.num_params())
        built.path = execution_path(built.model, built.spec.framework, built.device)
    except Exception as err:  # noqa: BLE001 -- a failed row, not a failed run
        traceback.print_exc(file=sys.stderr)
        built.model, built.error = None, one_line_error(err)
    return built


def run_group(jobs: list[SpeedJobSpec], timer: TimerOptions, device: str = "cpu") -> list[SpeedJobResult]:
    """Build the models of jobs that share one shape (B, T) and time them interleaved, metric by metric:
    the train step of every model, then inference, then the streaming step at each context. Returns one
    result per job (with the floating-point mode observed after the group and the worker's peak RSS)."""
    built = [build_job(job, device) for job in jobs]
    ready = [b for b in built if b.model is not None]
    for b in ready:
        x, y = random_batch(b.spec, b.job.batch, b.job.seq_len)
        b.x, b.y = to_native(x, b.spec.framework, b.device), to_native(y, b.spec.framework, b.device)
        b.sync = framework_sync(b.spec.framework, b.device)
    guards = {b.job.job_id: b.job.guard for b in ready}

    def train_timer(b):
        return lambda: Timer(lambda: b.model.train_step(b.x, b.y), sync=b.sync, label=f"{b.spec.name} train")

    def infer_timer(b):
        return lambda: Timer(lambda: b.model.predict_native(b.x), sync=b.sync, label=f"{b.spec.name} infer")

    def step_maker(b, c):
        return lambda: step_timer(b.model, b.spec, c, b.sync, b.device)

    step_opts = timer.model_copy(update={"n_samples": max(timer.n_samples, STEP_SAMPLES)})
    plan = [("train_step", None, {b.job.job_id: train_timer(b) for b in ready}, timer, 1),
            ("infer", None, {b.job.job_id: infer_timer(b) for b in ready if b.job.infer}, timer, 1)]
    for c in sorted({c for b in ready for c in b.job.contexts}):
        plan.append(("step", c, {b.job.job_id: step_maker(b, c) for b in ready if c in b.job.contexts},
                     step_opts, STEP_BURST))
    metrics: dict[int, list[MetricResult]] = {b.job.job_id: [] for b in built}
    for name, context, makers, opts, burst in plan:
        if makers:
            for job_id, entry in timed_together(name, context, makers, opts, guards, burst).items():
                metrics[job_id].append(entry)
    results = []
    for b in built:
        if b.model is None:
            results.append(SpeedJobResult(job_id=b.job.job_id, error=b.error, params=b.params))
            continue
        results.append(SpeedJobResult(job_id=b.job.job_id, metrics=metrics[b.job.job_id], params=b.params,
                                      path=b.path, fp_mode=probe(b.spec.framework), peak_rss_mb=peak_rss_mb(),
                                      wall_s=time.perf_counter() - b.start, interleaved=len(ready)))
    return results


def run_job(job: SpeedJobSpec, timer: TimerOptions, device: str = "cpu") -> SpeedJobResult:
    """Build, configure and time one model alone; returns its result."""
    return run_group([job], timer, device)[0]


def shape_groups(jobs: list[SpeedJobSpec]) -> list[list[SpeedJobSpec]]:
    """The jobs in groups that share (B, T), in the order their first job appears: each group is timed
    interleaved (``run_group``)."""
    groups: dict[tuple, list[SpeedJobSpec]] = {}
    for job in jobs:
        groups.setdefault((job.batch, job.seq_len), []).append(job)
    return list(groups.values())


def _plain(value):
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)


# --- main --------------------------------------------------------------------------------------
def worker_header(framework: str, threads: int, peak_size: int, denormals: str = "flush",
                  device: str = "cpu") -> SpeedWorkerHeader:
    """Floating-point policy and threads first (before any op), then the mode observed in the framework's
    threads, versions, RSS after imports, and the matmul peak."""
    apply_policy(denormals, framework)
    threads_applied = set_threads(threads, framework)
    fp_mode = probe(framework)
    version = framework_version(framework)
    import_rss_mb = peak_rss_mb()
    peak_by_path, peak_gflops, peak_error = None, None, None
    try:
        from suite.bench.peak import matmul_gflops_by_path
        peak_by_path = matmul_gflops_by_path(threads, framework, size=peak_size,
                                             device=model_device(framework, device))
        peak_gflops = max(peak_by_path.values())
    except Exception as err:  # noqa: BLE001 -- the times are still valid without a peak
        peak_error = one_line_error(err)
    return SpeedWorkerHeader(framework=framework, fp_policy=denormals, threads_applied=threads_applied,
                             fp_mode=fp_mode, framework_version=version, import_rss_mb=import_rss_mb,
                             peak_by_path=peak_by_path, peak_gflops=peak_gflops, peak_error=peak_error)


def run(cfg: SpeedWorkerJob, write) -> None:
    """The worker's work: its header, then each shape group's results as the group finishes."""
    write(worker_header(cfg.framework, cfg.threads, cfg.peak_size, cfg.denormals, cfg.device))
    for group in shape_groups(cfg.jobs):
        for result in run_group(group, cfg.timer, cfg.device):
            write(result)


def main(argv: list[str] | None = None) -> int:
    return worker_main(SPEED_WORKER, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
