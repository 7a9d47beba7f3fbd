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

NOTEBOOKS = ("parameters", "equivalence", "speed", "accuracy", "long_context", "edge", "report")
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
SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")
SchedulerAddress = Annotated[str | None, _optional("a Dask scheduler address tcp://HOST:PORT",
                                                   lambda v: isinstance(v, str) and bool(SCHEDULER_ADDRESS.match(v)))]
TaskEpochs = Annotated[dict[str, int], BeforeValidator(lambda v: {} if v is None else v),
                      expects("a mapping of task names to positive integers",
                              lambda v: isinstance(v, dict) and all(isinstance(k, str) and isinstance(n, int) and
                                                                    not isinstance(n, bool) and n >= 1
                                                                    for k, n in v.items()))]
ModelNames = Annotated[list[str], expects("a non-empty list of model names", lambda v: isinstance(v, list) and v)]
OptionalModelNames = Annotated[list[str] | None, _optional("a non-empty list of model names",
                                                           lambda v: isinstance(v, list) and v)]
NotebookName = Annotated[str, expects(f"a notebook among {', '.join(NOTEBOOKS)}", lambda v: v in NOTEBOOKS)]
TaskMap = Annotated[dict[str, Any], BeforeValidator(lambda v: {} if v is None else v),
                    expects("a mapping of task names to option mappings", lambda v: isinstance(v, dict) and v)]


class ModelSection(Section):
    """Two views of the accuracy comparison. Matched budget (the headline when ``budget`` is set): every arch at
    the width whose parameter count is closest to ``budget`` on each task, at most 10% over (Long Range Arena's
    rule; Chung et al. 2014 compared GRU and LSTM at matched budgets). Equal width: every arch at ``hidden``
    (then a Transformer of width H has about 4x a GRU's parameters)."""

    hidden: PositiveInt = Field(64, description="width H of the equal-width view (d_model for the Transformer)")
    layers: PositiveInt = Field(1, description="encoder layers L (both views)")
    budget: OptionalPositiveInt = Field(None, description="parameter budget of the matched view, the headline when "
                                                          "set: per arch and task, the width whose count is closest "
                                                          "to it, at most 10% over (null: equal width only)")
    equal_width: Bool = Field(True, description="also train at width `hidden` (the second view; the only one, with "
                                                "every model, when budget is null)")
    equal_width_models: OptionalModelNames = Field(None, description="models of the equal-width view when it is the "
                                                                     "second one (null: every model)")
    equal_width_tasks: list[str] | None = Field(None, description="tasks of the equal-width view when it is the "
                                                                     "second one (null: every task)")
    accuracy_models: OptionalModelNames = Field(None, description="models the accuracy stage trains, in both views "
                                                                  "(null: every model; the other stages still "
                                                                  "measure every model)")


class TrainingSection(Section):
    """The budget is counted in optimizer updates, never in seconds: ``epochs`` passes of
    floor(n_train / batch_size) updates each, the same for every model on a task, so a seed gives the same
    metrics however busy the machine is. ``max_seconds`` is only a safety cap that marks a run truncated."""

    lr: PositiveFloat = Field(3e-3, description="Adam learning rate (beta1 0.9, beta2 0.999, eps 1e-8)")
    clip_norm: OptionalPositiveFloat = Field(1.0, description="global gradient-norm clip (null = off)")
    batch_size: PositiveInt = Field(32, description="minibatch size B, fixed (a last partial batch of an epoch is "
                                                    "dropped)")
    epochs: PositiveInt = Field(10, description="training budget: epochs x floor(n_train / batch_size) optimizer "
                                                "updates, the same for every model on a task")
    task_epochs: TaskEpochs = Field({}, description="epochs for particular tasks, e.g. {digits: 30} (the others use "
                                                    "epochs); still the same for every model on that task")
    max_seconds: OptionalPositiveFloat = Field(600.0, description="safety cap in wall-clock seconds per training "
                                                                  "run: a run past it stops and is recorded "
                                                                  "'truncated' (left out of the statistics); never "
                                                                  "a budget (null = none)")
    patience: OptionalPositiveInt = Field(None, description="early stopping after this many epochs without a lower "
                                                            "validation loss, a deterministic function of the seed "
                                                            "(null = off: every run gets the whole budget)")
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
        [1, "all"], description="thread scaling: the train step of every model at the base shape at each "
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
    repeats: PositiveInt = Field(2, description="rounds: fresh worker processes per framework, one after the other "
                                                "(the value is the median of the round medians)")
    sweep_repeats: OptionalPositiveInt = Field(None, description="rounds of the T/H sweep and the thread study "
                                                                 "(<= repeats; null: repeats): the base shape "
                                                                 "(train, inference, streaming) gets all repeats")
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
    epochs: PositiveInt = Field(10, description="training budget in epochs (updates as in training.epochs)")
    max_seconds: OptionalPositiveFloat = Field(600.0, description="safety cap in seconds per model: past it the "
                                                                  "run is recorded 'truncated' (null = none)")


