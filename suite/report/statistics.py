"""Every statistic behind an accuracy verdict, in one place.

Notation. Two groups of per-seed test metrics, a = (a_1 .. a_na) and b = (b_1 .. b_nb) (one value per
training seed; a seed fixes the data split and the initial weights). For a group x of n values:
    mean      x̄ = (1/n) Σ x_i
    variance  s² = Σ (x_i - x̄)² / (n - 1)          (sample variance, ddof = 1)
    t_{q,ν}   the q-quantile of Student's t with ν degrees of freedom

Scale. Accuracy-like metrics (higher is better, fractions) are compared as they are. Loss-like metrics
(mse, mae, cross-entropy, nll, bits; positive, spread over orders of magnitude) are compared on the log
scale, x_i -> ln max(x_i, 1e-12), so that a difference of means is a log ratio of geometric means and a
relative margin m becomes an absolute one: "within m" is |ln(ā_g / b̄_g)| < ln(1 + m) (m = LOSS_MARGIN).

Mean and 95% confidence interval of one group:
    x̄ ± t_{0.975, n-1} · s / √n                                         (NaN half-width for n < 2)

Difference of two groups, Welch (unequal variances):
    D  = ā - b̄                      SE = √(s_a²/n_a + s_b²/n_b)
    ν  = SE⁴ / ((s_a²/n_a)²/(n_a - 1) + (s_b²/n_b)²/(n_b - 1))          (Welch–Satterthwaite)
    t  = D / SE,  p = 2 · P(T_ν > |t|)             (what scipy.stats.ttest_ind(equal_var=False) computes)
    95% CI of D:  D ± t_{0.975, ν} · SE       (log scale: the ratio e^D with CI e^(D ± ...))
    effect size   d = D / s_p,  s_p = √(((n_a - 1) s_a² + (n_b - 1) s_b²) / (n_a + n_b - 2))   (Cohen's d)
    One group constant (s_a = 0 < s_b): the formula holds and gives ν = n_b - 1. Fewer than 2 values in a
    group: no variance, p = NaN (``welch``). This one function serves the verdicts and ``suite compare``.

Equivalence, TOST (two one-sided Welch tests) with margin δ > 0 (``MARGINS``, stated per metric):
    H0_low:  D ≤ -δ   vs  D > -δ     p_low  = P(T_ν > (D + δ) / SE)     (ttest_ind(a + δ, b, 'greater'))
    H0_high: D ≥ +δ   vs  D < +δ     p_high = P(T_ν < (D - δ) / SE)     (ttest_ind(a - δ, b, 'less'))
    p_TOST = max(p_low, p_high); equivalent at α when p_TOST < α (the 90% CI of D lies inside (-δ, δ)).

Zero spread (s_a = s_b = 0, e.g. every seed reaches accuracy 1.0, or two runs that stored the same values):
SE = 0 and t = D / 0 is undefined (scipy returns NaN with a RuntimeWarning). D is then known exactly, so
    p = 0 if D ≠ 0 else 1        95% CI of D = [D, D]        d = ±∞ if D ≠ 0 else 0
    p_TOST = 0 if |D| < δ else 1
Both tests are computed here from t and ν (``scipy.stats.t``), never through ttest_ind, so nearly identical
samples raise no precision warning either.

Seeds needed (power 80%): the n per group at which a two-sided two-sample t-test at α = 0.05 detects a
standardized difference of the observed size |d| with probability 0.8: with ν = 2n - 2, c = t_{0.975, ν}
and noncentrality λ = |d| √(n/2), power(n) = P(T'_{ν,λ} > c) + P(T'_{ν,λ} < -c) (noncentral t), and the
answer is the smallest n ≥ 2 with power(n) ≥ 0.8; a comparison reports max(n, MIN_SEEDS), since no outcome
rests on fewer seeds. None when d = 0 or undefined (nothing to detect).

Outcome of one comparison at α = 0.05, with at least ``MIN_SEEDS`` seeds per group:
    comparable     p_TOST < α                            (equivalence shown; checked first, so a tiny
                                                          but significant difference inside the margin
                                                          counts as comparable)
    different      p_Welch < α                           (with D, its 95% CI and d)
    inconclusive   otherwise, or fewer than MIN_SEEDS seeds in a group ("inconclusive at n seeds",
                   with the seeds a difference of the observed size would need)
No outcome rests on one seed or one number: with fewer than MIN_SEEDS values the answer is inconclusive.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

ALPHA = 0.05
POWER = 0.80
MIN_SEEDS = 5
LOG_FLOOR = 1e-12
MAX_SEEDS_REPORTED = 10_000
LOSS_MARGIN = 0.05            # relative equivalence margin of a loss-like metric


@dataclass(frozen=True)
class Margin:
    """Equivalence margin of a metric: ``delta`` on the comparison scale, and how to say it."""
    delta: float
    log_scale: bool
    text: str


ACCURACY_POINT = Margin(0.01, False, "±1 accuracy point (0.01 absolute)")
RELATIVE = Margin(math.log(1 + LOSS_MARGIN), True,
                  f"±{LOSS_MARGIN:.0%} relative (|ln ratio| < ln {1 + LOSS_MARGIN:g})")
MARGINS = {"accuracy": ACCURACY_POINT, "accuracy_all_steps": ACCURACY_POINT, "frac_within_0.04": ACCURACY_POINT,
           "mse": RELATIVE, "mae": RELATIVE, "loss": RELATIVE, "cross_entropy": RELATIVE,
           "bits_per_char": RELATIVE, "nll_per_step": RELATIVE}
LOWER_IS_BETTER = {"mse", "mae", "loss", "cross_entropy", "bits_per_char", "nll_per_step"}


def margin_for(metric: str) -> Margin:
    """The stated margin of ``metric``: 1 accuracy point for fractions, LOSS_MARGIN relative for losses."""
    return MARGINS.get(metric, RELATIVE if metric in LOWER_IS_BETTER else ACCURACY_POINT)


def finite(values) -> np.ndarray:
    return np.asarray([float(x) for x in values if x is not None and math.isfinite(float(x))], dtype=float)


def mean_ci(values) -> tuple[float, float, int]:
    """(mean, 95% CI half-width t_{0.975,n-1} s / √n, n). The half-width is NaN for n < 2."""
    v = finite(values)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    if n < 2:
        return float(v.mean()), math.nan, 1
    half = sps.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n)
    return float(v.mean()), float(half), n


def on_scale(values, log_scale: bool) -> np.ndarray:
    v = finite(values)
    return np.log(np.maximum(v, LOG_FLOOR)) if log_scale else v


def welch(a, b) -> dict:
    """Welch's test of ā - b̄ (module docstring): {'diff', 'se', 'df', 'p', 'ci_low', 'ci_high', 'd'}, two-sided p.
    Both groups constant (SE = 0): p = 0 if the means differ, else 1. Fewer than 2 finite values in a group:
    p, SE and the CI are NaN."""
    a, b = finite(a), finite(b)
    na, nb = len(a), len(b)
    diff = float(a.mean() - b.mean()) if na and nb else math.nan
    if na < 2 or nb < 2:
        return {"diff": diff, "se": math.nan, "df": math.nan, "p": math.nan, "ci_low": math.nan,
                "ci_high": math.nan, "d": math.nan}
    va, vb = float(a.var(ddof=1)), float(b.var(ddof=1))
    se = math.sqrt(va / na + vb / nb)
    pooled = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    if se == 0:
        return {"diff": diff, "se": 0.0, "df": float(na + nb - 2), "p": 0.0 if diff != 0 else 1.0,
                "ci_low": diff, "ci_high": diff, "d": math.copysign(math.inf, diff) if diff != 0 else 0.0}
    df = se ** 4 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    p = float(2 * sps.t.sf(abs(diff) / se, df))
    half = sps.t.ppf(0.975, df) * se
    return {"diff": diff, "se": se, "df": float(df), "p": p, "ci_low": diff - half, "ci_high": diff + half,
            "d": diff / pooled if pooled > 0 else math.copysign(math.inf, diff)}


def tost(a, b, delta: float) -> float:
    """p_TOST = max of the two one-sided Welch tests of |ā - b̄| < δ (module docstring)."""
    w = welch(a, b)
    if w["se"] == 0:
        return 0.0 if abs(w["diff"]) < delta else 1.0
    low = sps.t.sf((w["diff"] + delta) / w["se"], w["df"])
    high = sps.t.cdf((w["diff"] - delta) / w["se"], w["df"])
    return float(max(low, high))


def power(n: int, d: float) -> float:
    """Power of the two-sided two-sample t-test at α with n per group against |d|: with ν = 2n - 2,
    c = t_{1-α/2, ν} and λ = |d| √(n/2) (noncentral t), power = P(T'_{ν,λ} > c) + P(T'_{ν,λ} < -c)."""
    df, nc = 2 * n - 2, abs(d) * math.sqrt(n / 2)
    c = sps.t.ppf(1 - ALPHA / 2, df)
    with warnings.catch_warnings():     # far in the tail scipy's noncentral t warns and returns NaN: handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(1 - sps.nct.cdf(c, df, nc) + sps.nct.cdf(-c, df, nc))
    if not math.isfinite(p):   # scipy's noncentral t can return NaN far in the tail: use the normal limit
        p = float(sps.norm.cdf(nc - c) + sps.norm.cdf(-nc - c))
    return min(max(p, 0.0), 1.0)


def seeds_needed(d: float) -> int | None:
    """The smallest n per group (>= 2) with power(n, d) >= 80% (None: d = 0 or undefined, nothing to detect;
    capped at MAX_SEEDS_REPORTED). Power grows with n, so a bisection finds it."""
    if d is None or not math.isfinite(d) or d == 0:
        return None
    low, high = 2, MAX_SEEDS_REPORTED
    if power(low, d) >= POWER:
        return low
    if power(high, d) < POWER:
        return high
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if power(mid, d) >= POWER else (mid, high)
    return high


@dataclass(frozen=True)
class Comparison:
    """One comparison of a vs b on one metric (differences are a - b on the comparison scale)."""
    metric: str
    outcome: str                  # 'comparable' | 'different' | 'inconclusive'
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    diff: float                   # D (log ratio on the log scale)
    ci_low: float
    ci_high: float
    effect: float                 # Cohen's d
    p_welch: float
    p_tost: float
    margin: str
    log_scale: bool
    seeds_needed: int | None      # per group, for 80% power at the observed d (at least MIN_SEEDS)

    @property
    def a_better(self) -> bool:
        """a beats b in the direction of the metric (lower is better for losses)."""
        return (self.diff < 0) if self.metric in LOWER_IS_BETTER else (self.diff > 0)

    def effect_text(self) -> str:
        """'a/b = 0.81 [0.70, 0.93]' (log scale) or 'a-b = +0.012 [+0.004, +0.020]', with d."""
        if self.log_scale:
            core = f"ratio {math.exp(self.diff):.3g} [{math.exp(self.ci_low):.3g}, {math.exp(self.ci_high):.3g}]"
        else:
            core = f"diff {self.diff:+.3g} [{self.ci_low:+.3g}, {self.ci_high:+.3g}]"
        return f"{core}, d={self.effect:.2g}" if math.isfinite(self.effect) else core

    def as_row(self) -> dict:
        row = asdict(self)
        row["effect_95ci"] = self.effect_text() if math.isfinite(self.diff) else ""
        return row


def compare(a, b, metric: str) -> Comparison:
    """Compare per-seed metrics ``a`` and ``b`` (outcome rules in the module docstring)."""
    margin = margin_for(metric)
    raw_a, raw_b = finite(a), finite(b)
    x, y = on_scale(raw_a, margin.log_scale), on_scale(raw_b, margin.log_scale)
    nan = math.nan
    mean_a = float(raw_a.mean()) if len(raw_a) else nan
    mean_b = float(raw_b.mean()) if len(raw_b) else nan
    if len(x) < 2 or len(y) < 2:
        diff = float(x.mean() - y.mean()) if len(x) and len(y) else nan
        return Comparison(metric, "inconclusive", len(x), len(y), mean_a, mean_b, diff, nan, nan, nan, nan, nan,
                          margin.text, margin.log_scale, None)
    w = welch(x, y)
    p_tost = tost(x, y, margin.delta)
    if min(len(x), len(y)) < MIN_SEEDS:
        outcome = "inconclusive"
    elif p_tost < ALPHA:
        outcome = "comparable"
    elif w["p"] < ALPHA:
        outcome = "different"
    else:
        outcome = "inconclusive"
    needed = seeds_needed(w["d"])
    return Comparison(metric, outcome, len(x), len(y), mean_a, mean_b, w["diff"], w["ci_low"], w["ci_high"], w["d"],
                      w["p"], p_tost, margin.text, margin.log_scale,
                      max(needed, MIN_SEEDS) if needed is not None else None)
