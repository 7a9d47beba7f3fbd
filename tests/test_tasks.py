"""The shared tasks: shapes, determinism, disjoint splits, baselines, metrics, option errors.

Real data only where it is bundled and fast (digits, co2); chorales and folk-lm read the small
fixtures in tests/fixtures (never the music21 corpus), the synthetic tasks use small sizes.
The long-context tasks (mqar, selective-copy) have more checks in test_tasks_long_context.py.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from suite.errors import UserError
from suite.losses import IGNORE_INDEX
from suite.tasks import BUILTIN_TASK_NAMES, get_task
from suite.tasks import cache, chorales, folk_lm
from suite.tasks.splits import rng_for, split_of, unit_hash

FIXTURES = Path(__file__).parent / "fixtures"
ROLLS = str(FIXTURES / "chorales_rolls.npz")
ABC = str(FIXTURES / "abc")

# Small options per task (the real data sets are used whole where they are fixed: digits, co2).
SMALL = {
    "adding": dict(T=20, n_train=64, n_val=32, n_test=32),
    "copy": dict(T=5, K=4, alphabet=6, n_train=64, n_val=32, n_test=32),
    "digits": dict(variant="pixels"),
    "co2": dict(),
    "chorales": dict(source=ROLLS, seq_len=8, n_train=40, n_val=10, n_test=10),
    "folk-lm": dict(source=ABC, seq_len=16, n_train=40, n_val=8, n_test=8),
    "mqar": dict(vocab=16, seq_len=32, num_pairs=4, n_train=64, n_val=32, n_test=32),
    "selective-copy": dict(T=20, K=4, alphabet=6, n_train=64, n_val=32, n_test=32),
}
# Expected (input_size, output_size, output, head, metric, seq_len) at SMALL.
SHAPES = {
    "adding": (2, 1, "last", "regression", "mse", 20),
    "copy": (8, 7, "sequence", "classes", "accuracy", 13),
    "digits": (1, 10, "last", "classes", "accuracy", 64),
    "co2": (1, 1, "last", "regression", "mse", 52),
    "chorales": (88, 88, "sequence", "multilabel", "nll_per_step", 8),
    "folk-lm": (97, 97, "sequence", "classes", "bits_per_char", 16),
    "mqar": (16, 16, "sequence", "classes", "accuracy", 32),
    "selective-copy": (8, 8, "sequence", "classes", "accuracy", 24),
}
# Tasks whose class targets mark unscored positions with IGNORE_INDEX (-100).
IGNORING = ("mqar", "selective-copy")
_loaded = {}


def load(name: str, seed: int = 0):
    if (name, seed) not in _loaded:
        _loaded[name, seed] = get_task(name, **SMALL[name]).load(seed)
    return _loaded[name, seed]


def splits(data):
    return {"train": data.train, "val": data.val, "test": data.test}


def perfect_outputs(data, y):
    """What a perfect model would output for targets y."""
    if data.head == "regression":
        return y.copy()
    if data.head == "multilabel":
        return (2 * y - 1) * 60.0                                   # logits +-60: p = 1 - 1e-26
    labels = np.where(y == IGNORE_INDEX, 0, y)                       # any class at ignored positions
    return np.eye(data.output_size, dtype=np.float32)[labels] * 60.0  # logit gap 60 on the true class


# --- interface: shapes, dtypes, ranges, determinism ---------------------------------------------
@pytest.mark.parametrize("name", BUILTIN_TASK_NAMES)
def test_shapes_dtypes_and_ranges(name):
    data = load(name)
    X, O, output, head, metric, T = SHAPES[name]
    assert (data.input_size, data.output_size, data.output, data.head, data.metric, data.seq_len) == \
           (X, O, output, head, metric, T)
    assert isinstance(data.baseline, float) and math.isfinite(data.baseline) and data.baseline_name
    json.dumps(data.info)                                            # info goes into the results store
    for split in splits(data).values():
        assert len(split) > 0 and split.x.dtype == np.float32 and split.x.shape[1:] == (T, X)
        assert np.isfinite(split.x).all()
        y_shape = {"last": (len(split),), "sequence": (len(split), T)}[output]
        if head == "classes":
            assert split.y.dtype == np.int64 and split.y.shape == y_shape
            scored = split.y[split.y != IGNORE_INDEX]
            assert scored.size and scored.min() >= 0 and scored.max() < O
            assert (scored.size < split.y.size) == (name in IGNORING)
        else:
            assert split.y.dtype == np.float32 and split.y.shape == y_shape + (O,)
    if name in ("copy", "folk-lm", "mqar", "selective-copy"):       # one-hot inputs
        assert np.array_equal(data.train.x.sum(-1), np.ones(data.train.x.shape[:2]))
    if name in ("digits", "chorales"):
        assert data.train.x.min() >= 0 and data.train.x.max() <= 1
    if name == "chorales":
        assert set(np.unique(data.train.y)) <= {0.0, 1.0}
        # x shifted by one step is y: next-step prediction
        assert np.array_equal(data.train.x[:, 1:], data.train.y[:, :-1])
    if name == "folk-lm":
        assert np.array_equal(data.train.x[:, 1:].argmax(-1), data.train.y[:, :-1])


@pytest.mark.parametrize("name", BUILTIN_TASK_NAMES)
def test_same_seed_same_arrays_other_seed_other_training_data(name):
    a, b = load(name, 0), get_task(name, **SMALL[name]).load(0)
    c = load(name, 1)
    for split in ("train", "val", "test"):
        assert np.array_equal(splits(a)[split].x, splits(b)[split].x)
        assert np.array_equal(splits(a)[split].y, splits(b)[split].y)
    same_train = a.train.x.shape == c.train.x.shape and np.array_equal(a.train.x, c.train.x)
    # co2 is one fixed series cut in time order: documented as seed independent.
    assert same_train == (name == "co2")


# --- baselines and metrics ----------------------------------------------------------------------
@pytest.mark.parametrize("name", BUILTIN_TASK_NAMES)
def test_perfect_prediction_scores_perfectly(name):
    data = load(name)
    m = get_task(name, **SMALL[name]).metrics(perfect_outputs(data, data.test.y), data.test.y)
    best = {"mse": 0.0, "accuracy": 1.0, "nll_per_step": 0.0, "bits_per_char": 0.0}[data.metric]
    assert m[data.metric] == pytest.approx(best, abs=1e-9)
    assert m["loss"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("name", BUILTIN_TASK_NAMES)
def test_naive_outputs_score_the_baseline(name):
    task = get_task(name, **SMALL[name])
    data = load(name)
    m = task.metrics(task.naive_outputs(data, data.test), data.test.y)
    if name in ("copy", "mqar", "selective-copy"):   # headline baseline: expected chance; the loss is exact
        assert m["loss"] == pytest.approx(data.info["baseline_loss"], rel=1e-12)
    else:
        assert m[data.metric] == pytest.approx(data.baseline, rel=1e-12)


@pytest.mark.parametrize("name", BUILTIN_TASK_NAMES)
def test_loss_matches_torch_reference(name):
    """'loss' is the training loss of suite.losses, checked against torch's own mean losses."""
    import torch
    F = torch.nn.functional
    data = load(name)
    y = data.test.y
    out = np.random.default_rng(0).normal(size=y.shape + (data.output_size,) if data.head == "classes" else y.shape)
    loss = get_task(name, **SMALL[name]).metrics(out.astype(np.float32), y)["loss"]
    o, t = torch.tensor(out.astype(np.float32), dtype=torch.float64), torch.tensor(y)
    if data.head == "regression":
        ref = F.mse_loss(o, t.double())
    elif data.head == "multilabel":
        ref = F.binary_cross_entropy_with_logits(o, t.double())
    else:
        ref = F.cross_entropy(o.reshape(-1, data.output_size), t.reshape(-1), ignore_index=IGNORE_INDEX)
    assert loss == pytest.approx(float(ref), rel=1e-6)


