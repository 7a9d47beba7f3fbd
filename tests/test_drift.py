"""Drift inside a measurement: the Mann-Whitney U test against scipy, the half-vs-half rule, and the timer's
retake / unstable logic on a fake clock whose cost per call changes while it is measured."""
import itertools
import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, rankdata

from suite.bench.drift import MIN_HALF, drift_check, mann_whitney_u
from suite.bench.timer import Timer
from suite.errors import UserError


def test_mann_whitney_matches_scipy_exact_without_ties():
    rng = np.random.default_rng(0)
    for _ in range(200):
        m, n = (int(k) for k in rng.integers(1, 11, 2))
        a, b = list(rng.standard_normal(m)), list(rng.standard_normal(n) + rng.normal())
        u, p = mann_whitney_u(a, b)
        ref = mannwhitneyu(a, b, alternative="two-sided", method="exact")
        assert u == ref.statistic and p == pytest.approx(ref.pvalue, abs=1e-12)


def test_mann_whitney_with_ties_is_the_exact_permutation_test():
    rng = np.random.default_rng(1)
    for _ in range(60):
        m, n = (int(k) for k in rng.integers(1, 7, 2))
        a, b = list(np.round(rng.standard_normal(m))), list(np.round(rng.standard_normal(n) + 1))
        u, p = mann_whitney_u(a, b)
        ranks = rankdata(a + b)
        centre, w = m * (m + n + 1) / 2, ranks[:m].sum()
        count = sum(abs(ranks[list(s)].sum() - centre) >= abs(w - centre) - 1e-9
                    for s in itertools.combinations(range(m + n), m))
        assert u == mannwhitneyu(a, b).statistic and p == pytest.approx(count / math.comb(m + n, m))


def test_large_halves_use_the_normal_approximation_like_scipy():
    rng = np.random.default_rng(2)
    a, b = list(rng.standard_normal(30)), list(rng.standard_normal(40) + 0.4)
    assert mann_whitney_u(a, b)[1] == pytest.approx(mannwhitneyu(a, b, method="asymptotic").pvalue, rel=1e-9)


def test_drift_needs_both_a_significant_test_and_a_shift_over_ten_percent():
    step = [1.0, 1.01, 0.99, 1.02, 1.0, 1.2, 1.21, 1.19, 1.22, 1.2]           # +20%, halves fully apart
    assert drift_check(step) == {"tested": True, "p": pytest.approx(2 / 252), "shift": pytest.approx(0.2),
                                 "drifting": True}
    small = [1.0, 1.01, 0.99, 1.02, 1.0, 1.05, 1.06, 1.04, 1.07, 1.05]          # apart, but only +5%
    assert drift_check(small)["p"] < 0.01 and not drift_check(small)["drifting"]
    outlier = [1.0, 1.01, 0.99, 1.02, 1.0, 1.0, 1.01, 0.99, 1.02, 3.0]         # one slow sample: no test result
    assert drift_check(outlier)["p"] > 0.01 and not drift_check(outlier)["drifting"]
    short = step[:2 * MIN_HALF - 1]                                             # 4 + 4: p can never reach 0.01
    assert drift_check(short) == {"tested": False, "p": None, "shift": None, "drifting": False}


class DriftingClock:
    """A fake perf_counter; each call of ``work`` advances it by cost(k), k the call index."""

    def __init__(self, cost):
        self.now, self.calls, self.cost = 0.0, 0, cost

    def __call__(self) -> float:
        return self.now

    def work(self) -> None:
        self.now += self.cost(self.calls)
        self.calls += 1


def test_a_drifting_measurement_is_retaken_and_settles():
    # 7 slow calls (warm-up, one calibration block, the first take's first half of 5), then a 30% lower
    # cost: the first take drifts, the retake is stable (like the denormal warm-up of a fresh nn.GRU)
    clock = DriftingClock(lambda k: 0.013 if k < 7 else 0.010)
    m = Timer(clock.work, clock=clock).measure(n_samples=10, min_sample_s=0.01, max_time_s=100.0, min_samples=10)
    assert m.retakes == 1 and not m.unstable
    first = m.meta["discarded"][0]
    assert drift_check(first)["drifting"] and m.median == pytest.approx(0.010)
    d = m.to_dict()
    assert d["unstable"] is False and d["retakes"] == 1 and d["drift_p"] > 0.01


def test_a_measurement_that_keeps_drifting_is_unstable():
    clock = DriftingClock(lambda k: 0.01 * 1.05 ** k)                       # every call 5% slower than the last
    m = Timer(clock.work, clock=clock).measure(n_samples=10, min_sample_s=0.01, max_time_s=100.0, min_samples=10,
                                               retakes=2)
    assert m.retakes == 2 and m.unstable and m.to_dict()["unstable"] is True
    assert "UNSTABLE" in repr(m)
    with pytest.raises(UserError, match="retakes"):
        Timer(clock.work, clock=clock).measure(retakes=-1)


def test_a_steady_measurement_is_taken_once():
    clock = DriftingClock(lambda k: 0.01 + 1e-5 * (k % 3))
    m = Timer(clock.work, clock=clock).measure(n_samples=10, min_sample_s=0.01, max_time_s=100.0, min_samples=10)
    assert m.retakes == 0 and not m.unstable and "discarded" not in m.meta
