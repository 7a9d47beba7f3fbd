"""Tables computed from a run's tidy results (shared by the CLI summary, notebooks and the report)."""
from __future__ import annotations

import math

import pandas as pd

from suite.report.statistics import mean_ci, welch_test


def ok_rows(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    return frame[(frame["kind"] == kind) & (frame["status"] == "ok")]


def accuracy_table(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """Per task x model: the headline test metric as mean ± 95% CI over seeds, params, baseline."""
    rows = []
    acc = frame[frame["kind"] == kind]
    for (task, model), g in acc.groupby(["task", "model"], sort=False):
        base = g[g["metric"].astype(str).str.startswith("baseline_")]
        if base.empty:
            continue
        metric = base["metric"].iloc[0].removeprefix("baseline_")
        vals = g[(g["metric"] == metric) & (g["status"] == "ok")]
        mean, half, n = mean_ci(vals["value"].astype(float))
        failed = g[g["status"] != "ok"]
        rows.append({"task": task, "model": model, "arch": g["arch"].iloc[0], "framework": g["framework"].iloc[0],
                     "hidden": g["hidden"].iloc[0], "params": _first(vals, "params"), "metric": metric,
                     "mean": mean, "ci95": half, "n_seeds": n, "baseline": float(base["value"].iloc[0]),
                     "baseline_name": base["unit"].iloc[0],
                     "beats_baseline": _beats(mean, float(base["value"].iloc[0]), metric),
                     "train_seconds": float(g[g["metric"] == "train_seconds"]["value"].astype(float).mean()),
                     "failed": int(failed["work_unit"].nunique()) if "work_unit" in failed else len(failed)})
    return pd.DataFrame(rows)


LOWER_IS_BETTER = {"mse", "mae", "loss", "bits_per_char", "nll_per_step"}


def _beats(mean: float, baseline: float, metric: str):
    if math.isnan(mean):
        return None
    return bool(mean < baseline) if metric in LOWER_IS_BETTER else bool(mean > baseline)


def _first(g: pd.DataFrame, col: str):
    v = g[col].dropna() if col in g else []
    return int(v.iloc[0]) if len(v) else None


def speed_table(frame: pd.DataFrame, T: int | None = None, H: int | None = None) -> pd.DataFrame:
    """Per model at one shape: train_step_ms, infer_ms, step latency at each context (medians)."""
    sp = ok_rows(frame, "speed")
    if sp.empty:
        return pd.DataFrame()
    if T is not None:
        sp = sp[(sp["T"] == T) & (sp["hidden"] == H)]
    pivot = sp[sp["metric"].isin(["train_step_ms", "infer_ms"])].pivot_table(
        index="model", columns="metric", values="value", aggfunc="median")
    lat = sp[sp["metric"] == "step_latency_us"]
    if not lat.empty:
        lat = lat.pivot_table(index="model", columns="context", values="value", aggfunc="median")
        lat.columns = [f"step_us@{int(c)}" for c in lat.columns]
        pivot = pivot.join(lat, how="outer")
    mem = sp[sp["metric"] == "peak_rss_mb"]
    if not mem.empty:
        pivot = pivot.join(mem.groupby("model")["value"].median().rename("peak_rss_mb"), how="outer")
    return pivot.reset_index()


def gru_vs_lstm(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """Per task and framework: GRU minus LSTM headline metric, Welch's p-value."""
    acc = frame[(frame["kind"] == kind) & (frame["status"] == "ok")]
    rows = []
    for task, g in acc.groupby("task", sort=False):
        base = g[g["metric"].astype(str).str.startswith("baseline_")]
        if base.empty:
            continue
        metric = base["metric"].iloc[0].removeprefix("baseline_")
        m = g[g["metric"] == metric]
        for fw, gf in m.groupby("framework", sort=False):
            gru = gf[(gf["arch"] == "gru") & (gf["convention"] == "reset_after")]["value"].astype(float)
            lstm = gf[gf["arch"] == "lstm"]["value"].astype(float)
            if len(gru) and len(lstm):
                diff, p = welch_test(gru.values, lstm.values)
                rows.append({"task": task, "framework": fw, "metric": metric, "gru_mean": gru.mean(),
                             "lstm_mean": lstm.mean(), "gru_minus_lstm": diff, "p_value": p,
                             "n_gru": len(gru), "n_lstm": len(lstm)})
    return pd.DataFrame(rows)


def run_summary(frame: pd.DataFrame, T: int | None = None, H: int | None = None) -> pd.DataFrame:
    """The table `suite run` prints: per task x model, params, headline metric ± CI, and the
    model's train_step_ms at the speed sweep's base shape."""
    acc = accuracy_table(frame)
    if acc.empty:
        return acc
    sp = ok_rows(frame, "speed")
    if not sp.empty and T is not None:
        sp = sp[(sp["T"] == T) & (sp["hidden"] == H)]
    steps = sp[sp["metric"] == "train_step_ms"].groupby("model")["value"].median() if not sp.empty else {}
    acc["train_step_ms"] = [float(steps.get(m, math.nan)) if len(steps) else math.nan for m in acc["model"]]
    acc["value"] = [f"{m:.4g} ± {c:.2g}" if not math.isnan(c) else f"{m:.4g}" for m, c in zip(acc["mean"], acc["ci95"])]
    return acc[["task", "model", "params", "metric", "value", "n_seeds", "baseline", "train_step_ms",
                "train_seconds", "failed"]]


EDGE_COLUMNS = ["file_bytes", "step_latency_us", "peak_mb", "max_abs_diff", "accuracy"]


def edge_table(frame: pd.DataFrame, primary_only: bool = True) -> pd.DataFrame:
    """One row per model x runtime x precision (x graph): file size, step latency (median, IQR, n), peak
    memory of the runtime, max |runtime - framework| over a 50-step stream, accuracy (runtime and framework)."""
    e = frame[frame["kind"] == "edge"] if "kind" in frame else frame.iloc[0:0]
    if e.empty:
        return pd.DataFrame()
    if primary_only and "primary" in e:
        e = e[e["primary"].astype(str).isin(["True", "true", "1", "1.0"])]
    keys = ["model", "runtime", "precision", "graph"]
    e = e.assign(graph=e["graph"].fillna(""))
    wide = e.groupby(keys + ["metric"], sort=False)["value"].first().unstack("metric")
    info = e.groupby(keys, sort=False, dropna=False).agg(
        latency_iqr_us=("iqr", lambda s: s.dropna().iloc[0] if s.notna().any() else None),
        latency_n=("n", lambda s: s.dropna().iloc[0] if s.notna().any() else None),
        framework_accuracy=("framework_accuracy", "first"), status=("edge_status", "first"),
        error=("error", "first"))
    table = wide.reindex(columns=EDGE_COLUMNS).join(info).reset_index()
    table = table.set_index(keys).loc[info.index].reset_index()        # the measurement order
    return table[keys + ["file_bytes", "step_latency_us", "latency_iqr_us", "latency_n", "peak_mb",
                         "max_abs_diff", "accuracy", "framework_accuracy", "status", "error"]]
