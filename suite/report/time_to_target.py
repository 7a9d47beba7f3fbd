"""Time to quality (MLPerf Training's measure) and training states, per model and task over the evaluation seeds.

Each run's updates to target come from its validation curve (``suite.run.convergence``): the updates of the first
evaluation at which the headline metric meets the task's target, or none when the run never met it; such a run
is right-censored at the updates it ran (its time to target is only known to exceed them). An olympic or a plain
mean over the seeds that got there would drop exactly the seeds that did not, so the summary is censoring-aware.

Kaplan-Meier. With the n runs' times t_i (updates to target, or the censoring time) and d_j runs reaching the
target at the j-th distinct time u_j while r_j runs are still "at risk" (neither reached nor censored before
u_j), the survival function -- the probability that a run has not yet reached the target after u updates -- is
    S(u) = prod_{u_j <= u} (1 - d_j / r_j)
(``scipy.stats.ecdf`` of ``scipy.stats.CensoredData``, whose ``sf`` is this estimate). Its pointwise 95%
confidence band is the log-log one (``sf.confidence_interval(method='log-log')``: Greenwood's variance on the
scale log(-log S), which keeps the band inside [0, 1]). The median updates to target is the first u with
S(u) <= 0.5; its 95% CI is where the band crosses 0.5: the lower limit is the first u with S_low(u) <= 0.5,
the upper limit the first u with S_high(u) <= 0.5 (Brookmeyer and Crowley's inversion of the band; where the
log-log band is undefined, at S = 1 before the first run reaches the target and at S = 0 once every run still
at risk has, it is taken as S itself: no uncertainty is left about a survival of 1 or 0 there). When S
never falls to 0.5 the median is "not reached by half the seeds" (NaN); an upper limit that the band never
reaches is open ("> the budget", NaN). k of n counts the runs that reached the target.

Seconds to target = updates to target x the per-update cost: the median train step of the model at its training
shape, measured in isolation by the speed stage (kind 'speed_training', ``suite.run.units_speed``), not the wall
time of the training units, which share the cores. The median and its CI scale by the same factor (the cost is
one number per model and task). Evaluation time is not counted: it is the protocol's, not the model's.

Comparing two models (``compare_times``): the log-rank test of their times to target (``scipy.stats.logrank``,
two-sided), which uses the censored runs as runs still at risk. With per-update costs c_a and c_b it compares
the seconds c_a t_{a,i} and c_b t_{b,i} (censoring times scaled alike), else the updates. The statistic's sign
says which reached the target sooner (positive: a); 'sooner' / 'later' when p < ALPHA, else 'within noise';
'neither reached' when no run of either model reached the target (nothing to compare); 'inconclusive' with
fewer than MIN_SEEDS runs of a model.

States (``states_table``): per model and task the rule of ``suite.run.convergence.group_state`` over the states
its runs recorded (rows val_norm_best with a text column ``state``).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from suite.report.statistics import ALPHA, MIN_SEEDS
from suite.run.convergence import PLATEAUED, group_state

CONFIDENCE = 1 - ALPHA
SOONER, LATER, WITHIN_NOISE, NEITHER = "sooner", "later", "within noise", "neither reached"
INCONCLUSIVE = "inconclusive"


def km_median(times, reached) -> dict:
    """Kaplan-Meier median of times to target with its CI (module docstring): {'median', 'lo', 'hi', 'k', 'n'};
    median NaN when S never falls to 0.5 (not reached by half the runs), hi NaN when the band never does."""
    from scipy import stats
    t = np.asarray(times, dtype=float)
    hit = np.asarray(reached, dtype=bool)
    n, k = len(t), int(hit.sum())
    out = {"median": math.nan, "lo": math.nan, "hi": math.nan, "k": k, "n": n}
    if n == 0 or k == 0:
        return out
    sf = stats.ecdf(stats.CensoredData(uncensored=t[hit], right=t[~hit])).sf
    with warnings.catch_warnings():          # undefined where S is 0 or 1: taken as S there (module docstring)
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(CONFIDENCE, method="log-log")
    estimate = np.asarray(sf.probabilities, dtype=float)
    out["median"] = _first_at_most_half(sf.quantiles, estimate)
    for key, side in (("lo", band.low), ("hi", band.high)):
        p = np.asarray(side.probabilities, dtype=float)
        out[key] = _first_at_most_half(side.quantiles, np.where(np.isnan(p), estimate, p))
    return out


def _first_at_most_half(quantiles, probabilities) -> float:
    """The first time at which a step function of survival is <= 0.5 (NaN where it never is)."""
    below = np.flatnonzero(np.asarray(probabilities, dtype=float) <= 0.5)
    return float(np.asarray(quantiles)[below[0]]) if len(below) else math.nan


def compare_times(a_times, a_reached, b_times, b_reached) -> tuple[str, float]:
    """(word, p) of the log-rank test of a's times to target against b's (module docstring); 'inconclusive'
    with fewer than MIN_SEEDS runs in a group, as every seed comparison of the report."""
    from scipy import stats
    a_t, a_hit = np.asarray(a_times, dtype=float), np.asarray(a_reached, dtype=bool)
    b_t, b_hit = np.asarray(b_times, dtype=float), np.asarray(b_reached, dtype=bool)
    if not (a_hit.any() or b_hit.any()):
        return NEITHER, math.nan
    if min(len(a_t), len(b_t)) < MIN_SEEDS:
        return INCONCLUSIVE, math.nan
    res = stats.logrank(stats.CensoredData(uncensored=a_t[a_hit], right=a_t[~a_hit]),
                        stats.CensoredData(uncensored=b_t[b_hit], right=b_t[~b_hit]))
    p = float(res.pvalue)
    if not math.isfinite(p) or p >= ALPHA:
        return WITHIN_NOISE, p
    return (SOONER if res.statistic > 0 else LATER), p


def runs_to_target(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One row per ok run of ``kind`` that recorded updates to target: view, task, model, arch, framework, seed,
    time (updates to target, or the updates it ran when censored), updates, reached, target, metric (a kind with
    several runs per model, task and seed, e.g. a sweep, keeps the first)."""
    if "kind" not in frame or frame.empty:
        return pd.DataFrame()
    acc = frame[(frame["kind"] == kind) & (frame["status"] == "ok")]
    if acc.empty:
        return pd.DataFrame()
    if "view" in acc:
        acc = acc.assign(view=acc["view"].fillna("width"))
    else:
        acc = acc.assign(view="width")
    keys = ["view", "task", "model", "seed"]
    picked = acc[acc["metric"].isin(["updates_to_target", "reached", "updates"])]
    wide = picked.assign(value=picked["value"].astype(float)).groupby(keys + ["metric"])["value"].first() \
        .unstack("metric") if not picked.empty else pd.DataFrame()
    if wide.empty or not {"updates_to_target", "reached", "updates"} <= set(wide.columns):
        return pd.DataFrame()
    targets = acc[acc["metric"].astype(str).str.startswith("target_")].drop_duplicates(["view", "task", "model"])
    info = acc.drop_duplicates(["view", "task", "model"]).set_index(["view", "task", "model"])[["arch", "framework"]]
    wide = wide.reset_index().dropna(subset=["reached", "updates"])
    wide["reached"] = wide["reached"].astype(float) > 0.5
    wide["time"] = np.where(wide["reached"], wide["updates_to_target"].astype(float), wide["updates"].astype(float))
    target = {(r["view"], r["task"], r["model"]): (float(r["value"]), str(r["metric"]).removeprefix("target_"))
              for _, r in targets.iterrows()}
    wide["target"] = [target.get((v, t, m), (math.nan, ""))[0] for v, t, m in zip(wide["view"], wide["task"],
                                                                               wide["model"])]
    wide["metric"] = [target.get((v, t, m), (math.nan, ""))[1] for v, t, m in zip(wide["view"], wide["task"],
                                                                               wide["model"])]
    return wide.join(info, on=["view", "task", "model"])


