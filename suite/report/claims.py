"""The claims table: each piece of folklore, the measured evidence, and a verdict generated from it.

Verdict rules (stated here so the report can quote them):
    fewer params   holds if the GRU's counted parameters < the LSTM's at every configured (H, L) and framework.
    speed ratios   every speed ratio comes with a bootstrap 95% CI from the raw samples of both sides
                   (suite.bench.ratios states the method); "faster" when the whole CI < 0.95, "slower" when
                   the whole CI > 1.05, else "within noise". A claim whose ratio is within noise in every
                   framework is "not shown" (neither held nor refuted at this precision).
    trains faster  per framework, GRU/LSTM train_step_ms at the speed width H over every T measured (base
                   shape and T sweep): the geometric mean of the per-T ratios with its bootstrap CI, marked as
                   above; holds if faster everywhere, does not hold if faster nowhere, otherwise depends on
                   the framework.
    comparable     per task x framework, GRU vs LSTM headline test metric over >= 5 seeds in the headline
                   view (matched parameter budget when configured): comparable only when equivalence is shown
                   (TOST at the metric's margin, α = 0.05), different when Welch's p < 0.05, else open
                   (suite.report.statistics); combined into holds / does not hold / depends on / inconclusive
                   (suite.report.verdicts).
    transformer long sequences: per framework and T of the sweep, Transformer / best recurrent (lower of GRU,
                   LSTM) train_step_ms, marked as above; the crossover T is the smallest T from which it is
                   faster at every longer T; holds if there is a crossover in every framework, does not hold
                   if in none ("no crossover up to T=<longest>"), otherwise depends on the framework.
    transformer long-range memory: on 'copy' (else 'adding'), headline view, per framework the Transformer
                   vs the best recurrent model of that framework (by mean): yes when Welch's p < 0.05 with the
                   Transformer ahead, no when the recurrent model is ahead or equivalence is shown, else open;
                   combined as above.
    GRU streaming  per framework, GRU step latency at the longest context over LSTM's and Transformer's,
                   marked as above: holds if the GRU is faster than each in every framework (its state is
                   also H vs LSTM's 2H); within noise counts as a tie.
    GRU edge       GRU / LSTM and GRU / Transformer step latency in the edge runtimes (the steps of one runtime x
                   precision timed interleaved in one process), each the geometric mean over every runtime x
                   precision with its bootstrap CI, marked as above; holds if faster than both, does not hold
                   if faster than neither, otherwise depends on the other arch.
    parallelises   thread scaling at the base shape: speedup S = t(1 thread) / t(all cores) of the train step;
                   per framework S(Transformer) / S(best-scaling recurrent model) with its CI: "more" when the
                   whole CI > 1.05, "less" when < 0.95, else "within noise"; holds if more in every framework,
                   does not hold if more in none, otherwise depends on the framework.
A claim without data in this run is "not measured".
"""
from __future__ import annotations

import math

import pandas as pd

from suite.report.speed_evidence import (crossover_T, crossover_table, mean_ratio, pair_ratio,
                                         reference_convention, speedup_ratio, thread_scaling_table)
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


def _marks_verdict(marks: dict[str, str], good: str = "faster") -> str:
    """holds (``good`` everywhere) / not shown (within noise everywhere) / does not hold (``good`` nowhere) /
    depends on the framework, from one mark per framework."""
    yes = [fw for fw, m in marks.items() if m == good]
    others = {m for m in marks.values() if m != good}
    detail = "; ".join(f"{m} in {', '.join(fw for fw, x in marks.items() if x == m)}" for m in sorted(others))
    if len(yes) == len(marks):
        return "holds"
    if not yes and others == {"within noise"}:
        return f"not shown ({detail}: the 95% CIs reach into ±5%)"
    if not yes:
        return f"does not hold ({detail})"
    return f"depends on the framework: {good} in {', '.join(yes)}; {detail}"


