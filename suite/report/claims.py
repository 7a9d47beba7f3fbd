"""The claims table: each piece of folklore, the measured evidence, and a verdict generated from it.

Verdict rules (stated here so the report can quote them):
    fewer params   holds if the GRU's counted parameters < the LSTM's at every configured (H, L) and framework.
    trains faster  per framework, GRU/LSTM train_step_ms ratio at the speed base shape:
                   < 0.95 faster, > 1.05 slower, else same; holds if faster everywhere, does not hold if
                   faster nowhere, otherwise depends on the framework.
    comparable     per task x framework, GRU vs LSTM headline test metric: comparable when Welch's p >= 0.05
                   or the relative difference is <= 2%; holds if comparable everywhere.
    transformer long sequences: per framework, Transformer/best-recurrent train_step_ms at the longest T:
                   holds if < 1 in every framework.
    transformer long-range memory: on 'copy' (else 'adding'), Transformer's test accuracy (lower MSE) vs
                   the best recurrent model of the same framework; better/worse when the gap exceeds the sum
                   of both 95% CI half-widths, else a tie; holds if better in every framework, "not shown"
                   if every framework ties.
    GRU streaming  per framework, GRU step latency at the longest context vs LSTM and Transformer:
                   holds if the GRU is faster than each by more than 5% in every framework (its state is
                   also H vs LSTM's 2H); within 5% counts as a tie.
A claim without data in this run is "not measured".
"""
from __future__ import annotations

import math

import pandas as pd

from suite.report.tables import LOWER_IS_BETTER, accuracy_table, gru_vs_lstm, ok_rows

FASTER, SLOWER = 0.95, 1.05
ARCH_NAMES = {"gru": "GRU", "lstm": "LSTM", "transformer": "Transformer"}


def _fmt(v: float, digits: int = 3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}g}"


def claim_fewer_params(frame: pd.DataFrame) -> dict:
    p = frame[(frame["kind"] == "params") & (frame["metric"] == "params_counted")]
    p = p[p["convention"].fillna("reset_after") == "reset_after"]
    evidence, always = [], True
    for fw, g in p.groupby("framework", sort=False):
        gru, lstm = g[g["arch"] == "gru"], g[g["arch"] == "lstm"]
        merged = gru.merge(lstm, on=["hidden", "layers"], suffixes=("_gru", "_lstm"))
        if merged.empty:
            continue
        ratios = merged["value_gru"].astype(float) / merged["value_lstm"].astype(float)
        always &= bool((ratios < 1).all())
        big = merged.sort_values(["layers", "hidden"]).iloc[-1]
        evidence.append(f"{fw}: GRU/LSTM = {ratios.min():.3f}–{ratios.max():.3f} "
                        f"(H={int(big['hidden'])}, L={int(big['layers'])}: {int(big['value_gru']):,} vs "
                        f"{int(big['value_lstm']):,})")
    bw = frame[(frame["kind"] == "params") & (frame["metric"] == "budget_width")]
    widths = {r["arch"]: (int(r["value"]), int(r["params"])) for _, r in bw.iterrows() if r["framework"] == "torch"}
    if "gru" in widths and "lstm" in widths:
        evidence.append(f"at {int(bw['budget'].iloc[0]):,} params the GRU affords H={widths['gru'][0]} vs LSTM "
                        f"H={widths['lstm'][0]}")
    if not evidence:
        return _not_measured("GRU has fewer parameters than LSTM")
    return {"claim": "GRU has fewer parameters than LSTM", "evidence": "; ".join(evidence),
            "verdict": "holds (3 gate blocks vs 4: 3/4 at equal width)" if always else "does not hold everywhere"}


def _speed_at(frame, metric, T=None, H=None):
    sp = ok_rows(frame, "speed")
    if sp.empty:
        return sp
    sp = sp[sp["metric"] == metric]
    if T is not None:
        sp = sp[sp["T"] == T]
    if H is not None:
        sp = sp[sp["hidden"] == H]
    return sp


def _median_by(sp, *keys):
    return sp.groupby(list(keys))["value"].median()


