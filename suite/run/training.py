"""Train any model the same way: Adam, one learning rate, global-norm clipping, one batch size and a
budget counted in optimizer updates. Identical for NumPy, PyTorch and Keras: only ``model.train_step`` differs.

Budget: ``epochs`` passes over the training split; each pass shuffles it with the seed's generator and
takes floor(n_train / batch_size) minibatches of exactly ``batch_size`` sequences (the remainder is dropped),
so every model on a task gets the same number of updates, U = epochs x floor(n_train / batch_size).

Evaluation: the validation split is scored every ``eval_every`` updates (None: at the end of each epoch) and
always after the last update, so a curve has a point at u = eval_every, 2 eval_every, ..., U. Each point of
the curve records the epoch it falls in, the updates so far, the wall-clock seconds, the mean training loss
since the previous point, the validation loss and the validation headline metric. The weights of the lowest
validation loss over these evaluations are restored before the test split is scored (the best-validation
checkpoint of a fixed budget: a deterministic function of the seed, since evaluating reads no random numbers
and changes no weights, the same seed gives the same curve and metrics at any ``eval_every``).

Optional early stopping (``patience``): stop after that many evaluations in a row without a lower validation
loss, but never before ``patience_floor_updates`` updates (None: half the budget, U // 2): recurrent models
stall at the baseline before they learn, and a stop there would record the stall as the result. Like the
checkpoint it depends only on the seed, never on the clock.

Wall-clock seconds are recorded (curves carry ``wall_s``) but decide nothing, except as a
safety cap: a run that passes ``max_seconds`` stops at once and is returned with status 'truncated'
(its metrics are kept for inspection; the statistics leave it out and the report lists it).

A loss that becomes NaN or inf stops the run at once; the run is recorded as failed.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from suite.tasks.base import Split, Task, TaskData


@dataclass(frozen=True)
class TrainingConfig:
    lr: float = 3e-3
    clip_norm: float | None = 1.0
    batch_size: int = 32
    epochs: int = 10
    max_seconds: float | None = None      # safety cap only: past it the run is 'truncated'
    patience: int | None = None           # evaluations without a lower validation loss (None: off)
    seed: int = 0
    eval_every: int | None = None         # updates between validation evaluations (None: once per epoch)
    patience_floor_updates: int | None = None   # early stopping never before this many updates (None: U // 2)


@dataclass
class TrainResult:
    status: str                      # 'ok' | 'failed' | 'truncated'
    error: str | None
    epochs: int                      # epochs started
    train_seconds: float
    best_epoch: int
    updates: int = 0                 # optimizer updates applied
    planned_updates: int = 0         # the budget U
    stopped: str = "budget"          # 'budget' | 'early_stopping' | 'time_cap' | 'non_finite'
    test: dict[str, float] = field(default_factory=dict)
    val: dict[str, float] = field(default_factory=dict)
    curve: list[dict] = field(default_factory=list)
    best_updates: int = 0            # updates at the evaluation whose weights were restored


def predict(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Model outputs for a whole split, in batches (NumPy)."""
    return np.concatenate([model.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model, task: Task, split: Split) -> dict[str, float]:
    return task.metrics(predict(model, split.x), split.y)


def updates_per_epoch(n: int, batch_size: int) -> int:
    """floor(n / batch_size) full minibatches; one (smaller) batch when n < batch_size."""
    return max(1, n // batch_size)


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for i in range(updates_per_epoch(n, batch_size)):
        yield order[i * batch_size:(i + 1) * batch_size]


def evaluation_points(planned: int, per_epoch: int, eval_every: int | None) -> set[int]:
    """The updates after which the validation split is scored: every ``eval_every`` updates (None: every
    ``per_epoch``, the end of each epoch) and the last one, U = ``planned``."""
    every = eval_every or per_epoch
    return set(range(every, planned + 1, every)) | {planned}


def patience_floor(cfg: TrainingConfig, planned: int) -> int:
    """Updates before which early stopping never fires: ``patience_floor_updates``, else half the budget."""
    return cfg.patience_floor_updates if cfg.patience_floor_updates is not None else planned // 2


def train(model, task: Task, data: TaskData, cfg: TrainingConfig, progress=None,
          score_test: bool = True) -> TrainResult:
    """Train ``model`` on ``data`` for the update budget, scoring the validation split at the evaluation
    points (module docstring); restore the best validation weights; score the test split.

    progress: optional callable(epoch, val_metrics) for a progress line, called at each evaluation.
    score_test: False for a run that only selects (the learning-rate search): the test split is never read
    (``data.test`` may be None) and ``TrainResult.test`` stays empty.
    """
    model.configure_training(cfg.lr, cfg.clip_norm)
    rng = np.random.default_rng(cfg.seed)
    per_epoch = updates_per_epoch(len(data.train), cfg.batch_size)
    planned = cfg.epochs * per_epoch
    points, floor = evaluation_points(planned, per_epoch, cfg.eval_every), patience_floor(cfg, planned)
    best_loss, best_weights, best_epoch, best_updates, stale = math.inf, None, 0, 0, 0
    curve, start, epoch, updates, stopped = [], time.perf_counter(), 0, 0, "budget"
    losses: list[float] = []

    def result(status, error, **kw) -> TrainResult:
        return TrainResult(status, error, epoch, time.perf_counter() - start, best_epoch, updates, planned,
                           curve=curve, best_updates=best_updates, **kw)

    for epoch in range(1, cfg.epochs + 1):
        for idx in _batches(len(data.train), cfg.batch_size, rng):
            loss = float(model.train_step(data.train.x[idx], data.train.y[idx]))
            updates += 1
            if not math.isfinite(loss):
                step = updates - (epoch - 1) * per_epoch
                return result("failed", f"loss became {loss} at epoch {epoch} step {step}", stopped="non_finite")
            losses.append(loss)
            if cfg.max_seconds and time.perf_counter() - start > cfg.max_seconds:
                stopped = "time_cap"
            if updates not in points and stopped != "time_cap":
                continue
            val = evaluate(model, task, data.val)
            curve.append({"epoch": epoch, "updates": updates, "wall_s": time.perf_counter() - start,
                          "train_loss": float(np.mean(losses)), "val_loss": val["loss"],
                          "val_metric": val[data.metric]})
            losses = []
            if progress:
                progress(epoch, val)
            if not math.isfinite(val["loss"]):
                return result("failed", f"validation loss became {val['loss']} at epoch {epoch} update {updates}",
                              stopped="non_finite")
            if val["loss"] < best_loss:
                best_loss, best_weights, best_epoch, best_updates, stale = (val["loss"], model.get_weights(), epoch,
                                                                            updates, 0)
            else:
                stale += 1
            if stopped == "time_cap":
                break
            if cfg.patience and stale >= cfg.patience and updates >= floor:
                stopped = "early_stopping"
                break
        if stopped != "budget":
            break
    train_seconds = time.perf_counter() - start
    if best_weights is not None:
        model.set_weights(best_weights)
    status, error = "ok", None
    if stopped == "time_cap":
        status, error = "truncated", (f"stopped by the safety cap max_seconds={cfg.max_seconds:g} after {updates} "
                                      f"of {planned} updates ({train_seconds:.1f} s)")
    return TrainResult(status, error, epoch, train_seconds, best_epoch, updates, planned, stopped,
                       test=evaluate(model, task, data.test) if score_test else {},
                       val=evaluate(model, task, data.val), curve=curve, best_updates=best_updates)
