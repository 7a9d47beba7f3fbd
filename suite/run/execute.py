"""Run the work units of a plan whose results are missing; a unit that raises becomes a failed row.

Failures are isolated per unit (its error text in the row, the traceback in ``logs/<id>.txt``) and the
run goes on; ``--resume`` later runs only the units that have no file yet.
"""
from __future__ import annotations

import time
import traceback

from suite.run.plan import WorkUnit
from suite.run.rows import base_row


def run_units(units: list[WorkUnit], store, progress: bool = True) -> dict:
    """Run the units whose results are missing; a failing unit becomes a failed row. Returns counts."""
    from tqdm.auto import tqdm
    todo = [u for u in units if not store.has_unit(u.id)]
    counts = {"units": len(units), "already_done": len(units) - len(todo), "failed": 0}
    bar = tqdm(todo, desc="work units", unit="unit", disable=not progress, dynamic_ncols=True)
    for unit in bar:
        bar.set_postfix_str(unit.describe[:50])
        rows, curves, seconds = run_one(unit, store)
        counts["failed"] += any(r.get("status") == "failed" for r in rows)
        store.write_unit(unit.id, rows, curves, stage=unit.stage, seconds=seconds)
    return counts


def run_one(unit: WorkUnit, store) -> tuple[list[dict], list[dict], float]:
    """(rows, curves, seconds) of one unit; an exception becomes one failed row and a log file."""
    start = time.perf_counter()
    try:
        out = unit.run()
        rows, curves = out.get("rows", []), out.get("curves", [])
    except Exception as e:  # a model that raises must not stop the batch
        rows = [base_row(kind=unit.stage, metric="error", value=None, status="failed",
                         error=f"{type(e).__name__}: {e}".splitlines()[0][:500])]
        curves = []
        (store.dir / "logs").mkdir(exist_ok=True)
        (store.dir / "logs" / f"{unit.id}.txt").write_text(traceback.format_exc())
    return rows, curves, time.perf_counter() - start