def claim_gru_trains_faster(frame, T, H, samples: dict | None = None) -> dict:
    """Per framework, GRU/LSTM train step over every T measured at width H (the base shape and the T
    sweep): the geometric mean of the per-T ratios with its bootstrap CI decides; each T is evidence."""
    claim = "GRU trains faster than LSTM"
    sp = _speed_at(frame, "train_step_ms", None, H)
    sp = reference_convention(sp) if not sp.empty else sp
    if sp.empty:
        return _not_measured(claim)
    evidence, marks = [], {}
    for fw, g in sp.groupby("framework", sort=True):
        pairs, points = [], []
        for t, at in g.groupby("T", sort=True):
            gru, lstm = at[at["arch"] == "gru"], at[at["arch"] == "lstm"]
            if len(gru) and len(lstm):
                pairs.append((gru.iloc[0], lstm.iloc[0]))
                r = pair_ratio([gru.iloc[0]], [lstm.iloc[0]], samples)
                points.append(f"T={int(t)}: {gru['value'].iloc[0]:.3g} vs {lstm['value'].iloc[0]:.3g} ms, "
                              f"{r['text']}")
        if not pairs:
            continue
        r = mean_ratio(pairs, samples)
        marks[fw] = r["mark"]
        evidence.append(f"{fw}: GRU/LSTM = {r['text']} ({r['mark']}; {'; '.join(points)})")
    if not marks:
        return _not_measured(claim)
    B = int(sp["B"].iloc[0]) if "B" in sp and len(sp) else "?"
    Ts = ", ".join(str(int(t)) for t in sorted(sp["T"].unique()))
    return {"claim": claim, "evidence": f"train step at B={B}, H={H}, geometric mean over T = {Ts} "
            "(ratio [95% bootstrap CI]): " + "; ".join(evidence), "verdict": _marks_verdict(marks)}


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
        way = f"{'GRU' if r['a_better'] else 'LSTM'} better" if r["outcome"] == "different" else None
        cells.append(Cell(r["task"], r["framework"], result, min(r["n_a"], r["n_b"]), r["seeds_needed"], way))
        better = f" ({way})" if way else ""
        ev.append(_comparison_text(r, "GRU", "LSTM") + better)
    second = tests[tests["view"] != view]
    if len(second):
        counts = second["outcome"].value_counts()
        ev.append(f"second view, {VIEW_TITLES.get(second['view'].iloc[0], second['view'].iloc[0])}: " +
                  ", ".join(f"{k} {v}" for k, v in counts.items()) + f" of {len(second)}")
    return {"claim": claim, "evidence": f"{VIEW_TITLES.get(view, view)} (headline): " + "; ".join(ev),
            "verdict": combine(cells), "figure": "gru_vs_lstm"}


def claim_transformer_long_sequences(frame, H, samples: dict | None = None) -> dict:
    table = crossover_table(frame, H, samples)
    if table.empty:
        return _not_measured("Transformer trains faster on long sequences")
    longest = int(table["T"].max())
    ev, crossing = [], {}
    for fw in sorted(table["framework"].unique()):
        t = table[table["framework"] == fw].sort_values("T")
        crossing[fw] = crossover_T(table, fw)
        steps = ", ".join(f"T={T}: {r:.2f}× [{lo:.2f}, {hi:.2f}] {m}" if not math.isnan(lo) else
                          f"T={T}: {r:.2f}× {m}" for T, r, lo, hi, m in
                          zip(t["T"], t["ratio"], t["ci_lo"], t["ci_hi"], t["mark"]))
        where = (f"crossover at T={crossing[fw]}" if crossing[fw] is not None
                 else f"no crossover up to T={int(t['T'].max())}")
        ev.append(f"{fw}: {where} ({steps})")
    have = {fw: c for fw, c in crossing.items() if c is not None}
    if len(have) == len(crossing):
        verdict = "holds (" + ", ".join(f"from T={c} in {fw}" for fw, c in have.items()) + ")"
    elif not have:
        verdict = f"does not hold: no crossover up to T={longest}"
    else:
        verdict = ("depends on the framework: " + ", ".join(f"from T={c} in {fw}" for fw, c in have.items()) +
                   "; no crossover up to T=" + f"{longest} in " + ", ".join(fw for fw in crossing if fw not in have))
    return {"claim": "Transformer trains faster on long sequences",
            "evidence": f"Transformer / best recurrent train step over the T sweep at H={H} (ratio [95% CI] mark): "
                        + "; ".join(ev) + " (CPU, one process per framework; the parallel advantage is a GPU "
                        "argument)", "verdict": verdict}


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


