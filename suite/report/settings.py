"""What the report takes from a run's config: the one place the report reads it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportSettings:
    """The config values the report quotes or selects rows by."""
    speed_batch: int           # base shape of the speed study: B, T, X, H
    speed_seq_len: int
    speed_input_size: int
    speed_hidden: int
    speed_repeats: int         # rounds of the base shape (speed.rounds)
    speed_min_samples: int
    denormals: str             # floating-point policy of every worker
    threads: int               # threads per framework
    lr: float                  # training protocol
    clip_norm: float
    batch_size: int
    patience: int | None
    max_seconds: float | None
    seeds: tuple[int, ...]
    budget: int | None         # matched parameter budget (None: equal width only)
    width_hidden: int          # H of the equal-width view
    eval_every: int | None = None   # updates between validation evaluations (None: once per epoch)
    patience_floor_updates: int | None = None   # early stopping never before this (None: half the budget)
    lstm_forget_bias: tuple[float, ...] | None = (1.0, 0.0)   # the LSTM's forget-bias arms, the headline first
    lr_grid: tuple[float, ...] | None = None           # the learning-rate search (None: every model at lr)
    tuning_seeds: tuple[int, ...] = ()
    tuning_pairs: tuple[tuple[str, str], ...] = ()     # (task, arch) the search chooses a rate for

    @classmethod
    def from_config(cls, cfg) -> ReportSettings:
        """The values above from a validated config."""
        from suite.config import tuning_references
        speed, training, sizing = cfg.speed, cfg.training, cfg.sizing
        return cls(speed_batch=speed.batch, speed_seq_len=speed.base_seq_len, speed_input_size=speed.input_size,
                   speed_hidden=speed.base_hidden, speed_repeats=speed.rounds, speed_min_samples=speed.min_samples,
                   denormals=speed.denormals, threads=cfg.threads, lr=training.lr, clip_norm=training.clip_norm,
                   batch_size=training.batch_size, patience=training.patience, max_seconds=training.max_seconds,
                   seeds=tuple(cfg.seeds), budget=sizing.budget, width_hidden=sizing.hidden,
                   eval_every=training.eval_every, patience_floor_updates=training.patience_floor_updates,
                   lstm_forget_bias=tuple(training.lstm_forget_bias) if training.lstm_forget_bias else None,
                   lr_grid=tuple(training.lr_grid) if training.lr_grid is not None else None,
                   tuning_seeds=tuple(training.tuning_seeds),
                   tuning_pairs=tuple((task, e["arch"]) for task, e in tuning_references(cfg)))