class LongContextSection(Section):
    enabled: Bool = Field(True, description="run the long-context measurements (mqar, long copy, T sweep to 4096)")
    models: ModelNames = Field(["gru-torch", "lstm-torch", "transformer-torch", "mingru-torch"],
                               description="models compared on long context (all at the matched budget)")
    budget: PositiveInt = Field(10000, description="parameter budget: each arch gets the width that matches it "
                                                   "(<= 10% over)")
    layers: PositiveInt = Field(2, description="layers L of every model (recall needs two attention layers: an "
                                               "induction head)")
    seeds: non_empty_list(Int, "ints") = Field([0, 1, 2, 3, 4], description="training seeds of the long-context "
                                                                            "tasks (claims need >= 5)")
    mqar_vocab: PositiveInt = Field(16, description="mqar vocabulary V (keys: lower half, values: upper half)")
    mqar_seq_len: PositiveInt = Field(32, description="mqar sequence length T")
    mqar_pairs: list[PositiveInt] = Field([2, 4], description="mqar: numbers of key-value pairs swept ([] = no "
                                                              "mqar)")
    copy_delays: list[PositiveInt] = Field([], description="copy task delays T to train on (long copy; [] = none)")
    n_train: PositiveInt = Field(2000, description="training sequences per task")
    epochs: PositiveInt = Field(10, description="training epochs (the budget in updates: epochs x n_train / "
                                                "batch_size)")
    lr: PositiveFloat = Field(3e-3, description="Adam learning rate")
    batch_size: PositiveInt = Field(32, description="minibatch size")
    seq_lens: non_empty_list(PositiveInt, "ints") = Field([256, 1024, 4096], description="T of the train-step, "
                                                                                         "inference and memory "
                                                                                         "sweep")
    speed_batch: PositiveInt = Field(8, description="batch size B of the T sweep")
    speed_input_size: PositiveInt = Field(32, description="input features X of the T sweep")
    speed_max_time_s: PositiveFloat = Field(1.0, description="time budget per timing in the T sweep")


class EdgeSection(Section):
    enabled: Bool = Field(True, description="export the streaming step to ONNX Runtime / LiteRT and measure it")
    models: ModelNames = Field(["gru-torch", "lstm-torch", "transformer-torch", "gru-keras", "lstm-keras",
                                "transformer-keras"],
                               description="torch models go to ONNX Runtime, Keras models to LiteRT")
    hidden: PositiveInt = Field(64, description="width H of the exported models (digits task: X=8, O=10)")
    epochs: PositiveInt = Field(5, description="training epochs on digits (rows) before export, for accuracy")


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
    scheduler: SchedulerAddress = Field(None, description="tcp://HOST:PORT of a running Dask scheduler that runs "
                                                          "the accuracy work units (null: a LocalCluster on this "
                                                          "machine; --scheduler overrides)")
    workers: OptionalPositiveInt = Field(None, description="LocalCluster worker processes, one task at a time each "
                                                           "(null: one per core, divided by threads)")
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
    long_context: LongContextSection = Field(default_factory=LongContextSection, description="long context")
    edge: EdgeSection = Field(default_factory=EdgeSection, description="edge runtimes")
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


