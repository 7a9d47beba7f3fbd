"""Selective copying (Gu & Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
sections 3.1 and 4.1.1; our own generator after the paper's description).

Like the copy task, but the K symbols to copy lie at random positions among noise tokens, so a model must
pick out what to remember by content rather than by position. Vocabulary: 0 = noise, 1..A = symbols,
A+1 = marker. Every sequence has T + K steps:
    positions 0 .. T-1       K symbols s_1 .. s_K (s_k ~ U{1..A}, with repeats) at K distinct positions
                             drawn uniformly from 0..T-1 (s_1 first); noise 0 elsewhere
    positions T .. T+K-1     marker A+1
    target                   s_k at position T + k - 1 (the k-th marker), -100 at every other position
Shapes: x (N, T+K, A+2) float32 one-hot, y (N, T+K) int64 in [1, A] or -100; output 'sequence', head
'classes' (O = A+2: the head predicts a token of the vocabulary, as in the paper's language models).
The -100 positions are ignored by the loss and the metrics (suite.losses), as in the paper, which
scores only the copied tokens: cross-entropy and accuracy over the K marker positions.

Headline: 'accuracy' over the K copied symbols. Baseline 'chance': a guess uniform over the A symbols,
accuracy 1/A (= 1/8 at the defaults), cross-entropy log(A). Extra metric 'sequence_accuracy': sequences
with all K symbols right. Solved: accuracy >= 0.99 (our choice, as for copy), also the time-to-quality target.
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from suite.errors import UserError
from suite.losses import IGNORE_INDEX
from suite.schema import PositiveInt
from suite.tasks import scoring
from suite.tasks.base import Split, Task, TaskData, TaskOptions
from suite.tasks.splits import rng_for

SOLVED_ACCURACY = 0.99
CERTAIN = 1e9     # logit gap that makes a softmax probability exactly 1 in float64


class SelectiveCopyOptions(TaskOptions):
    T: PositiveInt = Field(200, description="length of the region the K symbols are scattered in (length T+K)")
    K: PositiveInt = Field(10, description="symbols to copy, in order (K <= T)")
    alphabet: PositiveInt = Field(8, description="number of distinct symbols A")
    n_train: PositiveInt = Field(2000, description="training sequences")
    n_val: PositiveInt = Field(500, description="validation sequences")
    n_test: PositiveInt = Field(1000, description="test sequences")


class SelectiveCopyTask(Task):
    name = "selective-copy"
    description = "copy K symbols scattered among noise, in order, at the end (Mamba, Gu & Dao 2023)"
    Options = SelectiveCopyOptions

    def __init__(self, where: str | None = None, **options):
        super().__init__(where, **options)
        c = self.options
        if c.K > c.T:
            raise UserError(f"{where or f'task {self.name}'}: key 'K': must be <= T = {c.T} "
                            f"(one position per symbol), got {c.K}")

    @property
    def seq_len(self) -> int:
        return self.options.T + self.options.K

    def sample_tokens(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tokens (n, T+K), labels (n, T+K) with -100 off the recall, positions (n, K) ascending)."""
        T, K, A = self.options.T, self.options.K, self.options.alphabet
        symbols = rng.integers(1, A + 1, size=(n, K))                              # s_k in 1..A
        positions = np.sort(np.argpartition(rng.random((n, T)), K - 1, axis=1)[:, :K], axis=1)  # K distinct
        tokens = np.zeros((n, T + K), dtype=np.int64)                               # 0 = noise
        tokens[np.arange(n)[:, None], positions] = symbols
        tokens[:, T:] = A + 1                                                       # markers
        labels = np.full((n, T + K), IGNORE_INDEX, dtype=np.int64)
        labels[:, T:] = symbols
        return tokens, labels, positions

    def sample(self, rng: np.random.Generator, n: int) -> Split:
        tokens, y, _ = self.sample_tokens(rng, n)
        x = np.eye(self.options.alphabet + 2, dtype=np.float32)[tokens]          # (N, T+K, A+2)
        return Split(x, y)

    def load(self, seed: int) -> TaskData:
        c = self.options
        train, val, test = (self.sample(rng_for(seed, f"selective-copy/{s}"), getattr(c, f"n_{s}"))
                            for s in ("train", "val", "test"))
        return TaskData(
            name=self.name, train=train, val=val, test=test, input_size=c.alphabet + 2,
            output_size=c.alphabet + 2, output="sequence", head="classes", metric="accuracy",
            higher_is_better=True, baseline=1.0 / c.alphabet, baseline_name="chance (memoryless)",
            solved=SOLVED_ACCURACY, target=SOLVED_ACCURACY,
            info={"source": "synthetic (Gu & Dao 2023, Mamba selective copying)", "T": c.T, "K": c.K,
                  "alphabet": c.alphabet, "ignore_index": IGNORE_INDEX, "baseline_loss": self.chance_loss(),
                  "baseline_loss_name": "chance cross-entropy log(A) over the K recall positions"})

    def chance_loss(self) -> float:
        return math.log(self.options.alphabet)

    def naive_outputs(self, data: TaskData, split: Split) -> np.ndarray:
        """Memoryless logits: uniform over the A symbols, -1e9 on noise and marker. (N, T+K, A+2)"""
        A = self.options.alphabet
        logits = np.full((len(split), self.seq_len, A + 2), -CERTAIN, dtype=np.float32)
        logits[:, :, 1:A + 1] = 0.0
        return logits

    def metrics(self, outputs, y) -> dict[str, float]:
        outputs, y = scoring.check_shapes(outputs, y, "classes")
        loss = scoring.cross_entropy(outputs, y)
        return {"accuracy": scoring.accuracy(outputs, y), "loss": loss, "cross_entropy": loss,
                "sequence_accuracy": scoring.sequence_accuracy(outputs, y)}
