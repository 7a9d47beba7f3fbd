"""The long-context claims: recall, the cost of sequential recurrence, and the Transformer's memory.

Rules (the report quotes them):
    long-range memory   on every point of the mqar sweep (and long copy), the Transformer's per-seed test accuracy
                        vs the best recurrent model's (GRU, LSTM, minGRU/minLSTM; best by mean), all at the
                        matched parameter budget, >= 5 seeds each, with ``suite.report.statistics.compare``:
                        "yes" when Welch's p < 0.05 with the Transformer ahead, "no" when the recurrent model is
                        ahead or equivalence is shown (TOST), else open; the points combine into holds / does not
                        hold / depends on / inconclusive (``suite.report.verdicts.combine``).
    sequential = slow   over the T sweep, train_step_ms of minGRU (parallel scan) / GRU at each T with a bootstrap
                        95% CI from the raw samples (``suite.report.speed_evidence.pair_ratio``): faster when the
                        whole CI < 0.95, slower when > 1.05. Holds if minGRU is faster than the GRU at the
                        longest T, does not hold if slower, else not shown; whether the ratio falls with T and
                        the Transformer's ratio to the GRU are evidence beside it, not part of the verdict.
    memory cost         train-step peak memory vs T per arch: growth exponent b of memory ~ T^b from the
                        first to the last T of the sweep, b = log(m_last / m_first) / log(T_last / T_first).
                        Holds if the Transformer's exponent is the largest of all archs and above 1.2
                        (super-linear); a recurrent model stores O(T) activations (b ~ 1). The exponents are
                        evidence; the verdict is only holds / does not hold.
Verdicts are words (holds, does not hold, depends on ..., not shown, inconclusive, not measured); the figures that
decide them are in the evidence, so that ``suite compare`` sees a verdict change only when the finding changes.
A claim without data is "not measured".
"""
from __future__ import annotations

import math

import pandas as pd

from suite.report.statistics import compare, mean_ci
from suite.report.verdicts import Cell, combine

MIN_SEEDS = 5
ARCH_NAMES = {"gru": "GRU", "lstm": "LSTM", "transformer": "Transformer", "mingru": "minGRU", "minlstm": "minLSTM"}

RULES = {
    "Transformer is better at long-range recall (mqar, long copy)": (
        "per point of the mqar sweep (and long copy), Transformer vs the best recurrent model at the matched "
        "budget over >= 5 seeds: better if Welch's p < 0.05 in its favour, not better if the recurrent model wins "
        "or equivalence is shown (TOST), else inconclusive; holds if better at every point",
        "long_context_accuracy", "long_context_accuracy"),
    "GRU is sequential, so slow (minGRU's parallel scan fixes it)": (
        "minGRU (parallel scan) / GRU train_step_ms over the T sweep with a bootstrap 95% CI: holds if the whole "
        "CI < 0.95 at the longest T, does not hold if > 1.05, else not shown", "long_context_train_step",
        "long_context_speed"),
    "Long context costs the Transformer memory": (
        "train-step peak memory ~ T^b over the T sweep: holds if the Transformer's b is the largest and > 1.2",
        "long_context_memory", "long_context_memory"),
}


def _not_measured(claim: str, why: str = "this run has no data for it") -> dict:
    return {"claim": claim, "evidence": why, "verdict": "not measured"}


