"""Speed ratios with a bootstrap 95% confidence interval, and the verdict a ratio supports.

A speed row's value is the median over rounds (worker processes) of each round's median sample
(``suite.bench.speed``). Its raw samples are x[r][i]: round r = 1..R, sample i = 1..n_r.

Statistic of one row:   m = median_r ( median_i x[r][i] )
Ratio of rows:          rho = prod_k m(N_k) / prod_l m(D_l)
    (one numerator and one denominator for "GRU / LSTM"; two of each for a ratio of thread speedups
    [t_tr(1) / t_tr(n)] / [t_rec(1) / t_rec(n)]).

Confidence interval: a two-level (hierarchical) percentile bootstrap, each row resampled independently:
    for b = 1..B (B = 2000, seeded):
        for each row: draw R rounds with replacement from its R rounds; within each drawn round draw
                      n_r samples with replacement from that round's samples; m*_b = median over the
                      drawn rounds of their resampled medians
        rho*_b = prod_k m*_b(N_k) / prod_l m*_b(D_l)
    CI = (q_{0.025}, q_{0.975}) of rho*_1..rho*_B
Resampling rounds keeps the process-to-process variation (a different worker, another moment of the
shared machine) in the interval, not only the scatter within one worker (Saravanan et al. 2020, the
hierarchical bootstrap for multi-level data). With R = 2 rounds the interval spans at least the gap
between the two rounds' medians when they disagree.
Paired rounds: when every row of the ratio has the same number of rounds R, round r of each row was
taken in the same round of workers (the models of one shape even interleaved, block by block, in one
worker: ``suite.bench.speed_worker``), so the round indices are drawn once per replicate and shared by
all rows: the ratio is resampled as matched pairs, and a slow spell that hit both sides of round r
cancels in it instead of widening the interval. (Rows with different R are resampled independently.)
Paired samples: when, moreover, round r of every row holds the same number of samples, sample i of each
was taken in the same pass of the interleaved timer (``suite.bench.timer.measure_interleaved``), so the
sample indices within a round are drawn once too. Measured: interleaved edge latencies of one process
jumped between ~30 and ~60 us with the machine's state, for GRU and LSTM alike; resampled apart, the
GRU/LSTM ratio's CI was [0.55, 1.27], resampled in pairs it is as narrow as the per-pass ratios are
steady. For independent rows (different workers) drawing shared indices changes nothing: each row's
resampled median has the same distribution either way.
Interleaved rows (``interleaved=True``: the rows were timed in one process, sample i of each in the same pass;
the caller knows this from the rows' shapes, ``suite.report.speed_evidence.interleaved``): the statistic is
then the matched-pairs one, the ratio taken per sample before any median,
    q[r][i] = prod_k x_{N_k}[r][i] / prod_l x_{D_l}[r][i],     rho = median_r ( median_i q[r][i] ),
bootstrapped like one row (rounds, then samples within a round). A ratio of medians instead lets each side's
median fall in a different mode when the machine's state switches within a pass: measured on edge latencies
(three passes of 40 interleaved samples; per-pass GRU/LSTM medians of the per-sample ratios 0.88-0.93), the
ratio of medians gave 0.92x [0.85, 0.97] and the matched-pairs statistic 0.89x [0.88, 0.90].

Verdict of a ratio against the tolerance tau = TOLERANCE (0.05, the one tolerance of every speed claim;
the report's rule texts format it from here) (``mark``):
    'faster'  the whole CI < 1 - tau   (the numerator's time is shorter by more than tau)
    'slower'  the whole CI > 1 + tau
    'within noise' otherwise
    'too few samples'  some row of the ratio has fewer than MIN_SAMPLES (10) raw samples over the rounds it
              uses, whatever its CI says
Without raw samples (a results.csv alone) the point ratio is compared instead and the mark says so.

Why MIN_SAMPLES = 10. A row's statistic is a median, and the percentile bootstrap of a median can only put
its interval on the row's order statistics x_(1) <= .. <= x_(n). The widest of them, [x_(1), x_(n)], covers
the true median with probability 1 - 2 (1/2)^n: 75% at n = 3, 94% at n = 5, so below n = 6 no bootstrap
interval can be a 95% interval, and in practice it is one much less often (simulated, 1000 lognormal rows
with 1000 replicates each: the percentile interval of the median covered it 77% of the time at n = 3, 93% at
n = 10, 95% at n = 20). A verdict from 3 samples is then a coin with a CI drawn around it: the smoke config
(one round of 3 samples) run twice on one machine gave "GRU trains faster" two different verdicts. The bar is
10, twice ``suite.bench.drift.MIN_HALF``: the fewest samples whose halves the drift check can compare, so a row
below it was never checked for drift either. The default job takes at least 10 samples per measurement
(speed.min_samples).
"""
from __future__ import annotations

