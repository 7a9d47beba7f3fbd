"""Bach chorales as 88-key piano rolls, next-step prediction (JSB-style polyphonic music modelling,
Boulanger-Lewandowski et al. 2012; anchor: Chung et al. 2014, Table 2).

Data: the chorales bundled with music21 (``corpus.getComposer('bach')``, no download). Filter: the
MusicXML (.mxl/.xml) and Humdrum (.krn) files whose score has exactly 4 parts (S, A, T, B); where a
chorale exists in two formats (bwv277, bwv281, bwv366) the MusicXML copy is kept. With music21 10.5:
433 paths -> 410 score files (20 Riemenschneider analyses and 3 duplicates skipped) -> 365 four-part
chorales (45 scores with instrumental or missing parts dropped), 19,871 quarter-note steps.

Piano roll, sampled at every quarter note (offset k = 0, 1, 2, ... in quarter lengths from the start):
    roll[k, p - 21] = 1  iff a note of MIDI pitch p (21..108) sounds at k  (onset <= k < onset + duration)
Held and repeated notes look alike, as in JSB. Next-step prediction on windows of T steps:
    x = roll[s : s+T],  y = roll[s+1 : s+T+1]
Shapes: x (N, T, 88) float32 in {0, 1}, y (N, T, 88) float32; output 'sequence', head 'multilabel'
(sigmoid per key), loss = BCE averaged over every element.

Headline 'nll_per_step' = sum over the 88 keys of the BCE, averaged over steps (= 88 x loss), in nats,
the measure of Chung et al. 2014 (JSB test: GRU 8.54, LSTM 8.67; their data are the JSB files with
their own split and a common tonality, so the numbers are comparable in kind, not identical).
Baseline: each key independently on with its training frequency p_k (add-one smoothed),
    nll = -sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)].

Splits: by a SHA-256 hash of the chorale id (BWV number, with any '-sc'/'-a' variant suffix removed so
that versions of one chorale share a split): ~80/10/10 train/val/test, the same on every machine and
for every seed. Training windows: ``n_train`` start positions drawn by the seed, without replacement,
among all windows of the training chorales. Validation/test windows: the non-overlapping windows
s = 0, T, 2T, ... of each chorale (each transition scored once), independent of the seed, evenly
thinned to ``n_val``/``n_test`` if there are more. Chorales shorter than T + 1 steps give no window.

Target (time to quality, ``TaskData.target``; no 'solved' threshold): validation NLL 10.0 nats per step, between
the per-key frequency baseline (~11.1 on validation) and Chung et al.'s 8.5-8.7. Measured with PyTorch models,
lr 3e-3, batch 64, 930 updates, seed 100: the Transformer at 10,000 parameters reached 9.0; GRU and LSTM at
10,000 and 20,000 parameters had not left the baseline (11.1-11.2; the LSTM at lr 1e-2 was at 10.4 and falling),
so below the recurrent models' plateau only at a longer budget, as Chung et al.'s.

Parsing the corpus takes ~30 s on 2 cores; the rolls are built once into
``<cache dir>/chorales-rolls-v{CACHE_VERSION}.npz`` (see suite.tasks.cache). The option ``source`` reads
a file of the same format instead (tests use a small committed fixture).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from pydantic import Field

from suite.errors import UserError
from suite.schema import Bool, PositiveInt, Str
from suite.tasks import scoring
from suite.tasks.base import Split, Task, TaskData, TaskOptions
from suite.tasks.cache import cache_dir, load_npz, save_npz_atomic
from suite.tasks.splits import rng_for, split_of

CACHE_VERSION = 1
LOWEST_MIDI, KEYS = 21, 88                  # A0 .. C8
FORMAT_PREFERENCE = (".mxl", ".xml", ".krn")
CHUNG_2014_JSB_TEST_NLL = {"gru": 8.54, "lstm": 8.67}
TARGET_NLL = 10.0    # time-to-quality target, nats per step (docstring)


# --- building the rolls from music21 (slow, cached) ----------------------------------------------
def chorale_paths() -> dict[str, Path]:
    """Chorale id (file stem) -> path, one file per id, MusicXML preferred over Humdrum."""
    from music21 import corpus
    chosen: dict[str, Path] = {}
    for path in map(Path, corpus.getComposer("bach")):
        if path.suffix not in FORMAT_PREFERENCE:
            continue
        old = chosen.get(path.stem)
        if old is None or FORMAT_PREFERENCE.index(path.suffix) < FORMAT_PREFERENCE.index(old.suffix):
            chosen[path.stem] = path
    return dict(sorted(chosen.items()))


def score_roll(score) -> np.ndarray:
    """(L, 88) uint8 roll sampled at quarter notes, L = ceil(score length in quarters)."""
    roll = np.zeros((math.ceil(score.highestTime), KEYS), dtype=np.uint8)
    for note in score.flatten().notes:                          # notes and chords, absolute offsets
        first = math.ceil(note.offset)                          # first sampled step at or after onset
        stop = math.ceil(note.offset + note.quarterLength)      # first sampled step at or after release
        for pitch in note.pitches:
            if LOWEST_MIDI <= pitch.midi < LOWEST_MIDI + KEYS:
                roll[first:stop, pitch.midi - LOWEST_MIDI] = 1
    return roll


def key_sharps(score) -> int:
    """Sharps (> 0) or flats (< 0) of the first key signature, 0 if none."""
    signatures = score.flatten().getElementsByClass("KeySignature")
    return int(signatures[0].sharps) if len(signatures) else 0


def build_rolls(log=sys.stderr) -> dict[str, np.ndarray]:
    """Parse every chorale (slow) -> arrays: ids, lengths, roll (sum L, 88), sharps."""
    import music21
    paths = chorale_paths()
    ids, rolls, sharps = [], [], []
    for i, (chorale_id, path) in enumerate(paths.items(), 1):
        score = music21.converter.parse(path, forceSource=True, storePickle=False)  # no music21 pickles
        if len(score.parts) == 4:
            ids.append(chorale_id)
            rolls.append(score_roll(score))
            sharps.append(key_sharps(score))
        if i % 50 == 0 or i == len(paths):
            print(f"chorales: parsed {i}/{len(paths)} files, kept {len(ids)} four-part chorales",
                  file=log, flush=True)
    return {"ids": np.array(ids), "lengths": np.array([len(r) for r in rolls], dtype=np.int64),
            "roll": np.concatenate(rolls), "sharps": np.array(sharps, dtype=np.int64),
            "music21_version": np.array(music21.__version__)}


def cached_rolls() -> dict[str, np.ndarray]:
    """The rolls from the cache, building (and writing) them on first use."""
    path = cache_dir() / f"chorales-rolls-v{CACHE_VERSION}.npz"
    arrays = load_npz(path, CACHE_VERSION)
    if arrays is None:
        print(f"chorales: building piano rolls from music21 (~30 s, once) into {path}", file=sys.stderr, flush=True)
        save_npz_atomic(path, CACHE_VERSION, **build_rolls())
        arrays = load_npz(path, CACHE_VERSION)
    return arrays


def split_pieces(arrays: dict[str, np.ndarray], transpose: bool) -> dict[str, list[tuple[str, np.ndarray]]]:
    """split name -> [(chorale id, roll (L, 88))] in id order."""
    ends = np.cumsum(arrays["lengths"])
    pieces = {"train": [], "val": [], "test": []}
    order = np.argsort(arrays["ids"])                              # independent of the file's order
    for i in order:
        chorale_id = str(arrays["ids"][i])
        roll = arrays["roll"][ends[i] - arrays["lengths"][i]:ends[i]]
        if transpose:
            roll = transpose_to_c(roll, int(arrays["sharps"][i]))
        pieces[split_of(group_id(chorale_id))].append((chorale_id, roll))
    return pieces


def group_id(chorale_id: str) -> str:
    """'bwv112.5-sc' -> 'bwv112.5': versions of one chorale share a split."""
    return chorale_id.split("-")[0]


def transpose_to_c(roll: np.ndarray, sharps: int) -> np.ndarray:
    """Shift so the key signature has no sharps/flats (relative major on C), by at most 6 semitones."""
    tonic = (7 * sharps) % 12                                      # pitch class of the relative major
    shift = -tonic if tonic <= 6 else 12 - tonic
    out = np.zeros_like(roll)
    if shift >= 0:
        out[:, shift:] = roll[:, :KEYS - shift]
    else:
        out[:, :shift] = roll[:, -shift:]
    return out


# --- the task ----------------------------------------------------------------------------------
class ChoralesOptions(TaskOptions):
    seq_len: PositiveInt = Field(32, description="T: steps (quarter notes) per window")
    n_train: PositiveInt = Field(2000, description="training windows drawn by the seed (at most all of them)")
    n_val: PositiveInt = Field(500, description="at most this many validation windows (non-overlapping)")
    n_test: PositiveInt = Field(500, description="at most this many test windows (non-overlapping)")
    transpose: Bool = Field(False, description="shift each chorale to a key signature without sharps/flats")
    source: Str = Field("", description="rolls .npz in the cache format (tests); '' = music21 corpus via the cache")


class ChoralesTask(Task):
    name = "chorales"
    description = "predict the next quarter-note chord of Bach chorales (88-key piano roll, music21)"
    Options = ChoralesOptions

    def rolls(self) -> dict[str, np.ndarray]:
        if not self.options.source:
            return cached_rolls()
        arrays = load_npz(Path(self.options.source).expanduser())
        if arrays is None or not {"ids", "lengths", "roll", "sharps"} <= set(arrays):
            raise UserError(f"task chorales: option 'source' must name a chorale rolls .npz, "
                            f"got {self.options.source!r}")
        return arrays

    def windows(self, pieces, starts_of, split: str) -> list[tuple[int, int]]:
        """All (piece index, start) pairs, the starts of each piece given by ``starts_of(length)``."""
        T = self.options.seq_len
        pairs = [(p, s) for p, (_, roll) in enumerate(pieces) for s in starts_of(len(roll))]
        if not pairs:
            raise UserError(f"task chorales: no {split} chorale has seq_len + 1 = {T + 1} steps; lower 'seq_len'")
        return pairs

    def cut(self, pieces, pairs) -> Split:
        T = self.options.seq_len
        x = np.stack([pieces[p][1][s:s + T] for p, s in pairs]).astype(np.float32)           # (N, T, 88)
        y = np.stack([pieces[p][1][s + 1:s + T + 1] for p, s in pairs]).astype(np.float32)   # (N, T, 88)
        return Split(x, y)

    def train_split(self, pieces, seed: int) -> Split:
        T = self.options.seq_len
        pairs = self.windows(pieces, lambda L: range(L - T), "train")                         # every start
        rng = rng_for(seed, "chorales/train")
        chosen = rng.choice(len(pairs), size=min(self.options.n_train, len(pairs)), replace=False)
        return self.cut(pieces, [pairs[i] for i in chosen])

    def eval_split(self, pieces, split: str) -> Split:
        T = self.options.seq_len
        pairs = self.windows(pieces, lambda L: range(0, L - T, T), split)                      # s = 0, T, 2T ..
        cap = getattr(self.options, f"n_{split}")
        if len(pairs) > cap:
            pairs = [pairs[i] for i in np.linspace(0, len(pairs) - 1, cap).round().astype(int)]
        return self.cut(pieces, pairs)

    def load(self, seed: int) -> TaskData:
        arrays = self.rolls()
        pieces = split_pieces(arrays, self.options.transpose)
        train = self.train_split(pieces["train"], seed)
        val, test = self.eval_split(pieces["val"], "val"), self.eval_split(pieces["test"], "test")
        T = self.options.seq_len
        data = TaskData(
            name=self.name, train=train, val=val, test=test, input_size=KEYS, output_size=KEYS,
            output="sequence", head="multilabel", metric="nll_per_step", higher_is_better=False,
            baseline=0.0, baseline_name="per-key frequency", solved=None, target=TARGET_NLL,
            info={"source": f"music21 Bach chorales ({self.options.source or 'corpus'}), 4-part, quarter-note roll",
                  "chorales": {s: len(p) for s, p in pieces.items()},
                  "chorales_too_short": {s: sum(len(r) <= T for _, r in p) for s, p in pieces.items()},
                  "chung2014_jsb_test_nll": CHUNG_2014_JSB_TEST_NLL,
                  "split_ids": {s: [i for i, _ in p] for s, p in pieces.items()}})
        data.baseline = self.metrics(self.naive_outputs(data, test), test.y)["nll_per_step"]
        return data

    def naive_outputs(self, data: TaskData, split: Split) -> np.ndarray:
        """Logits of the per-key training frequencies p_k (add-one smoothed).  (N, T, 88)"""
        y = data.train.y.reshape(-1, KEYS)
        p = (y.sum(axis=0, dtype=np.float64) + 1) / (len(y) + 2)                            # (88,)
        logits = np.log(p) - np.log1p(-p)
        return np.broadcast_to(logits.astype(np.float32), split.y.shape).copy()

    def metrics(self, outputs, y) -> dict[str, float]:
        outputs, y = scoring.check_shapes(outputs, y, "multilabel")
        loss = float(np.mean(scoring.bce_each(outputs, y)))
        predicted = outputs > 0                                                             # p > 0.5
        on = y > 0.5
        true_pos = np.sum(predicted & on)
        frame_accuracy = true_pos / max(1, np.sum(predicted | on))                          # TP / (TP+FP+FN)
        return {"nll_per_step": loss * y.shape[-1], "loss": loss, "frame_accuracy": float(frame_accuracy)}
