"""Train any model the same way: Adam, one learning rate, global-norm clipping, one batch size,
a budget in epochs and seconds, early stopping on the validation loss, curves per epoch and per
wall-clock second. Identical for NumPy, PyTorch and Keras: only ``model.train_step`` differs.

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
    max_seconds: float | None = 60.0
    patience: int = 3
    seed: int = 0


@dataclass
class TrainResult:
    status: str                      # 'ok' | 'failed'
    error: str | None
    epochs: int
    train_seconds: float
    best_epoch: int
    test: dict[str, float] = field(default_factory=dict)
    val: dict[str, float] = field(default_factory=dict)
    curve: list[dict] = field(default_factory=list)


def predict(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Model outputs for a whole split, in batches (NumPy)."""
    return np.concatenate([model.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model, task: Task, split: Split) -> dict[str, float]:
    return task.metrics(predict(model, split.x), split.y)


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for i in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
        yield order[i:i + batch_size]


def train(model, task: Task, data: TaskData, cfg: TrainingConfig, progress=None) -> TrainResult:
    """Train ``model`` on ``data``; restore the best validation weights; score the test split.

    progress: optional callable(epoch, val_metrics) for a progress line.
    """
    model.configure_training(cfg.lr, cfg.clip_norm)
    rng = np.random.default_rng(cfg.seed)
    best_loss, best_weights, best_epoch, stale = math.inf, None, 0, 0
    curve, start, epoch = [], time.perf_counter(), 0
    for epoch in range(1, cfg.epochs + 1):
        losses = []
        for idx in _batches(len(data.train), cfg.batch_size, rng):
            loss = float(model.train_step(data.train.x[idx], data.train.y[idx]))
            if not math.isfinite(loss):
                return TrainResult("failed", f"loss became {loss} at epoch {epoch} step {len(losses) + 1}",
                                   epoch, time.perf_counter() - start, best_epoch, curve=curve)
            losses.append(loss)
            if cfg.max_seconds and time.perf_counter() - start > cfg.max_seconds:
                break
        val = evaluate(model, task, data.val)
        wall = time.perf_counter() - start
        curve.append({"epoch": epoch, "wall_s": wall, "train_loss": float(np.mean(losses)),
                      "val_loss": val["loss"], "val_metric": val[data.metric]})
        if progress:
            progress(epoch, val)
        if not math.isfinite(val["loss"]):
            return TrainResult("failed", f"validation loss became {val['loss']} at epoch {epoch}",
                               epoch, wall, best_epoch, curve=curve)
        if val["loss"] < best_loss:
            best_loss, best_weights, best_epoch, stale = val["loss"], model.get_weights(), epoch, 0
        else:
            stale += 1
        if stale >= cfg.patience or (cfg.max_seconds and wall > cfg.max_seconds):
            break
    train_seconds = time.perf_counter() - start
    if best_weights is not None:
        model.set_weights(best_weights)
    return TrainResult("ok", None, epoch, train_seconds, best_epoch,
                       test=evaluate(model, task, data.test), val=evaluate(model, task, data.val), curve=curve)
