"""The one interface every task implements.

A task turns a seed into train/val/test arrays (deterministically, offline, independent of file
order and machine), says what the model must output, and scores outputs:

    x: (N, T, X) float32 inputs, left to right
    y: regression (N, O) or (N, T, O) float32; classes (N,) or (N, T) int64;
       multilabel (N, T, O) float32 in {0, 1}
    output: 'last' (read the last position) | 'sequence' (an output per step)
    head:   'regression' | 'classes' | 'multilabel'   -- the loss follows (see suite.losses)

Time to quality: every task states a ``target`` of its headline metric (``TaskData.target``), the level whose
first crossing on the validation curve gives a run's updates to target (``suite.run.convergence``): the task's
'solved' threshold where it has one, else a level its module states and measured below every architecture's
plateau.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from suite.schema import Section, validate


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
    target: float | None = None # time-to-quality target of the headline metric: 'solved' where the task has it,
                                # else a stated level below every architecture's plateau (each task says which)
    info: dict[str, Any] = field(default_factory=dict)  # e.g. seq_len, other baselines, source

    @property
    def seq_len(self) -> int:
        return self.train.x.shape[1]


class TaskOptions(Section):
    """A task's options: typed, with defaults and descriptions (pydantic); unknown keys are errors."""


class Task(ABC):
    """A task family. Subclasses set ``name``, ``description`` and ``Options`` (a TaskOptions schema)
    and implement ``load`` and ``metrics``. ``self.options`` holds the validated options (an ``Options``
    instance: ``self.options.T``)."""

    name: ClassVar[str]
    description: ClassVar[str]
    Options: ClassVar[type[TaskOptions]] = TaskOptions

    def __init__(self, where: str | None = None, **options):
        """Validate ``options``; errors read ``<where>: key '<prefix>T': expected ...`` (where defaults to
        'task <name>')."""
        where = where or f"task {self.name}"
        self.options = validate(self.Options, options, where)

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        return cls.Options().model_dump()

    @abstractmethod
    def load(self, seed: int) -> TaskData:
        """Build the splits for ``seed`` (same seed -> identical arrays on any machine)."""

    @abstractmethod
    def metrics(self, outputs: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """All metrics of model ``outputs`` (as returned by SequenceModel.forward) against ``y``.
        Includes the headline metric under its name and 'loss' (the training loss)."""