def _check_edge_models(names: list, where: str) -> None:
    from suite.edge.measure import EDGE_MODELS, OTHER_MODELS
    for i, name in enumerate(names):
        if name not in EDGE_MODELS + OTHER_MODELS:
            raise UserError(f"{where}: key 'edge.models[{i}]': expected one of {', '.join(EDGE_MODELS + OTHER_MODELS)}"
                            f", got {name!r}")


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
    _check_edge_models(cfg["edge"]["models"], where)
    for i, name in enumerate(cfg["long_context"]["models"]):
        parse_model_name(name, where, f"long_context.models[{i}]")
    cfg["tasks"] = _check_tasks(cfg["tasks"], where)
    for key in ("equal_width_models", "accuracy_models"):
        for i, name in enumerate(cfg["model"][key] or []):
            if name not in cfg["models"]:
                raise UserError(f"{where}: key 'model.{key}[{i}]': expected one of the config's models "
                                f"({', '.join(cfg['models'])}), got {name!r}")
    if (cfg["speed"]["sweep_repeats"] or 0) > cfg["speed"]["repeats"]:
        raise UserError(f"{where}: key 'speed.sweep_repeats': expected at most speed.repeats "
                        f"({cfg['speed']['repeats']}), got {cfg['speed']['sweep_repeats']}")
    for i, task in enumerate(cfg["model"]["equal_width_tasks"] or []):
        if task not in cfg["tasks"]:
            raise UserError(f"{where}: key 'model.equal_width_tasks[{i}]': expected a task of this config "
                            f"({', '.join(cfg['tasks'])}), got {task!r}")
    for task in cfg["training"]["task_epochs"]:
        if task not in cfg["tasks"]:
            raise UserError(f"{where}: key 'training.task_epochs.{task}': expected a task of this config "
                            f"({', '.join(cfg['tasks'])}), got {task!r}")
    if cfg["model"]["budget"] is None and not cfg["model"]["equal_width"]:
        raise UserError(f"{where}: key 'model.equal_width': expected true when model.budget is null (no view of "
                        f"the accuracy comparison would be left), got false")
    if cfg["device"] == "cuda":
        _check_cuda(where)
    return cfg


# Keys that say where the work runs, not what is measured: a resumed run may change them.
EXECUTION_KEYS = ("scheduler", "workers")


def with_scheduler(cfg: dict, address: str | None, where: str = "--scheduler") -> dict:
    """The config with ``scheduler`` replaced by a command-line address (validated like the config key)."""
    if address is None:
        return cfg
    return validate_config({**cfg, "scheduler": address}, where)


def accuracy_views(cfg: dict) -> list[tuple[str, dict, list[dict], list[str]]]:
    """[(view, model section, model entries, tasks)] in report order: 'budget' (matched parameter budget, the
    headline, every model and task) when model.budget is set, then 'width' (every arch at model.hidden) when
    model.equal_width is true -- with every model and task when it is the only view, else
    model.equal_width_models on model.equal_width_tasks. model.accuracy_models, when set, narrows both views
    to those models."""
    m, entries, tasks = cfg["model"], model_entries(cfg), list(cfg["tasks"])
    if m.get("accuracy_models"):
        entries = [e for e in entries if e["name"] in m["accuracy_models"]]
    if not m["budget"]:
        return [("width", {**m}, entries, tasks)]
    views = [("budget", {**m}, entries, tasks)]
    if m["equal_width"]:
        chosen = m["equal_width_models"] or cfg["models"]
        width_tasks = [t for t in tasks if t in (m.get("equal_width_tasks") or tasks)]
        views.append(("width", {**m, "budget": None}, [e for e in entries if e["name"] in chosen], width_tasks))
    return views


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
