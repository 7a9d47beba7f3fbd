"""The experiment config: one pydantic schema for the YAML files, ``config-help`` and the notebooks.

A config is YAML, safe-loaded and validated against ``Config`` below. Every key has a type, a default
and a description (``python -m suite config-help`` prints them). An unknown key, a wrong type, a
non-positive size, an unknown task/model/framework, or an empty file raises UserError with one line:
``<file>: key '<dotted.key>': expected <what>, got <value>``. Nothing is written by loading a config.

Notebook parameters are the same keys, flattened with '_' (``training.lr`` -> ``training_lr``;
top-level keys keep their name): a notebook declares the ones it uses in its parameters cell, the batch
passes their values from the config, and ``config_from_flat`` validates them with this schema.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, Field

from suite.errors import UserError
from suite.schema import (Bool, Int, PositiveFloat, PositiveInt, Section, Str, choice, expects, help_lines,
                          non_empty_list, validate)
from suite.spec import ARCHS, FRAMEWORKS, GRU_CONVENTIONS, IMPLEMENTATIONS, MIN_RNN_ARCHS, SCANS, ModelSpec

NOTEBOOKS = ("parameters", "equivalence", "speed", "accuracy", "report")
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _model_name_pattern() -> re.Pattern:
    variants = "|".join(GRU_CONVENTIONS + SCANS)
    return re.compile(rf"^({'|'.join(sorted(ARCHS, key=len, reverse=True))})-({'|'.join(FRAMEWORKS)})"
                      rf"(?:-({variants}))?$")


def parse_model_name(name, where: str = "", key: str = "models") -> dict:
    """'gru-keras-reset_before' -> {'arch': 'gru', 'framework': 'keras', 'convention': 'reset_before',
    'scan': 'parallel'}; 'mingru-torch-sequential' -> scan 'sequential'."""
    m = _model_name_pattern().match(name) if isinstance(name, str) else None
    if not m:
        valid = sorted(f"{a}-{f}" for a, f in IMPLEMENTATIONS)
        raise UserError(f"{where or 'model'}: key '{key}': expected a model name among {', '.join(valid)} "
                        f"(GRU may add -{'|-'.join(GRU_CONVENTIONS)}; {'/'.join(MIN_RNN_ARCHS)} may add "
                        f"-{'|-'.join(SCANS)}), got {name!r}")
    arch, framework, variant = m.group(1), m.group(2), m.group(3)
    convention = variant if variant in GRU_CONVENTIONS else "reset_after"
    scan = variant if variant in SCANS else "parallel"
    if variant in GRU_CONVENTIONS and arch != "gru":
        raise UserError(f"{where}: key '{key}': expected a reset convention only on GRU models, got {name!r}")
    if variant in SCANS and arch not in MIN_RNN_ARCHS:
        raise UserError(f"{where}: key '{key}': expected a scan mode only on {'/'.join(MIN_RNN_ARCHS)} models, "
                        f"got {name!r}")
    try:
        ModelSpec(arch, framework, 1, 1, 1, convention=convention, scan=scan)
    except UserError as e:
        raise UserError(f"{where}: key '{key}': {e}") from None
    return {"arch": arch, "framework": framework, "convention": convention, "scan": scan}


def _optional(phrase: str, ok):
    return expects(f"{phrase} or null", lambda v: v is None or ok(v))


def _positive_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


OptionalPositiveFloat = Annotated[float | None, _optional("a positive number", _positive_number)]
OptionalPositiveInt = Annotated[int | None, _optional("a positive integer",
                                                      lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1)]
ModelNames = Annotated[list[str], expects("a non-empty list of model names", lambda v: isinstance(v, list) and v)]
NotebookName = Annotated[str, expects(f"a notebook among {', '.join(NOTEBOOKS)}", lambda v: v in NOTEBOOKS)]
TaskMap = Annotated[dict[str, Any], BeforeValidator(lambda v: {} if v is None else v),
                    expects("a mapping of task names to option mappings", lambda v: isinstance(v, dict) and v)]


class ModelSection(Section):
    hidden: PositiveInt = Field(64, description="encoder width H (d_model for the Transformer)")
    layers: PositiveInt = Field(1, description="encoder layers L")
    budget: OptionalPositiveInt = Field(None, description="if set: per arch, the width that matches this parameter "
                                                          "budget (overrides hidden)")


class TrainingSection(Section):
    lr: PositiveFloat = Field(3e-3, description="Adam learning rate (beta1 0.9, beta2 0.999, eps 1e-8)")
    clip_norm: OptionalPositiveFloat = Field(1.0, description="global gradient-norm clip (null = off)")
    batch_size: PositiveInt = Field(32, description="minibatch size")
    epochs: PositiveInt = Field(10, description="maximum epochs")
    max_seconds: OptionalPositiveFloat = Field(60.0, description="wall-clock budget per training run (null = none)")
    patience: PositiveInt = Field(3, description="early stopping: epochs without validation improvement")
    init: choice("framework", "shared") = Field(
        "framework", description="framework: each framework's default init; shared: same initial weights copied "
                                 "into every implementation of an arch")


ThreadCount = Annotated[int | str, expects("a positive integer or 'all' (every core)",
                                          lambda v: (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
                                          or v == "all")]


class SpeedSection(Section):
    enabled: Bool = Field(True, description="run the speed measurements")
    denormals: choice("flush", "keep") = Field(
        "flush", description="floating-point policy of every speed worker: flush subnormal floats to zero (FTZ+DAZ, "
                             "as TensorFlow always does) or keep them (IEEE); recorded per row as fp_mode")
    thread_counts: non_empty_list(ThreadCount, "positive integers or 'all'") = Field(
        [1, "all"], description="thread scaling: train step and inference of every model at the base shape at each "
                                "of these intra-op thread counts ('all' = every core), interleaved")
    min_samples: PositiveInt = Field(10, description="samples per measurement even past max_time_s (10 lets the "
                                                     "drift check compare 5 against 5)")
    min_sample_s: PositiveFloat = Field(0.02, description="one sample times a block of calls lasting at least this "
                                                          "long (s)")
    batch: PositiveInt = Field(32, description="batch size B for train step and inference")
    input_size: PositiveInt = Field(32, description="input features X")
    hidden: PositiveInt = Field(128, description="width H at which sequence lengths are swept")
    seq_len: PositiveInt = Field(100, description="sequence length T at which widths are swept")
    seq_lens: non_empty_list(PositiveInt, "ints") = Field([25, 50, 100, 200], description="sequence lengths T of "
                                                                                          "the sweep")
    hiddens: non_empty_list(PositiveInt, "ints") = Field([32, 64, 128, 256], description="widths H of the sweep")
    contexts: non_empty_list(PositiveInt, "ints") = Field([16, 128, 1024], description="context lengths for "
                                                                                       "streaming step latency "
                                                                                       "(batch 1)")
    repeats: PositiveInt = Field(2, description="interleaved A/B repeats per framework (medians reported)")
    max_time_s: PositiveFloat = Field(2.0, description="time budget per single measurement")


class ParamsSection(Section):
    input_size: PositiveInt = Field(32, description="input features X for the parameter table")
    hiddens: non_empty_list(PositiveInt, "ints") = Field([32, 64, 128], description="widths H for the parameter "
                                                                                    "table")
    layers: non_empty_list(PositiveInt, "ints") = Field([1, 2], description="layer counts for the parameter table")
    budget: PositiveInt = Field(20000, description="parameter budget for matched widths (Chung et al. 2014: ~20k)")


class PaperCheckSection(Section):
    enabled: Bool = Field(True, description="train GRU and LSTM on chorales at Chung et al. 2014's matched budget")
    budget: PositiveInt = Field(20000, description="parameter budget")
    frameworks: non_empty_list(choice(*FRAMEWORKS), "frameworks") = Field(["torch"], description="frameworks to run "
                                                                                                 "it in")
    epochs: PositiveInt = Field(10, description="maximum epochs")
    max_seconds: PositiveFloat = Field(60.0, description="wall-clock budget per model")


class BatchSection(Section):
    notebooks: non_empty_list(NotebookName, "notebooks") = Field(list(NOTEBOOKS), description="notebooks the "
                                                                                              "batch executes, "
                                                                                              "in order")
    cell_timeout_s: PositiveInt = Field(900, description="papermill per-cell timeout (nbclient CellTimeoutError "
                                                         "past it)")


class ResourcesSection(Section):
    max_memory_gb: OptionalPositiveFloat = Field(None, description="refuse work units estimated above this "
                                                                   "(null = 80% of this machine's RAM)")


class Config(Section):
    """The whole experiment. Sections are mappings; every key is optional (defaults below)."""

    name: Str = Field("run", description="run name; the run directory is results/<name>-<timestamp> unless --out "
                                         "is given")
    seeds: non_empty_list(Int, "ints") = Field([0, 1, 2], description="training seeds; accuracy figures are mean and "
                                                                      "95% CI over them")
    threads: PositiveInt = Field(1, description="intra-op threads for every framework (set before the first op)")
    device: choice("cpu", "cuda") = Field("cpu", description="where torch models run in the speed stage (cuda: "
                                                             "synchronised timing, cuDNN path recorded; NumPy and "
                                                             "Keras stay on the CPU)")
    models: ModelNames = Field(["gru-numpy", "gru-torch", "gru-keras", "lstm-torch", "lstm-keras",
                                "transformer-torch", "transformer-keras"],
                               description="models as arch-framework[-convention], e.g. gru-keras-reset_before")
    tasks: TaskMap = Field({"digits": {}, "adding": {}}, description="task name -> task options (python -m suite "
                                                                     "list)")
    model: ModelSection = Field(default_factory=ModelSection, description="model size")
    training: TrainingSection = Field(default_factory=TrainingSection, description="training protocol")
    speed: SpeedSection = Field(default_factory=SpeedSection, description="speed measurements")
    params: ParamsSection = Field(default_factory=ParamsSection, description="parameter table")
    paper_check: PaperCheckSection = Field(default_factory=PaperCheckSection, description="Chung et al. 2014 check")
    batch: BatchSection = Field(default_factory=BatchSection, description="papermill batch")
    resources: ResourcesSection = Field(default_factory=ResourcesSection, description="resource guard")


# --- cross-field checks (need the task and model registries) ------------------------------------
def _check_models(names: list, where: str) -> None:
    seen = []
    for i, name in enumerate(names):
        parse_model_name(name, where, f"models[{i}]")
        if name in seen:
            raise UserError(f"{where}: key 'models[{i}]': expected each model once, got {name!r}")
        seen.append(name)


def _check_tasks(tasks: dict, where: str) -> dict:
    from suite.tasks import TASK_NAMES, task_class
    out = {}
    for name, options in tasks.items():
        if name not in TASK_NAMES:
            raise UserError(f"{where}: key 'tasks.{name}': expected a task among {', '.join(TASK_NAMES)}, "
                            f"got {name!r}")
        options = {} if options is None else options
        if not isinstance(options, dict):
            raise UserError(f"{where}: key 'tasks.{name}': expected a mapping of task options, got {options!r}")
        cls = task_class(name)
        validate(cls.Options, options, where, prefix=f"tasks.{name}.")
        try:
            cls(**options)                      # the task's own cross-option checks
        except UserError as e:
            raise UserError(f"{where}: key 'tasks.{name}': {e}") from None
        out[name] = options
    return out


def validate_config(raw: Any, where: str = "<config>") -> dict:
    """Validate a parsed mapping and fill in defaults; returns a plain dict (sections are dicts)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a YAML mapping of config keys at the top level, got {type(raw).__name__}")
    cfg = validate(Config, raw, where).model_dump()
    if not RUN_NAME.match(cfg["name"]):
        raise UserError(f"{where}: key 'name': expected a run name of letters, digits, '_', '.', '-' (no path "
                        f"separators, <= 64 chars), got {cfg['name']!r}")
    _check_models(cfg["models"], where)
    cfg["tasks"] = _check_tasks(cfg["tasks"], where)
    if cfg["device"] == "cuda":
        _check_cuda(where)
    return cfg


