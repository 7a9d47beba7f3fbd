"""The statistics behind accuracy verdicts: each formula against an independent computation, and the
outcome rules (equivalence needs TOST, a difference needs Welch, fewer than 5 seeds decide nothing)."""
import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps

from suite.report.statistics import (ACCURACY_POINT, LOSS_MARGIN, MIN_SEEDS, RELATIVE, compare, margin_for, mean_ci,
                                     power, seeds_needed, tost, welch)
from suite.report.claims_engine import SeedCell as Cell, seed_verdict


def combine(cells) -> str:
    return seed_verdict(cells)[1]

A = np.array([0.951, 0.957, 0.949, 0.962, 0.955])
B = np.array([0.940, 0.947, 0.952, 0.938, 0.944])


def test_mean_ci_is_student_t():
    mean, half, n = mean_ci(A)
    assert n == 5 and mean == pytest.approx(A.mean())
    assert half == pytest.approx(sps.t.ppf(0.975, 4) * A.std(ddof=1) / math.sqrt(5))
    assert math.isnan(mean_ci([0.5])[1]) and mean_ci([])[2] == 0


def test_welch_difference_ci_and_cohens_d():
    w = welch(A, B)
    va, vb = A.var(ddof=1) / 5, B.var(ddof=1) / 5
    df = (va + vb) ** 2 / (va ** 2 / 4 + vb ** 2 / 4)
    half = sps.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert w["p"] == pytest.approx(sps.ttest_ind(A, B, equal_var=False).pvalue)
    assert (w["ci_low"], w["ci_high"]) == pytest.approx((A.mean() - B.mean() - half, A.mean() - B.mean() + half))
    pooled = math.sqrt((A.var(ddof=1) + B.var(ddof=1)) / 2)
    assert w["d"] == pytest.approx((A.mean() - B.mean()) / pooled)


def test_tost_is_the_90_percent_ci_inside_the_margin():
    for delta in (0.005, 0.01, 0.02, 0.05):
        p = tost(A, B, delta)
        w = welch(A, B)
        t90 = sps.t.ppf(0.95, w["df"]) * w["se"]
        inside = -delta < w["diff"] - t90 and w["diff"] + t90 < delta
        assert (p < 0.05) == inside, delta


def test_zero_spread_is_decided_exactly():
    ones = np.ones(5)
    assert tost(ones, ones, 0.01) == 0.0 and welch(ones, ones)["p"] == 1.0
    assert welch(ones, ones * 0.5)["p"] == 0.0 and tost(ones, ones * 0.5, 0.01) == 1.0
    assert compare([1.0] * 5, [1.0] * 5, "accuracy").outcome == "comparable"
    same = welch(ones, ones)
    assert (same["ci_low"], same["ci_high"], same["d"]) == (0.0, 0.0, 0.0)
    apart = welch(ones, ones * 0.5)
    assert (apart["ci_low"], apart["ci_high"], apart["d"]) == (0.5, 0.5, math.inf)


def test_one_constant_group_is_welch_with_the_other_groups_variance():
    """s_a = 0 < s_b: SE = s_b / √n_b and ν = n_b - 1 (the Welch–Satterthwaite formula with s_a = 0)."""
    w = welch(np.full(5, 0.95), B)
    t = (0.95 - B.mean()) / (B.std(ddof=1) / math.sqrt(5))
    assert w["df"] == pytest.approx(4.0) and w["p"] == pytest.approx(2 * sps.t.sf(abs(t), 4))


def test_welch_needs_two_values_a_side():
    w = welch([0.9], B)
    assert math.isnan(w["p"]) and math.isnan(w["se"]) and w["diff"] == pytest.approx(0.9 - B.mean())
    assert math.isnan(welch([], [])["diff"])


def test_nearly_identical_samples_raise_no_warning():
    """scipy's ttest_ind warns of catastrophic cancellation on samples equal to the last bits (and returns NaN
    at zero spread); the statistics compute t and ν themselves and warn of nothing."""
    a = np.array([0.1 + 1e-17 * i for i in range(5)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert welch(a, a)["p"] == pytest.approx(1.0)
        assert tost(a, a, 0.01) == pytest.approx(0.0)
        assert compare(a, a, "accuracy").outcome == "comparable"
        assert compare([1.0] * 5, [0.5] * 5, "accuracy").outcome == "different"


def test_seeds_needed_matches_statsmodels():
    from statsmodels.stats.power import TTestIndPower
    for d in (0.3, 0.8, 1.5):
        expected = math.ceil(TTestIndPower().solve_power(effect_size=d, alpha=0.05, power=0.8))
        assert seeds_needed(d) == expected
    assert power(seeds_needed(0.8), 0.8) >= 0.8 > power(seeds_needed(0.8) - 1, 0.8)
    assert seeds_needed(0.0) is None and seeds_needed(math.inf) is None


def test_margins_are_stated_per_metric():
    assert margin_for("accuracy") is ACCURACY_POINT and ACCURACY_POINT.delta == 0.01
    assert margin_for("mse") is RELATIVE and RELATIVE.delta == pytest.approx(math.log(1 + LOSS_MARGIN))
    assert LOSS_MARGIN == 0.05 and RELATIVE.text.startswith("±5% relative")
    assert margin_for("nll_per_step").log_scale and not margin_for("accuracy").log_scale


def test_outcomes():
    assert compare(A, A + 0.001, "accuracy").outcome == "comparable"
    far = compare(A, B - 0.2, "accuracy")
    assert far.outcome == "different" and far.a_better and far.p_welch < 0.05
    noisy = compare([0.3, 0.6, 0.45, 0.2, 0.7], [0.4, 0.5, 0.3, 0.65, 0.35], "accuracy")
    assert noisy.outcome == "inconclusive" and noisy.p_welch > 0.05 and noisy.seeds_needed >= MIN_SEEDS
    few = compare(A[:3], B[:3] - 0.2, "accuracy")                   # a big gap, but only 3 seeds
    assert few.outcome == "inconclusive" and few.p_welch < 0.05
    loss = compare([0.001, 0.0012, 0.0011, 0.0009, 0.001], [0.01, 0.012, 0.011, 0.009, 0.01], "mse")
    assert loss.outcome == "different" and loss.a_better and loss.effect_text().startswith("ratio 0.1 [")


def test_combine_words():
    def cells(*results):
        return [Cell(f"t{i // 2}", f"f{i % 2}", r, 5, 12) for i, r in enumerate(results)]
    assert combine(cells("yes", "yes")) == "holds"
    assert combine(cells("no", "no")) == "does not hold"
    assert combine(cells("yes", "yes", "no", "no")) == "depends on the task: holds on t0/f0, t0/f1; not on t1/f0, t1/f1"
    assert combine(cells("yes", "no", "yes", "no")).startswith("depends on the framework")
    assert combine(cells("yes", "open")).startswith("inconclusive at 5 seeds: holds on t0/f0; open on t0/f1 (")
    assert combine(cells("no", "open")).startswith("does not hold on t0/f0; inconclusive on t0/f1")
    ways = [Cell("adding", "torch", "no", 5, direction="GRU better"), Cell("copy", "torch", "no", 5, direction="LSTM better"),
            Cell("digits", "torch", "open", 5, seeds_needed=14)]
    assert combine(ways) == ("does not hold: GRU better on adding/torch; LSTM better on copy/torch; inconclusive on "
                             "digits/torch (a difference of the observed size needs ~14 seeds per model, 80% power)")
    assert combine([Cell("t", None, "open", 3, None)]) == \
        "inconclusive at 3 seeds (the rules need ≥ 5): t (no difference observed)"
