"""The harness without notebooks: plan a config into cells, run the missing ones, write results.

A cell is one unit of work whose rows are stored together (``results/<run>/cells/<id>.json``):
    params                         counted vs formula parameters, matched-budget widths
    equivalence                    weight-transplant errors between implementations
    speed-base                     train step, inference, streaming latency of every model at the base shape
    speed-sweep                    train step and inference over the sweeps of T and H
    acc-{task}-{model}-s{seed}     train one model on one task with one seed, score the test split
    paper-{model}-s{seed}          chorales at Chung et al. 2014's matched budget
Cells that fail are recorded as failed rows (with the error text) and the run goes on;
``--resume`` runs only the cells that have no file yet.
"""
from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from suite.config import model_entries
from suite.errors import UserError
from suite.spec import ModelSpec

STAGES = ("params", "equivalence", "speed", "accuracy", "paper")


@dataclass
class Cell:
    id: str
    stage: str
    run: Callable[[], dict]          # returns {'rows': [...], 'curves': [...]} (curves optional)
    describe: str


def base_row(spec: ModelSpec | None = None, **fields) -> dict:
    row = {"status": "ok", "error": None}
    if spec is not None:
        row.update(model=spec.name, arch=spec.arch, framework=spec.framework, convention=spec.convention,
                   hidden=spec.hidden, layers=spec.layers)
    row.update(fields)
    return row


# --- params ----------------------------------------------------------------------------------
def params_rows(cfg: dict) -> list[dict]:
    from suite.models import build_model
    from suite.params import convention_name, formula_params, width_for_budget
    p, rows = cfg["params"], []
    for entry in model_entries(cfg):
        for layers in p["layers"]:
            for hidden in p["hiddens"]:
                spec = _spec(entry, p["input_size"], hidden, 1, layers=layers)
                counted = build_model(spec).num_params()
                rows.append(base_row(spec, kind="params", metric="params_counted", value=counted, unit="params",
                                     params=counted, formula=formula_params(spec),
                                     convention_label=convention_name(spec)))
        spec = _spec(entry, 88, 1, 88, output="sequence", head="multilabel")
        width, achieved = width_for_budget(spec, p["budget"])
        rows.append(base_row(spec.with_(hidden=width), kind="params", metric="budget_width", value=width,
                             unit="H", params=achieved, budget=p["budget"], task="chorales"))
    return rows


def _spec(entry: dict, input_size: int, hidden: int, output_size: int, **kw) -> ModelSpec:
    return ModelSpec(entry["arch"], entry["framework"], input_size, hidden, output_size,
                     convention=entry["convention"], **kw)


# --- equivalence -----------------------------------------------------------------------------
def equivalence_rows(cfg: dict) -> list[dict]:
    from suite.equivalence import run_equivalence
    rows = []
    for r in run_equivalence():
        for metric, tol in (("max_out_diff", "out_tol"), ("max_grad_diff", "grad_tol")):
            rows.append(base_row(kind="equivalence", model=r["pair"], arch=r["arch"], convention=r["convention"],
                                 hidden=r["H"], layers=r["L"], T=r["T"], B=r["B"], metric=metric,
                                 value=r[metric], unit="abs", tolerance=r.get(tol),
                                 status="ok" if r["ok"] else "failed",
                                 error=None if r["ok"] else f"{metric} {r[metric]:.2e} > {r.get(tol)}"))
    return rows


# --- accuracy --------------------------------------------------------------------------------
def model_spec_for_task(entry: dict, data, cfg_model: dict, seed: int) -> ModelSpec:
    """The spec of one model on one task: configured width, or the width matching the budget."""
    from suite.params import width_for_budget
    spec = ModelSpec(entry["arch"], entry["framework"], data.input_size, cfg_model["hidden"], data.output_size,
                     layers=cfg_model["layers"], output=data.output, head=data.head,
                     convention=entry["convention"], seed=seed)
    if cfg_model.get("budget"):
        reference = spec.with_(framework="keras" if spec.convention == "reset_before" else "torch")
        spec = spec.with_(hidden=width_for_budget(reference, cfg_model["budget"])[0])
    return spec


