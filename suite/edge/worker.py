"""Latency and peak memory of streaming steps in a fresh process (``suite.edge.measure`` starts it through
``suite.bench.launcher``).

    python -m suite.edge.worker JOB.json RESULT.jsonl

JOB.json: an ``EdgeWorkerJob`` (threads, denormals, timer, context c, interleaved, steps); each ``EdgeStep``
carries its ``job_id`` (the row it times) and its ``kind`` ('onnxruntime' | 'litert' | 'torch' | 'keras'), the
stream (an .npy of (T, X) float32 tokens) and either ``exported`` (an ExportedStep dict) for a runtime or
``spec`` (ModelSpec fields) + ``weights`` (an .npz of canonical weights) for a framework. The floating-point
policy is applied first, before numpy or a runtime is imported (``suite.bench.fp_mode``: the runtimes' thread
pools start later and copy it).

One step (``interleaved`` false):
1. Only what the kind needs is imported (numpy and onnxruntime / ai_edge_litert, or the framework with its
   thread count fixed first by ``suite.bench.threads.set_threads``), then ``idle_mb`` = VmRSS.
2. The session / interpreter / model is created, the first c tokens of the stream are fed through it,
   and one more step (token c, from the state at context c) is timed with ``suite.bench.timer.Timer``:
   every call gets the same input state (the step's new state is dropped), so the work per call is fixed.
3. ``peak_mb`` = VmHWM (the process's high-water mark) - ``idle_mb``: what the session and its steps added
   on top of the imported runtime (an upper bound where the import itself peaked higher than it settled);
   ``suite.bench.proc_memory`` reads both.
Interleaved (steps of one kind): every step is set up as above in this one process and the steps are timed
interleaved, one block of each in turn (``suite.bench.timer.measure_interleaved``), so their latencies are
compared at the same moments of the machine; no memory figures (the sessions share the process), and a step
that fails is an error in its own result while the others go on.
RESULT.jsonl: one ``EdgeStepResult`` per step, carrying its step's ``job_id``.
"""
from __future__ import annotations

if __name__ == "__main__":     # a worker process: the policy before numpy and the runtimes start their threads
    from suite.bench.fp_mode import apply_startup_policy
    apply_startup_policy()

from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from suite.bench.launcher import Payload, TimerOptions, Worker, WorkerJob, worker_main
from suite.bench.proc_memory import status_mb
from suite.errors import one_line_error

RUNTIMES = ("onnxruntime", "litert")


class EdgeStep(Payload):
    """One streaming step to time."""

    job_id: str                                   # the key of the row it times; its result carries it back
    kind: Literal["onnxruntime", "litert", "torch", "keras"]
    stream: str                                   # .npy of (T, X) float32 tokens
    exported: dict[str, Any] | None = None        # a runtime's ExportedStep fields
    spec: dict[str, Any] | None = None            # a framework's ModelSpec fields ...
    weights: str | None = None                    # ... and its .npz of canonical weights

    @model_validator(mode="after")
    def _what_the_kind_needs(self):
        if self.kind in RUNTIMES and self.exported is None:
            raise ValueError(f"a {self.kind} step needs 'exported'")
        if self.kind not in RUNTIMES and (self.spec is None or self.weights is None):
            raise ValueError(f"a {self.kind} step needs 'spec' and 'weights'")
        return self


