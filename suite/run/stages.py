"""Run a config's stages: plan them, run their missing work units, and where one stage's plan needs another's
results, run them in that order.

The accuracy units train at the learning rate the tuning stage chose for their task and arch (when
training.lr_grid is set; ``suite.run.units_tuning``), so asking for the accuracy stage asks for the tuning stage
too, and the work runs in two steps:
  1. the stages up to and including tuning (params, equivalence, speed, tuning: whichever were asked for) are
     planned and their missing units run (the tuning units on Dask);
  2. the choice is computed from the tuning rows stored in the run folder, then the accuracy stage and the
     stages after it are planned with it and their missing units run.
Without a grid (or without the accuracy stage) everything is planned and run in one step, as before.

Resume works mid-search: a run killed during step 1 finds the finished tuning units in the folder and runs only
the missing ones; the choice, a function of the stored rows only (suite.results.lr_selection), is then the same
as in an uninterrupted run, and so are the accuracy units planned from it.
"""
from __future__ import annotations

from typing import Callable

from suite.config import Config
from suite.run.execute import run_units
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
    of ``suite.run.execute.run_units`` summed over the steps."""
    from suite.run.units_tuning import stored_learning_rates
    stages = with_tuning(cfg, stages)
    if not needs_tuning(cfg, stages):
        return run_units(plan(cfg, stages), store, progress=progress, cluster=cluster, setup=setup)
    cut = STAGES.index("tuning") + 1
    first = [s for s in stages if s in STAGES[:cut]]
    rest = [s for s in stages if s in STAGES[cut:]]
    counts = run_units(plan(cfg, first), store, progress=progress, cluster=cluster, setup=setup)
    rates = stored_learning_rates(cfg, store)
    more = run_units(plan(cfg, rest, learning_rates=rates), store, progress=progress, cluster=cluster, setup=setup)
    return {key: counts[key] + more[key] for key in counts}