def accuracy_rows(cfg: dict, task_name: str, entry: dict, seed: int, cfg_model: dict, training: dict,
                  kind: str = "accuracy", progress=None) -> dict:
    from suite.models import build_model
    from suite.resources import check_fits, memory_limit_bytes
    from suite.tasks import get_task
    from suite.training import TrainingConfig, train
    task = get_task(task_name, **cfg["tasks"].get(task_name, {}))
    data = task.load(seed)
    spec = model_spec_for_task(entry, data, cfg_model, seed)
    common = dict(kind=kind, task=task_name, seed=seed, B=training["batch_size"], T=data.seq_len,
                  threads=cfg["threads"])
    try:
        check_fits(spec, training["batch_size"], data.seq_len, memory_limit_bytes(cfg["resources"]["max_memory_gb"]))
    except UserError as e:
        return {"rows": [base_row(spec, **common, metric=data.metric, value=None, status="skipped", error=str(e))]}
    model = build_model(spec)
    if training.get("init") == "shared":
        model.set_weights(shared_initial_weights(cfg, entry, spec))
    tcfg = TrainingConfig(lr=training["lr"], clip_norm=training["clip_norm"], batch_size=training["batch_size"],
                          epochs=training["epochs"], max_seconds=training["max_seconds"],
                          patience=training.get("patience", 3), seed=seed)
    result = train(model, task, data, tcfg, progress=progress)
    params = model.num_params()
    common.update(params=params, path=_path_text(model))
    rows = [base_row(spec, **common, metric=name, value=value, split="test", unit=_unit(name),
                     status=result.status, error=result.error)
            for name, value in (result.test or {data.metric: math.nan}).items()]
    rows += [base_row(spec, **common, metric="train_seconds", value=result.train_seconds, unit="s",
                      status=result.status, error=result.error),
             base_row(spec, **common, metric="epochs", value=result.epochs, unit="epochs", status=result.status,
                      error=result.error),
             base_row(spec, **common, metric="baseline_" + data.metric, value=data.baseline, unit=data.baseline_name,
                      split="test")]
    if data.solved is not None:
        rows.append(base_row(spec, **common, metric="solved_" + data.metric, value=data.solved, unit="threshold"))
    curves = [{**c, "task": task_name, "model": spec.name, "arch": spec.arch, "framework": spec.framework,
               "seed": seed} for c in result.curve]
    return {"rows": rows, "curves": curves}


def shared_initial_weights(cfg: dict, entry: dict, spec: ModelSpec) -> dict:
    """`init: shared`: the initial weights of the first configured model of this arch (same seed),
    so every framework starts from the same point."""
    from suite.models import build_model
    donor = next(e for e in model_entries(cfg) if e["arch"] == entry["arch"])
    return build_model(spec.with_(framework=donor["framework"], convention=donor["convention"])).get_weights()


def _unit(metric: str) -> str:
    return {"accuracy": "fraction", "bits_per_char": "bits/char", "nll_per_step": "nats/step",
            "mse": "scaled^2", "mae": "scaled", "loss": "loss"}.get(metric, "")


def _path_text(model) -> str:
    path = model.execution_path()
    return ";".join(f"{k}={v}" for k, v in sorted(path.items()))


# --- speed -----------------------------------------------------------------------------------
def speed_points(cfg: dict) -> list[tuple[int, int]]:
    """(T, H) points of the sweeps: over T at the base width, over H at the base length (base excluded)."""
    s = cfg["speed"]
    base = (s["seq_len"], s["hidden"])
    points = [(T, s["hidden"]) for T in s["seq_lens"]] + [(s["seq_len"], H) for H in s["hiddens"]]
    return [p for i, p in enumerate(points) if p != base and p not in points[:i]]


def speed_rows(cfg: dict, points: list[tuple[int, int]], streaming: bool) -> list[dict]:
    """Time every model at each (T, H). At the base shape (streaming=True) each job gets its own worker
    process, so peak memory is per model; the sweep shares one worker per framework and round."""
    from suite.resources import check_fits, memory_limit_bytes
    from suite.speed import measure_speed
    s, jobs, rows = cfg["speed"], [], []
    limit = memory_limit_bytes(cfg["resources"]["max_memory_gb"])
    for T, H in points:
        for entry in model_entries(cfg):
            spec = ModelSpec(entry["arch"], entry["framework"], s["input_size"], H, 1,
                             convention=entry["convention"], layers=cfg["model"]["layers"])
            try:
                check_fits(spec, s["batch"], T, limit)
            except UserError as e:
                rows.append(base_row(spec, kind="speed", B=s["batch"], T=T, metric="train_step_ms", value=None,
                                     status="skipped", error=str(e)))
                continue
            jobs.append((spec, s["batch"], T, s["contexts"] if streaming else []))
    if jobs:
        rows += measure_speed(jobs, threads=cfg["threads"], repeats=s["repeats"], max_time_s=s["max_time_s"],
                              isolate="job" if streaming else "framework")
    return [{**r, "kind": "speed"} for r in rows]


