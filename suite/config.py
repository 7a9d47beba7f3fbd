"""The experiment config: one pydantic schema for the YAML files, ``config-help`` and the notebooks.

A config is YAML, safe-loaded and validated against ``Config`` below into a typed, frozen ``Config``
(sections are pydantic models: ``cfg.speed.base_seq_len``); ``config_dict`` / ``config_yaml`` turn it into
plain data where data is needed (a run folder's config.yaml, papermill parameters). Every key has a type,
a default and a description (``python -m suite config-help`` prints them). An unknown key, a wrong type, a
non-positive size, an unknown task/model/framework, or an empty file raises UserError with one line:
``<file>: key '<dotted.key>': expected <what>, got <value>``. Nothing is written by loading a config.

One source for the defaults: the schema's defaults are the main job (`make report`). configs/default.yaml
sets only its name and which of its models and tasks the accuracy views train (sizing.equal_width_models,
sizing.equal_width_tasks, sizing.accuracy_models, training.task_epochs): those keys name a config's own
models and tasks, so a default there would not fit a config that lists others; and its learning-rate search
(training.lr_grid, training.tuning_seeds): a search multiplies a config's training by (rates x tuning seeds) /
seeds per (task, arch), which a config that lists other tasks should ask for, not inherit.

Renamed keys (the former name is read for one release, silently; giving both is an error):
``model`` -> ``sizing``; ``speed.hidden`` -> ``speed.base_hidden``, ``speed.seq_len`` -> ``speed.base_seq_len``
(the base shape), ``speed.seq_lens`` -> ``speed.sweep_seq_lens``, ``speed.hiddens`` -> ``speed.sweep_hiddens``
(the sweep), ``speed.repeats`` -> ``speed.rounds``, ``speed.sweep_repeats`` -> ``speed.sweep_rounds``;
``long_context.seq_lens`` -> ``long_context.sweep_seq_lens``.

Notebook parameters are the same keys, flattened with '_' (``training.lr`` -> ``training_lr``;
top-level keys keep their name): a notebook declares the ones it uses in its parameters cell, with the
main job's values, the batch passes their values from the config, and ``config_from_flat`` validates them
with this schema.
"""
from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from suite.errors import UnknownNameError, UserError
from suite.plugins import MODULE_NAME, load_modules
from suite.schema import (Bool, Int, PositiveFloat, PositiveInt, Section, Str, choice, expects, former_name,
                          help_lines, non_empty_list, renamed, section_of, validate)
from suite.spec import (FORGET_BIAS_PREFIX, FRAMEWORKS, GRU_CONVENTIONS, NULL_PREFIX, SCANS, ModelSpec,
                        forget_bias_variant)

NOTEBOOKS = ("parameters", "equivalence", "speed", "accuracy", "long_context", "edge", "report")
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


SUFFIXES = re.compile(rf"^(?P<base>.+?)(?:-{FORGET_BIAS_PREFIX}(?P<fb>-?[0-9][0-9.e+-]*))?"
                      rf"(?:-{NULL_PREFIX}(?P<ulps>[1-9][0-9]*))?$")


def parse_model_name(name, where: str = "", key: str = "models") -> dict:
    """'gru-keras-reset_before' -> {'arch': 'gru', 'framework': 'keras', 'convention': 'reset_before',
    'scan': 'parallel', 'forget_bias': None, 'init_ulps': 0}; 'mingru-torch-sequential' -> scan 'sequential'.
    The arch is looked up in the registry (``suite.models.registry``: built-ins and plugins; entry-point plugins
    load on a miss). Two variants the suite writes into the names of the rows it trains (``configurable_model``
    keeps them out of the config's model lists): 'lstm-torch-fb0', an LSTM at forget-gate bias arm 0
    (``training.lstm_forget_bias``), and 'gru-torch-ulp1', the divergence null of ``sizing.side_by_side_null``
    (initial weights moved 1 ulp)."""
    from suite.models.registry import arch as arch_of, archs, implementations
    m = SUFFIXES.match(name) if isinstance(name, str) else None
    fb_text, ulps = (m.group("fb"), m.group("ulps")) if m else (None, None)
    parts = m.group("base").split("-") if m else []
    arch, framework, variant = (parts + [None, None, None])[:3] if 2 <= len(parts) <= 3 else (None, None, None)
    known = framework in FRAMEWORKS and (variant is None or variant in GRU_CONVENTIONS + SCANS)
    if known:
        try:
            descriptor = arch_of(arch)
        except UnknownNameError:
            known = False
        except UserError as e:                  # an entry-point plugin that cannot be loaded
            raise UserError(f"{where or 'model'}: key '{key}': {e}") from None
    if not known:
        valid = sorted(f"{a}-{f}" for a, f in implementations())
        gru = "/".join(a.name for a in archs() if a.uses("convention"))
        scans = "/".join(a.name for a in archs() if a.uses("scan"))
        raise UserError(f"{where or 'model'}: key '{key}': expected a model name among {', '.join(valid)} "
                        f"({gru} may add -{'|-'.join(GRU_CONVENTIONS)}; {scans} may add -{'|-'.join(SCANS)}; "
                        f"the names of trained rows may end in -{FORGET_BIAS_PREFIX}<bias> (an LSTM's forget-bias "
                        f"arm, e.g. lstm-torch-fb0) or -{NULL_PREFIX}<n> (a divergence null, e.g. "
                        f"gru-torch-ulp1)), got {name!r}")
    convention = variant if variant in GRU_CONVENTIONS else "reset_after"
    scan = variant if variant in SCANS else "parallel"
    if variant in GRU_CONVENTIONS and not descriptor.uses("convention"):
        raise UserError(f"{where}: key '{key}': expected a reset convention only on GRU models, got {name!r}")
    if variant in SCANS and not descriptor.uses("scan"):
        scans = "/".join(a.name for a in archs() if a.uses("scan"))
        raise UserError(f"{where}: key '{key}': expected a scan mode only on {scans} models, got {name!r}")
    forget_bias = None
    if fb_text is not None:
        try:
            forget_bias = float(fb_text)
        except ValueError:
            forget_bias = None
        canonical = forget_bias is not None and forget_bias_variant(forget_bias) == f"{FORGET_BIAS_PREFIX}{fb_text}"
        if arch != "lstm" or not canonical:
            raise UserError(f"{where}: key '{key}': expected a forget-bias arm -{FORGET_BIAS_PREFIX}<number> "
                            f"(as Python's :g writes it, e.g. -fb1, -fb0.5) only on LSTM models, got {name!r}")
    try:
        ModelSpec(arch, framework, 1, 1, 1, convention=convention, scan=scan, forget_bias=forget_bias)
    except UserError as e:
        raise UserError(f"{where}: key '{key}': {e}") from None
    return {"arch": arch, "framework": framework, "convention": convention, "scan": scan,
            "forget_bias": forget_bias, "init_ulps": int(ulps) if ulps else 0}


