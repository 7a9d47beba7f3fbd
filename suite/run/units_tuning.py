"""The tuning stage: the accuracy stage's learning-rate search, as work units, and the accuracy units' rate.

With ``training.lr_grid`` set, each (task, arch) of the accuracy stage gets its own learning rate, chosen on
validation by the rule of ``suite.results.lr_selection`` (lowest mean over the tuning seeds of the best validation
loss; ties to the smaller rate; a choice at either end of the grid flagged ``edge``). Then every implementation of
that arch (NumPy, PyTorch, Keras) in both views trains at the chosen rate on the evaluation seeds; its rows say
``lr_source: tuned``. With ``lr_grid`` null nothing is searched and every model trains at ``training.lr``
(``lr_source: fixed``). The paper check (``training.lr``) and the long-context stage (``long_context.lr``) keep
their own rates: they are not searched.

Units: one per (task, arch, rate, tuning seed), ``tune-{task}-{arch}-lr{lr:g}-s{seed}``, run on Dask like the
accuracy units. Each trains the arch's reference implementation (its PyTorch model in the accuracy stage, else its
first model there: ``suite.config.tuning_references``) at the headline view's size (the matched budget when
``sizing.budget`` is set, else equal width) with the accuracy stage's protocol (optimizer, clipping, batch,
checkpoint, early stopping) and the task's FULL update budget. Not a shorter one: at a small budget a slow starter
(the LSTM at low rates: validation MSE still at the baseline after 320 updates on adding, solved after 700-900)
looks dead, so a short or successively halved search favours high rates by an artefact of the horizon
(short-horizon bias), and would pick rates for a budget the accuracy stage does not train.

A tuning unit never reads the test split: its data's test split is removed before training and the training loop
runs with ``score_test=False``. Tuning seeds are disjoint from the evaluation seeds (checked with the config), so
the rate is chosen on other splits and initial weights than the ones it is judged on.

Rows (kind ``tuning``; each with the task, model, ``lr``, ``seed`` = the tuning seed, view, budget and
``headline_metric``, the name of the task's headline metric): the validation metrics of the best checkpoint
(split ``val``: ``loss``, the headline metric, the task's others), ``diverged`` (1 when the loss became
non-finite: then no validation rows, and the rule scores the run +inf), ``best_updates`` (updates at the best
checkpoint), ``updates``, ``planned_updates``, ``train_seconds``, ``cpu_seconds``. Curves: like the accuracy
units', with ``kind: tuning`` and ``lr``.
"""
from __future__ import annotations

import dataclasses
import math
import time
from functools import partial

from suite.config import Config, SizingSection, TrainingSection, accuracy_views, tuning_references
from suite.errors import UserError
from suite.results.lr_selection import (TUNING_KIND, LearningRateChoice, LearningRateSearchError,
                                        select_learning_rates, tuning_unit_id)
from suite.run.rows import base_row
from suite.run.units_accuracy import _unit, model_spec_for_task, shared_initial_weights, training_config

STAGE = "tuning"


def tuning_units(cfg: Config, unit_type) -> list:
    """The search's work units (``unit_type``: suite.run.plan.WorkUnit), in the order task, arch, rate, seed;
    none when training.lr_grid is null."""
    if cfg.training.lr_grid is None:
        return []
    view, sizing, _, _ = accuracy_views(cfg)[0]
    return [unit_type(tuning_unit_id(task, entry["arch"], lr, seed), STAGE,
                      partial(tuning_rows, cfg, task, entry, seed, lr, sizing, cfg.training, view=view),
                      f"tune {entry['name']} {task} lr {lr:g} s{seed}", parallel=True)
            for task, entry in tuning_references(cfg)
            for lr in cfg.training.lr_grid for seed in cfg.training.tuning_seeds]


