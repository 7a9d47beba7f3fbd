"""Train any model the same way: Adam, one learning rate, global-norm clipping, one batch size and a
budget counted in optimizer updates. Identical for NumPy, PyTorch and Keras: only ``model.train_step`` differs.

Budget: ``epochs`` passes over the training split; each pass shuffles it with the seed's generator and
takes floor(n_train / batch_size) minibatches of exactly ``batch_size`` sequences (the remainder is dropped),
so every model on a task gets the same number of updates, U = epochs x floor(n_train / batch_size).
After each epoch the validation split is scored; the weights of the lowest validation loss are restored
before the test split is scored (checkpoint selection, a deterministic function of the seed).

Optional early stopping (``patience``): stop after that many epochs without a lower validation loss;
like the checkpoint it depends only on the seed, never on the clock.

Wall-clock seconds are recorded (curves per epoch carry ``wall_s``) but decide nothing, except as a
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
    patience: int | None = None           # epochs without a lower validation loss (None: off)
    seed: int = 0


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


def train(model, task: Task, data: TaskData, cfg: TrainingConfig, progress=None,
          score_test: bool = True) -> TrainResult:
    """Train ``model`` on ``data`` for the update budget; restore the best validation weights; score the test split.

    progress: optional callable(epoch, val_metrics) for a progress line.
    score_test: False for a run that only selects (the learning-rate search): the test split is never read
    (``data.test`` may be None) and ``TrainResult.test`` stays empty.
    """
    model.configure_training(cfg.lr, cfg.clip_norm)
    rng = np.random.default_rng(cfg.seed)
    planned = cfg.epochs * updates_per_epoch(len(data.train), cfg.batch_size)
    best_loss, best_weights, best_epoch, stale = math.inf, None, 0, 0
    curve, start, epoch, updates, stopped = [], time.perf_counter(), 0, 0, "budget"

    def result(status, error, **kw) -> TrainResult:
        return TrainResult(status, error, epoch, time.perf_counter() - start, best_epoch, updates, planned,
                           curve=curve, **kw)

    for epoch in range(1, cfg.epochs + 1):
        losses = []
        for idx in _batches(len(data.train), cfg.batch_size, rng):
            loss = float(model.train_step(data.train.x[idx], data.train.y[idx]))
            updates += 1
            if not math.isfinite(loss):
                return result("failed", f"loss became {loss} at epoch {epoch} step {len(losses) + 1}",
                              stopped="non_finite")
            losses.append(loss)
            if cfg.max_seconds and time.perf_counter() - start > cfg.max_seconds:
                stopped = "time_cap"
                break
        val = evaluate(model, task, data.val)
        wall = time.perf_counter() - start
        curve.append({"epoch": epoch, "updates": updates, "wall_s": wall, "train_loss": float(np.mean(losses)),
                      "val_loss": val["loss"], "val_metric": val[data.metric]})
        if progress:
            progress(epoch, val)
        if not math.isfinite(val["loss"]):
            return result("failed", f"validation loss became {val['loss']} at epoch {epoch}", stopped="non_finite")
        if val["loss"] < best_loss:
            best_loss, best_weights, best_epoch, stale = val["loss"], model.get_weights(), epoch, 0
        else:
            stale += 1
        if stopped == "time_cap":
            break
        if cfg.patience and stale >= cfg.patience:
            stopped = "early_stopping"
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
                       val=evaluate(model, task, data.val), curve=curve)