def claim_gru_streaming(frame, samples: dict | None = None) -> dict:
    sp = _speed_at(frame, "step_latency_us")
    if sp.empty:
        return _not_measured("GRU is cheaper per step for streaming / edge")
    sp = reference_convention(sp)
    c = int(sp["context"].max())
    at = sp[sp["context"] == c]
    ev, holds, ties = [], {}, []
    tried = frame[(frame["kind"] == "speed") & (frame["metric"] == "step_latency_us")] if "kind" in frame else at
    missing = set(tried["framework"]) - set(at["framework"])     # timed, but no usable row at context c
    for fw, g in at.groupby("framework", sort=True):
        gru = g[g["arch"] == "gru"]
        others = g[g["arch"] != "gru"].sort_values("arch")
        if gru.empty or others.empty:
            if len(set(tried[tried["framework"] == fw]["arch"])) > 1:
                missing.add(fw)           # timed, but GRU or every other arch has no usable row at context c
            continue
        parts, ok = [], True
        for _, o in others.iterrows():
            r = pair_ratio([gru.iloc[0]], [o], samples)
            ok &= r["mark"] == "faster"
            if r["mark"] == "within noise":
                ties.append(f"GRU ≈ {ARCH_NAMES.get(o['arch'], o['arch'])} in {fw}")
            parts.append(f"vs {ARCH_NAMES.get(o['arch'], o['arch'])} {o['value']:.3g} µs: {r['text']} {r['mark']}")
        holds[fw] = ok
        ev.append(f"{fw}: GRU {gru['value'].iloc[0]:.3g} µs, " + ", ".join(parts))
    if not holds:
        return _not_measured("GRU is cheaper per step for streaming / edge")
    good = [fw for fw, h in holds.items() if h]
    verdict = "holds" if len(good) == len(holds) else ("does not hold" if not good else
                                                      f"depends on the framework: holds in {', '.join(good)}")
    if ties and len(good) != len(holds):
        verdict += f" ({'; '.join(ties)}, within noise)"
    if missing:                     # 'holds' speaks for every framework: say which one could not be judged
        missing = sorted(missing)
        if verdict == "holds":
            verdict = f"holds in {', '.join(good)}"
        verdict += f"; not measured in {', '.join(missing)} (unstable or failed at context {c})"
        ev.append(f"{', '.join(missing)}: no stable GRU-vs-other pair at context {c} (see the unstable table)")
    return {"claim": "GRU is cheaper per step for streaming / edge",
            "evidence": f"batch-1 step latency at context {c}, GRU / other (ratio [95% CI] mark): " + "; ".join(ev) +
                        "; state per layer: GRU H, LSTM 2H, Transformer grows with context (K,V per token)",
            "verdict": verdict}


def claim_gru_edge(frame, samples: dict | None = None) -> dict:
    """Edge runtimes (ONNX Runtime, LiteRT; fp32 and int8): the GRU's step latency against LSTM's and the
    Transformer's, each a geometric mean over every runtime x precision measured, with its bootstrap CI."""
    from suite.report.tables import edge_table
    claim = "GRU suits edge devices (ONNX Runtime / LiteRT)"
    t = edge_table(frame)
    t = t[(t["status"] == "ok") & ~t["runtime"].isin(["torch", "keras"])] if not t.empty else t
    if t.empty:
        return _not_measured(claim)
    edge = frame[(frame["kind"] == "edge") & (frame["metric"] == "step_latency_us") & (frame["status"] == "ok")]
    edge = edge[edge["primary"].astype(str).isin(["True", "true", "1", "1.0"])] if "primary" in edge else edge
    pairs: dict[str, list] = {}
    ev = []
    for (runtime, precision), g in edge.groupby(["runtime", "precision"], sort=False):
        if runtime in ("torch", "keras"):
            continue
        by = {r["arch"]: r for _, r in g.iterrows()}
        if "gru" not in by or len(by) < 2:
            continue
        parts = []
        for arch, r in by.items():
            if arch != "gru":
                pairs.setdefault(arch, []).append((by["gru"], r))
                one = pair_ratio([by["gru"]], [r], samples)
                parts.append(f"vs {ARCH_NAMES.get(arch, arch)} {float(r['value']):.3g} µs: {one['text']}")
        ev.append(f"{runtime} {precision}: GRU {float(by['gru']['value']):.3g} µs " + ", ".join(parts))
    if not pairs:
        return _not_measured(claim)
    marks, overall = {}, []
    for arch, ps in pairs.items():
        r = mean_ratio(ps, samples)
        marks[ARCH_NAMES.get(arch, arch)] = r["mark"]
        overall.append(f"GRU / {ARCH_NAMES.get(arch, arch)} = {r['text']} {r['mark']} (over {r['k']})")
    faster = [a for a, m in marks.items() if m == "faster"]
    if len(faster) == len(marks):
        verdict = "holds"
    elif not faster:
        verdict = "does not hold (" + "; ".join(f"{m} than {a}" if m != "within noise" else f"within noise of {a}"
                                                for a, m in marks.items()) + ")"
    else:
        verdict = ("depends on the other arch: faster than " + ", ".join(faster) + "; " +
                   "; ".join(f"{m} than {a}" if m != "within noise" else f"within noise of {a}"
                             for a, m in marks.items() if m != "faster"))
    return {"claim": claim, "verdict": verdict, "figure": "edge_latency",
            "evidence": "batch 1, one thread, same width, the steps of each runtime x precision timed interleaved "
                        "in one process; geometric mean over runtimes and precisions [95% bootstrap CI]: " +
                        "; ".join(overall) + ". Per runtime: " + "; ".join(ev)}


