"""The claims table: each piece of folklore, the measured evidence, and a verdict generated from it.

Verdict rules (stated here so the report can quote them):
    fewer params   holds if the GRU's counted parameters < the LSTM's at every configured (H, L) and framework.
    trains faster  per framework, GRU/LSTM train_step_ms ratio at the speed base shape:
                   < 0.95 faster, > 1.05 slower, else same; holds if faster everywhere, does not hold if
                   faster nowhere, otherwise depends on the framework.
    comparable     per task x framework, GRU vs LSTM headline test metric over >= 5 seeds in the headline
                   view (matched parameter budget when configured): comparable only when equivalence is shown
                   (TOST at the metric's margin, α = 0.05), different when Welch's p < 0.05, else open
                   (suite.report.statistics); combined into holds / does not hold / depends on / inconclusive
                   (suite.report.verdicts).
    transformer long sequences: per framework, Transformer/best-recurrent train_step_ms at the longest T:
                   holds if < 1 in every framework.
    transformer long-range memory: on 'copy' (else 'adding'), headline view, per framework the Transformer
                   vs the best recurrent model of that framework (by mean): yes when Welch's p < 0.05 with the
                   Transformer ahead, no when the recurrent model is ahead or equivalence is shown, else open;
                   combined as above.
    GRU streaming  per framework, GRU step latency at the longest context vs LSTM and Transformer:
                   holds if the GRU is faster than each by more than 5% in every framework (its state is
                   also H vs LSTM's 2H); within 5% counts as a tie.
A claim without data in this run is "not measured".
"""
from __future__ import annotations

import math

import pandas as pd

from suite.report.tables import VIEW_TITLES, gru_vs_lstm, headline_view, ok_rows, transformer_vs_recurrent
from suite.report.verdicts import Cell, combine

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


def _comparison_text(r, name_a: str, name_b: str) -> str:
    """'adding/torch: mse GRU 0.0004 vs LSTM 0.003, different: ratio 0.13 [0.05, 0.3], d=-3 (p=0.001, n=5/5)'."""
    return (f"{r['task']}/{r['framework']}: {r['metric']} {name_a} {_fmt(r['mean_a'])} vs {name_b} "
            f"{_fmt(r['mean_b'])}, {r['outcome']}: {r['effect (95% CI)']} (Welch p={_fmt(r['p_welch'], 2)}, "
            f"TOST p={_fmt(r['p_tost'], 2)}, n={r['n_a']}/{r['n_b']})")


def claim_comparable_accuracy(frame) -> dict:
    claim = "GRU reaches accuracy comparable to LSTM"
    tests = gru_vs_lstm(frame)
    if tests.empty:
        return _not_measured(claim)
    view = headline_view(frame)
    head = tests[tests["view"] == view]
    cells, ev = [], []
    for _, r in head.iterrows():
        result = {"comparable": "yes", "different": "no"}.get(r["outcome"], "open")
        cells.append(Cell(r["task"], r["framework"], result, min(r["n_a"], r["n_b"]), r["seeds_needed"]))
        better = "" if r["outcome"] != "different" else f" ({'GRU' if r['a_better'] else 'LSTM'} better)"
        ev.append(_comparison_text(r, "GRU", "LSTM") + better)
    second = tests[tests["view"] != view]
    if len(second):
        counts = second["outcome"].value_counts()
        ev.append(f"second view, {VIEW_TITLES.get(second['view'].iloc[0], second['view'].iloc[0])}: " +
                  ", ".join(f"{k} {v}" for k, v in counts.items()) + f" of {len(second)}")
    return {"claim": claim, "evidence": f"{VIEW_TITLES.get(view, view)} (headline): " + "; ".join(ev),
            "verdict": combine(cells), "figure": "gru_vs_lstm"}


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
    claim = "Transformer is better at long-range memory"
    acc = frame[frame["kind"] == "accuracy"]
    tasks = set(acc["task"].dropna()) if len(acc) else set()
    task = "copy" if "copy" in tasks else ("adding" if "adding" in tasks else None)
    if task is None:
        return _not_measured(claim, "needs the copy or adding task" if len(acc) else "this run has no data for it")
    view = headline_view(frame)
    tests = transformer_vs_recurrent(frame, task, view)
    if tests.empty:
        return _not_measured(claim)
    cells, ev = [], []
    for _, r in tests.iterrows():
        result = "yes" if r["outcome"] == "different" and r["a_better"] else (
            "open" if r["outcome"] == "inconclusive" else "no")
        cells.append(Cell(None, r["framework"], result, min(r["n_a"], r["n_b"]), r["seeds_needed"]))
        ev.append(_comparison_text(r, "Transformer", r["b"]))
    return {"claim": claim, "evidence": f"{task} task, {VIEW_TITLES.get(view, view)}: " + "; ".join(ev),
            "verdict": combine(cells), "figure": f"accuracy_{task}"}


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
        "per task x framework, GRU vs LSTM headline test metric over >= 5 seeds at the matched parameter budget: "
        "comparable only if equivalence is shown (TOST, α = 0.05, margin ±1 accuracy point or ±5% relative for "
        "losses), different if Welch's p < 0.05, else inconclusive; holds if comparable in every cell, does not "
        "hold if different in every cell", "gru_vs_lstm", "gru_vs_lstm"),
    "Transformer trains faster on long sequences": (
        "per framework, Transformer / best recurrent train_step_ms at the longest T: holds if < 1 in every framework",
        "train_step_vs_T", "speed"),
    "Transformer is better at long-range memory": (
        "on copy (else adding) at the matched parameter budget, per framework the Transformer vs the best recurrent "
        "model (>= 5 seeds): better if Welch's p < 0.05 in its favour, not better if the recurrent model wins or "
        "equivalence is shown (TOST), else inconclusive; holds if better in every framework",
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
