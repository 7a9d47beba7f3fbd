"""Speed measurement, fair across frameworks: fresh worker processes, same threads, A B A B.

``measure_speed(jobs, threads=1, repeats=2)`` -> tidy rows. A job is (ModelSpec, B, T, contexts) or a
``SpeedJob`` (which can also leave inference out: ``infer=False``, as the sweeps do).

Fairness (measured on the 2-core test machines: one process running both frameworks gave GRU/LSTM ratios
swinging 0.84-1.40 between runs):
- every worker is a fresh ``python -m suite.bench.speed_worker`` process for ONE framework, started by
  ``suite.bench.launcher``; OMP/MKL/OpenBLAS/TF thread variables are set in its environment and
  ``set_threads`` runs before its first op, so each framework gets the same intra-op thread count (inter-op 1);
- the frameworks are interleaved A B A B ..., ``repeats`` rounds; with ``isolate='job'`` (default)
  every job has its own worker (clean per-model peak RSS; ``isolate='framework'`` runs all jobs of
  a framework in one worker per round, faster, but its peak RSS is a running maximum);
- inside a worker, the models of one shape are timed interleaved, block by block (A B C A B C ...,
  ``suite.bench.timer.measure_interleaved``): slow spells of a shared machine last seconds, and ratios of
  models timed one after the other swung 0.63-1.24 where interleaved ones stayed within 0.817-0.833;
- each row's value is the median over rounds of the per-round medians; n and iqr are over the
  pooled samples of all rounds; ``repeat_spread`` = (max - min) / median of the round medians;
- every worker applies the same floating-point policy (``denormals``: flush | keep, see
  ``suite.bench.fp_mode``) before it imports numpy or its framework, so every thread pool copies it; each
  row records the policy (``fp_policy``) and the mode its framework's kernels were observed to run under
  (``fp_mode``, probed across its threads after the job);
- a round whose samples still drift after the timer's retakes (``suite.bench.timer``) is left out of
  the value; a row with no stable round left has status 'unstable' (its value kept for inspection,
  never used by a claim). ``unstable_rounds`` counts the rounds left out;
- thread counts (``thread_counts``) run in increasing order within each round; a job's train step or
  inference at more threads is given up (row status 'skipped', the reason in ``error``) when one call
  takes more than OVERSUBSCRIBED (5) x its time at the fewest threads just measured AND its measurement
  would last more than GUARD_BUDGET_S (5 s): on a machine whose other processes hold the cores, OpenMP
  barriers then wait for descheduled threads (seen here: a 40 ms GRU step took 2.5-3.9 s at 2 threads,
  load average 5 on 2 cores), the figure measures the neighbours, and minutes go by;
- every row keeps its raw samples (``samples``: per round, in the row's unit, with a stable flag per
  round); the results store moves them into ``samples.json.gz`` (``suite.results.samples``).

Metrics (rows): train_step_ms, infer_ms, step_latency_us (batch 1, one token at context c; such rows
have B = 1, context = c and keep the job's T),
train_throughput (sequences/s = B / train step), infer_throughput (tokens/s = B T / infer),
peak_rss_mb (the worker's VmHWM high-water mark after the job's shape group) and import_rss_mb (after imports, before any model).
Timing rows carry analytic FLOPs (suite.models.flops; none for a plugin arch that declares no formula), achieved
GFLOP/s, the framework's measured
matmul peak (the best of its matmul paths, suite.models.flops) and the fraction of it, and the fraction of
the best peak of any framework in this run (machine_peak_*).
A job that fails (in any metric, or a worker that crashes or times out) gives failed rows with the
error text; the rest goes on.
"""
from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path

from suite.errors import UserError
from suite.schema import validate
from suite.models.flops import forward_flops, step_flops, train_step_flops
from suite.spec import ModelSpec
from suite.bench.fp_mode import DEFAULT_POLICY, check_policy
from suite.bench.launcher import TimerOptions, run_worker
from suite.bench.speed_worker import (SPEED_WORKER, MeasurementRecord, OversubscriptionGuard, SpeedJobResult,
                                      SpeedJobSpec, SpeedWorkerHeader, SpeedWorkerJob)
