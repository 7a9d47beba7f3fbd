"""A config becomes a plan: the list of independent work units of a run.

A work unit is one piece of work whose rows are stored together (``<run>/units/<id>.json``):
    params                         counted vs formula parameters, matched-budget widths
    equivalence                    weight-transplant errors between implementations
    speed-base                     train step, inference, streaming latency of every model at the base shape
    speed-sweep                    train step and inference over the sweeps of T and H
    acc-{task}-{model}-s{seed}     train one model on one task with one seed, score the test split
    paper-{model}-s{seed}          chorales at Chung et al. 2014's matched budget
    long-...                       mqar / long copy at a matched budget, the T sweep to 4096 with memory
                                   (suite.run.units_long_context)
    edge                           the streaming step exported to ONNX Runtime / LiteRT, fp32 and int8
``suite.run.execute`` runs the units whose results are missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from suite.config import model_entries

STAGES = ("params", "equivalence", "speed", "accuracy", "paper", "long_context", "edge")


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
    from suite.run.units_speed import speed_points, speed_rows
    units = []
    if "params" in stages:
        units.append(WorkUnit("params", "params", lambda: {"rows": params_rows(cfg)}, "parameter table"))
    if "equivalence" in stages:
        units.append(WorkUnit("equivalence", "equivalence", lambda: {"rows": equivalence_rows(cfg)},
                              "weight-transplant equivalence"))
    if "speed" in stages and cfg["speed"]["enabled"]:
        s = cfg["speed"]
        base = [(s["seq_len"], s["hidden"])]
        units.append(WorkUnit("speed-base", "speed", lambda: {"rows": speed_rows(cfg, base, True)},
                              f"speed at T={base[0][0]} H={base[0][1]} with streaming"))
        if speed_points(cfg):
            units.append(WorkUnit("speed-sweep", "speed", lambda: {"rows": speed_rows(cfg, speed_points(cfg), False)},
                                  "speed sweep over T and H"))
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
    if "long_context" in stages and cfg["long_context"]["enabled"]:
        from suite.run.units_long_context import long_context_units
        units += long_context_units(cfg, WorkUnit)
    if "edge" in stages and cfg["edge"]["enabled"]:
        from suite.run.units_edge import edge_unit_rows
        units.append(WorkUnit("edge", "edge", lambda: {"rows": edge_unit_rows(cfg)},
                              "edge runtimes: export, check, quantise, time"))
    return units
