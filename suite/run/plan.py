"""A config becomes a plan: the list of independent work units of a run.

A work unit is one piece of work whose rows are stored together (``<run>/units/<id>.json``):
    params                         counted vs formula parameters, matched-budget widths
    equivalence                    weight-transplant errors between implementations
    speed-base                     train step, inference, streaming latency of every model at the base shape
    speed-sweep                    train step and inference over the sweeps of T and H
    speed-threads                  train step and inference at the base shape at 1 thread and at every core
    acc-{task}-{model}-s{seed}     train one model on one task with one seed, score the test split
    paper-{model}-s{seed}          chorales at Chung et al. 2014's matched budget
``suite.run.execute`` runs the units whose results are missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from suite.config import model_entries

STAGES = ("params", "equivalence", "speed", "accuracy", "paper")


@dataclass
class WorkUnit:
    id: str
    stage: str
    run: Callable[[], dict]          # returns {'rows': [...], 'curves': [...]} (curves optional)
    describe: str


def plan(cfg: dict, stages=STAGES) -> list[WorkUnit]:
    """The run's work units, in the order a single worker runs them."""
    from suite.run.units_accuracy import accuracy_rows
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
    if "accuracy" in stages:
        for task_name in cfg["tasks"]:
            for entry in model_entries(cfg):
                for seed in cfg["seeds"]:
                    units.append(WorkUnit(f"acc-{task_name}-{entry['name']}-s{seed}", "accuracy",
                                          lambda t=task_name, e=entry, sd=seed: accuracy_rows(
                                              cfg, t, e, sd, cfg["model"], cfg["training"]),
                                          f"train {entry['name']} on {task_name} seed {seed}"))
    if "paper" in stages and cfg["paper_check"]["enabled"]:
        pc = cfg["paper_check"]
        training = {**cfg["training"], "epochs": pc["epochs"], "max_seconds": pc["max_seconds"]}
        for framework in pc["frameworks"]:
            for arch in ("gru", "lstm"):
                entry = {"name": f"{arch}-{framework}", "arch": arch, "framework": framework,
                         "convention": "reset_after", "scan": "parallel"}
                for seed in cfg["seeds"]:
                    units.append(WorkUnit(f"paper-{entry['name']}-s{seed}", "paper",
                                          lambda e=entry, sd=seed: accuracy_rows(
                                              cfg, "chorales", e, sd, {"hidden": 1, "layers": 1,
                                                                       "budget": pc["budget"]},
                                              training, kind="paper"),
                                          f"chorales at {pc['budget']} params: {entry['name']} seed {seed}"))
    return units
