"""Drift inside one measurement: do the samples of its first half and its second half differ?

A measurement is a sequence of samples s_1 .. s_n (seconds per call, in the order taken). Split it into
    first  = s_1 .. s_k        second = s_{n-k+1} .. s_n        k = floor(n / 2)
(the middle sample of an odd n belongs to neither). The measurement drifts when both hold:
    p < ALPHA (0.01)       p: the two-sided Mann-Whitney U test of first vs second (below)
    |shift| > MIN_SHIFT    shift = median(second) / median(first) - 1, MIN_SHIFT = 0.10
The test alone would flag a 1% shift on a quiet machine; the shift alone would flag one outlier sample.
A half with fewer than MIN_HALF (5) samples is not tested: with 4 + 4 samples the smallest two-sided
exact p is 2 / C(8, 4) = 0.029 > ALPHA, so the test could never fire.

Mann-Whitney U (Mann & Whitney 1947): with m = |first|, n = |second| and mid-ranks R_i of the first
half's samples in the pooled m + n samples (ties share the mean of their ranks),
    U = sum_i R_i - m (m + 1) / 2                    the number of pairs (x in first, y in second) with
                                                     x > y, ties counting 1/2
Under H0 (both halves from one distribution) every choice of which m of the N = m + n pooled samples
form the first half is equally likely, so the exact two-sided p-value is
    p = #{m-subsets S : |W(S) - m (N + 1) / 2| >= |W - m (N + 1) / 2|} / C(N, m),   W = sum_i R_i
counted by dynamic programming over the (doubled, hence integer) mid-ranks; with ties this is the exact
conditional (permutation) test. Halves larger than 10 samples use the normal approximation with tie
and continuity correction instead: z = (|U - m n / 2| - 1/2) / sigma, p = 2 (1 - Phi(z)),
sigma^2 = m n / 12 ((N + 1) - sum_j (t_j^3 - t_j) / (N (N - 1))), t_j the size of the j-th group of
tied values (scipy's method='asymptotic'). Without ties it is scipy.stats.mannwhitneyu(method='exact'), which the
tests check. It is written out here so that a speed worker does not import scipy.stats: that costs
~1 s and ~80 MB per worker, which would show in the workers' peak-memory rows.
"""
from __future__ import annotations

import math
import statistics

ALPHA = 0.01          # significance of the half-vs-half test
MIN_SHIFT = 0.10      # relative change of the median that counts as drift
MIN_HALF = 5          # samples per half needed to test at all
EXACT_MAX = 10        # halves up to this size get the exact p; larger ones the normal approximation


def _mid_ranks(values: list[float]) -> list[float]:
    """Ranks 1..N of ``values`` with ties sharing the mean of their positions."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _rank_sum_counts(doubled_ranks: list[int], m: int) -> dict[int, int]:
    """{w: number of m-subsets of the N items whose doubled ranks sum to w} (dynamic programming over
    the items: a subset either takes item i or not)."""
    counts: list[dict[int, int]] = [{0: 1}] + [{} for _ in range(m)]
    for r in doubled_ranks:
        for k in range(min(m, len(doubled_ranks)), 0, -1):
            for w, c in counts[k - 1].items():
                counts[k][w + r] = counts[k].get(w + r, 0) + c
    return counts[m]


def mann_whitney_u(first: list[float], second: list[float]) -> tuple[float, float]:
    """(U of ``first``, exact two-sided p) as in the module docstring."""
    m, n = len(first), len(second)
    if m == 0 or n == 0:
        raise ValueError("mann_whitney_u: both samples need at least one value")
    pooled = list(first) + list(second)
    doubled = [round(2 * r) for r in _mid_ranks(pooled)]                     # mid-ranks are k/2
    w = sum(doubled[:m])
    u = w / 2 - m * (m + 1) / 2
    if min(m, n) > EXACT_MAX:
        return u, _normal_p(u, m, n, [pooled.count(v) for v in set(pooled)])
    centre = m * (m + n + 1)                      # E[2 W] = m (N + 1)
    counts = _rank_sum_counts(doubled, m)
    extreme = sum(c for v, c in counts.items() if abs(v - centre) >= abs(w - centre))
    return u, min(1.0, extreme / math.comb(m + n, m))


def _normal_p(u: float, m: int, n: int, ties: list[int]) -> float:
    """Two-sided p of the normal approximation with tie and continuity correction (large halves)."""
    N = m + n
    var = m * n / 12 * ((N + 1) - sum(t ** 3 - t for t in ties) / (N * (N - 1)))
    if var <= 0:
        return 1.0
    z = max(0.0, abs(u - m * n / 2) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(z / math.sqrt(2)))             # 2 (1 - Phi(z))


def drift_check(samples: list[float], alpha: float = ALPHA, min_shift: float = MIN_SHIFT) -> dict:
    """{'tested', 'p', 'shift', 'drifting'} for samples in the order taken (module docstring)."""
    k = len(samples) // 2
    if k < MIN_HALF:
        return {"tested": False, "p": None, "shift": None, "drifting": False}
    first, second = list(samples[:k]), list(samples[len(samples) - k:])
    _, p = mann_whitney_u(first, second)
    m1, m2 = statistics.median(first), statistics.median(second)
    shift = m2 / m1 - 1 if m1 > 0 else math.inf
    return {"tested": True, "p": p, "shift": shift, "drifting": bool(p < alpha and abs(shift) > min_shift)}