def claim_gru_trains_faster(frame, T, H) -> dict:
    sp = _speed_at(frame, "train_step_ms", T, H)
    sp = sp[sp["convention"].fillna("reset_after") == "reset_after"] if not sp.empty else sp
    if sp.empty:
        return _not_measured("GRU trains faster than LSTM")
    med = _median_by(sp, "framework", "arch")
    evidence, verdicts = [], {}
    for fw in med.index.get_level_values(0).unique():
        if ("gru" in med[fw]) and ("lstm" in med[fw]):
            ratio = med[fw]["gru"] / med[fw]["lstm"]
            verdicts[fw] = ratio
            evidence.append(f"{fw}: {med[fw]['gru']:.3g} vs {med[fw]['lstm']:.3g} ms, GRU/LSTM = {ratio:.2f}×")
    sweep = ok_rows(frame, "speed")
    sweep = sweep[(sweep["metric"] == "train_step_ms") & (sweep["convention"].fillna("reset_after") == "reset_after")]
    piv = sweep.pivot_table(index=["framework", "T", "hidden"], columns="arch", values="value", aggfunc="median")
    if {"gru", "lstm"} <= set(piv.columns):
        r = (piv["gru"] / piv["lstm"]).dropna()
        for fw in r.index.get_level_values(0).unique():
            evidence.append(f"{fw} over the sweep: {r[fw].min():.2f}–{r[fw].max():.2f}×")
    if not verdicts:
        return _not_measured("GRU trains faster than LSTM")
    faster = [fw for fw, v in verdicts.items() if v < FASTER]
    slower = [fw for fw, v in verdicts.items() if v > SLOWER]
    if len(faster) == len(verdicts):
        verdict = "holds"
    elif not faster:
        verdict = "does not hold" + (f" (GRU slower in {', '.join(slower)})" if slower else " (about the same)")
    else:
        verdict = f"depends on the framework: faster in {', '.join(faster)}" + \
                  (f", slower in {', '.join(slower)}" if slower else "")
    B = int(sp["B"].iloc[0]) if "B" in sp and len(sp) else "?"
    return {"claim": "GRU trains faster than LSTM", "evidence": f"train step at B={B}, T={T}, H={H}: " +
            "; ".join(evidence), "verdict": verdict}


def claim_comparable_accuracy(frame) -> dict:
    tests = gru_vs_lstm(frame)
    if tests.empty:
        return _not_measured("GRU reaches accuracy comparable to LSTM")
    ev, comparable, apart = [], [], []
    for _, r in tests.iterrows():
        rel = abs(r["gru_minus_lstm"]) / max(abs(r["lstm_mean"]), 1e-12)
        ok = (not math.isnan(r["p_value"]) and r["p_value"] >= 0.05) or rel <= 0.02
        comparable.append(ok)
        if not ok:
            lower = r["metric"] in LOWER_IS_BETTER
            gru_better = (r["gru_minus_lstm"] < 0) == lower
            apart.append(f"{'GRU' if gru_better else 'LSTM'} better on {r['task']}/{r['framework']}")
        ev.append(f"{r['task']}/{r['framework']}: {r['metric']} GRU {_fmt(r['gru_mean'])} vs LSTM "
                  f"{_fmt(r['lstm_mean'])} (p={_fmt(r['p_value'], 2)}, n={r['n_gru']}/{r['n_lstm']})")
    n = len(comparable)
    verdict = "holds" if all(comparable) else (
        "does not hold: " + ", ".join(apart) if not any(comparable) else
        f"depends on the task: comparable on {sum(comparable)} of {n}; " + ", ".join(apart))
    return {"claim": "GRU reaches accuracy comparable to LSTM", "evidence": "; ".join(ev), "verdict": verdict}


def claim_transformer_long_sequences(frame, H) -> dict:
    sp = _speed_at(frame, "train_step_ms", None, H)
    if sp.empty or "transformer" not in set(sp["arch"]):
        return _not_measured("Transformer trains faster on long sequences")
    T = int(sp["T"].max())
    at = sp[sp["T"] == T]
    med = _median_by(at, "framework", "arch")
    ev, wins = [], {}
    for fw in med.index.get_level_values(0).unique():
        m = med[fw]
        rec = [a for a in ("gru", "lstm") if a in m]
        if "transformer" in m and rec:
            best = min(rec, key=lambda a: m[a])
            wins[fw] = m["transformer"] / m[best]
            ev.append(f"{fw}: Transformer {m['transformer']:.3g} ms vs {ARCH_NAMES[best]} {m[best]:.3g} ms "
                      f"({wins[fw]:.2f}×)")
    if not wins:
        return _not_measured("Transformer trains faster on long sequences")
    faster = [fw for fw, v in wins.items() if v < 1]
    verdict = "holds" if len(faster) == len(wins) else ("does not hold" if not faster else
                                                       f"depends on the framework: holds in {', '.join(faster)}")
    return {"claim": "Transformer trains faster on long sequences",
            "evidence": f"train step at T={T} (longest measured), H={H}: " + "; ".join(ev) +
                        " (CPU, one process per framework; the parallel advantage is a GPU argument)",
            "verdict": verdict}