def test_adding_baseline_is_one_sixth():
    data = get_task("adding", T=30, n_train=8, n_val=8, n_test=4000).load(3)
    assert data.baseline == pytest.approx(1 / 6, abs=0.012)      # 4.4 standard errors
    assert data.solved == 0.01 and data.baseline_name == "predict 1"
    x, y = data.test.x, data.test.y
    assert np.array_equal(x[:, :, 1].sum(1), np.full(len(x), 2.0))             # two markers
    assert (x[:, :15, 1].sum(1) == 1).all() and (x[:, 15:, 1].sum(1) == 1).all()  # one per half
    assert np.allclose((x[:, :, 0] * x[:, :, 1]).sum(1, keepdims=True), y, atol=1e-6)


def test_copy_layout_and_memoryless_baseline():
    task = get_task("copy", T=5, K=4, alphabet=6, n_train=8, n_val=8, n_test=3000)
    data = task.load(0)
    tokens, y = data.test.x.argmax(-1), data.test.y                 # (N, 13)
    assert np.array_equal(y[:, -4:], tokens[:, :4])                  # recall = the first K symbols
    assert (y[:, :-4] == 0).all() and (tokens[:, 4:8] == 0).all()    # blanks, T - 1 = 4 of them
    assert (tokens[:, 8] == 7).all() and (tokens[:, 9:] == 0).all()  # delimiter, then blanks
    assert data.baseline == 1 / 6 and data.info["baseline_loss"] == pytest.approx(4 * math.log(6) / 13)
    m = task.metrics(task.naive_outputs(data, data.test), y)
    assert m["accuracy"] == pytest.approx(1 / 6, abs=0.02)           # tie -> symbol 1: chance
    assert get_task("copy").memoryless_loss() == pytest.approx(10 * math.log(8) / 40)


