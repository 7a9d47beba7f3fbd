"""Character-level language model of folk tunes in ABC notation (music21's bundled ABC files: Ryan's
Mammoth Collection, O'Neill's 1850, Essen, ... 1,146 files, ~13k tunes, 4.4 M characters; no download).
folk-rnn (Sturm et al. 2016) trained an LSTM on ABC tunes in the same spirit.

Text: each file is cut into tunes at lines starting with 'X:' (text before the first 'X:' is dropped);
line ends become '\\n'; each tune is written as its text without surrounding blank lines + '\\n\\n'.
Tune id = '<file path relative to the corpus>#<index of the tune in its file>'; a SHA-256 hash of the
id puts the tune in train/val/test (~80/10/10), so the split is the same on any machine, for any file
order and for every seed. Each split's tunes, in id order, are concatenated into one stream.

Vocabulary (V = 97): index 0 = '\\n', 1..95 = printable ASCII ' '..'~', 96 = unknown (anything else,
e.g. the ~2.7k non-ASCII characters and tabs). Windows of T characters, next-character prediction:
    x = onehot(c[s : s+T])  (N, T, 97) float32,   y = c[s+1 : s+T+1]  (N, T) int64
output 'sequence', head 'classes' (O = 97), loss cross-entropy in nats.
Training windows: ``n_train`` starts drawn by the seed (without replacement) over the train stream.
Validation/test windows: non-overlapping (s = 0, T, 2T, ...), evenly thinned to ``n_val``/``n_test``,
independent of the seed. Windows may span the boundary of two tunes (the 'X:' line starts the next).

Headline 'bits_per_char' = cross-entropy / ln 2. Baseline: unigram model (add-one smoothed
character frequencies of the training windows' targets). ``info`` also holds a bigram model's bits
per char (add-one, counted on the whole train stream). Reading all files takes ~0.1 s and a whole
load ~0.7 s on 2 cores, so nothing is cached.

Target (time to quality, ``TaskData.target``; no 'solved' threshold): validation 3.5 bits per character, a third
below the unigram's ~5.3 and below the bigram's ~3.9. Measured with PyTorch models at the matched budget of
10,000 parameters, lr 3e-3, batch 64, seq_len 64, 930 updates, seed 100: GRU 3.05, LSTM 3.43, Transformer
2.97, every one still improving.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from pydantic import Field

from suite.errors import UserError
from suite.schema import PositiveInt, Str
from suite.tasks import scoring
from suite.tasks.base import Split, Task, TaskData, TaskOptions
from suite.tasks.splits import rng_for, split_of

VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))     # then the unknown symbol
UNKNOWN = len(VOCAB)                                       # 96
TARGET_BITS = 3.5     # time-to-quality target, bits per character (docstring)
V = len(VOCAB) + 1                                         # 97
TUNE_START = re.compile(r"^(?=X:)", re.MULTILINE)


def corpus_dir() -> Path:
    from music21 import common
    return Path(common.getCorpusFilePath())


def abc_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.abc"))


def read_tunes(root: Path, files: list[Path] | None = None) -> dict[str, str]:
    """Tune id -> tune text (ends with one blank line), for every tune in ``files`` under ``root``."""
    tunes = {}
    for path in abc_files(root) if files is None else files:
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        chunks = [c for c in TUNE_START.split(text) if c.startswith("X:")]
        rel = path.relative_to(root).as_posix()
        for index, chunk in enumerate(chunks):
            tunes[f"{rel}#{index}"] = chunk.strip("\n") + "\n\n"
    return tunes


def encode(text: str) -> np.ndarray:
    """Character ids (len(text),) int64 in [0, V)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    printable = (codes >= 32) & (codes <= 126)
    return np.where(codes == 10, 0, np.where(printable, codes - 31, UNKNOWN))


def split_streams(tunes: dict[str, str]) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """split -> encoded stream of its tunes in id order, and split -> those tune ids."""
    ids = {"train": [], "val": [], "test": []}
    for tune_id in sorted(tunes):
        ids[split_of(tune_id)].append(tune_id)
    return {s: encode("".join(tunes[i] for i in members)) for s, members in ids.items()}, ids


def bigram_bits(train: np.ndarray, x_ids: np.ndarray, y: np.ndarray) -> float:
    """Bits per char of an add-one bigram model counted on ``train``, scored on (previous x_ids, next y)."""
    counts = np.ones((V, V))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[x_ids, y]) / math.log(2))