def configurable_model(name, where: str, key: str) -> dict:
    """``parse_model_name`` for a model the config names: a forget-bias arm or a divergence null is not one (the
    suite derives them from training.lstm_forget_bias and sizing.side_by_side_null)."""
    parsed = parse_model_name(name, where, key)
    if parsed["forget_bias"] is not None or parsed["init_ulps"]:
        what = ("forget-bias arms come from training.lstm_forget_bias" if parsed["forget_bias"] is not None
                else "the divergence null comes from sizing.side_by_side_null")
        raise UserError(f"{where}: key '{key}': expected a model name without -{FORGET_BIAS_PREFIX}/-{NULL_PREFIX} "
                        f"({what}), got {name!r}")
    return parsed


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
OptionalModelName = Annotated[str | None, _optional("a model name", lambda v: isinstance(v, str))]


def _distinct_numbers(v) -> bool:
    numbers = [x for x in v if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)] \
        if isinstance(v, list) else []
    return bool(v) and len(numbers) == len(v) and len({float(x) for x in numbers}) == len(v)


ForgetBiasArms = Annotated[list[float] | None, _optional("a non-empty list of distinct finite numbers",
                                                         _distinct_numbers)]


def _learning_rates(v):
    """null, or a list of positive numbers (as floats)."""
    if v is None:
        return None
    if not (isinstance(v, list) and all(_positive_number(x) for x in v)):
        raise PydanticCustomError("expected", "a list of positive numbers or null")
    return [float(x) for x in v]


OptionalLearningRates = Annotated[list[float] | None, BeforeValidator(_learning_rates)]
LR_GRID_MIN_VALUES = 4          # a learning-rate grid: at least this many values ...
LR_GRID_MIN_SPAN = 30.0         # ... spanning at least this factor (max / min)
LR_GRID_MIN_TUNING_SEEDS = 2
OptionalModelNames = Annotated[list[str] | None, _optional("a non-empty list of model names",
                                                           lambda v: isinstance(v, list) and v)]
PluginModules = Annotated[list[str], BeforeValidator(lambda v: [] if v is None else v),
                          expects("a list of module names (e.g. [my_package.models])",
                                  lambda v: isinstance(v, list) and all(isinstance(m, str) and
                                                                        MODULE_NAME.match(m) for m in v))]
NotebookName = Annotated[str, expects(f"a notebook among {', '.join(NOTEBOOKS)}", lambda v: v in NOTEBOOKS)]
TaskMap = Annotated[dict[str, Any], BeforeValidator(lambda v: {} if v is None else v),
                    expects("a mapping of task names to option mappings", lambda v: isinstance(v, dict) and v)]


class ConfigSection(Section):
    """A section of the experiment config: typed keys, read as attributes (``cfg.speed.rounds``); frozen,
    so a consumer that needs other values makes a copy (``model_copy(update=...)``)."""

    model_config = ConfigDict(extra="forbid", validate_default=False, frozen=True)


