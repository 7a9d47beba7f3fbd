"""Losses and metrics of model outputs, in NumPy (float64), shared by the tasks.

The losses are those the models train on (suite.models.base), means over every element:
    regression  mse = mean((y_hat - y)^2)
    classes     ce  = mean(-log softmax(logits)[y])
    multilabel  bce = mean(max(a, 0) - a y + log(1 + e^-|a|)),  a = logit  (= -(y log s + (1-y) log(1-s)))
Shapes: outputs (N, O) or (N, T, O); targets (N, O) / (N, T, O) floats, or (N,) / (N, T) class ids.
"""
from __future__ import annotations

import numpy as np

from suite.errors import UserError


def check_shapes(outputs, y, head: str) -> tuple[np.ndarray, np.ndarray]:
    """Outputs as float64 and targets checked against them; UserError on a mismatch."""
    outputs = np.asarray(outputs, dtype=np.float64)
    y = np.asarray(y)
    expected = outputs.shape[:-1] if head == "classes" else outputs.shape
    if y.shape != expected:
        raise UserError(f"metrics: outputs of shape {outputs.shape} need targets of shape {expected} "
                        f"for head {head!r}, got {y.shape}")
    if head == "classes":
        n_classes = outputs.shape[-1]
        if not np.issubdtype(y.dtype, np.integer) or y.size and (y.min() < 0 or y.max() >= n_classes):
            raise UserError(f"metrics: head 'classes' expects integer class ids in [0, {n_classes}), "
                            f"got dtype {y.dtype}")
    return outputs, y


def mse(outputs: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((outputs - y) ** 2))


def mae(outputs: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.abs(outputs - y)))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy_each(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[y] per position, shape y.shape."""
    log_p = log_softmax(logits)
    return -np.take_along_axis(log_p, y[..., None].astype(np.int64), axis=-1)[..., 0]


def bce_each(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary cross-entropy per element from logits, stable for any logit."""
    return np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=-1) == y))
