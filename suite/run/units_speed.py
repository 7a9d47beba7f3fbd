"""The speed work unit: every model timed at the base shape (with streaming), over the sweeps, and at
each thread count, in one set of worker processes per round.

    speed    train step, inference and streaming latency at the base shape (base_seq_len, base_hidden); train
             step over sweep_seq_lens (at base_hidden) and sweep_hiddens (at base_seq_len), inference at the base shape only (no figure or claim
             reads it over the sweeps, and it halves the sweep); the thread study: train step and
             inference at the base shape at every count of speed.thread_counts ('all' = every core), the
             counts in turn within each round. Rows of the study have kind 'speed_threads' (so they never
             mix into the single-thread tables and claims); at cfg threads they are the same measurement as
             the base rows.

In each round each framework gets one worker at cfg threads (base shape, then the sweep shapes: its
peak_rss_mb rows of the sweep are running maxima) and one per other thread count (base shape only); with
speed.sweep_rounds < speed.rounds the later rounds time the base shape alone, at cfg threads (the default job:
2 rounds of the base shape, whose claims are decided at it, and 1 of the sweep and the thread study). Three
separate units (base, sweep, threads) started twice as many workers, and a Keras worker costs ~9 s of
imports plus its tracing before it times anything.

Training shapes (kind 'speed_training'): the train step of every model of the headline accuracy view at the
shape it trains at on each task (B = training.batch_size, T = the task's length, X and O the task's, H the
width the accuracy unit gives it: ``training_shape_jobs``), in the same workers, after the other jobs, for
speed.sweep_rounds rounds, train step only: the per-update cost, measured in isolation, that turns updates to
target into seconds to target (``suite.report.time_to_target``). The wall time of the training units is not
used: they share the cores with each other on the Dask workers.

The timing itself happens in fresh worker processes (``suite.bench.speed``) under the config's
floating-point policy (``speed.denormals``) and device; this module only turns a config into jobs and
refuses shapes whose estimated memory exceeds the limit (recorded ``skipped``).
"""
from __future__ import annotations

from suite.bench.speed import SpeedJob
from suite.config import Config, accuracy_views, model_entries, resolve_thread_counts
from suite.errors import UserError
from suite.run.rows import base_row
from suite.spec import ModelSpec


def speed_points(cfg: Config) -> list[tuple[int, int]]:
    """(T, H) points of the sweeps: over T at the base width, over H at the base length (base excluded)."""
    s = cfg.speed
    base = (s.base_seq_len, s.base_hidden)
    points = [(T, s.base_hidden) for T in s.sweep_seq_lens] + [(s.base_seq_len, H) for H in s.sweep_hiddens]
    return [p for i, p in enumerate(points) if p != base and p not in points[:i]]


def thread_counts(cfg: Config) -> list[int]:
    """The thread counts of the scaling study on this machine (empty when it would measure only one)."""
    counts = resolve_thread_counts(cfg.speed.thread_counts)
    return counts if len(counts) > 1 else []


def speed_jobs(cfg: Config, points: list[tuple[int, int]], streaming: bool, kind: str = "speed",
               infer: bool = True):
    """(jobs, skipped rows): one job per model and (T, H) that fits the memory limit."""
    from suite.run.resources import check_fits, memory_limit_bytes
    s, jobs, skipped = cfg.speed, [], []
    limit = memory_limit_bytes(cfg.resources.max_memory_gb)
    for T, H in points:
        for entry in model_entries(cfg):
            spec = ModelSpec(entry["arch"], entry["framework"], s.input_size, H, 1,
                             convention=entry["convention"], scan=entry["scan"], layers=cfg.sizing.layers)
            try:
                check_fits(spec, s.batch, T, limit)
            except UserError as e:
                skipped.append(base_row(spec, kind=kind, B=s.batch, T=T, metric="train_step_ms", value=None,
                                        status="skipped", error=str(e)))
                continue
            jobs.append(SpeedJob(spec, s.batch, T, tuple(s.contexts) if streaming else (), infer))
    return jobs, skipped


def job_key(job: SpeedJob) -> tuple:
    """What tells one job's rows from another's: model, width, layers, X, O, B, T (``row_key`` of its rows)."""
    s = job.spec
    return (s.name, s.hidden, s.layers, s.input_size, s.output_size, job.batch, job.seq_len)


def row_key(row: dict) -> tuple:
    return tuple(row.get(k) for k in ("model", "hidden", "layers", "input_size", "output_size", "B", "T"))