def _check_cuda(where: str) -> None:
    """device: cuda needs a CUDA device that torch can see (checked before anything is written)."""
    import torch
    if not torch.cuda.is_available():
        raise UserError(f"{where}: key 'device': expected a machine where torch sees a CUDA device for 'cuda', "
                        f"got 'cuda' but torch {torch.__version__} sees none (use device: cpu)")


def resolve_thread_counts(counts: list, cpus: int | None = None) -> list[int]:
    """speed.thread_counts with 'all' replaced by the core count, duplicates dropped, order kept."""
    import os
    cpus = cpus or os.cpu_count() or 1
    out: list[int] = []
    for c in counts:
        n = cpus if c == "all" else int(c)
        if n not in out:
            out.append(n)
    return out


def defaults() -> dict:
    return validate_config({})


def load_config(path) -> dict:
    """Read, safe-load and validate a YAML config file. An empty file is an error (not a default run)."""
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
    if raw is None or raw == {}:
        raise UserError(f"{where}: the file is empty; expected a YAML mapping of config keys (start from "
                        f"configs/smoke.yaml; `python -m suite config-help` lists every key)")
    return validate_config(raw, where)


def model_entries(cfg: dict) -> list[dict]:
    """The config's models as {'name', 'arch', 'framework', 'convention', 'scan'} dicts."""
    return [{"name": n, **parse_model_name(n)} for n in cfg["models"]]


