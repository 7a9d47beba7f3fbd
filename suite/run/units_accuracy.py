"""The accuracy work unit: train one model on one task with one seed in one view, score the test split.

Views (``suite.config.accuracy_views``): 'budget' sizes each arch to the width whose parameter count is
closest to ``sizing.budget`` on this task (at most 10% over), 'width' uses ``sizing.hidden`` for every arch.
A unit whose estimated memory exceeds the limit is recorded ``skipped`` with the estimate, not run; so is a unit
that `init: shared` cannot serve (a plugin arch without a canonical weight layout, built in another framework
than its donor), with the reason.
A unit stopped by the wall-clock safety cap is recorded ``truncated``.

Rows: the test metrics (status ok | truncated | failed), then train_seconds, cpu_seconds (this process's CPU
time while training), updates (applied) and planned_updates (the budget), epochs, the task's baseline and,
where the task has one, its 'solved' threshold. Every row carries the view and the budget.
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
        spec = spec.with_(hidden=width_for_budget(budget_reference(spec), sizing.budget)[0])
    return spec


def budget_reference(spec: ModelSpec) -> ModelSpec:
    """The spec whose count sizes every framework of this arch alike: the torch implementation where the arch
    has one that builds this spec (torch's count of two biases per gate block), else the spec itself (the GRU's
    reset_before convention, which torch.nn.GRU lacks: Keras; a plugin arch without a torch implementation)."""
    from suite.models.registry import implementations
    if spec.framework != "torch" and (spec.arch, "torch") in implementations():
        try:
            return spec.with_(framework="torch")
        except UserError:
            pass
    return spec


def accuracy_rows(cfg: Config, task_name: str, entry: dict, seed: int, sizing: SizingSection,
                  training: TrainingSection, kind: str = "accuracy", progress=None, view: str = "width") -> dict:
    from suite.models import build_model
    from suite.run.resources import check_fits, memory_limit_bytes
    from suite.tasks import get_task
    from suite.run.training import TrainingConfig, train
    task = get_task(task_name, **cfg.tasks.get(task_name, {}))
    data = task.load(seed)
    spec = model_spec_for_task(entry, data, sizing, seed)
    common = dict(kind=kind, task=task_name, seed=seed, B=training.batch_size, T=data.seq_len,
                  threads=cfg.threads, view=view, budget=sizing.budget)
    try:
        check_fits(spec, training.batch_size, data.seq_len, memory_limit_bytes(cfg.resources.max_memory_gb))
    except UserError as e:
        return {"rows": [base_row(spec, **common, metric=data.metric, value=None, status="skipped", error=str(e))]}
    if training.init == "shared":
        reason = shared_init_unavailable(cfg, entry)
        if reason:
            return {"rows": [base_row(spec, **common, metric=data.metric, value=None, status="skipped",
                                      error=reason)]}
    model = build_model(spec)
    if training.init == "shared":
        model.set_weights(shared_initial_weights(cfg, entry, spec))
    tcfg = TrainingConfig(lr=training.lr, clip_norm=training.clip_norm, batch_size=training.batch_size,
                          epochs=task_epochs(training, task_name), max_seconds=training.max_seconds,
                          patience=training.patience, seed=seed)
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
               "seed": seed, "view": view} for c in result.curve]
    return {"rows": rows, "curves": curves}


def task_epochs(training: TrainingSection, task_name: str) -> int:
    """The epochs of this task: ``training.task_epochs[task]`` where given, else ``training.epochs``."""
    return training.task_epochs.get(task_name, training.epochs)


def shared_init_unavailable(cfg: Config, entry: dict) -> str | None:
    """Why `init: shared` cannot give this model the weights of its arch's first configured model: None when it
    can (the donor is this same model, or the arch has a canonical layout to move weights through)."""
    from suite.models.registry import has_canonical_layout
    donor = next(e for e in model_entries(cfg) if e["arch"] == entry["arch"])
    if donor["name"] == entry["name"] or has_canonical_layout(entry["arch"]):
        return None
    return (f"training.init 'shared' needs a canonical weight layout to copy {donor['name']}'s initial weights "
            f"into {entry['name']}; arch {entry['arch']} declares none (canonical_layout)")


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