def test_digits_split_is_stratified_and_complete():
    data = load("digits")
    assert len(data.train) + len(data.val) + len(data.test) == 1797
    for split in (data.val, data.test):
        assert np.bincount(split.y, minlength=10).min() >= 34       # 20% of every class (174..183)
    counts = np.bincount(data.train.y, minlength=10)
    assert data.baseline == pytest.approx(np.mean(data.test.y == counts.argmax()))
    rows = get_task("digits", variant="rows").load(0)
    assert rows.train.x.shape[1:] == (8, 8)
    assert np.array_equal(rows.test.x.reshape(len(rows.test), 64, 1), data.test.x)  # same split, other view


def test_co2_time_ranges_ordered_and_baselines():
    from suite.tasks.co2 import load_series
    data = load("co2")
    r = data.info["date_ranges"]
    assert r["train"][0] < r["train"][1] < r["val"][0] < r["val"][1] < r["test"][0] < r["test"][1]
    values, _ = load_series()
    assert len(values) == 2284 and np.isfinite(values).all()
    z = (values - data.info["mean"]) / data.info["scale"]
    n_train = 2284 - 2 * round(0.15 * 2284)
    assert z[:n_train].mean() == pytest.approx(0, abs=1e-9) and z[:n_train].std() == pytest.approx(1)
    # the last test target is the last week; persistence = the week before
    assert data.test.y[-1, 0] == pytest.approx(z[-1], abs=1e-6)
    persistence = np.mean((z[-len(data.test):] - z[-len(data.test) - 1:-1]) ** 2)
    seasonal = np.mean((z[-len(data.test):] - z[-len(data.test) - 52:-52]) ** 2)
    assert data.info["baselines_mse"]["persistence"] == pytest.approx(persistence, rel=1e-5)
    assert data.info["baselines_mse"]["seasonal-naive"] == pytest.approx(seasonal, rel=1e-5)
    assert data.baseline == pytest.approx(min(persistence, seasonal), rel=1e-5)
    assert data.baseline_name == "persistence"


def test_co2_horizon_predicts_further_ahead():
    data = get_task("co2", horizon=4).load(0)
    assert data.output_size == 1
    # y of window i is the 4th value after its last input, which is the last input of window i + 4
    assert np.allclose(data.train.y[:-4, 0], data.train.x[4:, -1, 0])


