"""Summary statistics for accuracy over seeds.

mean ± 95% CI: half-width t_{0.975, n-1} * s / sqrt(n) (Student t, s the sample standard deviation).
GRU vs LSTM: Welch's t-test on the per-seed metrics (unequal variances), two-sided p-value;
the difference is "significant" at p < 0.05.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps


def mean_ci(values) -> tuple[float, float, int]:
    """(mean, 95% CI half-width, n). The half-width is NaN for n < 2."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    if n < 2:
        return float(v.mean()), math.nan, 1
    half = sps.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n)
    return float(v.mean()), float(half), n


def welch_test(a, b) -> tuple[float, float]:
    """(mean(a) - mean(b), two-sided p-value of Welch's t-test); p is NaN with < 2 values per side
    or zero variance on both."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
    if len(a) < 2 or len(b) < 2 or (a.std() == 0 and b.std() == 0):
        return diff, math.nan
    return diff, float(sps.ttest_ind(a, b, equal_var=False).pvalue)