def claim_transformer_memory(frame) -> dict:
    table = accuracy_table(frame)
    if table.empty:
        return _not_measured("Transformer is better at long-range memory")
    task = "copy" if "copy" in set(table["task"]) else ("adding" if "adding" in set(table["task"]) else None)
    if task is None:
        return _not_measured("Transformer is better at long-range memory", "needs the copy or adding task")
    t = table[table["task"] == task]
    higher = t["metric"].iloc[0] not in ("mse", "loss", "mae", "bits_per_char", "nll_per_step")
    ev, results = [], {}
    for fw, g in t.groupby("framework"):
        tr, rec = g[g["arch"] == "transformer"], g[g["arch"] != "transformer"]
        if tr.empty or rec.empty:
            continue
        best = rec.loc[rec["mean"].idxmax() if higher else rec["mean"].idxmin()]
        trm, trc = tr["mean"].iloc[0], tr["ci95"].iloc[0]
        gap = (trm - best["mean"]) if higher else (best["mean"] - trm)
        margin = (0 if math.isnan(trc) else trc) + (0 if math.isnan(best["ci95"]) else best["ci95"])
        results[fw] = "better" if gap > margin else ("worse" if -gap > margin else "tie")
        ev.append(f"{fw}: Transformer {_fmt(trm)} ± {_fmt(trc, 2)} vs {best['model']} {_fmt(best['mean'])} ± "
                  f"{_fmt(best['ci95'], 2)}")
    if not results:
        return _not_measured("Transformer is better at long-range memory")
    vals = set(results.values())
    if vals == {"better"}:
        verdict = "holds"
    elif vals == {"worse"}:
        verdict = "does not hold"
    elif vals == {"tie"}:
        verdict = f"not shown: the 95% CIs overlap at {int(t['n_seeds'].min())} seeds"
    else:
        verdict = "depends on the framework: " + ", ".join(f"{k} {v}" for k, v in results.items())
    return {"claim": "Transformer is better at long-range memory",
            "evidence": f"{task} task, test {t['metric'].iloc[0]}: " + "; ".join(ev), "verdict": verdict,
            "figure": f"accuracy_{task}"}


def claim_gru_streaming(frame) -> dict:
    sp = _speed_at(frame, "step_latency_us")
    if sp.empty:
        return _not_measured("GRU is cheaper per step for streaming / edge")
    sp = sp[sp["convention"].fillna("reset_after") == "reset_after"]
    c = int(sp["context"].max())
    med = _median_by(sp[sp["context"] == c], "framework", "arch")
    ev, holds, ties = [], {}, []
    for fw in med.index.get_level_values(0).unique():
        m = med[fw]
        if "gru" not in m or len(m) < 2:
            continue
        others = [a for a in m.index if a != "gru"]
        holds[fw] = all(m["gru"] < FASTER * m[a] for a in others)
        ties += [f"GRU ≈ {ARCH_NAMES[a]} in {fw}" for a in others if FASTER * m[a] <= m["gru"] <= SLOWER * m[a]]
        ev.append(f"{fw}: " + ", ".join(f"{ARCH_NAMES[a]} {m[a]:.3g} µs" for a in m.index))
    if not holds:
        return _not_measured("GRU is cheaper per step for streaming / edge")
    good = [fw for fw, h in holds.items() if h]
    verdict = "holds" if len(good) == len(holds) else ("does not hold" if not good else
                                                      f"depends on the framework: holds in {', '.join(good)}")
    if ties and len(good) != len(holds):
        verdict += f" ({'; '.join(ties)}, within 5%)"
    return {"claim": "GRU is cheaper per step for streaming / edge",
            "evidence": f"batch-1 step latency at context {c}: " + "; ".join(ev) +
                        "; state per layer: GRU H, LSTM 2H, Transformer grows with context (K,V per token)",
            "verdict": verdict}


def _interval(row) -> tuple[float, float]:
    """median ± IQR/2 of a latency row (the IQR around the median, symmetric approximation)."""
    half = (row["latency_iqr_us"] or 0) / 2 if row["latency_iqr_us"] == row["latency_iqr_us"] else 0
    return row["step_latency_us"] - half, row["step_latency_us"] + half


