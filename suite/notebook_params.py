"""Which notebook parameter feeds which config key, in both directions.

The batch reads a config and hands each notebook its parameters (plain values, validated against
``papermill.inspect_notebook`` first); a notebook rebuilds a validated config from its parameters, so
a notebook run by hand in Jupyter and one run by the batch go through the same checks.
"""
from __future__ import annotations

from typing import Any

from suite.config import validate_config

# notebook -> {parameter name: dotted config key}; every notebook also takes run_dir.
NOTEBOOK_KEYS: dict[str, dict[str, str]] = {
    "parameters": {"models": "models", "input_size": "params.input_size", "hiddens": "params.hiddens",
                   "layers": "params.layers", "budget": "params.budget"},
    "equivalence": {},
    "speed": {"models": "models", "threads": "threads", "layers": "model.layers", "batch": "speed.batch",
              "input_size": "speed.input_size", "hidden": "speed.hidden", "seq_len": "speed.seq_len",
              "seq_lens": "speed.seq_lens", "hiddens": "speed.hiddens", "contexts": "speed.contexts",
              "repeats": "speed.repeats", "max_time_s": "speed.max_time_s"},
    "accuracy": {"models": "models", "threads": "threads", "tasks": "tasks", "seeds": "seeds",
                 "hidden": "model.hidden", "layers": "model.layers", "budget": "model.budget",
                 "lr": "training.lr", "clip_norm": "training.clip_norm", "batch_size": "training.batch_size",
                 "epochs": "training.epochs", "max_seconds": "training.max_seconds",
                 "patience": "training.patience", "init": "training.init",
                 "paper_check": "paper_check.enabled", "paper_budget": "paper_check.budget",
                 "paper_frameworks": "paper_check.frameworks", "paper_epochs": "paper_check.epochs",
                 "paper_max_seconds": "paper_check.max_seconds"},
    "report": {},
}
# Config values that notebooks spell differently (papermill parameters are plain non-null values).
NULL_AS_ZERO = {"model.budget", "training.clip_norm", "training.max_seconds"}


def _get(cfg: dict, dotted: str):
    for part in dotted.split("."):
        cfg = cfg[part]
    return cfg


def parameters_for(notebook: str, cfg: dict, run_dir: str) -> dict[str, Any]:
    """The papermill parameters of ``notebook`` for a validated config."""
    params = {"run_dir": str(run_dir)}
    for name, key in NOTEBOOK_KEYS[notebook].items():
        value = _get(cfg, key)
        params[name] = 0 if value is None and key in NULL_AS_ZERO else value
    return params


def config_from_parameters(notebook: str, **params) -> dict:
    """A validated config built from a notebook's parameters (the rest at defaults)."""
    raw: dict = {}
    for name, key in NOTEBOOK_KEYS[notebook].items():
        if name not in params:
            continue
        value = params[name]
        if key in NULL_AS_ZERO and value == 0:
            value = None
        node = raw
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    if notebook == "speed":
        raw.setdefault("speed", {})["enabled"] = True
    return validate_config(raw, f"notebook {notebook} parameters")
