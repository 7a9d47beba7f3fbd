"""A config becomes a plan: the list of independent work units of a run.

A work unit is one piece of work whose rows are stored together (``<run>/units/<id>.json``):
    params                              counted vs formula parameters, matched-budget widths
    equivalence                         weight-transplant errors between implementations
    speed                               train step, inference, streaming latency of every model at the base
                                        shape; train step over the sweeps of T and H; train step and inference
                                        at the base shape at 1 thread and every core (suite.run.units_speed)
    tune-{task}-{arch}-lr{lr}-s{seed}   the learning-rate search: the arch's reference model at one rate of
                                        training.lr_grid on one tuning seed, validation only
                                        (suite.run.units_tuning)
    acc-{view}-{task}-{model}-s{seed}   train one model on one task with one seed, score the test split;
                                        view 'budget' (matched parameter budget) or 'width' (equal width);
                                        an LSTM once per forget-bias arm ('lstm-torch-fb1', 'lstm-torch-fb0')
    side-{task}-{model}-s{seed}         the side-by-side models from shared initial weights and the divergence
                                        null '<model>-ulp1' (suite.run.units_accuracy.side_by_side_units)
                                        at the rate the search chose for (task, arch) when training.lr_grid
                                        is set, so these are planned after the tuning units ran
                                        (``learning_rates``; suite.run.stages runs the two in that order)
    paper-{model}-s{seed}               chorales at Chung et al. 2014's matched budget
    long-...                            mqar / long copy at a matched budget (training: parallel), the T sweep to
                                        4096 and its memory (suite.run.units_long_context)
    edge                                the streaming step exported to ONNX Runtime / LiteRT, fp32 and int8
Training units (tuning, accuracy, paper) are ``parallel``: they may run in Dask worker processes, so their ``run``
is a picklable ``functools.partial`` of a module-level function. The others run in the main process,
alone (``suite.run.execute``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from suite.config import Config, SizingSection, accuracy_views, forget_bias_arms, model_entries, parse_model_name

STAGES = ("params", "equivalence", "speed", "tuning", "accuracy", "paper", "long_context", "edge")


@dataclass
class WorkUnit:
    id: str
    stage: str
    run: Callable[[], dict]          # returns {'rows': [...], 'curves': [...]} (curves optional)
    describe: str
    parallel: bool = False           # may run in a Dask worker (training units); False: main process, alone
    # frameworks whose models the unit builds in this process, which is configured for them (threads,
    # determinism) before it runs; None: every framework of the config. A unit that only starts worker
    # processes (speed, the long-context sweep) needs none, so its notebook kernel never imports TensorFlow.
    frameworks: frozenset[str] | None = None


def plan(cfg: Config, stages=STAGES, learning_rates: dict | None = None) -> list[WorkUnit]:
    """The run's work units, in the order a single worker runs them. ``learning_rates``: the tuning stage's
    choice per (task, arch) (``suite.run.units_tuning.stored_learning_rates``), needed to plan the accuracy
    stage of a config with training.lr_grid set."""
    from suite.run.units_accuracy import accuracy_rows, side_by_side_units
    from suite.results.lr_selection import LearningRateSearchError
    from suite.run.units_tuning import accuracy_training, tuning_units, without_learning_rate
    from suite.run.units_checks import equivalence_rows, params_rows
    from suite.run.units_speed import speed_units
    units = []
    if "params" in stages:
        units.append(WorkUnit("params", "params", lambda: {"rows": params_rows(cfg)}, "parameter table"))
    if "equivalence" in stages:
        units.append(WorkUnit("equivalence", "equivalence", lambda: {"rows": equivalence_rows(cfg)},
                              "weight-transplant equivalence"))
    if "speed" in stages:
        units += speed_units(cfg)
    if "tuning" in stages:
        units += tuning_units(cfg, WorkUnit)
    if "accuracy" in stages:
        for view, sizing, entries, tasks in accuracy_views(cfg):
            for task_name in tasks:
                for entry in forget_bias_arms(cfg, entries):
                    try:
                        training, lr_source = accuracy_training(cfg, learning_rates, task_name, entry["arch"])
                    except LearningRateSearchError as e:     # no rate chosen: these units fail, naming why
                        training, lr_source = None, str(e)
                    for seed in cfg.seeds:
                        units.append(WorkUnit(
                            f"acc-{view}-{task_name}-{entry['name']}-s{seed}", "accuracy",
                            partial(accuracy_rows, cfg, task_name, entry, seed, sizing, training,
                                    view=view, lr_source=lr_source) if training is not None else
                            partial(without_learning_rate, lr_source),
                            f"{entry['name']} {task_name} s{seed} {view}", parallel=True))
        units += side_by_side_units(cfg, WorkUnit, learning_rates)
    if "paper" in stages and cfg.paper_check.enabled:
        pc = cfg.paper_check
        training = cfg.training.model_copy(update={"epochs": pc.epochs, "task_epochs": {},
                                                   "max_seconds": pc.max_seconds})
        sizing = SizingSection(hidden=1, layers=1, budget=pc.budget)
        for framework in pc.frameworks:
            for arch in ("gru", "lstm"):
                entry = {"name": f"{arch}-{framework}", "arch": arch, "framework": framework,
                         "convention": "reset_after", "scan": "parallel"}
                for seed in cfg.seeds:
                    units.append(WorkUnit(f"paper-{entry['name']}-s{seed}", "paper",
                                          partial(accuracy_rows, cfg, "chorales", entry, seed, sizing, training,
                                                  kind="paper", view="budget"),
                                          f"{entry['name']} chorales s{seed}", parallel=True))
    if "long_context" in stages and cfg.long_context.enabled:
        from suite.run.units_long_context import long_context_units
        units += long_context_units(cfg, WorkUnit)
    if "edge" in stages and cfg.edge.enabled:
        from suite.run.units_edge import edge_unit
        units.append(WorkUnit("edge", "edge", partial(edge_unit, cfg), "edge runtimes: export, check, quantise, time",
                              frameworks=frozenset(parse_model_name(n)["framework"] for n in cfg.edge.models)))
    return units


def frameworks_of(cfg: Config) -> set[str]:
    """Every framework a training unit of this config may build (models, plus the paper check's)."""
    frameworks = {e["framework"] for e in model_entries(cfg)}
    if cfg.paper_check.enabled:
        frameworks |= set(cfg.paper_check.frameworks)
    if cfg.long_context.enabled:
        frameworks |= {parse_model_name(n)["framework"] for n in cfg.long_context.models}
    return frameworks