import math

import numpy as np

from suite.bench.drift import MIN_HALF

N_BOOT = 2000
LEVEL = 0.95
TOLERANCE = 0.05
MIN_SAMPLES = 2 * MIN_HALF
TOO_FEW = "too few samples"
SEED = 0


def row_statistic(rounds: list[list[float]]) -> float:
    """Median over rounds of each round's median (the row's value)."""
    return float(np.median([np.median(r) for r in rounds]))


def _boot_statistic(rounds: list[list[float]], n_boot: int, rng: np.random.Generator,
                    chosen: np.ndarray | None = None, sample_idx: list | None = None) -> np.ndarray:
    """(n_boot,) replicates of ``row_statistic`` under the two-level bootstrap; ``chosen`` (n_boot, R):
    the round indices drawn per replicate when they are shared with the other rows (paired rounds);
    ``sample_idx[r]`` (n_boot, R, n_r): the sample indices drawn within round r, when shared (paired samples)."""
    R = len(rounds)
    # every round's resampled medians, R draws per replicate (a round drawn twice gets two draws)
    medians = np.empty((R, n_boot, R))
    for r, samples in enumerate(rounds):
        x = np.asarray(samples, dtype=float)
        idx = sample_idx[r] if sample_idx is not None else rng.integers(0, len(x), size=(n_boot, R, len(x)))
        medians[r] = np.median(x[idx], axis=2)
    if chosen is None:
        chosen = rng.integers(0, R, size=(n_boot, R))              # rounds drawn per replicate
    picked = medians[chosen, np.arange(n_boot)[:, None], np.arange(R)[None, :]]   # (n_boot, R)
    return np.median(picked, axis=1)


def ratio_ci(numerators: list[list[list[float]]], denominators: list[list[list[float]]],
             n_boot: int = N_BOOT, level: float = LEVEL, seed: int = SEED,
             interleaved: bool = False) -> tuple[float, float, float]:
    """(rho, lo, hi): the ratio of row statistics and its bootstrap CI (module docstring); with ``interleaved``
    (and equal rounds and samples) the matched-pairs statistic.

    Each argument is a list of rows, each row a list of rounds, each round a list of samples.
    lo, hi are NaN when some row has no samples."""
    rho, replicate = ratio_replicates(numerators, denominators, n_boot, seed, interleaved)
    if replicate is None:
        return math.nan, math.nan, math.nan
    return (rho, *interval(replicate, level))