class FolkLMOptions(TaskOptions):
    seq_len: PositiveInt = Field(64, description="T: characters per window")
    n_train: PositiveInt = Field(2000, description="training windows drawn by the seed (train stream: ~3.5 M chars)")
    n_val: PositiveInt = Field(500, description="validation windows (non-overlapping, at most all of them)")
    n_test: PositiveInt = Field(500, description="test windows (non-overlapping, at most all of them)")
    source: Str = Field("", description="directory of .abc files (tests); '' = music21's corpus directory")


class FolkLMTask(Task):
    name = "folk-lm"
    description = "character-level language model of folk tunes in ABC notation (music21 corpus)"
    Options = FolkLMOptions

    def tunes(self) -> dict[str, str]:
        root = Path(self.options.source).expanduser() if self.options.source else corpus_dir()
        tunes = read_tunes(root) if root.is_dir() else {}
        if not tunes:
            raise UserError(f"task folk-lm: option 'source' must name a directory of .abc tunes, got {str(root)!r}")
        return tunes

    def cut(self, stream: np.ndarray, starts: np.ndarray) -> Split:
        T = self.options.seq_len
        cols = starts[:, None] + np.arange(T + 1)                    # (N, T+1)
        ids = stream[cols]
        x = np.eye(V, dtype=np.float32)[ids[:, :-1]]                 # (N, T, V) one-hot
        return Split(x, ids[:, 1:])                                   # y (N, T)

    def train_split(self, stream: np.ndarray, seed: int) -> Split:
        n_starts = len(stream) - self.options.seq_len
        self.check_length(n_starts, "train")
        starts = rng_for(seed, "folk-lm/train").choice(n_starts, size=min(self.options.n_train, n_starts),
                                                       replace=False)
        return self.cut(stream, starts)

    def eval_split(self, stream: np.ndarray, split: str) -> Split:
        T = self.options.seq_len
        n_blocks = (len(stream) - 1) // T                            # windows s = 0, T, 2T, ...
        self.check_length(n_blocks, split)
        blocks = np.arange(n_blocks)
        if n_blocks > getattr(self.options, f"n_{split}"):
            blocks = np.linspace(0, n_blocks - 1, getattr(self.options, f"n_{split}")).round().astype(np.int64)
        return self.cut(stream, blocks * T)

    def check_length(self, n_windows: int, split: str) -> None:
        if n_windows < 1:
            raise UserError(f"task folk-lm: the {split} text is shorter than seq_len + 1 = "
                            f"{self.options.seq_len + 1} characters; lower 'seq_len'")

    def load(self, seed: int) -> TaskData:
        streams, tune_ids = split_streams(self.tunes())
        train = self.train_split(streams["train"], seed)
        val, test = self.eval_split(streams["val"], "val"), self.eval_split(streams["test"], "test")
        data = TaskData(
            name=self.name, train=train, val=val, test=test, input_size=V, output_size=V,
            output="sequence", head="classes", metric="bits_per_char", higher_is_better=False,
            baseline=0.0, baseline_name="unigram", solved=None, target=TARGET_BITS,
            info={"source": f"music21 ABC corpus ({self.options.source or 'bundled'})", "vocab_size": V,
                  "tunes": {s: len(i) for s, i in tune_ids.items()},
                  "chars": {s: int(len(c)) for s, c in streams.items()},
                  "unknown_rate_train": float(np.mean(streams["train"] == UNKNOWN)),
                  "bigram_bits_per_char": bigram_bits(streams["train"], test.x.argmax(-1), test.y)})
        data.baseline = self.metrics(self.naive_outputs(data, test), test.y)["bits_per_char"]
        data.info["unigram_bits_per_char"] = data.baseline
        return data

    def naive_outputs(self, data: TaskData, split: Split) -> np.ndarray:
        """Unigram log-probabilities (add-one) of the training targets, at every step.  (N, T, V)"""
        counts = np.bincount(data.train.y.ravel(), minlength=V) + 1.0
        log_p = np.log(counts / counts.sum()).astype(np.float32)
        return np.broadcast_to(log_p, (*split.y.shape, V)).copy()

    def metrics(self, outputs, y) -> dict[str, float]:
        outputs, y = scoring.check_shapes(outputs, y, "classes")
        loss = float(np.mean(scoring.cross_entropy_each(outputs, y)))
        return {"bits_per_char": loss / math.log(2), "loss": loss, "accuracy": scoring.accuracy(outputs, y)}