def long_context_accuracy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per task x sweep point x model: headline test metric mean ± 95% CI over seeds, params, solved bar."""
    lc = frame[(frame["kind"] == "long_context") & (frame["status"] == "ok")] if "kind" in frame else frame
    if lc.empty or "sweep_size" not in lc:
        return pd.DataFrame()
    rows = []
    for (task, size, model), g in lc.groupby(["task", "sweep_size", "model"], sort=True):
        base = g[g["metric"].astype(str).str.startswith("baseline_")]
        if base.empty:
            continue
        metric = base["metric"].iloc[0].removeprefix("baseline_")
        vals = g[g["metric"] == metric]["value"].astype(float)
        mean, half, n = mean_ci(vals)
        solved = g[g["metric"] == "solved_" + metric]["value"]
        rows.append({"task": task, "sweep": "pairs" if task == "mqar" else "delay T", "size": int(size),
                     "model": model, "arch": g["arch"].iloc[0], "params": int(g["params"].dropna().iloc[0]),
                     "metric": metric, "mean": mean, "ci95": half, "n_seeds": n,
                     "baseline": float(base["value"].iloc[0]),
                     "solved": float(solved.iloc[0]) if len(solved) else None})
    return pd.DataFrame(rows)


def claim_long_range_recall(frame: pd.DataFrame) -> dict:
    claim = "Transformer is better at long-range recall (mqar, long copy)"
    t = long_context_accuracy_table(frame)
    if t.empty:
        return _not_measured(claim, "no mqar or long-copy training in this run (long_context.mqar_pairs and "
                                    "long_context.copy_delays; configs/full.yaml trains both)")
    if "transformer" not in set(t["arch"]):
        return _not_measured(claim)
    lc = frame[(frame["kind"] == "long_context") & (frame["status"] == "ok")]
    cells, ev = [], []
    for (task, size), g in t.groupby(["task", "size"], sort=True):
        tr, rec = g[g["arch"] == "transformer"], g[g["arch"] != "transformer"]
        if tr.empty or rec.empty:
            continue
        best = rec.loc[rec["mean"].idxmax()]
        metric = g["metric"].iloc[0]

        def seeds(model):
            s = lc[(lc["task"] == task) & (lc["sweep_size"] == size) & (lc["model"] == model) &
                   (lc["metric"] == metric)]
            return s["value"].astype(float).values

        c = compare(seeds(tr["model"].iloc[0]), seeds(best["model"]), metric)
        result = "yes" if c.outcome == "different" and c.a_better else ("open" if c.outcome == "inconclusive"
                                                                        else "no")
        label = f"{task} {'N' if task == 'mqar' else 'T'}={size}"
        cells.append(Cell(label, None, result, min(c.n_a, c.n_b), c.seeds_needed))
        ev.append(f"{label}: Transformer {c.mean_a:.3f} vs {best['model']} {c.mean_b:.3f} ({c.outcome}, "
                  f"{c.effect_text()}, Welch p={c.p_welch:.2g}, n={c.n_a}/{c.n_b})")
    if not cells:
        return _not_measured(claim)
    params = ", ".join(f"{m} {p:,}" for m, p in t.drop_duplicates("model")[["model", "params"]].values)
    return {"claim": claim, "verdict": combine(cells), "evidence": "; ".join(ev) + f" (parameters: {params})"}


def _sweep(frame: pd.DataFrame, kind: str, metric: str) -> pd.DataFrame:
    s = frame[(frame["kind"] == kind) & (frame["status"] == "ok") & (frame["metric"] == metric)]
    if kind == "speed" and "sweep" in s:
        s = s[s["sweep"] == "long_context"]
    return s.pivot_table(index="T", columns="arch", values="value", aggfunc="median") if not s.empty else \
        pd.DataFrame()


def claim_sequential_is_slow(frame: pd.DataFrame, samples: dict | None = None) -> dict:
    from suite.report.speed_evidence import pair_ratio
    claim = "GRU is sequential, so slow (minGRU's parallel scan fixes it)"
    s = frame[(frame["kind"] == "speed") & (frame["status"] == "ok") & (frame["metric"] == "train_step_ms")]
    if "sweep" in s:
        s = s[s["sweep"] == "long_context"]
    if s.empty or not {"gru", "mingru"} <= set(s["arch"]):
        return _not_measured(claim)
    steps = []
    for T, g in s.groupby("T", sort=True):
        by = {a: g[g["arch"] == a].iloc[0] for a in set(g["arch"])}
        if "gru" in by and "mingru" in by:
            steps.append((int(T), pair_ratio([by["mingru"]], [by["gru"]], samples),
                          pair_ratio([by["transformer"]], [by["gru"]], samples) if "transformer" in by else None))
    if len(steps) < 2:
        return _not_measured(claim, "needs at least two sequence lengths")
    ev = [f"T={T}: minGRU/GRU {r['text']} {r['mark']}" + (f", Transformer/GRU {t['text']}" if t else "")
          for T, r, t in steps]
    last_T, last, _ = steps[-1]
    falling = last["ratio"] < steps[0][1]["ratio"]
    ev.append(f"the minGRU/GRU ratio {'falls' if falling else 'does not fall'} from T={steps[0][0]} to T={last_T}")
    verdict = {"faster": "holds", "slower": "does not hold"}.get(last["mark"], "not shown")
    if verdict == "not shown":
        verdict += f" (minGRU within noise of the GRU at T={last_T})"
    return {"claim": claim, "verdict": verdict,
            "evidence": "train step (matched parameters; ratio [95% CI] mark): " + "; ".join(ev)}


def growth_exponent(series: pd.Series) -> float:
    """b of m ~ T^b between the first and the last T: log(m_last / m_first) / log(T_last / T_first)."""
    s = series.dropna()
    s = s[s > 0]
    if len(s) < 2:
        return math.nan
    return math.log(s.iloc[-1] / s.iloc[0]) / math.log(s.index[-1] / s.index[0])


def claim_transformer_memory_cost(frame: pd.DataFrame) -> dict:
    claim = "Long context costs the Transformer memory"
    p = _sweep(frame, "memory", "train_step_peak_mb")
    if p.empty or "transformer" not in p:
        return _not_measured(claim)
    b = {arch: growth_exponent(p[arch]) for arch in p.columns}
    b = {a: v for a, v in b.items() if not math.isnan(v)}
    if "transformer" not in b:
        return _not_measured(claim, "needs the Transformer at two sequence lengths at least")
    largest = max(b, key=b.get)
    T0, T1 = int(p.index.min()), int(p.index.max())
    ev = ", ".join(f"{ARCH_NAMES.get(a, a)} b={v:.2f} ({p[a].iloc[0]:.3g} → {p[a].iloc[-1]:.3g} MB)"
                   for a, v in b.items())
    holds = largest == "transformer" and b["transformer"] > 1.2
    fastest = f"; {ARCH_NAMES.get(largest, largest)} grows fastest" if largest != "transformer" else ""
    return {"claim": claim, "verdict": "holds" if holds else "does not hold",
            "evidence": f"train-step peak memory from T={T0} to T={T1} (memory ~ T^b): {ev}{fastest}"}


def long_context_claims(frame: pd.DataFrame, samples: dict | None = None) -> list[dict]:
    """The three long-context claims (``samples``: the run's raw speed samples, for the CIs)."""
    rows = []
    for fn in (claim_long_range_recall, lambda f: claim_sequential_is_slow(f, samples),
               claim_transformer_memory_cost):
        try:
            row = fn(frame)
        except Exception as e:  # one broken claim must not sink the report
            row = {"claim": fn.__name__, "evidence": f"could not evaluate: {e}", "verdict": "error"}
        rule, figure, table = RULES.get(row["claim"], ("", None, None))
        rows.append({**row, "rule": rule, "figure": row.get("figure") or figure, "table": table})
    return rows
