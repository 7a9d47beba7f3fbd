"""Majority vote: is more than half of a bit sequence 1? A small counting task, registered as ``majority``.

Each sequence has T (odd) steps of one feature, x_t ∈ {0, 1} drawn independently with p = 1/2; the target is read
at the last step:
    y = 1 if Σ_t x_t > T / 2 else 0                     (two classes)
Shapes: x (N, T, 1) float32, y (N,) int64; output 'last', head 'classes', loss cross-entropy.
Baseline 'chance': accuracy 0.5 (the classes are balanced by symmetry, T odd). Solved: accuracy >= 0.95 (our
choice). A model must count to T / 2 over the whole sequence: a memory of the running difference of ones and
zeros, which gated recurrent units hold easily and a fixed window does not.
"""
from __future__ import annotations

import numpy as np
from pydantic import Field

from suite.errors import UserError
from suite.schema import PositiveInt
from suite.tasks import register_task, scoring
from suite.tasks.base import Split, Task, TaskData, TaskOptions
from suite.tasks.splits import rng_for

SOLVED_ACCURACY = 0.95


class MajorityOptions(TaskOptions):
    T: PositiveInt = Field(15, description="sequence length (odd, so there is no tie)")
    n_train: PositiveInt = Field(2048, description="training sequences")
    n_val: PositiveInt = Field(256, description="validation sequences")
    n_test: PositiveInt = Field(1000, description="test sequences")


class MajorityTask(Task):
    """Majority vote over T random bits (module docstring)."""

    description = "is more than half of T random bits 1? (counting over the whole sequence)"
    Options = MajorityOptions

    def __init__(self, **options):
        super().__init__(**options)
        if self.options.T % 2 == 0:
            raise UserError(f"task majority: option 'T' must be odd (no ties), got {self.options.T}")

    def sample(self, rng: np.random.Generator, n: int) -> Split:
        x = rng.integers(0, 2, size=(n, self.options.T, 1)).astype(np.float32)      # (N, T, 1)
        y = (x[:, :, 0].sum(axis=1) > self.options.T / 2).astype(np.int64)          # (N,)
        return Split(x, y)

    def load(self, seed: int) -> TaskData:
        c = self.options
        train, val, test = (self.sample(rng_for(seed, f"majority/{s}"), getattr(c, f"n_{s}"))
                            for s in ("train", "val", "test"))
        return TaskData(name=self.name, train=train, val=val, test=test, input_size=1, output_size=2,
                        output="last", head="classes", metric="accuracy", higher_is_better=True, baseline=0.5,
                        baseline_name="chance", solved=SOLVED_ACCURACY,
                        info={"source": "synthetic (lightgru_example plugin)", "T": c.T})

    def metrics(self, outputs, y) -> dict[str, float]:
        outputs, y = scoring.check_shapes(outputs, y, "classes")
        loss = scoring.cross_entropy(outputs, y)
        return {"accuracy": scoring.accuracy(outputs, y), "loss": loss, "cross_entropy": loss}


register_task("majority", MajorityTask)