def per_update_ms(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    """{(task, model): median train_step_ms at the training shape} from the speed stage's 'speed_training' rows."""
    if "kind" not in frame or frame.empty:
        return {}
    sp = frame[(frame["kind"] == "speed_training") & (frame["status"] == "ok") & (frame["metric"] == "train_step_ms")]
    return {k: float(v) for k, v in sp.groupby(["task", "model"])["value"].median().items()}


TIME_COLUMNS = ["view", "task", "model", "metric", "target", "reached", "k", "n", "budget", "median_updates",
                "updates_ci_lo", "updates_ci_hi", "per_update_ms", "median_seconds", "seconds_ci_lo",
                "seconds_ci_hi", "summary"]


def time_to_target_table(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """Per view x task x model: the target, k of n seeds reached, the budget, the Kaplan-Meier median updates to
    target with its 95% CI, the per-update cost at the training shape and the seconds to target (median and CI
    x cost); ``summary`` says it in words ('median 192 [160, > 320] updates, 0.81 s' or 'not reached by half
    the seeds')."""
    runs = runs_to_target(frame, kind)
    if runs.empty:
        return pd.DataFrame(columns=TIME_COLUMNS)
    cost = per_update_ms(frame)
    rows = []
    for (view, task, model), g in runs.groupby(["view", "task", "model"], sort=False):
        km = km_median(g["time"], g["reached"])
        ms = cost.get((task, model), math.nan)
        budget = int(g["updates"].max()) if len(g) else None
        rows.append({"view": view, "task": task, "model": model, "metric": g["metric"].iloc[0],
                     "target": g["target"].iloc[0], "reached": f"{km['k']} of {km['n']}", "k": km["k"],
                     "n": km["n"], "budget": budget, "median_updates": km["median"], "updates_ci_lo": km["lo"],
                     "updates_ci_hi": km["hi"], "per_update_ms": ms,
                     "median_seconds": km["median"] * ms / 1e3, "seconds_ci_lo": km["lo"] * ms / 1e3,
                     "seconds_ci_hi": km["hi"] * ms / 1e3, "summary": summary_text(km, budget, ms)})
    return pd.DataFrame(rows, columns=TIME_COLUMNS)


def summary_text(km: dict, budget: int | None, ms: float) -> str:
    """'median 192 [160, > 320] updates (0.81 s)' or 'not reached by half the seeds (1 of 5 reached)'."""
    if math.isnan(km["median"]):
        return f"not reached by half the seeds ({km['k']} of {km['n']} reached in {budget} updates)"
    hi = f"{km['hi']:.0f}" if not math.isnan(km["hi"]) else f"> {budget}"
    lo = f"{km['lo']:.0f}" if not math.isnan(km["lo"]) else "?"
    seconds = f" ({km['median'] * ms / 1e3:.3g} s)" if not math.isnan(ms) else ""
    return f"median {km['median']:.0f} [{lo}, {hi}] updates{seconds}"


STATE_COLUMNS = ["view", "task", "model", "state", "plateaued", "n", "not started", "still improving",
                 "plateaued_seeds", "median_best", "median_gain_last_half"]


def run_states(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """One row per ok run of ``kind`` with a recorded state: view, task, model, seed, sweep_size (where the
    rows have one), state, best, gain."""
    if "kind" not in frame or "state" not in frame or frame.empty:
        return pd.DataFrame()
    acc = frame[(frame["kind"] == kind) & (frame["status"] == "ok")]
    best = acc[acc["metric"] == "val_norm_best"] if not acc.empty else acc
    gain = acc[acc["metric"] == "val_norm_gain_last_half"]
    if best.empty:
        return pd.DataFrame()
    keys = [k for k in ("view", "task", "model", "seed", "sweep_size", "work_unit") if k in best]
    out = best[keys + ["state"]].assign(best=best["value"].astype(float).values)
    g = gain.set_index("work_unit")["value"] if "work_unit" in gain else pd.Series(dtype=float)
    out["gain"] = [float(g.get(u, math.nan)) for u in out["work_unit"]] if "work_unit" in out else math.nan
    return out.assign(view=out["view"].fillna("width") if "view" in out else "width")


def group_states(frame: pd.DataFrame, kind: str = "accuracy", by=("view", "task", "model")) -> dict:
    """{(view, task, model[, sweep_size]): (plateaued, text)} over the seeds (``group_state``)."""
    runs = run_states(frame, kind)
    if runs.empty:
        return {}
    by = [k for k in by if k in runs]
    return {key: group_state([str(s) for s in g["state"]]) for key, g in runs.groupby(by, sort=False)}


def states_table(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """Per view x task x model: the group state in words, whether plateaued, the seeds per state, the median
    best normalised score and the median gain of the last half."""
    runs = run_states(frame, kind)
    if runs.empty:
        return pd.DataFrame(columns=STATE_COLUMNS)
    rows = []
    for (view, task, model), g in runs.groupby(["view", "task", "model"], sort=False):
        states = [str(s) for s in g["state"]]
        plateaued, text = group_state(states)
        rows.append({"view": view, "task": task, "model": model, "state": text, "plateaued": plateaued,
                     "n": len(states), "not started": states.count("not started"),
                     "still improving": states.count("still improving"), "plateaued_seeds": states.count(PLATEAUED),
                     "median_best": float(np.median(g["best"])), "median_gain_last_half": float(np.median(g["gain"]))})
    return pd.DataFrame(rows, columns=STATE_COLUMNS)
