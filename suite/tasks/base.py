"""The one interface every task implements.

A task turns a seed into train/val/test arrays (deterministically, offline, independent of file
order and machine), says what the model must output, and scores outputs:

    x: (N, T, X) float32 inputs, left to right
    y: regression (N, O) or (N, T, O) float32; classes (N,) or (N, T) int64;
       multilabel (N, T, O) float32 in {0, 1}
    output: 'last' (read the last position) | 'sequence' (an output per step)
    head:   'regression' | 'classes' | 'multilabel'   -- the loss follows (see suite.models.base)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from suite.errors import UserError


@dataclass
class Split:
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class TaskData:
    name: str
    train: Split
    val: Split
    test: Split
    input_size: int
    output_size: int
    output: str                 # 'last' | 'sequence'
    head: str                   # 'regression' | 'classes' | 'multilabel'
    metric: str                 # headline metric name, e.g. 'accuracy', 'mse', 'nll_per_step', 'bits_per_char'
    higher_is_better: bool
    baseline: float             # the naive baseline's headline metric on the test split
    baseline_name: str          # e.g. 'predict 1', 'chance', 'persistence'
    solved: float | None = None # threshold of the headline metric that counts as solved, where one exists
    info: dict[str, Any] = field(default_factory=dict)  # e.g. seq_len, other baselines, source

    @property
    def seq_len(self) -> int:
        return self.train.x.shape[1]


@dataclass(frozen=True)
class Option:
    type: type
    default: Any
    help: str


class Task(ABC):
    """A task family. Subclasses set ``name``, ``description`` and ``options`` and implement
    ``load`` and ``metrics``."""

    name: ClassVar[str]
    description: ClassVar[str]
    options: ClassVar[dict[str, Option]] = {}

    def __init__(self, **options):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(self.options) or "(none)"
            raise UserError(f"task {self.name}: unknown option {unknown[0]!r}; expected one of: {valid}")
        self.config = {}
        for key, opt in self.options.items():
            value = options.get(key, opt.default)
            if opt.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, opt.type) or isinstance(value, bool) and opt.type is not bool:
                raise UserError(f"task {self.name}: option {key!r} expects {opt.type.__name__}, got {value!r}")
            if opt.type in (int, float) and value <= 0:
                raise UserError(f"task {self.name}: option {key!r} must be positive, got {value!r}")
            self.config[key] = value

    @abstractmethod
    def load(self, seed: int) -> TaskData:
        """Build the splits for ``seed`` (same seed -> identical arrays on any machine)."""

    @abstractmethod
    def metrics(self, outputs: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """All metrics of model ``outputs`` (as returned by SequenceModel.forward) against ``y``.
        Includes the headline metric under its name and 'loss' (the training loss)."""