PARALLEL_MARKS = {"slower": "more", "faster": "less", "within noise": "within noise"}
SHARED_CORES_MARGIN = 0.5    # a load average above the study's thread count + this: other processes held cores


def claim_transformer_parallelises(frame, samples: dict | None = None) -> dict:
    """Thread scaling (kind speed_threads): does the Transformer gain more from all cores than the recurrent
    models of its framework? S = t(1) / t(all); per framework S(Transformer) / S(best-scaling recurrent).
    No verdict ('not measured') when other processes held the cores during the study: a measurement at more
    threads was given up as oversubscribed, or the 1-minute load average around the study exceeded its
    thread count + SHARED_CORES_MARGIN (quiet runs here: 1.1-1.4 at 2 threads; with one core kept busy by
    another process: 3.6, and the Transformer's 2-thread inference took 8x its 1-thread time)."""
    claim = "Transformer parallelises across CPU cores (recurrent models do not)"
    table = thread_scaling_table(frame, samples)
    gave_up = frame[(frame["kind"] == "speed_threads") & (frame["status"] == "skipped")] \
        if "kind" in frame and not frame.empty else frame.iloc[0:0]
    note = (f" ({len(gave_up)} measurement(s) at more threads given up: "
            f"{gave_up['error'].iloc[0]})" if len(gave_up) else "")
    if table.empty:
        return _not_measured(claim, "this run has no thread-scaling data" + note)
    train = table[table["metric"] == "train_step_ms"]
    ev, marks = [], {}
    for fw, g in train.groupby("framework", sort=True):
        tr, rec = g[g["arch"] == "transformer"], g[g["arch"] != "transformer"]
        if tr.empty or rec.empty:
            continue
        best = rec.loc[rec["speedup"].idxmax()]
        r = speedup_ratio(frame, samples, tr["model"].iloc[0], best["model"])
        if r is None:
            continue
        marks[fw] = PARALLEL_MARKS[r["mark"]]    # a "slower" speedup ratio above 1 means more gain
        speedups = ", ".join(f"{m} {s:.2f}×" + (f" [{lo:.2f}, {hi:.2f}]" if not math.isnan(lo) else "")
                             for m, s, lo, hi in zip(g["model"], g["speedup"], g["ci_lo"], g["ci_hi"]))
        ev.append(f"{fw} ({g['threads'].iloc[0]} threads): speedups {speedups}; Transformer / {best['model']} = "
                  f"{r['text']} ({marks[fw]})")
    if not marks:
        return _not_measured(claim, "no framework has both a Transformer and a recurrent model at every thread "
                                    "count" + note)
    load = table["load_avg"].max()
    cores = int(ok_rows(frame, "speed_threads")["threads"].max())
    busy = (f" (highest 1-minute load average around them {load:.1f} with up to {cores} threads per worker: "
            f"above {cores}, other processes took cores and capped the speedups)") if not math.isnan(load) else ""
    if len(gave_up) or (not math.isnan(load) and load > cores + SHARED_CORES_MARGIN):
        # a study on cores that other processes hold measures them, not the models: no verdict from it
        return {"claim": claim, "verdict": "not measured (other processes held the cores during the thread study)",
                "evidence": "train step at the base shape, speedup = t(1 thread) / t(all cores) [95% CI]: "
                            + "; ".join(ev) + busy + note, "figure": "thread_scaling", "table": "thread_scaling"}
    verdict = _marks_verdict(marks, good="more")
    return {"claim": claim, "evidence": "train step at the base shape, speedup = t(1 thread) / t(all cores) "
            "[95% CI]: " + "; ".join(ev) + busy + note, "verdict": verdict, "figure": "thread_scaling",
            "table": "thread_scaling"}


def _not_measured(claim: str, why: str = "this run has no data for it") -> dict:
    return {"claim": claim, "evidence": why, "verdict": "not measured"}