def schema_help() -> list[str]:
    """``key: type = default  # description`` for every key, with its notebook parameter name."""
    flat = {dotted: name for name, dotted in flat_keys().items()}
    return [f"{line}  (notebook parameter: {flat[line.split(':')[0]]})" for line in help_lines(Config)]


# --- notebook parameters: the same keys, flattened -------------------------------------------------
def flat_keys() -> dict[str, str]:
    """Notebook parameter name -> dotted config key: 'training_lr' -> 'training.lr', 'models' -> 'models'."""
    out = {}
    for name, field in Config.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, Section):
            out.update({f"{name}_{sub}": f"{name}.{sub}" for sub in annotation.model_fields})
        else:
            out[name] = name
    return out


def config_value(cfg: dict, dotted: str):
    for part in dotted.split("."):
        cfg = cfg[part]
    return cfg


def flat_parameters(cfg: dict, names) -> dict:
    """{name: value} of these notebook parameter names from a validated config."""
    keys = flat_keys()
    return {name: copy.deepcopy(config_value(cfg, keys[name])) for name in names}


def config_from_flat(params: dict, where: str, base: dict | None = None) -> dict:
    """A validated config: ``base`` (defaults when None) with these notebook parameters set."""
    keys = flat_keys()
    raw = copy.deepcopy(base) if base is not None else {}
    for name, value in params.items():
        if name not in keys:
            raise UserError(f"{where}: parameter {name!r} is not a config key (config keys flattened with '_', "
                            f"e.g. training_lr; see python -m suite config-help)")
        *parents, leaf = keys[name].split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return validate_config(raw, where)
