"""The accuracy work unit: train one model on one task with one seed in one view, score the test split.

Views (``suite.config.accuracy_views``): 'budget' sizes each arch to the width whose parameter count is
closest to ``sizing.budget`` on this task (at most 10% over), 'width' uses ``sizing.hidden`` for every arch.
A unit whose estimated memory exceeds the limit is recorded ``skipped`` with the estimate, not run.
A unit stopped by the wall-clock safety cap is recorded ``truncated``.

Rows: the test metrics (status ok | truncated | failed), then train_seconds, cpu_seconds (this process's CPU
time while training), updates (applied) and planned_updates (the budget), epochs, the task's baseline and,
where the task has one, its 'solved' threshold. Every row carries the view, the budget and the learning rate
(``lr``, and ``lr_source``: 'tuned' when the tuning stage chose it for this task and arch, else 'fixed').
"""
from __future__ import annotations

import math
import time

from suite.config import Config, SizingSection, TrainingSection, model_entries
from suite.errors import UserError
from suite.run.rows import base_row
from suite.spec import ModelSpec


def model_spec_for_task(entry: dict, data, sizing: SizingSection, seed: int) -> ModelSpec:
    """The spec of one model on one task: configured width, or the width matching the budget."""
    from suite.models.params import width_for_budget
    spec = ModelSpec(entry["arch"], entry["framework"], data.input_size, sizing.hidden, data.output_size,
                     layers=sizing.layers, output=data.output, head=data.head,
                     convention=entry["convention"], scan=entry["scan"], seed=seed)
    if sizing.budget:
        reference = spec.with_(framework="keras" if spec.convention == "reset_before" else "torch")
        spec = spec.with_(hidden=width_for_budget(reference, sizing.budget)[0])
    return spec


def accuracy_rows(cfg: Config, task_name: str, entry: dict, seed: int, sizing: SizingSection,
                  training: TrainingSection, kind: str = "accuracy", progress=None, view: str = "width",
                  lr_source: str = "fixed") -> dict:
    """lr_source: 'tuned' when ``training.lr`` is the rate the tuning stage chose for this task and arch,
    'fixed' when it is the config's own (training.lr, or the paper check's)."""
    from suite.models import build_model
    from suite.run.resources import check_fits, memory_limit_bytes
    from suite.tasks import get_task
    from suite.run.training import train
    task = get_task(task_name, **cfg.tasks.get(task_name, {}))
    data = task.load(seed)
    spec = model_spec_for_task(entry, data, sizing, seed)
    common = dict(kind=kind, task=task_name, seed=seed, B=training.batch_size, T=data.seq_len,
                  threads=cfg.threads, view=view, budget=sizing.budget, lr=training.lr, lr_source=lr_source)
    try:
        check_fits(spec, training.batch_size, data.seq_len, memory_limit_bytes(cfg.resources.max_memory_gb))
    except UserError as e:
        return {"rows": [base_row(spec, **common, metric=data.metric, value=None, status="skipped", error=str(e))]}
    model = build_model(spec)
    if training.init == "shared":
        model.set_weights(shared_initial_weights(cfg, entry, spec))
    tcfg = training_config(training, task_name, seed)
    cpu_start = time.process_time()
    result = train(model, task, data, tcfg, progress=progress)
    cpu_seconds = time.process_time() - cpu_start
    params = model.num_params()
    common.update(params=params, exec_path=_path_text(model))
    status = dict(status=result.status, error=result.error)
    rows = [base_row(spec, **common, metric=name, value=value, split="test", unit=_unit(name), **status)
            for name, value in (result.test or {data.metric: math.nan}).items()]
    rows += [base_row(spec, **common, metric="train_seconds", value=result.train_seconds, unit="s", **status),
             base_row(spec, **common, metric="cpu_seconds", value=cpu_seconds, unit="s", **status),
             base_row(spec, **common, metric="updates", value=result.updates, unit="updates", **status),
             base_row(spec, **common, metric="planned_updates", value=result.planned_updates, unit="updates"),
             base_row(spec, **common, metric="epochs", value=result.epochs, unit="epochs", **status),
             base_row(spec, **common, metric="baseline_" + data.metric, value=data.baseline, unit=data.baseline_name,
                      split="test")]
    if data.solved is not None:
        rows.append(base_row(spec, **common, metric="solved_" + data.metric, value=data.solved, unit="threshold"))
    curves = [{**c, "task": task_name, "model": spec.name, "arch": spec.arch, "framework": spec.framework,
               "seed": seed, "view": view, "kind": kind, "lr": training.lr} for c in result.curve]
    return {"rows": rows, "curves": curves}


def training_config(training: TrainingSection, task_name: str, seed: int):
    """The training loop's settings for one run of this task (``suite.run.training.TrainingConfig``): the
    section's optimizer, clipping, batch and safety cap, the task's epochs, this seed."""
    from suite.run.training import TrainingConfig
    return TrainingConfig(lr=training.lr, clip_norm=training.clip_norm, batch_size=training.batch_size,
                          epochs=task_epochs(training, task_name), max_seconds=training.max_seconds,
                          patience=training.patience, seed=seed)


def task_epochs(training: TrainingSection, task_name: str) -> int:
    """The epochs of this task: ``training.task_epochs[task]`` where given, else ``training.epochs``."""
    return training.task_epochs.get(task_name, training.epochs)


def shared_initial_weights(cfg: Config, entry: dict, spec: ModelSpec) -> dict:
    """`init: shared`: the initial weights of the first configured model of this arch (same seed),
    so every framework starts from the same point."""
    from suite.models import build_model
    donor = next(e for e in model_entries(cfg) if e["arch"] == entry["arch"])
    return build_model(spec.with_(framework=donor["framework"], convention=donor["convention"], scan=donor["scan"])).get_weights()


def _unit(metric: str) -> str:
    return {"accuracy": "fraction", "bits_per_char": "bits/char", "nll_per_step": "nats/step",
            "mse": "scaled^2", "mae": "scaled", "loss": "loss"}.get(metric, "")


def _path_text(model) -> str:
    path = model.execution_path()
    return ";".join(f"{k}={v}" for k, v in sorted(path.items()))
