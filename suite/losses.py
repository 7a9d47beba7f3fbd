"""The loss primitives that models and tasks share, below both: the ignored label, log-softmax, binary
cross-entropy from logits and the target-shape rule.

The models train on these losses and the tasks score with them (``suite.tasks.scoring``), so neither
needs the other. Shapes: outputs (B, O) or (B, T, O); ``y`` targets. Means over every element:
    regression  MSE  = mean((y_hat - y)^2)
    classes     CE   = sum over kept positions of -log softmax(logits)[y] / number of kept positions,
                       y integer class ids; a position whose label is IGNORE_INDEX (-100, PyTorch's
                       ignore_index) is not kept: it adds nothing to the loss, its gradient or the count
                       (without ignored labels this is the plain mean over every position; with none
                       kept it is NaN, 0/0, in every framework)
    multilabel  BCE  = mean(-(y log s + (1-y) log(1-s))), s = sigmoid(logits)

log softmax over the last axis, with m = max_j a_j (the shift changes nothing but avoids overflow):
    log softmax(a)_k = (a_k - m) - log sum_j exp(a_j - m)
Binary cross-entropy of one element from its logit a (stable for any a, no sigmoid evaluated):
    -(y log s + (1-y) log(1-s)) = max(a, 0) - a y + log(1 + e^-|a|),   s = sigmoid(a)
Targets: for head 'classes' y has the outputs' shape without its last axis (one class id per position);
for 'regression' and 'multilabel' exactly the outputs' shape.
"""
from __future__ import annotations

import numpy as np

from suite.errors import UserError

IGNORE_INDEX = -100   # class label of a position that the loss and the metrics skip


def check_target_shape(y_shape: tuple, out_shape: tuple, head: str, what: str = "targets y") -> None:
    """Targets: classes -> out_shape without its last axis (class ids); otherwise out_shape itself."""
    expected = tuple(out_shape[:-1]) if head == "classes" else tuple(out_shape)
    if tuple(y_shape) != expected:
        raise UserError(f"{what}: expected shape {expected} for head {head!r}, got {tuple(y_shape)}")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, shifted by the max (stable)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def bce_each(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary cross-entropy per element from logits a: -(y log s + (1-y) log(1-s)), s = sigmoid(a),
    written max(a, 0) - a y + log(1 + e^-|a|) so it is stable for any a."""
    return np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
