"""Losses and metrics of model outputs, in NumPy (float64), shared by the tasks.

The losses are those the models train on (suite.losses), means over every element:
    regression  mse = mean((y_hat - y)^2)
    classes     ce  = mean over kept positions of -log softmax(logits)[y]
    multilabel  bce = mean(max(a, 0) - a y + log(1 + e^-|a|)),  a = logit  (= -(y log s + (1-y) log(1-s)))
Shapes: outputs (N, O) or (N, T, O); targets (N, O) / (N, T, O) floats, or (N,) / (N, T) class ids.

Ignored positions: a class label IGNORE_INDEX (-100, PyTorch's ignore_index) marks a position that is
not scored. ``cross_entropy`` and ``accuracy`` average over the kept positions only (y != -100);
``cross_entropy_each`` gives 0 there. Tasks without ignored labels are unaffected (every position kept).
"""
from __future__ import annotations

import numpy as np

from suite.errors import UserError
from suite.losses import IGNORE_INDEX, bce_each, check_target_shape, log_softmax  # noqa: F401 (used by tasks)


def check_shapes(outputs, y, head: str) -> tuple[np.ndarray, np.ndarray]:
    """Outputs as float64 and targets checked against them; UserError on a mismatch."""
    outputs = np.asarray(outputs, dtype=np.float64)
    y = np.asarray(y)
    check_target_shape(y.shape, outputs.shape, head, what=f"metrics: targets for outputs of shape {outputs.shape}")
    if head == "classes":
        n_classes = outputs.shape[-1]
        if not np.issubdtype(y.dtype, np.integer) or y.size and (
                ((y < 0) & (y != IGNORE_INDEX)).any() or y.max() >= n_classes):
            raise UserError(f"metrics: head 'classes' expects integer class ids in [0, {n_classes}) or "
                            f"{IGNORE_INDEX} (ignored), got dtype {y.dtype}")
    return outputs, y


def mse(outputs: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((outputs - y) ** 2))


def mae(outputs: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.abs(outputs - y)))


def kept(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the scored positions (class label != IGNORE_INDEX), shape y.shape."""
    return np.asarray(y) != IGNORE_INDEX


def cross_entropy_each(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[y] per position, shape y.shape; 0 where y is IGNORE_INDEX."""
    log_p = log_softmax(logits)
    mask = kept(y)
    labels = np.where(mask, y, 0).astype(np.int64)
    return np.where(mask, -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0], 0.0)


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """The 'classes' training loss: mean of -log softmax(logits)[y] over the kept positions."""
    mask = kept(y)
    return float(cross_entropy_each(logits, y).sum() / mask.sum()) if mask.any() else float("nan")


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of the kept positions whose argmax is the label (NaN when none is kept)."""
    mask = kept(y)
    return float(np.mean((np.argmax(logits, axis=-1) == y)[mask])) if mask.any() else float("nan")


def sequence_accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of sequences (first axis) whose every kept position is right; y (N, T)."""
    wrong = (np.argmax(logits, axis=-1) != y) & kept(y)
    return float(np.mean(~wrong.reshape(len(y), -1).any(axis=1)))