def tuning_rows(cfg: Config, task_name: str, entry: dict, seed: int, lr: float, sizing: SizingSection,
                training: TrainingSection, view: str = "budget", progress=None) -> dict:
    """Train one candidate (``entry`` at rate ``lr`` with tuning seed ``seed``) for the task's full budget and
    score its best checkpoint on the validation split only."""
    from suite.models import build_model
    from suite.run.resources import check_fits, memory_limit_bytes
    from suite.run.training import train
    from suite.tasks import get_task
    task = get_task(task_name, **cfg.tasks.get(task_name, {}))
    data = dataclasses.replace(task.load(seed), test=None)        # the search has no test split to read
    training = training.model_copy(update={"lr": lr})
    spec = model_spec_for_task(entry, data, sizing, seed)
    common = dict(kind=TUNING_KIND, task=task_name, seed=seed, B=training.batch_size, T=data.seq_len,
                  threads=cfg.threads, view=view, budget=sizing.budget, lr=lr, headline_metric=data.metric)
    try:
        check_fits(spec, training.batch_size, data.seq_len, memory_limit_bytes(cfg.resources.max_memory_gb))
    except UserError as e:
        return {"rows": [base_row(spec, **common, metric="loss", value=None, split="val", status="skipped",
                                  error=str(e))]}
    model = build_model(spec)
    if training.init == "shared":
        model.set_weights(shared_initial_weights(cfg, entry, spec))
    cpu_start = time.process_time()
    result = train(model, task, data, training_config(training, task_name, seed), progress=progress,
                   score_test=False)
    cpu_seconds = time.process_time() - cpu_start
    common.update(params=model.num_params())
    diverged = result.stopped == "non_finite"
    status = dict(status="ok", error=None) if diverged else dict(status=result.status, error=result.error)
    rows = [] if diverged else [base_row(spec, **common, metric=name, value=value, split="val", unit=_unit(name),
                                         **status) for name, value in result.val.items()]
    scored = [c for c in result.curve if math.isfinite(c["val_loss"])]
    best = min(scored, key=lambda c: c["val_loss"])["updates"] if scored else math.nan   # first of the lowest
    rows += [base_row(spec, **common, metric="diverged", value=int(diverged), unit="bool",
                      note=result.error if diverged else None, **status),
             base_row(spec, **common, metric="best_updates", value=best, unit="updates", **status),
             base_row(spec, **common, metric="updates", value=result.updates, unit="updates", **status),
             base_row(spec, **common, metric="planned_updates", value=result.planned_updates, unit="updates"),
             base_row(spec, **common, metric="train_seconds", value=result.train_seconds, unit="s", **status),
             base_row(spec, **common, metric="cpu_seconds", value=cpu_seconds, unit="s", **status)]
    curves = [{**c, "task": task_name, "model": spec.name, "arch": spec.arch, "framework": spec.framework,
               "seed": seed, "view": view, "kind": TUNING_KIND, "lr": lr} for c in result.curve]
    return {"rows": rows, "curves": curves}


def tuning_pairs(cfg: Config) -> list[tuple[str, str]]:
    """The (task, arch) pairs the search chooses a rate for."""
    return [(task, entry["arch"]) for task, entry in tuning_references(cfg)]


def learning_rates(cfg: Config, rows) -> dict[tuple[str, str], LearningRateChoice | LearningRateSearchError]:
    """(task, arch) -> the chosen rate, from the tuning rows among ``rows`` (suite.results.lr_selection); a pair
    with no complete rate maps to its LearningRateSearchError (its accuracy units then fail with that message)."""
    t = cfg.training
    return select_learning_rates(rows, t.lr_grid, t.tuning_seeds, tuning_pairs(cfg))


def stored_tuning_rows(store) -> list[dict]:
    return [r for u in store.units() if u.get("stage") == STAGE for r in u["rows"]]


def stored_learning_rates(cfg: Config, store) -> dict:
    """The choice from the tuning units stored in the run folder (the same after a resume: it reads rows only)."""
    return learning_rates(cfg, stored_tuning_rows(store))


def accuracy_training(cfg: Config, rates: dict | None, task: str, arch: str) -> tuple[TrainingSection, str]:
    """The training section of an accuracy unit of this task and arch, and where its rate comes from: the
    chosen rate ('tuned') when training.lr_grid is set, else training.lr ('fixed'). Raises the pair's
    LearningRateSearchError when no rate could be chosen."""
    if cfg.training.lr_grid is None:
        return cfg.training, "fixed"
    if rates is None:
        raise ValueError("the accuracy units of a config with training.lr_grid need the tuning stage's choice: "
                         "plan(cfg, stages, learning_rates=stored_learning_rates(cfg, store)) after the tuning "
                         "units ran (suite.run.stages.run_stages does this)")
    choice = rates[(task, arch)]
    if isinstance(choice, LearningRateSearchError):
        raise choice
    return cfg.training.model_copy(update={"lr": choice.lr}), "tuned"


def without_learning_rate(message: str) -> dict:
    """The run of an accuracy unit whose (task, arch) got no rate: it fails with the search's message (naming
    the tuning units without a result), so the other units still run."""
    raise LearningRateSearchError(message)