class SizingSection(ConfigSection):
    """The model sizes of the accuracy comparison, in two views. Matched budget (the headline when ``budget`` is
    set): every arch at the width whose parameter count is closest to ``budget`` on each task, at most 10% over
    (Long Range Arena's rule; Chung et al. 2014 compared GRU and LSTM at matched budgets). Equal width: every arch
    at ``hidden`` (then a Transformer of width H has about 4x a GRU's parameters). The main job: 10,000
    parameters (headline), GRU and LSTM also at H=48 on adding (configs/default.yaml names them)."""

    hidden: PositiveInt = Field(48, description="width H of the equal-width view (d_model for the Transformer)")
    layers: PositiveInt = Field(1, description="encoder layers L (both views; the speed stage's models too)")
    budget: OptionalPositiveInt = Field(10000, description="parameter budget of the matched view, the headline when "
                                                           "set: per arch and task, the width whose count is "
                                                           "closest to it, at most 10% over (null: equal width "
                                                           "only)")
    equal_width: Bool = Field(True, description="also train at width `hidden` (the second view; the only one, with "
                                                "every model, when budget is null)")
    equal_width_models: OptionalModelNames = Field(None, description="models of the equal-width view when it is the "
                                                                     "second one (null: every model)")
    equal_width_tasks: list[str] | None = Field(None, description="tasks of the equal-width view when it is the "
                                                                     "second one (null: every task)")
    accuracy_models: OptionalModelNames = Field(None, description="models the accuracy stage trains, in both views "
                                                                  "(null: every model; the other stages still "
                                                                  "measure every model)")
    side_by_side_models: OptionalModelNames = Field(
        None, description="models of one arch trained side by side in the accuracy stage (row kind side_by_side): "
                          "same data, batches and initial weights (training.init shared, whatever that key says), at "
                          "the headline view on side_by_side_tasks, with the seeds; null: none")
    side_by_side_tasks: list[str] | None = Field(None, description="tasks of the side-by-side models (null: every "
                                                                   "task)")
    side_by_side_null: OptionalModelName = Field(
        None, description="the side-by-side model also trained from its initial weights moved 1 ulp toward +inf "
                          "(model '<name>-ulp1'): the divergence of that run from its own is the null the "
                          "frameworks' divergence is judged against (null: the first of side_by_side_models)")


class TrainingSection(ConfigSection):
    """The budget is counted in optimizer updates, never in seconds: ``epochs`` passes of
    floor(n_train / batch_size) updates each, the same for every model on a task, so a seed gives the same
    metrics however busy the machine is. ``max_seconds`` is only a safety cap that marks a run truncated (600 s:
    ~60x the slowest unit of the main job on a quiet 2-core machine). The main job's budgets
    (configs/default.yaml's task_epochs, batch 64): digits 48 x 16 = 768 updates, adding 20 x 32 = 640, sized past
    the recurrent models' stall at their chosen rates. The validation split is scored every ``eval_every`` updates (16: 20-25
    points on adding and copy instead of 10 per-epoch ones; at 250 validation sequences it added 0-6% to a run's
    CPU time, ~4 CPU-s over the main job's 55 units, Xeon, 1 thread). Learning rate: ``lr`` for every model unless ``lr_grid`` is set; then
    each (task, arch) gets the grid's rate of the lowest mean best validation loss on ``tuning_seeds``, each
    candidate trained for the task's full budget (suite.run.units_tuning; the main job, configs/default.yaml,
    searches [0.003, 0.01, 0.03, 0.1] on seeds 100 and 101)."""

    lr: PositiveFloat = Field(3e-3, description="Adam learning rate (beta1 0.9, beta2 0.999, eps 1e-8)")
    clip_norm: OptionalPositiveFloat = Field(1.0, description="global gradient-norm clip (null = off)")
    batch_size: PositiveInt = Field(64, description="minibatch size B, fixed (a last partial batch of an epoch is "
                                                    "dropped)")
    epochs: PositiveInt = Field(10, description="training budget: epochs x floor(n_train / batch_size) optimizer "
                                                "updates, the same for every model on a task")
    task_epochs: TaskEpochs = Field({}, description="epochs for particular tasks, e.g. {digits: 30} (the others use "
                                                    "epochs); still the same for every model on that task")
    max_seconds: OptionalPositiveFloat = Field(600.0, description="safety cap in wall-clock seconds per training "
                                                                  "run: a run past it stops and is recorded "
                                                                  "'truncated' (left out of the statistics); never "
                                                                  "a budget (null = none)")
    patience: OptionalPositiveInt = Field(None, description="early stopping after this many evaluations in a row "
                                                            "without a lower validation loss (one per epoch when "
                                                            "eval_every is null), a deterministic function of the "
                                                            "seed (null = off: every run gets the whole budget, the "
                                                            "main job's protocol)")
    patience_floor_updates: OptionalPositiveInt = Field(
        None, description="early stopping never fires before this many updates (null: half the run's budget), so a "
                          "model stalled at the baseline before it learns is not stopped there")
    eval_every: OptionalPositiveInt = Field(
        16, description="updates between two scorings of the validation split (the curve, the best-validation "
                        "checkpoint, the training state and updates to target read them; the last update is always "
                        "scored; null: once per epoch)")
    lr_grid: OptionalLearningRates = Field(
        None, description=f"learning rates searched per (task, arch) on the tuning seeds: a sorted log grid of at "
                          f"least {LR_GRID_MIN_VALUES} values over at least {LR_GRID_MIN_SPAN:g}x; the rate of the "
                          "lowest mean best validation loss trains every model of the arch (null: no search, every "
                          "model at lr)")
    tuning_seeds: non_empty_list(Int, "ints") = Field(
        [100, 101], description="seeds of the learning-rate search (>= 2 when lr_grid is set; none of them in "
                                "`seeds`: the rate is chosen on other splits and initial weights than it is "
                                "evaluated on)")
    init: choice("framework", "shared") = Field(
        "framework", description="framework: each framework's default init; shared: same initial weights copied "
                                 "into every implementation of an arch")
    lstm_forget_bias: ForgetBiasArms = Field(
        [1.0, 0.0], description="forget-gate bias arms: every LSTM of the accuracy stage trains at each initial b_f "
                                "(model '<name>-fb<value>'); the first is the headline arm, the one the other "
                                "claims read (1: Keras's default; 0: torch's ~0); null: each framework's own init")


