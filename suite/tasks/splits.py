"""Deterministic splits and random streams shared by the tasks.

* ``split_of(key)``: the split a piece belongs to, from a SHA-256 hash of its id string, so the
  assignment is the same on every machine, in every process and for any file order (Python's
  ``hash()`` is salted per process and must not be used).
      u = int(sha256(key)[:15 hex digits]) / 16^15  in [0, 1)
      split = train if u < f_train, val if u < f_train + f_val, else test
* ``rng_for(seed, stream)``: an independent NumPy generator per (seed, stream name), so the train,
  val and test draws of a synthetic task never share random numbers.
"""
from __future__ import annotations

import hashlib

import numpy as np

from suite.errors import UserError

SPLITS = ("train", "val", "test")


def unit_hash(key: str) -> float:
    """A number in [0, 1) fixed by ``key`` (SHA-256, machine and process independent)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return int(digest[:15], 16) / 16 ** 15


def split_of(key: str, f_train: float = 0.8, f_val: float = 0.1) -> str:
    """'train' | 'val' | 'test' for the piece id ``key`` (fractions f_train, f_val, rest test)."""
    u = unit_hash(key)
    if u < f_train:
        return "train"
    return "val" if u < f_train + f_val else "test"


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """Generator fixed by (seed, stream), e.g. rng_for(0, 'train'); seed must be an int >= 0."""
    check_seed(seed)
    stream_id = int(hashlib.sha256(stream.encode("utf-8")).hexdigest()[:8], 16)
    return np.random.default_rng(np.random.SeedSequence([seed, stream_id]))


def check_seed(seed) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"task seed: expected an integer >= 0, got {seed!r}")