class EdgeWorkerJob(WorkerJob):
    timer: TimerOptions
    context: int = Field(ge=0)                    # tokens fed before the timed step
    interleaved: bool = False                     # False: exactly one step, with its memory figures
    steps: list[EdgeStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_step_alone(self):
        if not self.interleaved and len(self.steps) != 1:
            raise ValueError(f"a step timed alone is one step, got {len(self.steps)}")
        if len({s.job_id for s in self.steps}) != len(self.steps):
            raise ValueError("every step needs a job_id of its own")
        return self


class StepTiming(Payload):
    """Seconds per step call (``suite.bench.timer.Measurement``)."""

    median_s: float
    iqr_s: float
    n: int
    number: int
    noisy: bool
    samples_s: list[float]


class StepMemory(Payload):
    """MiB of the process (a step timed alone): after imports, the high-water mark, and their difference."""

    idle_mb: float | None
    hwm_mb: float | None
    peak_mb: float | None


class EdgeStepResult(Payload):
    """One step's result: its timing, or (interleaved) the error that stopped it."""

    job_id: str
    timing: StepTiming | None = None
    error: str | None = None
    memory: StepMemory | None = None
    runtime_ops: list[str] | None = None          # the ops the runtime reports running (when it can say)
    threads_applied: dict[str, int | str] | None = None    # a framework's thread settings
    mode: str | None = None                       # a framework model's execution mode

    @model_validator(mode="after")
    def _timed_or_failed(self):
        if (self.timing is None) == (self.error is None):
            raise ValueError("a step result has either 'timing' or 'error'")
        return self


EDGE_WORKER = Worker("edge", "suite.edge.worker", EdgeWorkerJob, EdgeStepResult)


def _runtime_step(step: EdgeStep, threads: int, context: int):
    """(step(x, state), state at context c, x_c, idle MiB, extra result fields) for an exported file."""
    from suite.edge.runtime import ExportedStep, open_runner
    import_runtime(step.kind)
    idle = status_mb("VmRSS")
    xs = np.load(step.stream)
    runner = open_runner(ExportedStep.from_dict(step.exported), threads)
    state = runner.init_state()
    for x_t in xs[:context]:
        _, state = runner.run(x_t[None, :], state)
    extra = {"runtime_ops": runner.op_names()} if hasattr(runner, "op_names") else {}
    return runner.run, state, np.ascontiguousarray(xs[context][None, :]), idle, extra


def import_runtime(kind: str) -> None:
    if kind == "onnxruntime":
        import onnxruntime  # noqa: F401
    else:
        import ai_edge_litert.interpreter  # noqa: F401


def _framework_step(step: EdgeStep, threads: int, context: int, denormals: str):
    """(model.step, state at context c, x_c, idle MiB, extra result fields) for a torch / Keras model."""
    from suite.bench.fp_mode import apply_policy
    from suite.bench.speed_worker import to_native
    from suite.bench.threads import set_threads
    framework = step.kind
    apply_policy(denormals, framework)
    applied = set_threads(threads, framework)
    from suite.models import build_model, model_class
    from suite.spec import ModelSpec
    spec = ModelSpec(**step.spec)
    model_class(spec.arch, spec.framework)          # the model's module (and Keras) imported before 'idle'
    idle = status_mb("VmRSS")
    model = build_model(spec)
    with np.load(step.weights) as w:
        model.set_weights({k: w[k] for k in w.files})
    xs = np.load(step.stream)
    state = model.init_state(1)
    for x_t in xs[:context]:
        _, state = model.step(to_native(x_t[None, :], framework), state)
    x = to_native(np.ascontiguousarray(xs[context][None, :]), framework)
    return model.step, state, x, idle, {"threads_applied": applied, "mode": model.execution_path().get("mode")}


def _set_up(step: EdgeStep, job: EdgeWorkerJob):
    if step.kind in RUNTIMES:
        return _runtime_step(step, job.threads, job.context)
    return _framework_step(step, job.threads, job.context, job.denormals)


def _timing(m) -> StepTiming:
    return StepTiming(median_s=m.median, iqr_s=m.iqr, n=m.n, number=m.number, noisy=m.noisy, samples_s=m.samples)


def measure_interleaved_steps(job: EdgeWorkerJob, write) -> None:
    """Interleaved mode (module docstring): the job's steps timed side by side in this process."""
    from suite.bench.timer import Timer, measure_interleaved
    timers, errors = {}, {}
    for step in job.steps:
        try:
            call, state, x, _, _ = _set_up(step, job)
            timers[step.job_id] = Timer(lambda call=call, x=x, state=state: call(x, state), label=step.kind,
                                        threads=job.threads)
        except Exception as err:  # noqa: BLE001 -- this step only
            errors[step.job_id] = one_line_error(err)
    measured = measure_interleaved(timers, **job.timer.timer_kwargs()) if timers else {}
    for step in job.steps:
        m = measured.get(step.job_id)
        if step.job_id in errors or isinstance(m, Exception):
            write(EdgeStepResult(job_id=step.job_id, error=errors.get(step.job_id) or one_line_error(m)))
        else:
            write(EdgeStepResult(job_id=step.job_id, timing=_timing(m)))


def measure_alone(job: EdgeWorkerJob, write) -> None:
    """One step timed alone, with the process's memory figures."""
    from suite.bench.timer import Timer
    step = job.steps[0]
    call, state, x, idle, extra = _set_up(step, job)
    m = Timer(lambda: call(x, state), label=step.kind, threads=job.threads).measure(**job.timer.timer_kwargs())
    hwm = status_mb("VmHWM")
    memory = StepMemory(idle_mb=idle, hwm_mb=hwm, peak_mb=None if hwm is None or idle is None else max(hwm - idle, 0.0))
    write(EdgeStepResult(job_id=step.job_id, timing=_timing(m), memory=memory, **extra))


def run(job: EdgeWorkerJob, write) -> None:
    (measure_interleaved_steps if job.interleaved else measure_alone)(job, write)


def main(argv: list[str] | None = None) -> int:
    return worker_main(EDGE_WORKER, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
