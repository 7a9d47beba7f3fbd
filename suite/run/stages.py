"""Run a config's stages: plan them and run their missing work units, the units that need another stage's
results planned once those results are stored.

The accuracy units train at the learning rate the tuning stage chose for their task and arch (when
training.lr_grid is set; ``suite.run.units_tuning``), so asking for the accuracy stage asks for the tuning stage
too. Every other stage is planned at once; the accuracy units are ``Deferred`` (``suite.run.execute``): the
moment the last tuning unit's result is stored, the choice is computed from the stored tuning rows and the
accuracy units are planned with it and join the same Dask session (no second cluster start: one costs ~9 s
wall on a 2-core machine). Without a grid (or without the accuracy stage) everything is planned at once.

A tuning unit whose worker was lost leaves the accuracy units unplanned (a choice without it could differ from
the one a resume makes once it has run); ``--resume`` runs it, then them.

Resume works mid-search: a run killed among the tuning units finds the finished ones in the folder and runs only
the missing ones; the choice, a function of the stored rows only (``suite.results.lr_selection``), is then the
same as in an uninterrupted run, and so are the accuracy units planned from it.
"""
from __future__ import annotations

import sys
from typing import Callable

from suite.config import Config
from suite.run.execute import Deferred, missing, run_units
from suite.run.plan import STAGES, plan


def needs_tuning(cfg: Config, stages) -> bool:
    """The accuracy stage is asked for and its rates are searched (training.lr_grid set)."""
    return "accuracy" in stages and cfg.training.lr_grid is not None


def with_tuning(cfg: Config, stages) -> list[str]:
    """``stages`` in run order, plus 'tuning' where the accuracy stage needs it."""
    wanted = set(stages) | ({"tuning"} if needs_tuning(cfg, stages) else set())
    return [s for s in STAGES if s in wanted]


def run_stages(cfg: Config, stages, store, progress: bool = True, cluster=None,
               setup: Callable | None = None) -> dict:
    """Plan and run the missing units of ``stages`` (see the module docstring for the order); returns the counts
    of ``suite.run.execute.run_units``."""
    from suite.run.units_tuning import STAGE as TUNING, stored_learning_rates
    stages = with_tuning(cfg, stages)
    if not needs_tuning(cfg, stages):
        return run_units(plan(cfg, stages), store, progress=progress, cluster=cluster, setup=setup)
    units = plan(cfg, [s for s in stages if s != "accuracy"])
    tuning = [u for u in units if u.stage == TUNING]
    accuracy = Deferred(ready=lambda: all(store.has_unit(u.id) for u in tuning) and not missing(tuning, store),
                        make=lambda: plan(cfg, ["accuracy"], learning_rates=stored_learning_rates(cfg, store)))
    counts = run_units(units, store, progress=progress, cluster=cluster, setup=setup, deferred=accuracy)
    lost = [u.id for u in missing(tuning, store)]
    if lost:
        print(f"accuracy units not planned: tuning unit(s) {', '.join(lost)} lost their worker; `--resume` runs "
              f"them, then the accuracy units", file=sys.stderr)
    return counts
