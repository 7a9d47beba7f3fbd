"""Cross-framework equivalence table: every pair agrees within tolerance, the table covers every pair,
and a converter without the GRU z|r reorder is caught (negative control)."""
from __future__ import annotations

import numpy as np
import pytest

from suite.models import layouts
from suite.models.equivalence import EquivalenceCase, format_table, pairs, run_equivalence

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]

EXPECTED_PAIRS = {
    ("numpy-gru vs torch-gru", "reset_after"), ("numpy-gru vs keras-gru", "reset_after"),
    ("torch-gru vs keras-gru", "reset_after"), ("numpy-gru vs keras-gru", "reset_before"),
    ("torch-lstm vs keras-lstm", "reset_after"), ("numpy-lstm vs torch-lstm", "reset_after"),
    ("torch-transformer vs keras-transformer", "reset_after"),
    *((pair.format(arch=arch), "reset_after") for arch in ("mingru", "minlstm") for pair in (
        "numpy-{arch}-parallel vs torch-{arch}-parallel", "numpy-{arch}-parallel vs keras-{arch}-parallel",
        "torch-{arch}-parallel vs keras-{arch}-parallel", "numpy-{arch}-parallel vs torch-{arch}-sequential",
        "numpy-{arch}-sequential vs keras-{arch}-sequential")),
}


@pytest.fixture(scope="module")
def rows():
    return run_equivalence()


@pytest.mark.slow
def test_every_pair_agrees(rows):
    bad = [r for r in rows if not r["ok"]]
    assert not bad, "\n" + format_table(bad) + "\n" + "\n".join(r["error"] for r in bad if r["error"])


def test_table_covers_every_pair_and_size(rows):
    assert {(r["pair"], r["convention"]) for r in rows} == EXPECTED_PAIRS
    assert len(pairs()) == len(EXPECTED_PAIRS)
    for pair in EXPECTED_PAIRS:
        mine = [r for r in rows if (r["pair"], r["convention"]) == pair]
        assert {r["L"] for r in mine} == {1, 2} and {r["T"] for r in mine} == {1, 37}
        assert {r["B"] for r in mine} == {1, 5}
    assert all(r["X"] == 7 and r["H"] == 13 for r in rows)
    assert all(r["out_tol"] == (1e-4 if r["arch"] == "transformer" else 1e-5) for r in rows)
    assert all(r["grad_tol"] == 1e-4 for r in rows)
    # the gradients compared are not vanishingly small
    assert all(r["max_abs_grad"] > 1e-2 for r in rows)


def test_dropping_the_gru_reorder_is_caught(monkeypatch):
    """Negative control: a converter that transposes but keeps r|z where Keras expects z|r."""
    monkeypatch.setattr(layouts, "gru_gates_canonical_to_keras", lambda a: np.array(a))
    monkeypatch.setattr(layouts, "gru_gates_keras_to_canonical", lambda a: np.array(a))
    (row,) = run_equivalence([EquivalenceCase("gru", "torch", "keras", L=1, T=37, B=5)])
    assert row["error"] == ""
    assert not row["ok"] and row["max_out_diff"] > 1e-2, row


def test_unknown_case_key_is_a_user_error():
    from suite.errors import UserError
    with pytest.raises(UserError, match="hidden"):
        run_equivalence([{"arch": "gru", "a": "torch", "b": "keras", "hidden": 3}])
