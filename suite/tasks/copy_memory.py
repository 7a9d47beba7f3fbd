"""Copy memory task (Arjovsky, Shah & Bengio 2016, section 4.1; after Hochreiter & Schmidhuber 1997).

Alphabet: class 0 = blank, 1..A = symbols, A+1 = delimiter (input only). With K symbols to copy and
delay T, every sequence has T + 2K steps:
    input   s_1 .. s_K   blank x (T-1)   delimiter   blank x K          s_k ~ U{1..A}
    target  blank x (T+K)                            s_1 .. s_K
Shapes: x (N, T+2K, A+2) float32 one-hot, y (N, T+2K) int64 class ids in [0, A];
output 'sequence', head 'classes' (O = A+1), loss = cross-entropy per step.

Memoryless baseline (Arjovsky et al.): predict blank with certainty until the delimiter, then a
uniform guess over the A symbols: cross-entropy K log(A) / (T + 2K) (= 10 log 8 / (T + 20) at the
defaults), recall accuracy 1/A (chance). Headline: 'accuracy' on the K recalled symbols.
Solved: recall accuracy >= 0.99 (our choice); it is also the task's time-to-quality target (``TaskData.target``).
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from suite.schema import PositiveInt
from suite.tasks import scoring
from suite.tasks.base import Split, Task, TaskData, TaskOptions
from suite.tasks.splits import rng_for

SOLVED_ACCURACY = 0.99
CERTAIN = 1e9     # logit gap that makes a softmax probability exactly 1 in float64


class CopyOptions(TaskOptions):
    T: PositiveInt = Field(20, description="delay: blanks between the last symbol and the delimiter, plus 1 (length T+2K)")
    K: PositiveInt = Field(10, description="symbols to copy")
    alphabet: PositiveInt = Field(8, description="number of distinct symbols A")
    n_train: PositiveInt = Field(2000, description="training sequences")
    n_val: PositiveInt = Field(500, description="validation sequences")
    n_test: PositiveInt = Field(1000, description="test sequences")


class CopyTask(Task):
    name = "copy"
    description = "recall K symbols after a delay of T blanks (Arjovsky et al. 2016 memory task)"
    Options = CopyOptions

    @property
    def seq_len(self) -> int:
        return self.options.T + 2 * self.options.K

    def sample(self, rng: np.random.Generator, n: int) -> Split:
        T, K, A = self.options.T, self.options.K, self.options.alphabet
        L = self.seq_len
        symbols = rng.integers(1, A + 1, size=(n, K))                # s_k in 1..A
        tokens = np.zeros((n, L), dtype=np.int64)                     # input class ids, 0 = blank
        tokens[:, :K] = symbols
        tokens[:, T + K - 1] = A + 1                                  # delimiter
        x = np.eye(A + 2, dtype=np.float32)[tokens]                   # (N, L, A+2)
        y = np.zeros((n, L), dtype=np.int64)                          # (N, L)
        y[:, T + K:] = symbols
        return Split(x, y)

    def load(self, seed: int) -> TaskData:
        c = self.options
        train, val, test = (self.sample(rng_for(seed, f"copy/{s}"), getattr(c, f"n_{s}")) for s in ("train", "val", "test"))
        data = TaskData(
            name=self.name, train=train, val=val, test=test, input_size=c.alphabet + 2,
            output_size=c.alphabet + 1, output="sequence", head="classes", metric="accuracy",
            higher_is_better=True, baseline=1.0 / c.alphabet, baseline_name="chance (memoryless)",
            solved=SOLVED_ACCURACY, target=SOLVED_ACCURACY,
            info={"source": "synthetic (Arjovsky et al. 2016)", "T": c.T, "K": c.K,
                  "baseline_loss": self.memoryless_loss(),
                  "baseline_loss_name": "memoryless cross-entropy K log(A) / (T + 2K)"})
        return data

    def memoryless_loss(self) -> float:
        K, A = self.options.K, self.options.alphabet
        return K * math.log(A) / self.seq_len

    def naive_outputs(self, data: TaskData, split: Split) -> np.ndarray:
        """Memoryless logits: blank for sure before the recall, uniform over symbols during it."""
        K, A = self.options.K, self.options.alphabet
        logits = np.full((len(split), self.seq_len, A + 1), -CERTAIN, dtype=np.float32)  # (N, L, A+1)
        logits[:, :-K, 0] = 0.0
        logits[:, -K:, 1:] = 0.0
        return logits

    def metrics(self, outputs, y) -> dict[str, float]:
        outputs, y = scoring.check_shapes(outputs, y, "classes")
        K = self.options.K
        loss = float(np.mean(scoring.cross_entropy_each(outputs, y)))
        return {"accuracy": scoring.accuracy(outputs[:, -K:], y[:, -K:]), "loss": loss,
                "cross_entropy": loss, "accuracy_all_steps": scoring.accuracy(outputs, y)}