def training_shape_jobs(cfg: Config) -> tuple[list[SpeedJob], dict[tuple, list[str]], list[dict]]:
    """(jobs, {job key: tasks}, skipped rows): one train-step job per model of the headline accuracy view at
    its training shape on each task of that view (``suite.run.units_accuracy.model_spec_for_task`` at the first
    seed: the width does not depend on the seed); tasks whose shapes coincide share one job."""
    from suite.run.resources import check_fits, memory_limit_bytes
    from suite.run.units_accuracy import model_spec_for_task
    from suite.tasks import get_task
    view, sizing, entries, tasks = accuracy_views(cfg)[0]
    limit, B = memory_limit_bytes(cfg.resources.max_memory_gb), cfg.training.batch_size
    jobs, tasks_of, skipped = [], {}, []
    for task_name in tasks:
        data = get_task(task_name, **cfg.tasks.get(task_name, {})).load(cfg.seeds[0])
        for entry in entries:
            spec = model_spec_for_task(entry, data, sizing, cfg.seeds[0])
            job = SpeedJob(spec, B, data.seq_len, (), infer=False)
            if job_key(job) in tasks_of:
                tasks_of[job_key(job)].append(task_name)
                continue
            try:
                check_fits(spec, B, data.seq_len, limit)
            except UserError as e:
                skipped.append(base_row(spec, kind="speed_training", task=task_name, view=view, B=B, T=data.seq_len,
                                        metric="train_step_ms", value=None, status="skipped", error=str(e)))
                continue
            tasks_of[job_key(job)] = [task_name]
            jobs.append(job)
    return jobs, tasks_of, skipped


def training_shape_rows(row: dict, tasks: list[str], view: str) -> list[dict]:
    """A measured train_step_ms row of a training shape as one 'speed_training' row per task that trains at
    that shape (its raw samples left out: seconds to target use the median)."""
    if row["metric"] != "train_step_ms":
        return []
    return [{**{k: v for k, v in row.items() if k != "samples"}, "kind": "speed_training", "task": task,
             "view": view} for task in tasks]


def speed_rows(cfg: Config) -> list[dict]:
    """Time every model at the base shape, over the sweeps and (base shape) at every thread count: one worker
    process per framework, thread count and round (a fresh process per job cost 11-20 s per Keras job, against
    5-11 s inside a shared worker; the peak_rss_mb of a row is therefore its framework worker's high-water
    mark once the models of its shape were built and timed side by side, not the model's own; the
    long-context stage's 'memory' rows give each model's own train-step memory)."""
    from suite.bench.speed import measure_speed
    s = cfg.speed
    base = [(s.base_seq_len, s.base_hidden)]
    base_jobs, rows = speed_jobs(cfg, base, streaming=True)
    sweep_jobs, skipped = speed_jobs(cfg, speed_points(cfg), streaming=False, infer=False)
    rows += skipped
    shape_jobs, tasks_of, skipped = training_shape_jobs(cfg) if cfg.speed.training_shapes else ([], {}, [])
    rows += skipped
    speed_keys = {job_key(j) for j in base_jobs + sweep_jobs}       # a training shape already timed: its row
    shape_jobs = [j for j in shape_jobs if job_key(j) not in speed_keys]
    jobs, counts = base_jobs + sweep_jobs + shape_jobs, thread_counts(cfg)
    if not jobs:
        return rows
    measured = measure_speed(jobs, threads=cfg.threads, repeats=s.rounds, max_time_s=s.max_time_s,
                             sweep_repeats=s.sweep_rounds,
                             base=range(len(base_jobs)),
                             min_samples=s.min_samples, min_sample_s=s.min_sample_s, isolate="framework",
                             denormals=s.denormals, device=cfg.device, thread_counts=counts or None,
                             study=range(len(base_jobs)))
    view = accuracy_views(cfg)[0][0] if tasks_of else None
    for r in measured:
        study = r.pop("thread_study", False)
        if r["threads"] == cfg.threads and row_key(r) in tasks_of:
            rows += training_shape_rows(r, tasks_of[row_key(r)], view)
        if r["threads"] == cfg.threads and (row_key(r) in speed_keys or row_key(r) not in tasks_of):
            rows.append({**r, "kind": "speed"})
        if study and r["metric"] != "step_latency_us":        # the study times no streaming
            rows.append({**r, "kind": "speed_threads"})
    return rows


def speed_units(cfg: Config) -> list:
    """The speed stage's work unit (none when speed.enabled is false)."""
    from suite.run.plan import WorkUnit
    s = cfg.speed
    if not s.enabled:
        return []
    counts = thread_counts(cfg)
    what = (f"speed at T={s.base_seq_len} H={s.base_hidden} with streaming"
            + (", sweep over T and H" if speed_points(cfg) else "")
            + (f", thread scaling at {', '.join(map(str, counts))} threads" if counts else "")
            + (", train step at the accuracy models' training shapes" if s.training_shapes else ""))
    return [WorkUnit("speed", "speed", lambda: {"rows": speed_rows(cfg)}, what, frameworks=frozenset())]
