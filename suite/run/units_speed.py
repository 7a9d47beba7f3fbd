"""The speed work units: every model timed at the base shape (with streaming), over the sweeps, and at
each thread count.

    speed-base     train step, inference, streaming latency at (seq_len, hidden)
    speed-sweep    train step over seq_lens (at hidden) and hiddens (at seq_len); inference is timed at the
                   base shape only (no figure or claim reads it over the sweeps, and it halves the sweep)
    speed-threads  train step at the base shape at every count of speed.thread_counts
                   ('all' = every core), the counts interleaved within each round; rows of kind
                   'speed_threads' (so they never mix into the single-thread tables and claims)

The timing itself happens in fresh worker processes (``suite.bench.speed``) under the config's
floating-point policy (``speed.denormals``) and device; this module only turns a config into jobs and
refuses shapes whose estimated memory exceeds the limit (recorded ``skipped``).
"""
from __future__ import annotations

from suite.bench.speed import SpeedJob
from suite.config import model_entries, resolve_thread_counts
from suite.errors import UserError
from suite.run.rows import base_row
from suite.spec import ModelSpec


def speed_points(cfg: dict) -> list[tuple[int, int]]:
    """(T, H) points of the sweeps: over T at the base width, over H at the base length (base excluded)."""
    s = cfg["speed"]
    base = (s["seq_len"], s["hidden"])
    points = [(T, s["hidden"]) for T in s["seq_lens"]] + [(s["seq_len"], H) for H in s["hiddens"]]
    return [p for i, p in enumerate(points) if p != base and p not in points[:i]]


def thread_counts(cfg: dict) -> list[int]:
    """The thread counts of the scaling study on this machine (empty when it would measure only one)."""
    counts = resolve_thread_counts(cfg["speed"]["thread_counts"])
    return counts if len(counts) > 1 else []


def speed_jobs(cfg: dict, points: list[tuple[int, int]], streaming: bool, kind: str = "speed",
               infer: bool = True):
    """(jobs, skipped rows): one job per model and (T, H) that fits the memory limit."""
    from suite.run.resources import check_fits, memory_limit_bytes
    s, jobs, skipped = cfg["speed"], [], []
    limit = memory_limit_bytes(cfg["resources"]["max_memory_gb"])
    for T, H in points:
        for entry in model_entries(cfg):
            spec = ModelSpec(entry["arch"], entry["framework"], s["input_size"], H, 1,
                             convention=entry["convention"], scan=entry["scan"], layers=cfg["model"]["layers"])
            try:
                check_fits(spec, s["batch"], T, limit)
            except UserError as e:
                skipped.append(base_row(spec, kind=kind, B=s["batch"], T=T, metric="train_step_ms", value=None,
                                        status="skipped", error=str(e)))
                continue
            jobs.append(SpeedJob(spec, s["batch"], T, tuple(s["contexts"]) if streaming else (), infer))
    return jobs, skipped


def speed_rows(cfg: dict, points: list[tuple[int, int]], streaming: bool, counts: list[int] | None = None,
               kind: str = "speed", infer: bool = True) -> list[dict]:
    """Time every model at each (T, H): one worker process per framework, thread count and round (a fresh
    process per job cost 11-20 s per Keras job, against 5-11 s inside a shared worker; the peak_rss_mb of
    a base row is therefore its framework worker's high-water mark once the models of its shape were built and
    timed side by side, not the model's own; the long-context stage's 'memory' rows give each model's own
    train-step memory).
    ``counts``: measure at each of these thread counts (else at cfg threads)."""
    from suite.bench.speed import measure_speed
    s = cfg["speed"]
    jobs, rows = speed_jobs(cfg, points, streaming, kind, infer)
    if counts:
        rows = []        # the thread study runs at the base shape: speed-base already records its skips
    if jobs:
        rows += measure_speed(jobs, threads=cfg["threads"], repeats=s["repeats"], max_time_s=s["max_time_s"],
                              min_samples=s["min_samples"], min_sample_s=s["min_sample_s"], isolate="framework",
                              denormals=s["denormals"], device=cfg["device"], thread_counts=counts)
    return [{**r, "kind": kind} for r in rows]


def speed_units(cfg: dict) -> list:
    """The speed stage's work units (empty when speed.enabled is false)."""
    from suite.run.plan import WorkUnit
    s = cfg["speed"]
    if not s["enabled"]:
        return []
    base = [(s["seq_len"], s["hidden"])]
    units = [WorkUnit("speed-base", "speed", lambda: {"rows": speed_rows(cfg, base, True)},
                      f"speed at T={base[0][0]} H={base[0][1]} with streaming")]
    if speed_points(cfg):
        units.append(WorkUnit("speed-sweep", "speed", lambda: {"rows": speed_rows(cfg, speed_points(cfg), False, infer=False)},
                              "speed sweep over T and H"))
    counts = thread_counts(cfg)
    if counts:
        units.append(WorkUnit("speed-threads", "speed",
                              lambda: {"rows": speed_rows(cfg, base, False, counts, kind="speed_threads", infer=False)},
                              f"thread scaling at {', '.join(map(str, counts))} threads"))
    return units