# claim -> (the rule that makes its verdict, the figure that decides it, the table that backs it)
RULES = {
    "GRU has fewer parameters than LSTM": (
        "holds if the GRU's counted parameters < the LSTM's at every configured (H, L) in every framework",
        "params", "params"),
    "GRU trains faster than LSTM": (
        "per framework, GRU/LSTM train_step_ms at the speed width over every T measured, geometric mean with a "
        "bootstrap 95% CI from the raw samples: faster when the whole CI < 0.95, slower when > 1.05, else within "
        "noise; holds if faster in every framework",
        "train_step_vs_T", "speed"),
    "GRU reaches accuracy comparable to LSTM": (
        "per task x framework, GRU vs LSTM headline test metric over >= 5 seeds at the matched parameter budget: "
        "comparable only if equivalence is shown (TOST, α = 0.05, margin ±1 accuracy point or ±5% relative for "
        "losses), different if Welch's p < 0.05, else inconclusive; holds if comparable in every cell, does not "
        "hold if different in every cell", "gru_vs_lstm", "gru_vs_lstm"),
    "Transformer trains faster on long sequences": (
        "per framework and T of the sweep, Transformer / best recurrent train_step_ms with a bootstrap 95% CI "
        "(faster when the whole CI < 0.95); the crossover T is the smallest T from which it is faster at every "
        "longer T; holds if there is a crossover in every framework, else 'no crossover up to T=…'",
        "transformer_crossover", "transformer_crossover"),
    "Transformer is better at long-range memory": (
        "on copy (else adding) at the matched parameter budget, per framework the Transformer vs the best recurrent "
        "model (>= 5 seeds): better if Welch's p < 0.05 in its favour, not better if the recurrent model wins or "
        "equivalence is shown (TOST), else inconclusive; holds if better in every framework",
        "accuracy_copy", "accuracy"),
    "GRU suits edge devices (ONNX Runtime / LiteRT)": (
        "GRU / LSTM and GRU / Transformer batch-1 step latency in ONNX Runtime and LiteRT (fp32, int8; the steps of "
        "each runtime x precision timed interleaved in one process, so each ratio is the median of the ratios of "
        "samples taken in the same pass), geometric mean over runtimes and precisions with a bootstrap 95% CI: "
        "faster when the whole CI < 0.95; holds if faster than both", "edge_latency", "edge"),
    "GRU is cheaper per step for streaming / edge": (
        "per framework, GRU step latency at the longest context over LSTM's and Transformer's with a bootstrap 95% "
        "CI: holds if the whole CI < 0.95 against each in every framework", "streaming_latency", "speed"),
    "Transformer parallelises across CPU cores (recurrent models do not)": (
        "speedup S = train step at 1 thread / at all cores, base shape; per framework S(Transformer) / S(best-"
        "scaling recurrent model) with a bootstrap 95% CI: more when the whole CI > 1.05, less when < 0.95, else "
        "within noise; holds if more in every framework; not measured when other processes held the cores (a "
        "measurement given up as oversubscribed, or a load average above the thread count + 0.5)",
        "thread_scaling", "thread_scaling"),
}


def claims_table(frame: pd.DataFrame, T: int, H: int, samples: dict | None = None) -> pd.DataFrame:
    """One row per claim, the long-context ones included (the report and ``suite compare`` read the same
    set): claim, verdict, evidence, rule, figure, table. ``samples``: the run's raw speed samples
    (suite.results.samples.load_samples) for the CIs of the speed ratios."""
    from suite.report.claims_long_context import long_context_claims
    rows = []
    for fn in (claim_fewer_params, lambda f: claim_gru_trains_faster(f, T, H, samples), claim_comparable_accuracy,
               lambda f: claim_transformer_long_sequences(f, H, samples), claim_transformer_memory,
               lambda f: claim_gru_streaming(f, samples), lambda f: claim_transformer_parallelises(f, samples),
               lambda f: claim_gru_edge(f, samples)):
        try:
            rows.append(fn(frame))
        except Exception as e:  # one broken claim must not sink the report
            rows.append({"claim": getattr(fn, "__name__", "claim"), "evidence": f"could not evaluate: {e}",
                         "verdict": "error"})
    for row in rows:
        rule, figure, table = RULES.get(row["claim"], ("", None, None))
        row.update(rule=rule, figure=row.get("figure") or figure, table=row.get("table") or table)
    return pd.DataFrame(rows + long_context_claims(frame, samples))