def claim_gru_edge(frame) -> dict:
    from suite.report.tables import edge_table
    claim = "GRU suits edge devices (ONNX Runtime / LiteRT)"
    t = edge_table(frame)
    t = t[(t["status"] == "ok") & ~t["runtime"].isin(["torch", "keras"])] if not t.empty else t
    if t.empty:
        return _not_measured(claim)
    t = t.assign(arch=[m.split("-")[0] for m in t["model"]])
    ev, results = [], {}
    for (runtime, precision), g in t.groupby(["runtime", "precision"], sort=False):
        by = {r["arch"]: r for _, r in g.iterrows()}
        if "gru" not in by or len(by) < 2:
            continue
        lo, hi = _interval(by["gru"])
        marks = []
        for arch, r in by.items():
            if arch == "gru":
                continue
            olo, ohi = _interval(r)
            marks.append("faster" if hi < olo else ("slower" if lo > ohi else "tie"))
        results[(runtime, precision)] = marks
        ev.append(f"{runtime} {precision}: " + ", ".join(
            f"{ARCH_NAMES.get(a, a)} {r['step_latency_us']:.3g} µs / {int(r['file_bytes']):,} B" for a, r in by.items()))
    if not results:
        return _not_measured(claim)
    faster_all = [k for k, m in results.items() if all(x == "faster" for x in m)]
    never = [k for k, m in results.items() if not any(x == "faster" for x in m)]
    if len(faster_all) == len(results):
        verdict = "holds"
    elif len(never) == len(results):
        verdict = "does not hold"
    else:
        verdict = "depends on the runtime: GRU fastest in " + ", ".join(f"{r} {p}" for r, p in faster_all) \
            if faster_all else "depends on the runtime: GRU faster than some archs only"
    return {"claim": claim, "verdict": verdict, "figure": "edge_latency",
            "evidence": "batch 1, one thread, same width: " + "; ".join(ev)}


def _not_measured(claim: str, why: str = "this run has no data for it") -> dict:
    return {"claim": claim, "evidence": why, "verdict": "not measured"}


# claim -> (the rule that makes its verdict, the figure that decides it, the table that backs it)
RULES = {
    "GRU has fewer parameters than LSTM": (
        "holds if the GRU's counted parameters < the LSTM's at every configured (H, L) in every framework",
        "params", "params"),
    "GRU trains faster than LSTM": (
        "per framework, GRU/LSTM train_step_ms at the speed base shape: < 0.95 faster, > 1.05 slower, else the same; "
        "holds if faster in every framework", "train_step_vs_T", "speed"),
    "GRU reaches accuracy comparable to LSTM": (
        "per task x framework, GRU vs LSTM headline test metric: comparable when Welch's p >= 0.05 or the relative "
        "difference <= 2%; holds if comparable everywhere", "gru_vs_lstm", "gru_vs_lstm"),
    "Transformer trains faster on long sequences": (
        "per framework, Transformer / best recurrent train_step_ms at the longest T: holds if < 1 in every framework",
        "train_step_vs_T", "speed"),
    "Transformer is better at long-range memory": (
        "on copy (else adding), Transformer vs the best recurrent model of its framework: better/worse when the gap "
        "exceeds the sum of both 95% CI half-widths, else a tie; holds if better in every framework",
        "accuracy_copy", "accuracy"),
    "GRU suits edge devices (ONNX Runtime / LiteRT)": (
        "in each edge runtime x precision, the GRU's step latency vs LSTM's and the Transformer's: faster when "
        "its median + IQR/2 lies below the other's median - IQR/2, slower when above, else a tie; holds if "
        "faster than every other arch in every runtime and precision", "edge_latency", "edge"),
    "GRU is cheaper per step for streaming / edge": (
        "per framework, GRU step latency at the longest context vs LSTM and Transformer: holds if the GRU is faster "
        "than each by more than 5% in every framework", "streaming_latency", "speed"),
}


def claims_table(frame: pd.DataFrame, T: int, H: int) -> pd.DataFrame:
    """One row per claim: claim, verdict, evidence, rule, figure, table."""
    rows = []
    for fn in (claim_fewer_params, lambda f: claim_gru_trains_faster(f, T, H), claim_comparable_accuracy,
               lambda f: claim_transformer_long_sequences(f, H), claim_transformer_memory, claim_gru_streaming,
               claim_gru_edge):
        try:
            rows.append(fn(frame))
        except Exception as e:  # one broken claim must not sink the report
            rows.append({"claim": getattr(fn, "__name__", "claim"), "evidence": f"could not evaluate: {e}",
                         "verdict": "error"})
    for row in rows:
        rule, figure, table = RULES.get(row["claim"], ("", None, None))
        row.update(rule=rule, figure=row.get("figure") or figure, table=table)
    return pd.DataFrame(rows)