def test_chorales_fixture_split_and_baseline():
    data = load("chorales")
    ids = data.info["split_ids"]
    assert set(ids["train"]).isdisjoint(ids["val"]) and set(ids["val"]).isdisjoint(ids["test"])
    assert set(ids["train"]).isdisjoint(ids["test"])
    assert ids == {"train": ["bwv165.6", "bwv255", "bwv265", "bwv274", "bwv286"],
                   "val": ["bwv115.6", "bwv14.5"], "test": ["bwv155.5", "bwv421"]}
    # val/test: non-overlapping windows 0, 8, 16, ... of 40-step chorales -> 4 each, capped at 10
    assert len(data.val) == 8 and len(data.test) == 8
    y = data.train.y.reshape(-1, 88)
    p = (y.sum(0) + 1) / (len(y) + 2)
    t = data.test.y.reshape(-1, 88)
    nll = -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum(1).mean()
    assert data.baseline == pytest.approx(nll, rel=1e-6)
    assert 2 < data.baseline < 30
    assert data.info["chung2014_jsb_test_nll"] == {"gru": 8.54, "lstm": 8.67}


def test_chorales_windows_come_from_their_split_only():
    arrays = cache.load_npz(Path(ROLLS))
    ends = np.cumsum(arrays["lengths"])
    rolls = {str(i): arrays["roll"][e - n:e] for i, e, n in zip(arrays["ids"], ends, arrays["lengths"])}
    data = load("chorales")
    for split, members in data.info["split_ids"].items():
        text = {chorale_id: rolls[chorale_id].tobytes() for chorale_id in members}
        for x in splits(data)[split].x[:5]:
            window = x.astype(np.uint8).tobytes()
            assert any(window in piece for piece in text.values())


def test_chorales_split_independent_of_file_order(tmp_path):
    arrays = cache.load_npz(Path(ROLLS))
    ends = np.cumsum(arrays["lengths"])
    pieces = [arrays["roll"][e - n:e] for e, n in zip(ends, arrays["lengths"])]
    order = np.array([3, 8, 0, 5, 1, 7, 2, 6, 4])
    shuffled = tmp_path / "shuffled.npz"
    np.savez(shuffled, version=1, ids=arrays["ids"][order], lengths=arrays["lengths"][order],
             roll=np.concatenate([pieces[i] for i in order]), sharps=arrays["sharps"][order])
    a = load("chorales")
    b = get_task("chorales", **{**SMALL["chorales"], "source": str(shuffled)}).load(0)
    assert a.info["split_ids"] == b.info["split_ids"]
    for split in ("train", "val", "test"):
        assert np.array_equal(splits(a)[split].x, splits(b)[split].x)


def test_chorales_short_pieces_and_transpose():
    data = get_task("chorales", source=ROLLS, seq_len=30, n_train=10).load(0)
    assert data.info["chorales_too_short"]["train"] == 1              # bwv286 has 24 steps
    plain = chorales.transpose_to_c(np.eye(88, dtype=np.uint8)[[40]], sharps=2)   # D major -> C
    assert plain.argmax() == 38
    assert chorales.transpose_to_c(np.eye(88, dtype=np.uint8)[[40]], sharps=-1).argmax() == 35  # F major -> C: -5
    with pytest.raises(UserError, match="seq_len"):
        get_task("chorales", source=ROLLS, seq_len=60).load(0)


def test_folk_tunes_disjoint_and_independent_of_file_order():
    root = Path(ABC)
    files = folk_lm.abc_files(root)
    tunes = folk_lm.read_tunes(root)
    assert len(tunes) == 36 and all(t.startswith("X:") and t.endswith("\n\n") for t in tunes.values())
    shuffled = files[:]
    random.Random(1).shuffle(shuffled)
    assert shuffled != files
    streams_a, ids_a = folk_lm.split_streams(tunes)
    streams_b, ids_b = folk_lm.split_streams(folk_lm.read_tunes(root, shuffled))
    assert ids_a == ids_b and all(np.array_equal(streams_a[s], streams_b[s]) for s in ids_a)
    members = [set(ids_a[s]) for s in ("train", "val", "test")]
    assert not (members[0] & members[1] or members[1] & members[2] or members[0] & members[2])
    assert set().union(*members) == set(tunes) and min(map(len, members)) >= 2


