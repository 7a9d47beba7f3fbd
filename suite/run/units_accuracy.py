"""The accuracy work unit: train one model on one task with one seed in one view, score the test split.

Views (``suite.config.accuracy_views``): 'budget' sizes each arch to the width whose parameter count is
closest to ``sizing.budget`` on this task (at most 10% over), 'width' uses ``sizing.hidden`` for every arch.
A unit whose estimated memory exceeds the limit is recorded ``skipped`` with the estimate, not run; so is a unit
that `init: shared` cannot serve (a plugin arch without a canonical weight layout, built in another framework
than its donor), with the reason.
A unit stopped by the wall-clock safety cap is recorded ``truncated``.

Rows: the test metrics (status ok | truncated | failed), then train_seconds, cpu_seconds (this process's CPU
time while training), updates (applied) and planned_updates (the budget), epochs, the task's baseline and,
where the task has one, its 'solved' threshold; the run's training state and updates to target from its
validation curve (``convergence_rows``: val_norm_best, val_norm_gain_last_half with a text column ``state``,
val_norm_baseline, target_<metric>, updates_to_target, reached). Every row carries the view, the budget and the
init (framework | shared); an LSTM's rows its forget-bias arm (``forget_bias``: the initial b_f, empty for the
framework's own init; ``headline_arm``: whether it is the arm the claims read, ``suite.config.forget_bias_arms``).
Every row also carries the learning rate (``lr``, and ``lr_source``: 'tuned' when the tuning stage chose it
for this task and arch, else 'fixed').
Curves: one point per evaluation (``suite.run.training``) with its normalised score ``val_norm``.

Side by side (``side_by_side_units``, rows of kind 'side_by_side'): the models of sizing.side_by_side_models
trained from the same initial weights (init shared) on the same data and batches, under one floating-point policy
(subnormals flushed, as TensorFlow always does; rows carry ``fp_policy`` and the observed ``fp_mode``), and the
divergence null: one of them again from those weights moved ``init_ulps`` float32 steps toward +inf
(np.nextafter; model '<name>-ulp1', rows with ``null_of`` = the model it perturbs). A kind of its own, so no
claim reads these rows as another model's seeds.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from functools import partial

import numpy as np

from suite.config import Config, SizingSection, TrainingSection, model_entries
from suite.errors import UserError
from suite.run.rows import base_row
from suite.spec import ModelSpec


def model_spec_for_task(entry: dict, data, sizing: SizingSection, seed: int) -> ModelSpec:
    """The spec of one model on one task: configured width, or the width matching the budget."""
    from suite.models.params import width_for_budget
    spec = ModelSpec(entry["arch"], entry["framework"], data.input_size, sizing.hidden, data.output_size,
                     layers=sizing.layers, output=data.output, head=data.head,
                     convention=entry["convention"], scan=entry["scan"], seed=seed,
                     forget_bias=entry.get("forget_bias"))
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
                  training: TrainingSection, kind: str = "accuracy", progress=None, view: str = "width",
                  denormals: str | None = None, lr_source: str = "fixed") -> dict:
    """The rows and curves of one training run (module docstring). ``lr_source``: 'tuned' when ``training.lr`` is
    the rate the tuning stage chose for this task and arch, 'fixed' when it is the config's own (training.lr, or
    the paper check's). ``denormals``: a floating-point policy
    (flush | keep, ``suite.bench.fp_mode``) for this run only, restored afterwards, with the policy and the mode
    its kernels showed in the rows (``fp_policy``, ``fp_mode``); None leaves the process as it is."""
    with floating_point(denormals, entry["framework"]) as fp:
        return _accuracy_rows(cfg, task_name, entry, seed, sizing, training, kind, progress, view, fp, lr_source)


@contextmanager
def floating_point(policy: str | None, framework: str):
    """Apply ``policy`` in the calling thread for ``framework`` and yield {'fp_policy', 'fp_mode'} (the mode
    observed by ``suite.bench.fp_mode.probe``); restore the thread's FTZ/DAZ bits afterwards, so the next unit a
    worker thread runs starts as before. None: nothing applied, {} yielded."""
    if policy is None:
        yield {}
        return
    from suite.bench.fp_mode import MODE_FLUSH, MODE_KEEP, apply_policy, current_mode, probe, write_mxcsr_bits
    before = current_mode()
    try:
        apply_policy(policy, framework)
        yield {"fp_policy": policy, "fp_mode": probe(framework)}
    finally:
        if before in (MODE_FLUSH, MODE_KEEP):
            write_mxcsr_bits(before == MODE_FLUSH)


def _accuracy_rows(cfg: Config, task_name: str, entry: dict, seed: int, sizing: SizingSection,
                   training: TrainingSection, kind: str, progress, view: str, fp: dict,
                   lr_source: str) -> dict:
    from suite.models import build_model
    from suite.run.resources import check_fits, memory_limit_bytes
    from suite.tasks import get_task
    from suite.run.training import train
    task = get_task(task_name, **cfg.tasks.get(task_name, {}))
    data = task.load(seed)
    spec = model_spec_for_task(entry, data, sizing, seed)
    ulps = entry.get("init_ulps", 0)
    common = dict(kind=kind, task=task_name, seed=seed, B=training.batch_size, T=data.seq_len,
                  threads=cfg.threads, view=view, budget=sizing.budget, init=training.init, lr=training.lr,
                  lr_source=lr_source, **_marks(entry, spec), **fp)
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
    if ulps:
        model.set_weights(moved_ulps(model.get_weights(), ulps))
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
    training_rows, scores = convergence_rows(task, data, result.curve)
    rows += [base_row(spec, **common, **r, **status) for r in training_rows]
    curves = [{**c, "val_norm": s, "kind": kind, "task": task_name, "model": common["model"], "arch": spec.arch,
               "framework": spec.framework, "seed": seed, "view": view, "lr": training.lr}
              for c, s in zip(result.curve, scores)]
    return {"rows": rows, "curves": curves}


def training_config(training: TrainingSection, task_name: str, seed: int):
    """The training loop's settings for one run of this task (``suite.run.training.TrainingConfig``): the
    section's optimizer, clipping, batch, evaluation points, early stopping and safety cap, the task's epochs,
    this seed. The accuracy, side-by-side and tuning units all train through it."""
    from suite.run.training import TrainingConfig
    return TrainingConfig(lr=training.lr, clip_norm=training.clip_norm, batch_size=training.batch_size,
                          epochs=task_epochs(training, task_name), max_seconds=training.max_seconds,
                          patience=training.patience, seed=seed, eval_every=training.eval_every,
                          patience_floor_updates=training.patience_floor_updates)


def convergence_rows(task, data, curve: list[dict]) -> tuple[list[dict], list[float]]:
    """The rows of a run's training state and updates to target (``suite.run.convergence``), read from its
    validation curve, and the curve's normalised scores: val_norm_best and val_norm_gain_last_half (each with
    the run's ``state`` as a text column), val_norm_baseline (the naive predictor on the validation split, the
    normalisation's m_0), and where the task has a target: target_<metric>, updates_to_target (NaN when the run
    never met it: censored at its last evaluation) and reached (1 or 0)."""
    from suite.run.convergence import normalised, run_state, updates_to_target, validation_baseline
    baseline = validation_baseline(task, data)
    updates = [c["updates"] for c in curve]
    scores = [normalised(c["val_metric"], baseline, data.higher_is_better) for c in curve]
    state = run_state(updates, scores)
    rows = [dict(metric="val_norm_best", value=state.best, unit="normalised", state=state.state),
            dict(metric="val_norm_gain_last_half", value=state.gain_last_half, unit="normalised", state=state.state),
            dict(metric="val_norm_baseline", value=baseline, unit=data.baseline_name, split="val")]
    if data.target is not None:
        to_target, reached = updates_to_target(updates, [c["val_metric"] for c in curve], data.target,
                                               data.higher_is_better)
        rows += [dict(metric="target_" + data.metric, value=data.target, unit="target"),
                 dict(metric="updates_to_target", value=to_target, unit="updates", split="val"),
                 dict(metric="reached", value=float(reached), unit="reached", split="val")]
    return rows, scores


def _marks(entry: dict, spec: ModelSpec) -> dict:
    """The row fields that tell a run apart from another of the same spec: the model name of a divergence null
    ('<name>-ulp1') with ``null_of`` and ``init_ulps``; an LSTM's forget-bias arm and whether it is the headline."""
    marks = {}
    if entry.get("init_ulps"):
        marks.update(model=entry["name"], null_of=entry.get("null_of", spec.name), init_ulps=entry["init_ulps"])
    if spec.arch == "lstm":
        marks.update(forget_bias=spec.forget_bias, headline_arm=bool(entry.get("headline_arm", True)))
    return {"model": spec.name, **marks}