# --- planning --------------------------------------------------------------------------------
def plan(cfg: dict, stages=STAGES) -> list[Cell]:
    cells = []
    if "params" in stages:
        cells.append(Cell("params", "params", lambda: {"rows": params_rows(cfg)}, "parameter table"))
    if "equivalence" in stages:
        cells.append(Cell("equivalence", "equivalence", lambda: {"rows": equivalence_rows(cfg)},
                          "weight-transplant equivalence"))
    if "speed" in stages and cfg["speed"]["enabled"]:
        s = cfg["speed"]
        base = [(s["seq_len"], s["hidden"])]
        cells.append(Cell("speed-base", "speed", lambda: {"rows": speed_rows(cfg, base, True)},
                          f"speed at T={base[0][0]} H={base[0][1]} with streaming"))
        if speed_points(cfg):
            cells.append(Cell("speed-sweep", "speed", lambda: {"rows": speed_rows(cfg, speed_points(cfg), False)},
                              "speed sweep over T and H"))
    if "accuracy" in stages:
        for task_name in cfg["tasks"]:
            for entry in model_entries(cfg):
                for seed in cfg["seeds"]:
                    cells.append(Cell(f"acc-{task_name}-{entry['name']}-s{seed}", "accuracy",
                                      lambda t=task_name, e=entry, sd=seed: accuracy_rows(
                                          cfg, t, e, sd, cfg["model"], cfg["training"]),
                                      f"train {entry['name']} on {task_name} seed {seed}"))
    if "paper" in stages and cfg["paper_check"]["enabled"]:
        pc = cfg["paper_check"]
        training = {**cfg["training"], "epochs": pc["epochs"], "max_seconds": pc["max_seconds"]}
        for framework in pc["frameworks"]:
            for arch in ("gru", "lstm"):
                entry = {"name": f"{arch}-{framework}", "arch": arch, "framework": framework,
                         "convention": "reset_after"}
                for seed in cfg["seeds"]:
                    cells.append(Cell(f"paper-{entry['name']}-s{seed}", "paper",
                                      lambda e=entry, sd=seed: accuracy_rows(
                                          cfg, "chorales", e, sd, {"hidden": 1, "layers": 1, "budget": pc["budget"]},
                                          training, kind="paper"),
                                      f"chorales at {pc['budget']} params: {entry['name']} seed {seed}"))
    return cells


def run_cells(cells: list[Cell], store, progress: bool = True) -> dict:
    """Run the cells whose results are missing; a failing cell becomes a failed row. Returns counts."""
    from tqdm.auto import tqdm
    todo = [c for c in cells if not store.has_cell(c.id)]
    counts = {"cells": len(cells), "skipped_done": len(cells) - len(todo), "failed": 0}
    bar = tqdm(todo, desc="cells", unit="cell", disable=not progress, dynamic_ncols=True)
    for cell in bar:
        bar.set_postfix_str(cell.describe[:50])
        start = time.perf_counter()
        try:
            out = cell.run()
            rows, curves = out.get("rows", []), out.get("curves", [])
        except Exception as e:  # a model that raises must not stop the batch
            rows = [base_row(kind=cell.stage, metric="error", value=None, status="failed",
                             error=f"{type(e).__name__}: {e}".splitlines()[0][:500])]
            curves = []
            (store.dir / "logs").mkdir(exist_ok=True)
            (store.dir / "logs" / f"{cell.id}.txt").write_text(traceback.format_exc())
        if any(r.get("status") == "failed" for r in rows):
            counts["failed"] += 1
        store.write_cell(cell.id, rows, curves, stage=cell.stage, seconds=time.perf_counter() - start)
    return counts