def test_folk_vocabulary_and_unigram_baseline():
    assert folk_lm.encode("\nA~\t\u00e9").tolist() == [0, 34, 95, 96, 96]
    data = load("folk-lm")
    counts = np.bincount(data.train.y.ravel(), minlength=97) + 1.0
    p = counts / counts.sum()
    bits = -np.log2(p[data.test.y]).mean()
    assert data.baseline == pytest.approx(bits, rel=1e-6) == data.info["unigram_bits_per_char"]
    assert 0 < data.info["bigram_bits_per_char"] < data.baseline < math.log2(97)


# --- splits, hashing, cache ---------------------------------------------------------------------
def test_hash_split_is_fixed_and_proportional():
    # golden values: SHA-256 based, so any machine and process gives these
    assert unit_hash("bwv1.6") == pytest.approx(0.14129616083127974, abs=1e-15)
    assert [split_of(k) for k in ("bwv1.6", "piece2", "piece29")] == ["train", "val", "test"]
    shares = np.array([["train", "val", "test"].index(split_of(f"k{i}")) for i in range(20000)])
    assert np.allclose(np.bincount(shares) / len(shares), [0.8, 0.1, 0.1], atol=0.01)
    assert not np.array_equal(rng_for(0, "a").random(4), rng_for(0, "b").random(4))


def test_cache_roundtrip_version_and_env(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "c"))
    assert cache.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()
    path = cache.cache_dir() / "a.npz"
    cache.save_npz_atomic(path, 3, a=np.arange(4))
    assert np.array_equal(cache.load_npz(path, 3)["a"], np.arange(4))
    assert cache.load_npz(path, 4) is None and cache.load_npz(tmp_path / "missing.npz", 3) is None
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert cache.load_npz(tmp_path / "bad.npz", 3) is None
    assert [p.name for p in path.parent.iterdir()] == ["a.npz"]         # no temp file left


# --- bad options ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, options, message", [
    ("adding", {"T": 1}, "'T'"),
    ("adding", {"n_train": 0}, "'n_train'"),
    ("adding", {"length": 5}, "unknown key 'length'; expected one of: T, n_train"),
    ("copy", {"T": "20"}, "key 'T': expected a positive integer, got '20'"),
    ("digits", {"variant": "cols"}, "variant"),
    ("digits", {"val_fraction": 0.5, "test_fraction": 0.5}, "val_fraction"),
    ("co2", {"window": 20}, "'window' must be >= 52"),
    ("chorales", {"transpose": 1}, "key 'transpose': expected true or false, got 1"),
    ("mqar", {"num_pairs": 40}, "key 'num_pairs': must be <= vocab//2 - 1 = 31"),
    ("selective-copy", {"T": 5, "K": 6}, "key 'K': must be <= T = 5"),
])
def test_bad_options_raise_user_error(name, options, message):
    with pytest.raises(UserError, match=message):
        get_task(name, **options)


def test_bad_sources_and_seed_raise_user_error(tmp_path):
    with pytest.raises(UserError, match="'source'"):
        get_task("chorales", source=str(tmp_path / "none.npz")).load(0)
    with pytest.raises(UserError, match="'source'"):
        get_task("folk-lm", source=str(tmp_path)).load(0)
    with pytest.raises(UserError, match="seed"):
        get_task("adding").load(-1)
    with pytest.raises(UserError, match="seq_len"):
        get_task("folk-lm", source=ABC, seq_len=100000).load(0)
    with pytest.raises(UserError, match=r"targets for outputs of shape \(3, 2\): expected shape \(3, 2\)"):
        get_task("adding").metrics(np.zeros((3, 2)), np.zeros((3, 1)))