def moved_ulps(weights: dict, ulps: int) -> dict:
    """Every weight moved ``ulps`` steps of its own dtype toward +inf (np.nextafter): the smallest change of the
    initial point a float32 model can represent, for the divergence null."""
    out = {}
    for name, w in weights.items():
        w = np.asarray(w)
        for _ in range(ulps):
            w = np.nextafter(w, np.array(np.inf, dtype=w.dtype))
        out[name] = w
    return out


def side_by_side_units(cfg: Config, work_unit, learning_rates: dict | None = None) -> list:
    """The side-by-side training units (module docstring), in the accuracy stage:
    side-{task}-{model}-s{seed} for each model of ``suite.config.side_by_side_plan`` (the null last) and seed;
    ``init: shared`` whatever training.init says, and one floating-point policy for every framework,
    SIDE_BY_SIDE_DENORMALS (TensorFlow always flushes subnormals in its kernels; NumPy and torch keep them unless
    told: under one policy the runs differ by their implementations, not by their floating-point modes; on the
    main job's adding it costs nothing: gru-numpy 4.3 ms per update and the same test MSE either way, 1 thread,
    Xeon); everything else as the accuracy units, at the learning rate of their arch on the task
    (``learning_rates``: the tuning stage's choice when training.lr_grid is set)."""
    from suite.config import side_by_side_plan
    from suite.run.units_tuning import accuracy_training
    sizing, entries, tasks = side_by_side_plan(cfg)
    view = "budget" if sizing.budget else "width"
    units = []
    for task in tasks:
        for e in entries:
            training, lr_source = accuracy_training(cfg, learning_rates, task, e["arch"])
            training = training.model_copy(update={"init": "shared"})
            units += [work_unit(f"side-{task}-{e['name']}-s{seed}", "accuracy",
                                partial(accuracy_rows, cfg, task, e, seed, sizing, training, kind=SIDE_BY_SIDE,
                                        view=view, denormals=SIDE_BY_SIDE_DENORMALS, lr_source=lr_source),
                                f"{e['name']} {task} s{seed} side by side", parallel=True)
                      for seed in cfg.seeds]
    return units


SIDE_BY_SIDE = "side_by_side"
SIDE_BY_SIDE_DENORMALS = "flush"


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