ThreadCount = Annotated[int | str, expects("a positive integer or 'all' (every core)",
                                          lambda v: (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
                                          or v == "all")]


class SpeedSection(ConfigSection):
    """Two shapes of work: the base shape (B=batch, T=base_seq_len, X=input_size, H=base_hidden), where train
    step, inference and streaming are timed and the speed claims are read, and the sweeps (train step over
    sweep_seq_lens at base_hidden, and over sweep_hiddens at base_seq_len). Each round starts fresh worker
    processes per framework; ratios are timed interleaved inside a worker, so a machine that slows down as a
    whole moves both sides of a ratio. The main job: two rounds of the base shape (the streaming, GRU-vs-LSTM
    and thread-study claims read it), one of the T sweep and the thread study."""

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
    batch: PositiveInt = Field(16, description="batch size B for train step and inference (base shape and sweeps)")
    input_size: PositiveInt = Field(32, description="input features X (base shape and sweeps)")
    base_hidden: PositiveInt = Field(128, validation_alias=renamed("base_hidden", "hidden"),
                                     description="width H of the base shape, at which sequence lengths are swept "
                                                 "(formerly `hidden`)")
    base_seq_len: PositiveInt = Field(100, validation_alias=renamed("base_seq_len", "seq_len"),
                                      description="sequence length T of the base shape, at which widths are swept "
                                                  "(formerly `seq_len`)")
    sweep_seq_lens: non_empty_list(PositiveInt, "ints") = Field(
        [100, 200, 400], validation_alias=renamed("sweep_seq_lens", "seq_lens"),
        description="sequence lengths T of the sweep, at width base_hidden (formerly `seq_lens`)")
    sweep_hiddens: non_empty_list(PositiveInt, "ints") = Field(
        [128], validation_alias=renamed("sweep_hiddens", "hiddens"),
        description="widths H of the sweep, at length base_seq_len ([base_hidden]: no width sweep; formerly "
                    "`hiddens`)")
    contexts: non_empty_list(PositiveInt, "ints") = Field([16, 128, 1024], description="context lengths for "
                                                                                       "streaming step latency "
                                                                                       "(batch 1)")
    rounds: PositiveInt = Field(2, validation_alias=renamed("rounds", "repeats"),
                                description="rounds of the base shape (train, inference, streaming): fresh worker "
                                            "processes per framework, one after the other (the value is the median "
                                            "of the round medians; formerly `repeats`)")
    sweep_rounds: OptionalPositiveInt = Field(1, validation_alias=renamed("sweep_rounds", "sweep_repeats"),
                                              description="rounds of the T/H sweep and the thread study (<= rounds; "
                                                          "null: rounds; formerly `sweep_repeats`)")
    max_time_s: PositiveFloat = Field(0.3, description="time budget per single measurement (s)")
    training_shapes: Bool = Field(True, description="also time the train step of each model of the headline "
                                                    "accuracy view at its training shape on each task (B = "
                                                    "training.batch_size, the task's T, X, O and the model's width "
                                                    "there; sweep_rounds rounds): the per-update cost of seconds "
                                                    "to target")


class ParamsSection(ConfigSection):
    """The parameter table: counted parameters of every model at each (H, L), against the closed formula."""

    input_size: PositiveInt = Field(32, description="input features X for the parameter table")
    hiddens: non_empty_list(PositiveInt, "ints") = Field([32, 64, 128], description="widths H for the parameter "
                                                                                    "table")
    layers: non_empty_list(PositiveInt, "ints") = Field([1, 2], description="layer counts for the parameter table")
    budget: PositiveInt = Field(20000, description="parameter budget for matched widths (Chung et al. 2014: ~20k)")


class PaperCheckSection(ConfigSection):
    """Chung et al. 2014's chorales check; off in the main job (configs/full.yaml runs it)."""

    enabled: Bool = Field(False, description="train GRU and LSTM on chorales at Chung et al. 2014's matched budget")
    budget: PositiveInt = Field(20000, description="parameter budget")
    frameworks: non_empty_list(choice(*FRAMEWORKS), "frameworks") = Field(["torch"], description="frameworks to run "
                                                                                                 "it in")
    epochs: PositiveInt = Field(10, description="training budget in epochs (updates as in training.epochs)")
    max_seconds: OptionalPositiveFloat = Field(600.0, description="safety cap in seconds per model: past it the "
                                                                  "run is recorded 'truncated' (null = none)")


class LongContextSection(ConfigSection):
    """Long context at a matched budget: mqar recall and long copy (trained), and a T sweep of train step,
    inference and step memory. The main job sweeps T=256, 2048 and trains no mqar (5 seeds x 3 models took
    386 CPU-s on a 2-core machine and stayed inconclusive; configs/full.yaml runs it)."""

    enabled: Bool = Field(True, description="run the long-context measurements (mqar, long copy, T sweep)")
    models: ModelNames = Field(["gru-torch", "transformer-torch", "mingru-torch"],
                               description="models compared on long context (all at the matched budget)")
    budget: PositiveInt = Field(10000, description="parameter budget: each arch gets the width that matches it "
                                                   "(<= 10% over)")
    layers: PositiveInt = Field(2, description="layers L of every model (recall needs two attention layers: an "
                                               "induction head)")
    seeds: non_empty_list(Int, "ints") = Field([0, 1, 2, 3, 4], description="training seeds of the long-context "
                                                                            "tasks (claims need >= 5)")
    mqar_vocab: PositiveInt = Field(16, description="mqar vocabulary V (keys: lower half, values: upper half)")
    mqar_seq_len: PositiveInt = Field(32, description="mqar sequence length T")
    mqar_pairs: list[PositiveInt] = Field([], description="mqar: numbers of key-value pairs swept ([] = no mqar)")
    copy_delays: list[PositiveInt] = Field([], description="copy task delays T to train on (long copy; [] = none)")
    n_train: PositiveInt = Field(2000, description="training sequences per task")
    epochs: PositiveInt = Field(10, description="training epochs (the budget in updates: epochs x n_train / "
                                                "batch_size)")
    lr: PositiveFloat = Field(3e-3, description="Adam learning rate")
    batch_size: PositiveInt = Field(32, description="minibatch size")
    sweep_seq_lens: non_empty_list(PositiveInt, "ints") = Field(
        [256, 2048], validation_alias=renamed("sweep_seq_lens", "seq_lens"),
        description="sequence lengths T of the train-step, inference and memory sweep (formerly `seq_lens`)")
    speed_batch: PositiveInt = Field(8, description="batch size B of the T sweep")
    speed_input_size: PositiveInt = Field(32, description="input features X of the T sweep")
    speed_max_time_s: PositiveFloat = Field(0.3, description="time budget per timing in the T sweep (s)")


class EdgeSection(ConfigSection):
    """Edge runtimes: PyTorch models in ONNX Runtime, Keras models in LiteRT, fp32 and int8. The main job exports
    the PyTorch models only (configs/full.yaml adds the Keras ones)."""

    enabled: Bool = Field(True, description="export the streaming step to ONNX Runtime / LiteRT and measure it")
    models: ModelNames = Field(["gru-torch", "lstm-torch", "transformer-torch"],
                               description="torch models go to ONNX Runtime, Keras models to LiteRT")
    hidden: PositiveInt = Field(32, description="width H of the exported models (digits task: X=8, O=10)")
    epochs: PositiveInt = Field(3, description="training epochs on digits (rows) before export, for accuracy")


class BatchSection(ConfigSection):
    """`python -m suite batch`: the notebooks it executes with papermill."""

    notebooks: non_empty_list(NotebookName, "notebooks") = Field(list(NOTEBOOKS), description="notebooks the "
                                                                                              "batch executes, "
                                                                                              "in order")
    cell_timeout_s: PositiveInt = Field(900, description="papermill per-cell timeout (nbclient CellTimeoutError "
                                                         "past it)")


class ResourcesSection(ConfigSection):
    """The guard that refuses work units too big for this machine's memory."""

    max_memory_gb: OptionalPositiveFloat = Field(None, description="refuse work units estimated above this "
                                                                   "(null = 80% of this machine's RAM)")


MAIN_JOB_TASKS = {"digits": {"variant": "rows"},
                  "adding": {"T": 30, "n_train": 2048, "n_val": 250, "n_test": 1000}}


class Config(ConfigSection):
    """The whole experiment. Every key is optional: its default is the main job's value (`make report`); a
    config file gives only what differs. Accuracy runs the PyTorch models (``sizing.accuracy_models`` in
    configs/default.yaml): the NumPy and Keras models compute the same functions (the equivalence stage shows it
    to 1e-7) and are in every other stage; the three GRUs also train side by side on adding
    (``sizing.side_by_side_models``)."""

    name: Str = Field("run", description="run name; the run directory is results/<name>-<timestamp> unless --out "
                                         "is given")
    plugins: PluginModules = Field([], description="modules imported before the rest of the config is validated "
                                                   "(and in every worker): each registers models or tasks on import "
                                                   "(docs/plugins-model.md); installed packages' entry points "
                                                   "(groups gru_suite.models, gru_suite.tasks) load without it")
    seeds: non_empty_list(Int, "ints") = Field([0, 1, 2, 3, 4], description="training seeds; accuracy figures are "
                                                                            "mean and 95% CI over them (verdicts "
                                                                            "need >= 5)")
    threads: PositiveInt = Field(1, description="intra-op threads for every framework (set before the first op)")
    scheduler: SchedulerAddress = Field(None, description="tcp://HOST:PORT of a running Dask scheduler that runs "
                                                          "the accuracy work units (null: a LocalCluster on this "
                                                          "machine; --scheduler overrides)")
    workers: OptionalPositiveInt = Field(None, description="LocalCluster worker processes, one task at a time each "
                                                           "(null: one per core, divided by threads)")
    device: choice("cpu", "cuda") = Field("cpu", description="where torch models run in the speed stage (cuda: "
                                                             "synchronised timing, cuDNN path recorded; NumPy and "
                                                             "Keras stay on the CPU)")
    models: ModelNames = Field(["gru-numpy", "gru-torch", "gru-keras", "lstm-numpy", "lstm-torch", "lstm-keras",
                                "transformer-torch", "transformer-keras"],
                               description="models as arch-framework[-convention], e.g. gru-keras-reset_before")
    tasks: TaskMap = Field(MAIN_JOB_TASKS, description="task name -> task options (python -m suite list)")
    sizing: SizingSection = Field(default_factory=SizingSection, validation_alias=renamed("sizing", "model"),
                                  description="model sizes of the accuracy views (formerly `model`)")
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
        _probed(configurable_model(name, where, f"models[{i}]"), where, f"models[{i}]")
        if name in seen:
            raise UserError(f"{where}: key 'models[{i}]': expected each model once, got {name!r}")
        seen.append(name)


def _probed(entry: dict, where: str, key: str) -> None:
    """A plugin model built small and run once (``suite.models.probe``) before the config is accepted."""
    from suite.models.probe import probe
    try:
        probe(entry["arch"], entry["framework"])
    except UserError as e:
        raise UserError(f"{where}: key '{key}': {e}") from None


def _check_edge_models(names: list, where: str) -> None:
    from suite.edge.measure import edge_models, is_edge_model
    for i, name in enumerate(names):
        if not is_edge_model(name):
            raise UserError(f"{where}: key 'edge.models[{i}]': expected one of {', '.join(edge_models())}, "
                            f"got {name!r}")
        _probed(parse_model_name(name, where, f"edge.models[{i}]"), where, f"edge.models[{i}]")


def _check_side_by_side(cfg: Config, where: str) -> None:
    """sizing.side_by_side_*: models of the config, of one arch, at least two, once each; tasks of the config; the
    null one of the models."""
    s = cfg.sizing
    names = s.side_by_side_models or []
    for i, name in enumerate(names):
        if name not in cfg.models or name in names[:i]:
            raise UserError(f"{where}: key 'sizing.side_by_side_models[{i}]': expected one of the config's models "
                            f"({', '.join(cfg.models)}), each once, got {name!r}")
    if names:
        archs = sorted({parse_model_name(n)["arch"] for n in names})
        if len(names) < 2 or len(archs) > 1:
            raise UserError(f"{where}: key 'sizing.side_by_side_models': expected at least two models of one arch "
                            f"(they share their initial weights), got {names!r}")
    for i, task in enumerate(s.side_by_side_tasks or []):
        if task not in cfg.tasks:
            raise UserError(f"{where}: key 'sizing.side_by_side_tasks[{i}]': expected a task of this config "
                            f"({', '.join(cfg.tasks)}), got {task!r}")
    if s.side_by_side_null is not None and s.side_by_side_null not in names:
        raise UserError(f"{where}: key 'sizing.side_by_side_null': expected one of sizing.side_by_side_models "
                        f"({', '.join(names) or 'none given'}), got {s.side_by_side_null!r}")


def _check_tasks(tasks: dict, where: str) -> dict:
    """Each task's options validated by its own schema; returns the mapping with a null option set as {}."""
    from suite.tasks import has_task, task_class, task_names
    out = {}
    for name, options in tasks.items():
        if not has_task(name):
            raise UserError(f"{where}: key 'tasks.{name}': expected a task among {', '.join(task_names())}, "
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


def _check_cross_fields(cfg: Config, where: str) -> None:
    """The checks that read two keys (or a registry): one line naming the file and the key."""
    if not RUN_NAME.match(cfg.name):
        raise UserError(f"{where}: key 'name': expected a run name of letters, digits, '_', '.', '-' (no path "
                        f"separators, <= 64 chars), got {cfg.name!r}")
    _check_models(cfg.models, where)
    _check_edge_models(cfg.edge.models, where)
    for i, name in enumerate(cfg.long_context.models):
        _probed(configurable_model(name, where, f"long_context.models[{i}]"), where, f"long_context.models[{i}]")
    sizing = cfg.sizing
    _check_side_by_side(cfg, where)
    for key in ("equal_width_models", "accuracy_models"):
        for i, name in enumerate(getattr(sizing, key) or []):
            if name not in cfg.models:
                raise UserError(f"{where}: key 'sizing.{key}[{i}]': expected one of the config's models "
                                f"({', '.join(cfg.models)}), got {name!r}")
    if (cfg.speed.sweep_rounds or 0) > cfg.speed.rounds:
        raise UserError(f"{where}: key 'speed.sweep_rounds': expected at most speed.rounds "
                        f"({cfg.speed.rounds}), got {cfg.speed.sweep_rounds}")
    for i, task in enumerate(sizing.equal_width_tasks or []):
        if task not in cfg.tasks:
            raise UserError(f"{where}: key 'sizing.equal_width_tasks[{i}]': expected a task of this config "
                            f"({', '.join(cfg.tasks)}), got {task!r}")
    for task in cfg.training.task_epochs:
        if task not in cfg.tasks:
            raise UserError(f"{where}: key 'training.task_epochs.{task}': expected a task of this config "
                            f"({', '.join(cfg.tasks)}), got {task!r}")
    _check_lr_grid(cfg, where)
    if sizing.budget is None and not sizing.equal_width:
        raise UserError(f"{where}: key 'sizing.equal_width': expected true when sizing.budget is null (no view of "
                        f"the accuracy comparison would be left), got false")
    if cfg.device == "cuda":
        _check_cuda(where)


def _check_lr_grid(cfg: Config, where: str) -> None:
    """training.lr_grid: at least LR_GRID_MIN_VALUES rates, strictly increasing, max / min >= LR_GRID_MIN_SPAN;
    then training.tuning_seeds: at least LR_GRID_MIN_TUNING_SEEDS, each once, none of them an evaluation seed."""
    t = cfg.training
    if t.lr_grid is None:
        return
    grid = t.lr_grid
    if len(grid) < LR_GRID_MIN_VALUES:
        raise UserError(f"{where}: key 'training.lr_grid': expected at least {LR_GRID_MIN_VALUES} learning rates "
                        f"(or null: no search), got {grid}")
    if any(b <= a for a, b in zip(grid, grid[1:])):
        raise UserError(f"{where}: key 'training.lr_grid': expected learning rates in increasing order, each once, "
                        f"got {grid}")
    if grid[-1] / grid[0] < LR_GRID_MIN_SPAN:
        raise UserError(f"{where}: key 'training.lr_grid': expected a grid spanning at least {LR_GRID_MIN_SPAN:g}x "
                        f"(largest / smallest), got {grid} ({grid[-1] / grid[0]:.3g}x)")
    seeds = t.tuning_seeds
    if len(seeds) < LR_GRID_MIN_TUNING_SEEDS or len(set(seeds)) != len(seeds):
        raise UserError(f"{where}: key 'training.tuning_seeds': expected at least {LR_GRID_MIN_TUNING_SEEDS} "
                        f"different seeds when training.lr_grid is set, got {seeds}")
    shared = sorted(set(seeds) & set(cfg.seeds))
    if shared:
        raise UserError(f"{where}: key 'training.tuning_seeds': expected seeds that are not evaluation seeds "
                        f"(`seeds`: {cfg.seeds}), got {seeds} (shared: {shared})")


def tuning_references(cfg: Config) -> list[tuple[str, dict]]:
    """[(task, entry)] of the learning-rate search, one per task and arch of the headline accuracy view (which has
    every task and model the accuracy stage trains): the arch's PyTorch model there, else its first model there.
    Empty when training.lr_grid is null."""
    if cfg.training.lr_grid is None:
        return []
    _, _, entries, tasks = accuracy_views(cfg)[0]
    references: dict[str, dict] = {}
    for entry in entries:
        current = references.get(entry["arch"])
        if current is None or (entry["framework"] == "torch" and current["framework"] != "torch"):
            references[entry["arch"]] = entry
    return [(task, entry) for task in tasks for entry in references.values()]


def validate_config(raw: Any, where: str = "<config>") -> Config:
    """Validate a parsed mapping (current or former key names) and fill in the defaults: the typed ``Config``.
    The modules of its ``plugins`` key are imported first (``suite.plugins``), so their models and tasks are known;
    a configured plugin model is probed (``suite.models.probe``: built at a small size, one forward checked
    for its shape) before the config is accepted."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a YAML mapping of config keys at the top level, got {type(raw).__name__}")
    load_modules(raw.get("plugins"), where)          # plugins first: they add models and tasks to validate against
    cfg = validate(Config, raw, where)
    cfg = cfg.model_copy(update={"tasks": _check_tasks(cfg.tasks, where)})
    _check_cross_fields(cfg, where)
    return cfg


def config_dict(cfg: Config) -> dict:
    """The config as plain data under the current key names (the YAML of a run folder, papermill parameters)."""
    return cfg.model_dump(mode="python")


def config_yaml(cfg: Config) -> str:
    """The text of a run folder's config.yaml: every key, current names, in schema order."""
    return yaml.safe_dump(config_dict(cfg), sort_keys=False)


# Keys that say where the work runs, not what is measured: a resumed run may change them.
EXECUTION_KEYS = ("scheduler", "workers")


def measured_part(cfg: Config) -> dict:
    """The config as data without the keys that only say where the work runs (two runs measure the same work
    when these are equal)."""
    return cfg.model_dump(exclude=set(EXECUTION_KEYS))


def with_scheduler(cfg: Config, address: str | None, where: str = "--scheduler") -> Config:
    """The config with ``scheduler`` replaced by a command-line address (validated like the config key)."""
    if address is None:
        return cfg
    return validate_config({**config_dict(cfg), "scheduler": address}, where)


def accuracy_views(cfg: Config) -> list[tuple[str, SizingSection, list[dict], list[str]]]:
    """[(view, sizing, model entries, tasks)] in report order: 'budget' (matched parameter budget, the
    headline, every model and task) when sizing.budget is set, then 'width' (every arch at sizing.hidden) when
    sizing.equal_width is true -- with every model and task when it is the only view, else
    sizing.equal_width_models on sizing.equal_width_tasks. sizing.accuracy_models, when set, narrows both views
    to those models."""
    m, entries, tasks = cfg.sizing, model_entries(cfg), list(cfg.tasks)
    if m.accuracy_models:
        entries = [e for e in entries if e["name"] in m.accuracy_models]
    if not m.budget:
        return [("width", m, entries, tasks)]
    views = [("budget", m, entries, tasks)]
    if m.equal_width:
        chosen = m.equal_width_models or cfg.models
        width_tasks = [t for t in tasks if t in (m.equal_width_tasks or tasks)]
        views.append(("width", m.model_copy(update={"budget": None}), [e for e in entries if e["name"] in chosen],
                      width_tasks))
    return views


def forget_bias_arms(cfg: Config, entries: list[dict], headline_only: bool = False) -> list[dict]:
    """The accuracy stage's model entries with each LSTM once per forget-gate bias arm of
    training.lstm_forget_bias, in that order (the others unchanged): name '<name>-fb<value>', 'forget_bias' the
    value, 'headline_arm' True for the first value (``headline_only``: that arm alone). With lstm_forget_bias
    null an LSTM stays as it is (its framework's init, the headline)."""
    arms = cfg.training.lstm_forget_bias
    arms = arms[:1] if arms and headline_only else arms
    out = []
    for e in entries:
        if e["arch"] != "lstm" or not arms:
            out.append({**e, "headline_arm": True} if e["arch"] == "lstm" else e)
            continue
        out += [{**e, "name": f"{e['name']}-{forget_bias_variant(v)}", "forget_bias": float(v),
                 "headline_arm": i == 0} for i, v in enumerate(arms)]
    return out


def side_by_side_plan(cfg: Config) -> tuple[SizingSection, list[dict], list[str]]:
    """(sizing, model entries, tasks) of the side-by-side training (sizing.side_by_side_models): the headline
    view's sizing; the entries in the configured order, an LSTM at the headline forget-bias arm, then the null
    (sizing.side_by_side_null, else the first model) as '<name>-ulp1' with 'init_ulps' 1. Empty without models."""
    s = cfg.sizing
    if not s.side_by_side_models:
        return s, [], []
    sizing = accuracy_views(cfg)[0][1]
    by_name = {e["name"]: e for e in model_entries(cfg)}
    entries = forget_bias_arms(cfg, [by_name[n] for n in s.side_by_side_models], headline_only=True)
    null_of = s.side_by_side_null or s.side_by_side_models[0]
    null = next(e for e, n in zip(entries, s.side_by_side_models) if n == null_of)
    entries.append({**null, "name": f"{null['name']}-{NULL_PREFIX}{NULL_ULPS}", "init_ulps": NULL_ULPS,
                    "null_of": null["name"]})
    tasks = [t for t in cfg.tasks if t in (s.side_by_side_tasks or list(cfg.tasks))]
    return sizing, entries, tasks


NULL_ULPS = 1      # the divergence null moves every initial weight this many float32 steps toward +inf


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


def defaults() -> Config:
    """The schema's defaults: the main job but for the keys configs/default.yaml sets."""
    return validate_config({})


def load_config(path) -> Config:
    """Read, safe-load and validate a YAML config file (a run folder's config.yaml too: former key names are
    read). An empty file is an error (not a default run)."""
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


def model_entries(cfg: Config) -> list[dict]:
    """The config's models as {'name', 'arch', 'framework', 'convention', 'scan'} dicts."""
    return [{"name": n, **parse_model_name(n)} for n in cfg.models]


def schema_help() -> list[str]:
    """``key: type = default  # description  (notebook parameter: name)`` for every key; a section's line
    names its parameters' prefix."""
    flat = {dotted: name for name, dotted in flat_keys().items()}
    out = []
    for line in help_lines(Config):
        key = line.split(":")[0]
        out.append(f"{line}  (notebook parameter: {flat[key]})" if key in flat else
                   f"{line}  (notebook parameters: {key}_<key>)")
    return out


# --- notebook parameters: the same keys, flattened -------------------------------------------------
def flat_keys() -> dict[str, str]:
    """Notebook parameter name -> dotted config key: 'training_lr' -> 'training.lr', 'models' -> 'models'."""
    out = {}
    for name, field in Config.model_fields.items():
        section = section_of(field)
        if section is not None:
            out.update({f"{name}_{sub}": f"{name}.{sub}" for sub in section.model_fields})
        else:
            out[name] = name
    return out


def former_flat_keys() -> dict[str, str]:
    """Notebook parameter names from before a rename -> dotted current key ('speed_seq_len' ->
    'speed.base_seq_len', 'model_budget' -> 'sizing.budget'); read like the current names for one release."""
    out = {}
    for name, field in Config.model_fields.items():
        section = section_of(field)
        if section is None:
            continue
        for sub, subfield in section.model_fields.items():
            for outer in {name, former_name(field) or name}:
                for inner in {sub, former_name(subfield) or sub}:
                    if (outer, inner) != (name, sub):
                        out[f"{outer}_{inner}"] = f"{name}.{sub}"
    return out


def flat_key(name: str) -> str | None:
    """The dotted config key of notebook parameter ``name`` (current or former), else None."""
    return flat_keys().get(name) or former_flat_keys().get(name)


def config_value(data: dict, dotted: str):
    for part in dotted.split("."):
        data = data[part]
    return data


def flat_parameters(cfg: Config, names) -> dict:
    """{name: value} of these notebook parameter names from a validated config, as plain data."""
    data = config_dict(cfg)
    return {name: copy.deepcopy(config_value(data, flat_key(name))) for name in names}


def config_from_flat(params: dict, where: str, base: Config | None = None) -> Config:
    """A validated config: ``base`` (defaults when None) with these notebook parameters set."""
    raw = config_dict(base) if base is not None else {}
    for name, value in params.items():
        dotted = flat_key(name)
        if dotted is None:
            raise UserError(f"{where}: parameter {name!r} is not a config key (config keys flattened with '_', "
                            f"e.g. training_lr; see python -m suite config-help)")
        *parents, leaf = dotted.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return validate_config(raw, where)
