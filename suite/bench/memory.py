"""Training-step memory per model and sequence length, each measured in its own fresh worker process.

``measure_memory(jobs, threads=1)`` -> tidy rows, one per job and metric:
    train_step_peak_mb   the extra resident memory one train step needs at its peak (forward activations kept
                         for backward, gradients, temporaries), above the process's size just before it
    infer_peak_mb        the same for one inference pass over the whole (B, T) batch
(``suite.bench.memory_worker`` says how: the Linux high-water mark is reset right before the call.) A fresh
process per model (its T in increasing order, started by ``suite.bench.launcher`` with the speed workers'
environment and floating-point policy) keeps one model's allocations out of another's figure. A worker that
fails, crashes or runs past ``timeout_s`` gives failed rows for the points it did not measure (the launcher's
one-line reason); the rest goes on.
"""
from __future__ import annotations

from suite.bench.fp_mode import DEFAULT_POLICY
from suite.bench.launcher import WorkerRun, run_worker
from suite.bench.memory_worker import MEMORY_WORKER, MemoryWorkerJob
from suite.spec import ModelSpec

METRICS = ("train_step_peak_mb", "infer_peak_mb")


def run_memory_worker(spec: ModelSpec, batch: int, seq_lens: list[int], threads: int, timeout_s: float,
                      denormals: str = DEFAULT_POLICY) -> WorkerRun:
    """One worker for one model at batch ``batch``, its ``seq_lens`` in turn (``suite.bench.launcher``)."""
    from suite.models.registry import plugin_modules
    job = MemoryWorkerJob(spec=spec.to_dict(), batch=batch, seq_lens=list(seq_lens), threads=threads,
                          denormals=denormals, plugins=plugin_modules([spec]))
    return run_worker(MEMORY_WORKER, job, timeout_s=timeout_s)


def measure_memory(jobs: list[tuple[ModelSpec, int, int]], threads: int = 1, timeout_s: float = 600.0,
                   progress=None, denormals: str = DEFAULT_POLICY) -> list[dict]:
    """Rows for every (spec, B, T) job, one worker per (spec, B); ``progress(i, n, (spec, B, [T...]))`` is
    called before each worker."""
    groups: dict[tuple, list[int]] = {}
    for spec, batch, seq_len in jobs:
        groups.setdefault((spec, batch), []).append(seq_len)
    rows = []
    for i, ((spec, batch), seq_lens) in enumerate(groups.items()):
        if progress:
            progress(i, len(groups), (spec, batch, seq_lens))
        run = run_memory_worker(spec, batch, seq_lens, threads, timeout_s, denormals)
        points = {p.seq_len: p for p in run.records}
        params = run.header.params if run.header else None
        for seq_len in seq_lens:
            point = points.get(seq_len)
            base = {"kind": "memory", "model": spec.name, "arch": spec.arch, "framework": spec.framework,
                    "convention": spec.convention, "hidden": spec.hidden, "layers": spec.layers, "B": batch,
                    "T": seq_len, "threads": threads, "params": params, "unit": "MB"}
            for metric in METRICS:
                rows.append({**base, "metric": metric, "value": getattr(point, metric) if point else None,
                             "status": "ok" if point else "failed",
                             "error": None if point else run.failure()})
    return rows
