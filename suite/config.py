"""Experiment configs: YAML, safe-loaded, validated against a typed schema.

Every key has a type, a default and a help line (``python -m suite config-help`` prints them).
An unknown key, a wrong type, a non-positive size or an unknown task/model/framework raises
UserError with one line: ``<file>: key '<dotted.key>': expected <what>, got <value>``.
Nothing is written by loading a config.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from suite.errors import UserError
from suite.spec import ARCHS, FRAMEWORKS, GRU_CONVENTIONS, IMPLEMENTATIONS, ModelSpec
from suite.tasks import TASK_NAMES, task_class


@dataclass(frozen=True)
class Key:
    type: str        # 'int', 'float', 'bool', 'str', 'ints', 'floats', 'strs', 'models', 'tasks', 'notebooks', 'int?', 'float?'
    default: Any
    help: str
    positive: bool = False
    choices: tuple = ()


MODEL_NAME = re.compile(r"^(gru|lstm|transformer)-(numpy|torch|keras)(?:-(reset_after|reset_before))?$")
NOTEBOOKS = ("parameters", "equivalence", "speed", "accuracy", "report")
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

SCHEMA: dict[str, Any] = {
    "name": Key("str", "run", "run name; the run directory is results/<name>-<timestamp> unless --out is given"),
    "seeds": Key("ints", [0, 1, 2], "training seeds; accuracy figures are mean and 95% CI over them"),
    "threads": Key("int", 1, "intra-op threads for every framework (set before the first op)", positive=True),
    "models": Key("models", ["gru-numpy", "gru-torch", "gru-keras", "lstm-torch", "lstm-keras",
                             "transformer-torch", "transformer-keras"],
                  "models as arch-framework[-convention], e.g. gru-keras-reset_before"),
    "tasks": Key("tasks", {"digits": {}, "adding": {}}, "task name -> task options (python -m suite list)"),
    "model": {
        "hidden": Key("int", 64, "encoder width H (d_model for the Transformer)", positive=True),
        "layers": Key("int", 1, "encoder layers L", positive=True),
        "budget": Key("int?", None, "if set: per arch, the width that matches this parameter budget (overrides hidden)",
                      positive=True),
    },
    "training": {
        "lr": Key("float", 3e-3, "Adam learning rate (beta1 0.9, beta2 0.999, eps 1e-8)", positive=True),
        "clip_norm": Key("float?", 1.0, "global gradient-norm clip (null = off)", positive=True),
        "batch_size": Key("int", 32, "minibatch size", positive=True),
        "epochs": Key("int", 10, "maximum epochs", positive=True),
        "max_seconds": Key("float?", 60.0, "wall-clock budget per training run (null = none)", positive=True),
        "patience": Key("int", 3, "early stopping: epochs without validation improvement", positive=True),
        "init": Key("str", "framework", "framework: each framework's default init; shared: same initial weights "
                    "copied into every implementation of an arch", choices=("framework", "shared")),
    },
    "speed": {
        "enabled": Key("bool", True, "run the speed measurements"),
        "batch": Key("int", 32, "batch size B for train step and inference", positive=True),
        "input_size": Key("int", 32, "input features X", positive=True),
        "hidden": Key("int", 128, "width H at which sequence lengths are swept", positive=True),
        "seq_len": Key("int", 100, "sequence length T at which widths are swept", positive=True),
        "seq_lens": Key("ints", [25, 50, 100, 200], "sequence lengths T of the sweep", positive=True),
        "hiddens": Key("ints", [32, 64, 128, 256], "widths H of the sweep", positive=True),
        "contexts": Key("ints", [16, 128, 1024], "context lengths for streaming step latency (batch 1)", positive=True),
        "repeats": Key("int", 2, "interleaved A/B repeats per framework (medians reported)", positive=True),
        "max_time_s": Key("float", 2.0, "time budget per single measurement", positive=True),
    },
    "params": {
        "input_size": Key("int", 32, "input features X for the parameter table", positive=True),
        "hiddens": Key("ints", [32, 64, 128], "widths H for the parameter table", positive=True),
        "layers": Key("ints", [1, 2], "layer counts for the parameter table", positive=True),
        "budget": Key("int", 20000, "parameter budget for matched widths (Chung et al. 2014: ~20k)", positive=True),
    },
    "paper_check": {
        "enabled": Key("bool", True, "train GRU and LSTM on chorales at Chung et al. 2014's matched budget"),
        "budget": Key("int", 20000, "parameter budget", positive=True),
        "frameworks": Key("strs", ["torch"], "frameworks to run it in", choices=FRAMEWORKS),
        "epochs": Key("int", 10, "maximum epochs", positive=True),
        "max_seconds": Key("float", 60.0, "wall-clock budget per model", positive=True),
    },
    "batch": {
        "notebooks": Key("notebooks", list(NOTEBOOKS), "notebooks the batch executes, in order"),
        "cell_timeout_s": Key("int", 900, "papermill per-cell timeout (nbclient CellTimeoutError past it)", positive=True),
    },
    "resources": {
        "max_memory_gb": Key("float?", None, "refuse work units estimated above this (null = 80% of this machine's RAM)",
                             positive=True),
    },
}


def defaults(schema=SCHEMA) -> dict:
    return {k: defaults(v) if isinstance(v, dict) else copy.deepcopy(v.default) for k, v in schema.items()}


def _fail(where: str, key: str, expected: str, value: Any):
    raise UserError(f"{where}: key '{key}': expected {expected}, got {value!r}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_scalar(kind: str, value, spec: Key, where: str, key: str):
    base = kind.rstrip("?")
    if kind.endswith("?") and value is None:
        return None
    if base == "int":
        if not _is_int(value) or (spec.positive and value < 1):
            _fail(where, key, "a positive integer" if spec.positive else "an integer", value)
    elif base == "float":
        if not (_is_int(value) or isinstance(value, float)) or (spec.positive and not value > 0):
            _fail(where, key, "a positive number" if spec.positive else "a number", value)
        value = float(value)
    elif base == "bool":
        if not isinstance(value, bool):
            _fail(where, key, "true or false", value)
    elif base == "str":
        if not isinstance(value, str):
            _fail(where, key, "a string", value)
        if spec.choices and value not in spec.choices:
            _fail(where, key, f"one of {', '.join(spec.choices)}", value)
    return value


def _check_list(kind: str, value, spec: Key, where: str, key: str):
    item = {"ints": "int", "floats": "float", "strs": "str"}[kind]
    if not isinstance(value, list) or not value:
        _fail(where, key, f"a non-empty list of {item}s", value)
    return [_check_scalar(item, v, spec, where, f"{key}[{i}]") for i, v in enumerate(value)]


def parse_model_name(name, where: str = "", key: str = "models") -> dict:
    """'gru-keras-reset_before' -> {'arch': 'gru', 'framework': 'keras', 'convention': 'reset_before'}."""
    m = MODEL_NAME.match(name) if isinstance(name, str) else None
    if not m:
        valid = sorted(f"{a}-{f}" for a, f in IMPLEMENTATIONS)
        raise UserError(f"{where or 'model'}: key '{key}': expected a model name among {', '.join(valid)} "
                        f"(GRU may add -{'|-'.join(GRU_CONVENTIONS)}), got {name!r}")
    arch, framework, convention = m.group(1), m.group(2), m.group(3) or "reset_after"
    if convention != "reset_after" and arch != "gru":
        _fail(where, key, "a reset convention only on GRU models", name)
    try:
        ModelSpec(arch, framework, 1, 1, 1, convention=convention)
    except UserError as e:
        raise UserError(f"{where}: key '{key}': {e}") from None
    return {"arch": arch, "framework": framework, "convention": convention}


def _check_models(value, where, key):
    if not isinstance(value, list) or not value:
        _fail(where, key, "a non-empty list of model names", value)
    seen = []
    for i, name in enumerate(value):
        parse_model_name(name, where, f"{key}[{i}]")
        if name in seen:
            _fail(where, f"{key}[{i}]", "each model once", name)
        seen.append(name)
    return value


def _check_tasks(value, where, key):
    if not isinstance(value, dict) or not value:
        _fail(where, key, f"a mapping of task names ({', '.join(TASK_NAMES)}) to option mappings", value)
    out = {}
    for name, options in value.items():
        if name not in TASK_NAMES:
            _fail(where, f"{key}.{name}", f"a task among {', '.join(TASK_NAMES)}", name)
        options = {} if options is None else options
        if not isinstance(options, dict):
            _fail(where, f"{key}.{name}", "a mapping of task options", options)
        try:
            task_class(name)(**options)
        except UserError as e:
            raise UserError(f"{where}: key '{key}.{name}': {e}") from None
        out[name] = options
    return out


def _check_notebooks(value, where, key):
    if not isinstance(value, list) or not value:
        _fail(where, key, "a non-empty list of notebooks", value)
    for i, nb in enumerate(value):
        if nb not in NOTEBOOKS:
            _fail(where, f"{key}[{i}]", f"a notebook among {', '.join(NOTEBOOKS)}", nb)
    return value


def _validate(raw: dict, schema: dict, where: str, prefix: str = "") -> dict:
    out = {}
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            raise UserError(f"{where}: unknown key '{dotted}'; expected one of: {', '.join(schema)}")
        spec = schema[key]
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                _fail(where, dotted, "a mapping", value)
            out[key] = _validate(value, spec, where, dotted + ".")
        elif spec.type in ("ints", "floats", "strs"):
            out[key] = _check_list(spec.type, value, spec, where, dotted)
        elif spec.type == "models":
            out[key] = _check_models(value, where, dotted)
        elif spec.type == "tasks":
            out[key] = _check_tasks(value, where, dotted)
        elif spec.type == "notebooks":
            out[key] = _check_notebooks(value, where, dotted)
        else:
            out[key] = _check_scalar(spec.type, value, spec, where, dotted)
    return out


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for k, v in override.items():
        merged[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) and k != "tasks" else v
    return merged


def validate_config(raw: Any, where: str = "<config>") -> dict:
    """Validate a parsed mapping and fill in defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a YAML mapping of config keys at the top level, got {type(raw).__name__}")
    cfg = _merge(defaults(), _validate(raw, SCHEMA, where))
    if not RUN_NAME.match(cfg["name"]):
        _fail(where, "name", "a run name of letters, digits, '_', '.', '-' (no path separators, <= 64 chars)",
              cfg["name"])
    return cfg


def load_config(path) -> dict:
    """Read, safe-load and validate a YAML config file."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise UserError(f"{where}: config file not found (expected a YAML file, e.g. configs/smoke.yaml)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{where}: invalid YAML{at}: {getattr(e, 'problem', e)}") from None
    except UnicodeDecodeError:
        raise UserError(f"{where}: expected a UTF-8 YAML text file") from None
    return validate_config(raw, where)


def model_entries(cfg: dict) -> list[dict]:
    """The config's models as {'name', 'arch', 'framework', 'convention'} dicts."""
    return [{"name": n, **parse_model_name(n)} for n in cfg["models"]]


def schema_help(schema=SCHEMA, prefix="") -> list[str]:
    lines = []
    for key, spec in schema.items():
        if isinstance(spec, dict):
            lines += schema_help(spec, f"{prefix}{key}.")
        else:
            lines.append(f"{prefix}{key}: {spec.type} = {spec.default!r}  # {spec.help}")
    return lines
