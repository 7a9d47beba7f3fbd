"""Brief training on the digits task (variant 'rows': 8 steps of 8 pixels, 10 classes), so that int8
accuracy is measured on a model that has learnt something.

Budget in epochs, not seconds (the same work on any machine): minibatches of ``BATCH`` drawn from a
seed-fixed permutation of the training split each epoch (the last partial batch is dropped, so Keras's
compiled train step sees one shape), Adam at ``LR`` with global-norm clipping ``CLIP_NORM``, in the
model's own framework (``SequenceModel.train_step``).
"""
from __future__ import annotations

import numpy as np

BATCH = 32
LR = 3e-3
CLIP_NORM = 1.0
TASK_OPTIONS = {"variant": "rows"}


def digits_data(seed: int):
    """TaskData of digits/rows: x (N, 8, 8) float32 in [0, 1], y (N,) int64; split fixed by ``seed``."""
    from suite.tasks import get_task
    return get_task("digits", **TASK_OPTIONS).load(seed)


def train(model, data, epochs: int, seed: int) -> dict:
    """``epochs`` passes over data.train; returns {'epochs', 'steps', 'last_loss'}."""
    x, y = data.train.x, data.train.y
    rng = np.random.default_rng([seed, 0xED6E])
    model.configure_training(lr=LR, clip_norm=CLIP_NORM)
    steps, loss = 0, None
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x) - BATCH + 1, BATCH):
            idx = order[start:start + BATCH]
            loss = model.train_step(x[idx], y[idx])
            steps += 1
    return {"epochs": epochs, "steps": steps, "last_loss": loss}


def accuracy(logits, y) -> float:
    """Fraction of argmax(logits) (N, O) equal to the class ids y (N,)."""
    return float(np.mean(np.argmax(np.asarray(logits), axis=-1) == np.asarray(y)))