def interval(replicate: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates."""
    alpha = (1 - level) / 2
    lo, hi = np.quantile(replicate, [alpha, 1 - alpha])
    return float(lo), float(hi)


def geometric_mean_ci(pairs: list[tuple[list, list]], n_boot: int = N_BOOT, level: float = LEVEL,
                      seed: int = SEED, interleaved: list[bool] | None = None) -> tuple[float, float, float]:
    """(g, lo, hi) for g = (prod_k rho_k)^(1/K), rho_k = ratio of pair k's numerator rows over its denominator
    rows. Each pair is bootstrapped on its own, its rounds and samples paired as in ``ratio_ci`` (the models of
    one shape were timed together; the pairs of a sweep were not), and the replicates combine as
    g*_b = (prod_k rho*_k,b)^(1/K). One bootstrap over all 2K rows at once pairs them only when every row has the
    same rounds and samples: with two rounds at one T and one at the others it drew them apart, and a geometric
    mean of three ratios with CIs [0.79, 0.82], [0.78, 0.84], [0.84, 0.87] came out [0.70, 0.97].
    ``interleaved[k]``: pair k's rows were timed interleaved (``ratio_ci``)."""
    stats, reps = [], []
    for k, (num, den) in enumerate(pairs):
        rho, replicate = ratio_replicates(num, den, n_boot, seed + k, bool(interleaved and interleaved[k]))
        stats.append(rho)
        reps.append(replicate)
    if not stats:
        return math.nan, math.nan, math.nan
    g = math.prod(stats) ** (1 / len(stats))
    if any(r is None for r in reps):
        return g, math.nan, math.nan
    return (g, *interval(np.prod(reps, axis=0) ** (1 / len(reps)), level))


def ratio_replicates(numerators, denominators, n_boot: int = N_BOOT, seed: int = SEED, interleaved: bool = False):
    """(rho, replicates (n_boot,) or None when some row has no samples) of ``ratio_ci``."""
    rows = list(numerators) + list(denominators)
    if not rows or any(not r or any(len(x) == 0 for x in r) for r in rows):
        return math.nan, None
    stats = [row_statistic(r) for r in rows]
    k = len(numerators)
    rho = math.prod(stats[:k]) / math.prod(stats[k:])
    rng = np.random.default_rng(seed)
    R = {len(r) for r in rows}
    shared = rng.integers(0, R.pop(), size=(n_boot, len(rows[0]))) if len(R) == 1 else None
    same_n = shared is not None and all(len({len(row[r]) for row in rows}) == 1 for r in range(len(rows[0])))
    idx = ([rng.integers(0, len(rows[0][r]), size=(n_boot, len(rows[0]), len(rows[0][r])))
            for r in range(len(rows[0]))] if same_n else None)
    if interleaved and same_n:                 # matched pairs: the ratio of each sample, then the medians
        q = [np.prod([np.asarray(row[r], dtype=float) for row in rows[:k]], axis=0) /
             np.prod([np.asarray(row[r], dtype=float) for row in rows[k:]], axis=0) for r in range(len(rows[0]))]
        return row_statistic(q), _boot_statistic(q, n_boot, rng, shared, idx)
    boots = [_boot_statistic(r, n_boot, rng, shared, idx) for r in rows]
    return rho, np.prod(boots[:k], axis=0) / np.prod(boots[k:], axis=0)


def mark(rho: float, lo: float, hi: float, tolerance: float = TOLERANCE, n: int | None = None) -> str:
    """'faster' / 'slower' / 'within noise' for a time ratio (numerator over denominator); 'too few samples'
    when ``n``, the fewest raw samples of a row in it, is below MIN_SAMPLES (module docstring)."""
    if n is not None and n < MIN_SAMPLES:
        return TOO_FEW
    if math.isnan(lo) or math.isnan(hi):
        lo = hi = rho
    if hi < 1 - tolerance:
        return "faster"
    if lo > 1 + tolerance:
        return "slower"
    return "within noise"


def tolerance_text(tolerance: float = TOLERANCE) -> str:
    """'±5%': the tolerance as the rule texts print it."""
    return f"±{tolerance:.0%}"


def format_ratio(rho: float, lo: float, hi: float) -> str:
    """'0.52× [0.49, 0.55]' (or '0.52× (no CI: no raw samples)')."""
    if math.isnan(lo):
        return f"{rho:.2f}× (no CI: no raw samples)"
    return f"{rho:.2f}× [{lo:.2f}, {hi:.2f}]"
