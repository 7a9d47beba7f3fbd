"""Multi-query associative recall, MQAR (Arora et al. 2023, "Zoology: Measuring and Improving Recall in
Efficient Language Models"; our own generator after the paper's description).

Vocabulary of V tokens: token 0 = filler, keys 1 .. V/2 - 1 (lower half), values V/2 .. V - 1 (upper
half; V/2 means V // 2). With P key-value pairs and length T (S = (T - 2P) // 2 query slots):
    positions 0 .. 2P-1   k_1 v_1 k_2 v_2 .. k_P v_P     P distinct keys, P distinct values, uniform
    positions 2P ..       key k_i again at slot g_i, i.e. position 2P + 2 g_i (g_i distinct, in 0..S-1);
                          every other position: a noise token uniform over all V tokens (Zoology's
                          random_non_queries; keys and values included, never scored), or the
                          filler 0 with noise=false
    target                v_i at the query of k_i (position 2P + 2 g_i); every other position -100
Query slots are drawn without replacement with P(g) proportional to (g + 1)^(a - 1), a = power_a
(Zoology's power law over the gap between the pairs and the query: a = 0.01 makes short gaps far more
frequent than long ones, a = 1 is uniform); drawn as the top P of log p + Gumbel noise per sequence,
which is the same distribution as drawing one slot after another.
Shapes: x (N, T, V) float32 one-hot, y (N, T) int64 in [V/2, V) or -100; output 'sequence', head
'classes' (O = V: the head predicts a token of the vocabulary, as the paper's language models do).
Loss and metrics skip the -100 positions (suite.losses): cross-entropy and accuracy over the P
query positions of each sequence only. Defaults V = 64, T = 64, P = 8: one-hot inputs stay small
(the paper's vocabularies are far larger).

Headline: 'accuracy' over the query positions. Baseline 'chance': a guess uniform over the V - V/2
values, accuracy 1 / (V - V/2) (= 1/32 at the defaults), cross-entropy log(V - V/2). A second reference,
'bag of values' (knows which P values the sequence holds, not which key each belongs to): accuracy 1/P,
in info['baselines_accuracy']. Extra metric 'sequence_accuracy': sequences with every query right.
Solved: accuracy >= 0.99, the bar Zoology's experiments use for a model that solves MQAR; also the task's
time-to-quality target (``TaskData.target``).
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from suite.errors import UserError
from suite.losses import IGNORE_INDEX
from suite.schema import Bool, PositiveFloat, PositiveInt
from suite.tasks import scoring
from suite.tasks.base import Split, Task, TaskData, TaskOptions
from suite.tasks.splits import rng_for

SOLVED_ACCURACY = 0.99
CERTAIN = 1e9     # logit gap that makes a softmax probability exactly 1 in float64


class MQAROptions(TaskOptions):
    vocab: PositiveInt = Field(64, description="V tokens: 0 filler, keys 1..V/2-1, values V/2..V-1 (one-hot input)")
    seq_len: PositiveInt = Field(64, description="T: 2 num_pairs for the pairs, the rest holds the queries (T >= 4 num_pairs)")
    num_pairs: PositiveInt = Field(8, description="P key-value pairs, each queried once (P <= V/2 - 1)")
    power_a: PositiveFloat = Field(0.01, description="power law of the query gaps, P(slot g) ~ (g+1)^(a-1); 1 = uniform")
    noise: Bool = Field(True, description="fill non-query positions with random tokens (false: the filler token 0)")
    n_train: PositiveInt = Field(2000, description="training sequences")
    n_val: PositiveInt = Field(500, description="validation sequences")
    n_test: PositiveInt = Field(1000, description="test sequences")


class MQARTask(Task):
    name = "mqar"
    description = "multi-query associative recall: give the value of each key queried again (Zoology, Arora et al. 2023)"
    Options = MQAROptions

    def __init__(self, where: str | None = None, **options):
        super().__init__(where, **options)
        where = where or f"task {self.name}"
        c = self.options
        if c.vocab < 4:
            raise UserError(f"{where}: key 'vocab': must be >= 4 (filler, a key, two values), got {c.vocab}")
        if c.num_pairs > self.n_keys:
            raise UserError(f"{where}: key 'num_pairs': must be <= vocab//2 - 1 = {self.n_keys} "
                            f"(distinct keys 1..{self.n_keys}), got {c.num_pairs}")
        if c.seq_len < 4 * c.num_pairs:
            raise UserError(f"{where}: key 'seq_len': must be >= 4 num_pairs = {4 * c.num_pairs} "
                            f"(2 per pair, then one query slot per 2 positions), got {c.seq_len}")

    @property
    def n_keys(self) -> int:
        return self.options.vocab // 2 - 1

    @property
    def n_values(self) -> int:
        return self.options.vocab - self.options.vocab // 2

    @property
    def n_slots(self) -> int:
        return (self.options.seq_len - 2 * self.options.num_pairs) // 2

    def slot_probabilities(self) -> np.ndarray:
        """P(slot g) before drawing without replacement, g = 0 .. S-1: proportional to (g+1)^(a-1)."""
        a = self.options.power_a
        p = np.arange(1, self.n_slots + 1, dtype=np.float64) ** (a - 1.0)
        return p / p.sum()

    def sample_tokens(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(tokens (n, T) int64, labels (n, T) int64 with -100 off the queries)."""
        V, T, P = self.options.vocab, self.options.seq_len, self.options.num_pairs
        half = V // 2
        keys = 1 + np.argsort(rng.random((n, self.n_keys)), axis=1)[:, :P]            # (n, P) distinct
        values = half + np.argsort(rng.random((n, self.n_values)), axis=1)[:, :P]     # (n, P) distinct
        gumbel = rng.gumbel(size=(n, self.n_slots))                                    # (n, S)
        slots = np.argsort(-(np.log(self.slot_probabilities()) + gumbel), axis=1)[:, :P]   # top P: (n, P)
        if self.options.noise:
            tokens = rng.integers(0, V, size=(n, T))
        else:
            tokens = np.zeros((n, T), dtype=np.int64)
        tokens[:, 0:2 * P:2] = keys
        tokens[:, 1:2 * P:2] = values
        query = 2 * P + 2 * slots                                                      # (n, P) positions
        rows = np.arange(n)[:, None]
        tokens[rows, query] = keys
        labels = np.full((n, T), IGNORE_INDEX, dtype=np.int64)
        labels[rows, query] = values
        return tokens.astype(np.int64), labels

    def sample(self, rng: np.random.Generator, n: int) -> Split:
        tokens, y = self.sample_tokens(rng, n)
        x = np.eye(self.options.vocab, dtype=np.float32)[tokens]                    # (N, T, V)
        return Split(x, y)

    def load(self, seed: int) -> TaskData:
        c = self.options
        train, val, test = (self.sample(rng_for(seed, f"mqar/{s}"), getattr(c, f"n_{s}")) for s in ("train", "val", "test"))
        return TaskData(
            name=self.name, train=train, val=val, test=test, input_size=c.vocab, output_size=c.vocab,
            output="sequence", head="classes", metric="accuracy", higher_is_better=True,
            baseline=1.0 / self.n_values, baseline_name="chance (over the values)", solved=SOLVED_ACCURACY,
            target=SOLVED_ACCURACY,
            info={"source": "synthetic (Arora et al. 2023, Zoology MQAR)", "vocab": c.vocab,
                  "seq_len": c.seq_len, "num_pairs": c.num_pairs, "power_a": c.power_a,
                  "noise": c.noise, "ignore_index": IGNORE_INDEX,
                  "baseline_loss": self.chance_loss(),
                  "baseline_loss_name": "chance cross-entropy log(V - V/2) over the query positions",
                  "baselines_accuracy": {"chance (over the values)": 1.0 / self.n_values,
                                         "bag of values (no key binding)": 1.0 / c.num_pairs}})

    def chance_loss(self) -> float:
        return math.log(self.n_values)

    def naive_outputs(self, data: TaskData, split: Split) -> np.ndarray:
        """Chance: logits uniform over the values, -1e9 on the filler and the keys. (N, T, V)"""
        half = self.options.vocab // 2
        logits = np.full((len(split), self.options.seq_len, self.options.vocab), -CERTAIN, dtype=np.float32)
        logits[:, :, half:] = 0.0
        return logits

    def metrics(self, outputs, y) -> dict[str, float]:
        outputs, y = scoring.check_shapes(outputs, y, "classes")
        loss = scoring.cross_entropy(outputs, y)
        return {"accuracy": scoring.accuracy(outputs, y), "loss": loss, "cross_entropy": loss,
                "sequence_accuracy": scoring.sequence_accuracy(outputs, y)}
