"""Memory worker: the peak memory of ONE training step (and of one inference pass) in a fresh process.

    python -m suite.bench.memory_worker JOB.json RESULT.jsonl

JOB.json: a ``MemoryWorkerJob`` (spec: ModelSpec fields, batch B, seq_lens [T, ...], threads, denormals);
``suite.bench.launcher`` writes it, starts the worker and reads RESULT.jsonl back. The floating-point policy is
applied first, before numpy is imported (``suite.bench.fp_mode``), then the worker sets its thread count, builds
the model and configures Adam once; then, for each T in increasing order, it runs one untimed train step and
inference at that T (allocator warm-up, lazy initialisation, tracing) and, for each of train step and inference:

    malloc_trim(0)                             (freed heap memory goes back to the OS: VmRSS = live memory)
    rss_before = VmRSS                         (the process's resident size just before the call)
    reset VmHWM to VmRSS                       (write "5" to /proc/self/clear_refs, Linux >= 4.0)
    one call
    step_peak_mb = VmHWM - rss_before          (the extra memory the call itself needed at its peak)

(``suite.bench.proc_memory`` reads and resets the marks), so the figure excludes the framework's import size
(Keras: ~700 MB before any model) and the model's resident weights, and includes activations kept for the
backward pass, gradients and temporaries. Where the high-water mark cannot be reset (not Linux), the worker
fails with that reason and gives no figure.

One process per model, its T in turn: a point after a smaller T is measured exactly as a point after its own
warm-up call is (freed memory trimmed, the mark reset), and a process per (model, T) cost ~7 s of imports each
(torch, and torch._dynamo on the first optimizer call). RESULT.jsonl: a ``MemoryWorkerHeader`` (the model's
parameter count) once the model is built, then one ``MemoryPoint`` per T as soon as it is measured, so an error
(or a process killed for memory) at a large T keeps the points before it.
"""
from __future__ import annotations

if __name__ == "__main__":     # a worker process: the policy before numpy, whose OpenBLAS pool starts when it loads
    from suite.bench.fp_mode import apply_startup_policy
    apply_startup_policy()

from typing import Any

from pydantic import Field

from suite.bench.launcher import Payload, Worker, WorkerJob, worker_main
from suite.bench.proc_memory import reset_peak, status_mb


class MemoryWorkerJob(WorkerJob):
    """One model at one batch size, measured at each sequence length in turn."""

    spec: dict[str, Any]                         # ModelSpec fields
    batch: int = Field(ge=1)
    seq_lens: list[int] = Field(min_length=1)


class MemoryWorkerHeader(Payload):
    params: int


class MemoryPoint(Payload):
    """The peaks at one T, MiB above the resident size just before the call (module docstring)."""

    seq_len: int
    train_step_peak_mb: float
    infer_peak_mb: float
    rss_mb: float                                # VmRSS after both calls


MEMORY_WORKER = Worker("memory", "suite.bench.memory_worker", MemoryWorkerJob, MemoryPoint, MemoryWorkerHeader)


def resident_mb(field: str) -> float:
    """VmRSS / VmHWM in MiB; OSError where /proc/self/status does not give it (not Linux)."""
    value = status_mb(field)
    if value is None:
        raise OSError(f"{field} is not readable from /proc/self/status on this system")
    return value


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
    before = resident_mb("VmRSS")
    reset_peak()
    call()
    return max(0.0, resident_mb("VmHWM") - before)


def measure(job: MemoryWorkerJob, write) -> None:
    """Measure every T of the job, writing the header once the model is built and each point as it is done."""
    from suite.bench.fp_mode import apply_policy
    from suite.bench.speed_worker import random_batch, to_native
    from suite.bench.threads import set_threads
    from suite.models import build_model
    from suite.spec import ModelSpec
    spec = ModelSpec(**job.spec)
    apply_policy(job.denormals, spec.framework)
    set_threads(job.threads, spec.framework)
    model = build_model(spec)
    model.configure_training(lr=1e-3, clip_norm=1.0)
    write(MemoryWorkerHeader(params=int(model.num_params())))
    for seq_len in sorted(job.seq_lens):
        x, y = random_batch(spec, job.batch, seq_len)
        xn, yn = to_native(x, spec.framework), to_native(y, spec.framework)
        model.train_step(xn, yn)                               # warm-up: lazy init, allocator pools, tracing
        model.predict_native(xn)
        write(MemoryPoint(seq_len=seq_len, train_step_peak_mb=peak_of(lambda: model.train_step(xn, yn)),
                          infer_peak_mb=peak_of(lambda: model.predict_native(xn)), rss_mb=resident_mb("VmRSS")))
        del x, y, xn, yn


def main(argv=None) -> int:
    return worker_main(MEMORY_WORKER, measure, argv)


if __name__ == "__main__":
    raise SystemExit(main())