from suite.bench.timer import DEFAULT_MAX_TIME_S, DEFAULT_RETAKES, NOISY_RELATIVE_IQR, quantiles

ISOLATE = ("job", "framework")
DEVICES = ("cpu", "cuda")
OVERSUBSCRIBED = 5.0     # more threads but this many times slower than the fewest: oversubscribed
GUARD_BUDGET_S = 5.0     # ... and a measurement that would last longer than this: give up on it
UNITS = {"train_step": ("train_step_ms", "ms", 1e3), "infer": ("infer_ms", "ms", 1e3),
         "step": ("step_latency_us", "us", 1e6)}


@dataclass(frozen=True)
class SpeedJob:
    """One model at one shape: train step and inference at (B, T), streaming at each context."""

    spec: ModelSpec
    batch: int
    seq_len: int
    contexts: tuple[int, ...] = field(default_factory=tuple)
    infer: bool = True               # time inference too (train step always)

    def describe(self) -> str:
        return f"{self.spec.name} H={self.spec.hidden} L={self.spec.layers} B={self.batch} T={self.seq_len}"


def as_job(job) -> SpeedJob:
    """SpeedJob from a SpeedJob or a tuple (spec, B, T) / (spec, B, T, contexts); validated."""
    if not isinstance(job, SpeedJob):
        if not isinstance(job, (tuple, list)) or len(job) not in (3, 4):
            raise UserError(f"speed job: expected (spec, B, T[, contexts]), got {job!r}")
        job = SpeedJob(job[0], job[1], job[2], tuple(job[3]) if len(job) == 4 and job[3] else ())
    if not isinstance(job.spec, ModelSpec):
        raise UserError(f"speed job: spec must be a ModelSpec, got {type(job.spec).__name__}")
    for key, value, low in (("B", job.batch, 1), ("T", job.seq_len, 1), *(("context", c, 0) for c in job.contexts)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise UserError(f"speed job {job.spec.name}: {key} must be an integer >= {low}, got {value!r}")
    return job


# --- scheduling --------------------------------------------------------------------------------
def schedule(jobs: list[SpeedJob], repeats: int, isolate: str) -> list[tuple[int, str, list[int]]]:
    """Worker runs in order: (round, framework, job ids), frameworks interleaved A B A B."""
    by_fw: dict[str, list[int]] = {}
    for i, job in enumerate(jobs):
        by_fw.setdefault(job.spec.framework, []).append(i)
    units = {fw: ([[i] for i in ids] if isolate == "job" else [ids]) for fw, ids in by_fw.items()}
    order = [u for group in zip_longest(*units.values()) for u in group if u is not None]
    return [(r, jobs[ids[0]].spec.framework, ids) for r in range(repeats) for ids in order]


def worker_runs(jobs: list[SpeedJob], counts: list[int], threads: int, study: set[int], repeats: int,
                isolate: str, sweep_repeats: int | None = None, base=None) -> list[tuple[int, str, list[int], int]]:
    """The worker processes in order: (round, framework, job ids, thread count). At ``threads`` every job; at
    another count of ``counts`` the ``study`` jobs. The ``base`` jobs at ``threads`` get ``repeats`` rounds,
    the rest ``sweep_repeats`` (default: repeats), their first rounds."""
    sweep_repeats = repeats if sweep_repeats is None else sweep_repeats
    base = set(range(len(jobs)) if base is None else base)
    if not isinstance(sweep_repeats, int) or isinstance(sweep_repeats, bool) or not 1 <= sweep_repeats <= repeats:
        raise UserError(f"measure_speed: sweep_repeats must be an integer from 1 to repeats ({repeats}), "
                        f"got {sweep_repeats!r}")

    def rounds(i: int, n: int) -> int:
        return repeats if (i in base and n == threads) else sweep_repeats

    return [(rnd, fw, at_n, n) for rnd, fw, ids in schedule(jobs, repeats, isolate) for n in counts
            if (at_n := [i for i in ids if (n == threads or i in study) and rnd < rounds(i, n)])]


@dataclass(frozen=True)
class Round:
    """One worker's result for one job (one round of it), with that worker's header (None when the worker
    died before writing one)."""

    result: SpeedJobResult
    header: SpeedWorkerHeader | None = None


def worker_job(framework: str, job_ids: list[int], jobs: list[SpeedJob], threads: int, timer: TimerOptions,
               denormals: str = DEFAULT_POLICY, device: str = "cpu",
               guards: dict[int, OversubscriptionGuard] | None = None) -> SpeedWorkerJob:
    """The payload of one speed worker: the jobs ``job_ids`` of ``jobs``, one framework, one thread count."""
    from suite.models.registry import plugin_modules
    return SpeedWorkerJob(framework=framework, threads=threads, denormals=denormals, device=device, timer=timer,
                          plugins=plugin_modules([jobs[i].spec for i in job_ids]),
                          jobs=[SpeedJobSpec(job_id=i, spec=jobs[i].spec.to_dict(), batch=jobs[i].batch,
                                             seq_len=jobs[i].seq_len, contexts=list(jobs[i].contexts),
                                             infer=jobs[i].infer, guard=(guards or {}).get(i)) for i in job_ids])


def run_speed_worker(job: SpeedWorkerJob, timeout_s: float, workdir: Path,
                     on_result=None) -> tuple[SpeedWorkerHeader | None, list[SpeedJobResult]]:
    """Run one worker (``suite.bench.launcher``), calling ``on_result`` for each job's result as it appears;
    returns its header and one result per job: a job the worker did not report on gets one with the reason."""
    run = run_worker(SPEED_WORKER, job, timeout_s=timeout_s, workdir=workdir, on_record=on_result)
    done = {r.job_id for r in run.records}
    lost = [SpeedJobResult(job_id=j.job_id, error=run.failure()) for j in job.jobs if j.job_id not in done]
    for result in lost:
        on_result and on_result(result)
    return run.header, run.records + lost


# --- entry point -------------------------------------------------------------------------------
def measure_speed(jobs, threads: int = 1, repeats: int = 2, *, isolate: str = "job",
                  n_samples: int = 10, min_sample_s: float = 0.05,
                  max_time_s: float = DEFAULT_MAX_TIME_S, min_samples: int = 3,
                  retakes: int = DEFAULT_RETAKES, worker_timeout_s: float = 1800.0,
                  progress: bool = True, task: str | None = None, denormals: str = DEFAULT_POLICY,
                  device: str = "cpu", thread_counts=None, study=None, sweep_repeats: int | None = None,
                  base=None) -> list[dict]:
    """Measure every job in fresh per-framework workers; returns tidy rows (see module docstring).

    max_time_s: budget per single measurement (one metric of one job in one round).
    min_samples: samples taken even past the budget (10 lets the drift check run: 5 per half).
    thread_counts: when given, the jobs of ``study`` (indices; default every job) are also measured at each
        of these thread counts, without streaming; the counts run in increasing order within each round,
        one worker each (TensorFlow fixes its threads at its first op), like the frameworks. Every job is
        measured at ``threads``. Rows of a study job at a count of ``thread_counts`` carry
        ``thread_study: True`` (a row at ``threads`` may be both a plain and a study row: one measurement).
    sweep_repeats: when given, only the ``base`` jobs (indices) get ``repeats`` rounds at ``threads``; every
        other job, and the thread study at its other counts, gets ``sweep_repeats`` rounds (the first ones).
        A second round of the base shape costs one worker per framework; of the whole sweep, the sweep again.
    """
    jobs = [as_job(j) for j in jobs]
    study_counts = sorted(set(thread_counts)) if thread_counts is not None else []
    counts = sorted(set(study_counts) | {threads})
    study = set(range(len(jobs)) if study is None else study) if study_counts else set()
    for value in counts + [repeats, min_samples]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserError(f"measure_speed: threads, repeats and min_samples must be positive integers, "
                            f"got {value!r}")
    if isolate not in ISOLATE:
        raise UserError(f"measure_speed: unknown isolate {isolate!r}; expected one of: {', '.join(ISOLATE)}")
    check_policy(denormals, "measure_speed: denormals")
    if device not in DEVICES:
        raise UserError(f"measure_speed: unknown device {device!r}; expected one of: {', '.join(DEVICES)}")
    timer = timer_options(max(n_samples, min_samples), min_sample_s, max_time_s, min_samples, retakes)
    runs = worker_runs(jobs, counts, threads, study, repeats, isolate, sweep_repeats, base)
    # at a count other than ``threads`` a study job is timed without streaming
    variants = {n: [job if n == threads else SpeedJob(job.spec, job.batch, job.seq_len, (), job.infer)
                    for job in jobs] for n in counts}
    headers: list[tuple[int, SpeedWorkerHeader]] = []          # (thread count, header) of every worker
    rounds: dict[tuple[int, int], list[Round]] = {(i, n): [] for i in range(len(jobs)) for n in counts}
    reference: dict[int, dict[str, float]] = {}      # job -> metric -> median seconds at the fewest threads
    with tempfile.TemporaryDirectory(prefix="suite-speed-") as tmp:
        for k, (rnd, fw, ids, n) in enumerate(runs):
            t0 = time.perf_counter()

            def report(result, k=k, rnd=rnd, t0=t0, n=n):
                if progress:
                    _print_progress(k + 1, len(runs), rnd, repeats, jobs[result.job_id], result,
                                    time.perf_counter() - t0, n)

            guards = ({i: OversubscriptionGuard(reference_s=reference.get(i), factor=OVERSUBSCRIBED,
                                                budget_s=GUARD_BUDGET_S, threads=n, fewest=counts[0]) for i in ids}
                      if n != counts[0] else None)
            job = worker_job(fw, ids, variants[n], n, timer, denormals, device, guards)
            header, results = run_speed_worker(job, worker_timeout_s, Path(tmp), report)
            if n == counts[0]:
                reference.update(_medians(results))
            if header is not None:
                headers.append((n, header))
            for result in results:
                rounds[(result.job_id, n)].append(Round(result, header))
    rows = []
    for n in counts:
        peaks = _framework_peaks([h for count, h in headers if count == n])
        for i, job in enumerate(variants[n]):
            if n == threads or i in study:
                in_study = i in study and n in study_counts
                rows += [{**r, "thread_study": True} if in_study else r
                         for r in job_rows(job, rounds[(i, n)], n, peaks, isolate, task, denormals, device)]
    return rows


def timer_options(n_samples: int, min_sample_s: float, max_time_s: float, min_samples: int,
                  retakes: int) -> TimerOptions:
    """The timer's budget as a worker is given it; a bad value is a UserError naming it."""
    return validate(TimerOptions, {"n_samples": n_samples, "min_sample_s": min_sample_s, "max_time_s": max_time_s,
                                   "min_samples": min_samples, "retakes": retakes}, "measure_speed: timer")


def _medians(results: list[SpeedJobResult]) -> dict[int, dict[str, float]]:
    """{job_id: {metric: median seconds}} of a worker's results (the guard's reference)."""
    return {r.job_id: {m.metric: quantiles(m.measurement.samples)[1] for m in r.metrics if m.measurement}
            for r in results}


def _print_progress(k, total, rnd, repeats, job: SpeedJob, result: SpeedJobResult, wall: float,
                    threads: int) -> None:
    parts = []
    for m in result.metrics:
        metric, unit, scale = UNITS[m.metric]
        at = f"@{m.context}" if m.context is not None else ""
        if m.measurement:
            med = quantiles(m.measurement.samples)[1] * scale
            flag = " UNSTABLE" if m.measurement.unstable else ""
            parts.append(f"{m.metric}{at} {med:.4g} {unit}{flag}")
        else:
            parts.append(f"{m.metric}{at} {'SKIPPED' if m.skipped else 'FAILED'}")
    text = ", ".join(parts) if parts else f"FAILED: {result.error}"
    print(f"[speed {k}/{total}] round {rnd + 1}/{repeats} {job.describe()} {threads} thr: {text} ({wall:.1f} s)",
          file=sys.stderr, flush=True)


def _framework_peaks(headers: list[SpeedWorkerHeader]) -> dict[str, float]:
    """Median measured matmul peak per framework over its workers."""
    by_fw: dict[str, list[float]] = {}
    for h in headers:
        if h.peak_gflops:
            by_fw.setdefault(h.framework, []).append(h.peak_gflops)
    return {fw: statistics.median(v) for fw, v in by_fw.items()}


# --- rows --------------------------------------------------------------------------------------
def summarise_rounds(sample_lists: list[list[float]]) -> dict:
    """value = median of per-round medians; n, iqr over pooled samples; spread of round medians."""
    medians = [quantiles(s)[1] for s in sample_lists]
    pooled = [x for s in sample_lists for x in s]
    q1, _, q3 = quantiles(pooled)
    value = statistics.median(medians)
    spread = (max(medians) - min(medians)) / value if value else math.nan
    return {"value": value, "n": len(pooled), "iqr": q3 - q1, "repeats": len(medians),
            "repeat_spread": spread, "noisy": bool((q3 - q1) > NOISY_RELATIVE_IQR * abs(value))}


def base_fields(job: SpeedJob, threads: int, isolate: str, task, rounds: list[Round],
                denormals: str = DEFAULT_POLICY, device: str = "cpu") -> dict:
    s = job.spec
    ok = [r for r in rounds if not r.result.error]
    first = ok[0] if ok else (rounds[0] if rounds else None)
    path = first.result.path if first else {}
    header = first.header if first else None
    modes = sorted({r.result.fp_mode or (r.header.fp_mode if r.header else None) for r in ok} - {None})
    return {"task": task, "model": s.name, "arch": s.arch, "framework": s.framework,
            "convention": s.convention, "hidden": s.hidden, "layers": s.layers,
            "input_size": s.input_size, "output_size": s.output_size,
            "params": first.result.params if first else None,
            "B": job.batch, "T": job.seq_len, "context": None, "threads": threads, "isolate": isolate,
            "framework_version": header.framework_version if header else None,
            "device": path.get("device", device), "fp_policy": denormals, "fp_mode": "/".join(modes) or None,
            "exec_path": ";".join(f"{k}={v}" for k, v in sorted(path.items())) or None,
            **{f"path_{k}": path.get(k) for k in ("mode", "onednn", "cudnn_eligible", "device", "cudnn")}}


def job_rows(job: SpeedJob, rounds: list[Round], threads: int, peaks: dict[str, float],
             isolate: str, task, denormals: str = DEFAULT_POLICY, device: str = "cpu") -> list[dict]:
    """All rows of one job from its rounds (each round: a worker's result for this job)."""
    base = base_fields(job, threads, isolate, task, rounds, denormals, device)
    peak = peaks.get(job.spec.framework)
    best = max(peaks.values()) if peaks else None
    rows = []
    keys = [("train_step", None)] + [("infer", None)] * job.infer + [("step", c) for c in job.contexts]
    for name, context in keys:
        rows += metric_rows(job, name, context, rounds, base, peak, best)
    rows += memory_rows(rounds, base)
    return rows


def _entry(r: Round, name: str, context):
    """The round's result for metric ``name`` at ``context``, or None."""
    return next((m for m in r.result.metrics if m.metric == name and m.context == context), None)


def metric_rows(job, name, context, rounds: list[Round], base, peak, best) -> list[dict]:
    metric, unit, scale = UNITS[name]
    measured: list[MeasurementRecord] = []
    errors, skipped = [], 0
    for r in rounds:
        entry = _entry(r, name, context)
        if entry and entry.measurement:
            measured.append(entry.measurement)
        else:
            errors.append((entry.error if entry else None) or r.result.error or "not measured")
            skipped += bool(entry and entry.skipped)
    # step rows: B = 1 and the context c; T stays the job's T (the shape cell the row belongs to)
    row = {**base, "metric": metric, "unit": unit, "B": 1 if name == "step" else job.batch,
           "context": context}
    if not measured:
        status = "skipped" if errors and skipped == len(errors) else "failed"
        return [{**row, "value": None, "n": 0, "iqr": None, "noisy": None, "status": status,
                 "error": errors[0] if errors else "no rounds ran"}]
    stable = [not m.unstable for m in measured]
    found = [m.samples for m, ok in zip(measured, stable) if ok] or [m.samples for m in measured]
    status, error = "ok", (f"{len(errors)} of {len(rounds)} rounds failed: {errors[0]}" if errors else None)
    if not any(stable):
        status, error = "unstable", unstable_text(measured, len(rounds))
    seconds = summarise_rounds(found)
    seconds["load_avg"] = _max_load(measured)
    seconds["unstable_rounds"] = stable.count(False)
    seconds["retakes"] = sum(m.retakes for m in measured)
    flops = _flops(job, name, context)          # None: the arch declares no FLOPs formula (a plugin)
    gflop_s = flops / seconds["value"] / 1e9 if flops is not None else None
    rows = [{**row, **seconds, "value": seconds["value"] * scale, "iqr": seconds["iqr"] * scale,
             "flops": flops, "gflop_s": gflop_s, "peak_gflops": peak,
             "peak_fraction": gflop_s / peak if peak and gflop_s is not None else None, "machine_peak_gflops": best,
             "machine_peak_fraction": gflop_s / best if best and gflop_s is not None else None, "status": status,
             "error": error,
             "samples": raw_samples([[x * scale for x in m.samples] for m in measured], stable)}]
    if name != "step":
        rows.append(throughput_row(job, name, measured, stable, row, status, error))
    return rows


def raw_samples(rounds: list[list[float]], stable: list[bool]) -> dict:
    """What the store keeps of a row: its samples per round (in the row's unit), stable flag per round."""
    return {"rounds": rounds, "stable": stable}


def unstable_text(measured: list[MeasurementRecord], n_rounds: int) -> str:
    """One line: why a row is unstable (its rounds' drift p and median shift)."""
    parts = [f"p={m.drift_p:.2g}, shift {m.drift_shift:+.0%}" for m in measured if m.drift_p is not None]
    return (f"unstable: samples drifted (first vs second half) in every measured round of {n_rounds}, "
            f"after {sum(m.retakes for m in measured)} retake(s): " + "; ".join(parts))


def _max_load(measured: list[MeasurementRecord]) -> float | None:
    """Highest 1-minute load average seen around this metric's measurements (contention marker)."""
    loads = [m.meta.get(k) for m in measured for k in ("load_before", "load_after")]
    loads = [x for x in loads if x is not None]
    return max(loads) if loads else None


def _flops(job: SpeedJob, name: str, context) -> int | None:
    if name == "train_step":
        return train_step_flops(job.spec, job.batch, job.seq_len)
    if name == "infer":
        return forward_flops(job.spec, job.batch, job.seq_len)
    return step_flops(job.spec, context, batch=1)


def throughput_row(job, name, measured, stable, row, status, error) -> dict:
    """train: sequences/s = B / s; infer: tokens/s = B T / s (summarised on per-sample rates)."""
    work, metric, unit = ((job.batch, "train_throughput", "seq/s") if name == "train_step"
                          else (job.batch * job.seq_len, "infer_throughput", "tokens/s"))
    per_round = [[work / s for s in m.samples] for m in measured]
    rates = summarise_rounds([r for r, ok in zip(per_round, stable) if ok] or per_round)
    return {**row, **rates, "metric": metric, "unit": unit, "status": status, "error": error,
            "samples": raw_samples(per_round, stable)}


def memory_rows(rounds: list[Round], base: dict) -> list[dict]:
    """peak_rss_mb (after the job) and import_rss_mb (after imports), medians over rounds."""
    measured = [r for r in rounds if r.result.peak_rss_mb]
    rows = []
    for metric, values in (("peak_rss_mb", [r.result.peak_rss_mb for r in measured]),
                           ("import_rss_mb", [r.header.import_rss_mb for r in measured if r.header])):
        if values:
            rows.append({**base, "metric": metric, "value": statistics.median(values), "unit": "MB",
                         "n": len(values), "iqr": None, "noisy": None, "repeats": len(values),
                         "status": "ok", "error": None,
                         "samples": raw_samples([[v] for v in values], [True] * len(values))})
    return rows
