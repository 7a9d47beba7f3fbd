"""Run the work units of a plan whose results are missing; a unit that raises becomes a failed row.

Order: first the units that must run alone (params, equivalence, speed: nothing else runs while a speed
measurement is taken) in this process, one after another, with no Dask work in flight; then the training
units (``WorkUnit.parallel``) on Dask (``suite.run.cluster``) when cluster settings are given, else here.
Units that can only be planned from others' results (the accuracy units need the tuning stage's learning rates)
come as ``Deferred``: planned as soon as those results are stored, and run in the same Dask session.

This process writes every unit's file (atomically, through the store) as soon as its result arrives, so a
kill loses at most the units in flight and ``--resume`` runs only the units that have no file yet, plus the
units recorded ``lost`` (their worker died or the scheduler went away: nothing is known about the unit
itself). A unit that raised keeps its failed row (the error text in the row, the traceback in
``logs/<id>.txt``) and the run goes on.

One progress bar counts the units, with the running ones named after it.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from suite.errors import one_line_error
from suite.run.plan import WorkUnit
from suite.run.rows import base_row


@dataclass
class Outcome:
    """What running one unit gave: its rows and curves, wall and CPU seconds, the traceback if it raised,
    and ``lost`` when the unit never reported (worker or scheduler gone)."""
    rows: list[dict]
    curves: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    traceback: str | None = None
    lost: bool = False


def failed_rows(stage: str, error: str) -> list[dict]:
    return [base_row(kind=stage, metric="error", value=None, status="failed", error=one_line_error(error))]


def outcome_of(run: Callable[[], dict], stage: str) -> Outcome:
    """Run one unit here; an exception becomes one failed row plus its traceback (never raises)."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        out = run()
        rows, curves, tb = out.get("rows", []), out.get("curves", []), None
    except Exception as e:  # a model that raises must not stop the batch
        rows, curves, tb = failed_rows(stage, f"{type(e).__name__}: {e}"), [], traceback.format_exc()
    return Outcome(rows, curves, time.perf_counter() - start, time.process_time() - cpu, tb)


def lost_outcome(stage: str, error: str) -> Outcome:
    return Outcome(failed_rows(stage, error), lost=True)


def record(store, unit: WorkUnit, outcome: Outcome) -> bool:
    """Write the unit's file (and its traceback log); True if the unit failed."""
    if outcome.traceback:
        (store.dir / "logs").mkdir(exist_ok=True)
        (store.dir / "logs" / f"{unit.id}.txt").write_text(outcome.traceback)
    extra = {"lost": True} if outcome.lost else {}
    store.write_unit(unit.id, outcome.rows, outcome.curves, stage=unit.stage, seconds=outcome.seconds,
                     cpu_seconds=outcome.cpu_seconds, **extra)
    return any(r.get("status") == "failed" for r in outcome.rows)


def missing(units: list[WorkUnit], store) -> list[WorkUnit]:
    """Units without a file, and units recorded lost (their worker or scheduler went away)."""
    return [u for u in units if not store.has_unit(u.id) or store.read_unit(u.id).get("lost")]


@dataclass
class Deferred:
    """Units planned only once others have results: ``make()`` is called the first time ``ready()`` is true
    (checked before the first unit runs and after each one completes). Its units must be ``parallel``; they run
    like the others -- on Dask, in the same session as the units before them, so no second cluster starts."""
    ready: Callable[[], bool]
    make: Callable[[], list[WorkUnit]]


def run_units(units: list[WorkUnit], store, progress: bool = True, cluster=None,
              setup: Callable[[set[str] | None], None] | None = None, deferred: Deferred | None = None) -> dict:
    """Run the units whose results are missing. ``cluster``: ``suite.run.cluster.ClusterSettings`` for the
    parallel units (None: every unit here). ``setup(frameworks)`` prepares this process once before the first
    unit that runs here (thread counts, determinism) for the frameworks those units build (None: every
    framework of the config). ``deferred``: more units, planned once ``deferred.ready()`` (see Deferred).
    Returns counts."""
    from tqdm.auto import tqdm
    todo = missing(units, store)
    counts = {"units": len(units), "already_done": len(units) - len(todo), "failed": 0}
    remote = [u for u in todo if u.parallel and cluster is not None]
    here = [u for u in todo if u not in remote]
    bar = tqdm(total=len(todo), desc="work units", unit="unit", disable=not progress, dynamic_ncols=True)
    waiting = [deferred]

    def more() -> list[WorkUnit]:
        """The deferred units still to run, once they can be planned (then never again)."""
        if waiting[0] is None or not waiting[0].ready():
            return []
        planned, waiting[0] = waiting[0].make(), None
        new = missing(planned, store)
        counts["units"] += len(planned)
        counts["already_done"] += len(planned) - len(new)
        bar.total += len(new)
        bar.refresh()
        return new

    def show_running(names: list[str]) -> None:
        bar.set_postfix_str(("running: " + ", ".join(names)) if names else "", refresh=True)

    def done(unit: WorkUnit, outcome: Outcome) -> None:
        counts["failed"] += record(store, unit, outcome)
        bar.update(1)

    if here and setup is not None:
        setup(None if any(u.frameworks is None for u in here) else set().union(*(u.frameworks for u in here)))
    for unit in here:
        show_running([unit.describe])
        done(unit, outcome_of(unit.run, unit.stage))
    if cluster is None:                   # no Dask: the deferred units run here too, as soon as they are planned
        queue = more()
        while queue:
            unit = queue.pop(0)
            show_running([unit.describe])
            done(unit, outcome_of(unit.run, unit.stage))
            queue += more()
    else:
        first = remote + more()
        if first:
            from suite.run.cluster import run_on_cluster
            stats = run_on_cluster(first, cluster, done, show_running, more=more)
            record_execution(store, sorted({u.stage for u in stats.pop("ran")}), stats)
    show_running([])
    bar.close()
    return counts


def record_execution(store, stages: list[str], stats: dict) -> None:
    """The stage's wall time, CPU time and CPU/wall as rows of kind 'execution' (unit ``execution-<stages>``;
    rewritten by a resumed run, which then reports the resumed part)."""
    unit_id = "execution-" + "+".join(stages)
    common = dict(kind="execution", model="+".join(stages), workers=stats["workers"],
                  scheduler=stats["scheduler"], units_run=stats["units"])
    rows = [base_row(**common, metric="wall_s", value=stats["wall_s"], unit="s"),
            base_row(**common, metric="cpu_s", value=stats["cpu_s"], unit="s"),
            base_row(**common, metric="cpu_per_wall", value=stats["cpu_per_wall"], unit="ratio")]
    store.write_unit(unit_id, rows, stage="execution", seconds=stats["wall_s"])
