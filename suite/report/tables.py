"""Tables computed from a run's tidy results (shared by the CLI summary, notebooks and the report).

Accuracy tables carry the view of each training run: 'budget' (every arch at the width that matches the
parameter budget on the task: the headline) or 'width' (every arch at the same width: the second view).
Only runs with status 'ok' enter the statistics; 'truncated' (stopped by the time cap), 'failed' and
'skipped' runs are counted beside them. Comparisons use ``suite.report.statistics.compare``.
An LSTM trains once per forget-gate bias arm (models 'lstm-torch-fb1', 'lstm-torch-fb0'; rows with
``forget_bias`` and ``headline_arm``): the comparison tables here (GRU vs LSTM, Transformer vs the best recurrent
model, which tasks discriminate) read the headline arm only (``headline_arm``); the accuracy table lists every arm.
"""
from __future__ import annotations

import math

import pandas as pd

from suite.report.statistics import LOWER_IS_BETTER, compare, mean_ci

VIEWS = ("budget", "width")
VIEW_TITLES = {"budget": "matched parameter budget", "width": "equal width"}


def ok_rows(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    return frame[(frame["kind"] == kind) & (frame["status"] == "ok")]


def with_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a 'view' column (runs stored before views existed count as equal width)."""
    if "view" not in frame:
        return frame.assign(view="width")
    return frame.assign(view=frame["view"].fillna("width"))


def headline_arm(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows without the LSTM's other forget-bias arms (rows whose ``headline_arm`` is false); a run stored
    before the arms existed has no such column and keeps every row."""
    if "headline_arm" not in frame:
        return frame
    return frame[~frame["headline_arm"].astype(str).isin(["False", "false", "0", "0.0"])]


def headline_view(frame: pd.DataFrame, kind: str = "accuracy") -> str:
    """'budget' when the run trained a matched-budget view, else 'width'."""
    acc = with_view(frame[frame["kind"] == kind])
    return "budget" if (acc["view"] == "budget").any() else "width"


def headline_metric(g: pd.DataFrame) -> str | None:
    base = g[g["metric"].astype(str).str.startswith("baseline_")]
    return base["metric"].iloc[0].removeprefix("baseline_") if len(base) else None


def _view_order(frame: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(frame["view"]))
    return [v for v in VIEWS if v in present] + [v for v in present if v not in VIEWS]


ACCURACY_COLUMNS = ["view", "task", "model", "arch", "framework", "hidden", "params", "metric", "mean", "ci95", "n_seeds",
                    "baseline", "baseline_name", "beats_baseline", "solved_at", "updates", "lr", "lr_source",
                    "train_seconds", "truncated", "failed", "forget_bias", "headline_arm"]


def accuracy_table(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """Per view x task x model: the headline test metric as mean ± 95% CI over the ok seeds, parameters,
    width, the update budget, the learning rate and where it came from ('tuned' | 'fixed'), the naive baseline
    and the task's solved threshold; truncated and failed runs counted."""
    rows = []
    acc = with_view(frame[frame["kind"] == kind])
    for view in _view_order(acc):
        for (task, model), g in acc[acc["view"] == view].groupby(["task", "model"], sort=False):
            metric = headline_metric(g)
            if metric is None:
                continue
            base = g[g["metric"] == "baseline_" + metric]
            vals = g[(g["metric"] == metric) & (g["status"] == "ok")]
            mean, half, n = mean_ci(vals["value"].astype(float))
            baseline = float(base["value"].iloc[0])
            solved = g[g["metric"] == "solved_" + metric]["value"]
            planned = g[g["metric"] == "planned_updates"]["value"]
            units = g.drop_duplicates(subset=["work_unit"]) if "work_unit" in g else g
            rows.append({"view": view, "task": task, "model": model, "arch": g["arch"].iloc[0],
                         "framework": g["framework"].iloc[0], "hidden": _first(vals if len(vals) else g, "hidden"),
                         "params": _first(vals if len(vals) else g, "params"), "metric": metric,
                         "mean": mean, "ci95": half, "n_seeds": n, "baseline": baseline,
                         "baseline_name": base["unit"].iloc[0], "beats_baseline": _beats(mean, baseline, metric),
                         "solved_at": float(solved.iloc[0]) if len(solved) else math.nan,
                         "updates": int(planned.astype(float).max()) if len(planned) else None,
                         "lr": _first_value(g, "lr"), "lr_source": _first_value(g, "lr_source"),
                         "train_seconds": float(g[g["metric"] == "train_seconds"]["value"].astype(float).mean()),
                         "truncated": int((units["status"] == "truncated").sum()),
                         "failed": int((units["status"] == "failed").sum()), **_arm(g)})
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)


def _arm(g: pd.DataFrame) -> dict:
    """An LSTM's forget-bias arm: its initial b_f ('framework' for the framework's own init) and whether it is
    the headline arm; empty for other archs."""
    if g["arch"].iloc[0] != "lstm":
        return {"forget_bias": None, "headline_arm": None}
    fb = g["forget_bias"].dropna() if "forget_bias" in g else []
    flag = len(headline_arm(g)) > 0
    return {"forget_bias": float(fb.iloc[0]) if len(fb) else "framework", "headline_arm": flag}


def long_context_accuracy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per task x sweep point x model of the long-context stage (mqar pairs, copy delay T): headline test metric
    mean ± 95% CI over seeds, params, solved bar."""
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


def _beats(mean: float, baseline: float, metric: str):
    if math.isnan(mean):
        return None
    return bool(mean < baseline) if metric in LOWER_IS_BETTER else bool(mean > baseline)


def reaches(value: float, threshold: float, metric: str) -> bool | None:
    """The metric is at or past the threshold in its good direction (None without a threshold)."""
    if threshold is None or math.isnan(threshold) or math.isnan(value):
        return None
    return bool(value <= threshold) if metric in LOWER_IS_BETTER else bool(value >= threshold)


def _first(g: pd.DataFrame, col: str):
    v = g[col].dropna() if col in g else []
    return int(v.iloc[0]) if len(v) else None


def _first_value(g: pd.DataFrame, col: str):
    v = g[col].dropna() if col in g else []
    return v.iloc[0] if len(v) else None


def tuning_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the learning-rate search (kind 'tuning')."""
    return frame[frame["kind"] == "tuning"] if "kind" in frame else frame.iloc[0:0]


def learning_rate_table(frame: pd.DataFrame, grid, seeds, pairs) -> pd.DataFrame:
    """Per (task, arch) of the search: the tuned model, the chosen rate (suite.results.lr_selection's rule),
    whether it lies at an end of the grid, the units without a usable result, and the mean over the tuning seeds
    of the best validation loss at each rate of the grid (inf: a seed diverged; nan: a seed has no result)."""
    from suite.results.lr_selection import LearningRateSearchError, select_learning_rates
    tune = tuning_rows(frame)
    if tune.empty or not grid:
        return pd.DataFrame()
    choices = select_learning_rates(tune.to_dict("records"), list(grid), list(seeds), pairs)
    named = tune.dropna(subset=["task", "arch"]).drop_duplicates(["task", "arch"])
    models = {(t, a): m for t, a, m in zip(named["task"], named["arch"], named["model"])}
    rows = []
    for (task, arch), c in choices.items():
        if isinstance(c, LearningRateSearchError):
            rows.append({"task": task, "arch": arch, "model": models.get((task, arch)), "chosen lr": None,
                         "edge": "", "no result": str(c)})
            continue
        rows.append({"task": task, "arch": arch, "model": models.get((task, arch)), "chosen lr": c.lr,
                     "edge": "yes" if c.edge else "no", "no result": ", ".join(c.missing),
                     **{f"loss@{lr:g}": c.mean_loss[lr] for lr in sorted(grid)}})
    return pd.DataFrame(rows)


def solved_table(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """Per view x task: the best model (by mean over seeds), its mean, the task's solved threshold and
    whether the best model reaches it (a task that nobody solves cannot tell the models apart); an LSTM at its
    headline forget-bias arm."""
    table = accuracy_table(headline_arm(frame), kind)
    rows = []
    for (view, task), g in table.groupby(["view", "task"], sort=False):
        g = g.dropna(subset=["mean"])
        if g.empty:
            continue
        metric = g["metric"].iloc[0]
        best = g.loc[g["mean"].idxmin() if metric in LOWER_IS_BETTER else g["mean"].idxmax()]
        rows.append({"view": view, "task": task, "metric": metric, "best model": best["model"],
                     "best mean": best["mean"], "n_seeds": best["n_seeds"], "solved at": best["solved_at"],
                     "solved": reaches(best["mean"], best["solved_at"], metric), "baseline": best["baseline"],
                     "updates": best["updates"]})
    return pd.DataFrame(rows)


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


def per_seed(g: pd.DataFrame, metric: str) -> list[float]:
    """The ok runs' values of ``metric``, one per seed."""
    return g[(g["metric"] == metric) & (g["status"] == "ok")]["value"].astype(float).tolist()


def _comparison_row(view, task, framework, name_a, name_b, a, b, metric) -> dict:
    c = compare(a, b, metric)
    return {"view": view, "task": task, "framework": framework, "metric": metric, "a": name_a, "b": name_b,
            "mean_a": c.mean_a, "mean_b": c.mean_b, "n_a": c.n_a, "n_b": c.n_b, "outcome": c.outcome,
            "a_better": c.a_better, "effect (95% CI)": c.as_row()["effect_95ci"], "p_welch": c.p_welch,
            "p_tost": c.p_tost, "margin": c.margin, "seeds_needed": c.seeds_needed}


def gru_vs_lstm(frame: pd.DataFrame, kind: str = "accuracy") -> pd.DataFrame:
    """Per view x task x framework: GRU (reset_after) vs LSTM on the headline metric over seeds: means,
    outcome (comparable | different | inconclusive), the difference with its 95% CI and Cohen's d, Welch's
    p, the TOST p at the metric's margin, and the seeds a difference of the observed size would need. The LSTM
    at its headline forget-bias arm (``headline_arm``)."""
    acc = with_view(headline_arm(frame[frame["kind"] == kind]))
    rows = []
    for view in _view_order(acc):
        for task, g in acc[acc["view"] == view].groupby("task", sort=False):
            metric = headline_metric(g)
            if metric is None:
                continue
            for fw, gf in g.groupby("framework", sort=False):
                gru = gf[(gf["arch"] == "gru") & (gf["convention"].fillna("reset_after") == "reset_after")]
                lstm = gf[gf["arch"] == "lstm"]
                if len(gru) and len(lstm):
                    rows.append(_comparison_row(view, task, fw, gru["model"].iloc[0], lstm["model"].iloc[0],
                                                per_seed(gru, metric), per_seed(lstm, metric), metric))
    return pd.DataFrame(rows)


def forget_bias_table(frame: pd.DataFrame, open_arm: float = 0.0, closed: float = 1.0,
                      kind: str = "accuracy") -> pd.DataFrame:
    """Per view x task x framework with a GRU (reset_after) and the LSTM at both forget-gate bias arms (rows with
    ``forget_bias`` = open_arm and = closed): c0 = GRU vs LSTM(open_arm), c1 = GRU vs LSTM(closed) and c10 =
    LSTM(closed) vs LSTM(open_arm), each ``compare`` on the per-seed headline test metric (outcome, whether its
    first model is better, the effect with its 95% CI, Welch's p, the seeds a difference of the observed size
    needs). The claim forget-bias-closes-gap reads it (``suite.report.claims_engine.ForgetBiasArms``)."""
    acc = with_view(frame[frame["kind"] == kind]) if "kind" in frame else frame.iloc[0:0]
    if acc.empty or "forget_bias" not in acc:
        return pd.DataFrame()
    fb = pd.to_numeric(acc["forget_bias"], errors="coerce")
    rows = []
    for view in _view_order(acc):
        for (task, fw), g in acc[acc["view"] == view].groupby(["task", "framework"], sort=False):
            metric = headline_metric(g)
            gru = g[(g["arch"] == "gru") & (g["convention"].fillna("reset_after") == "reset_after")]
            arm0 = g[(g["arch"] == "lstm") & (fb.loc[g.index] == open_arm)]
            arm1 = g[(g["arch"] == "lstm") & (fb.loc[g.index] == closed)]
            if metric is None or gru.empty or arm0.empty or arm1.empty:
                continue
            x, y0, y1 = per_seed(gru, metric), per_seed(arm0, metric), per_seed(arm1, metric)
            row = {"view": view, "task": task, "framework": fw, "metric": metric, "gru": gru["model"].iloc[0],
                   "lstm_open": arm0["model"].iloc[0], "lstm_closed": arm1["model"].iloc[0]}
            for label, c in (("c0", compare(x, y0, metric)), ("c1", compare(x, y1, metric)),
                             ("c10", compare(y1, y0, metric))):
                row.update({f"{label}_mean_a": c.mean_a, f"{label}_mean_b": c.mean_b, f"{label}_n_a": c.n_a,
                            f"{label}_n_b": c.n_b, f"{label}_outcome": c.outcome, f"{label}_a_better": c.a_better,
                            f"{label}_effect": c.as_row()["effect_95ci"], f"{label}_p_welch": c.p_welch,
                            f"{label}_seeds_needed": c.seeds_needed})
            rows.append(row)
    return pd.DataFrame(rows)


def transformer_vs_recurrent(frame: pd.DataFrame, task: str, view: str, kind: str = "accuracy") -> pd.DataFrame:
    """Per framework on ``task`` in ``view``: the Transformer vs the best recurrent model of that framework
    (best by mean over seeds; an LSTM at its headline forget-bias arm), compared as in ``gru_vs_lstm``
    (a = Transformer)."""
    frame = headline_arm(frame)
    table = accuracy_table(frame, kind)
    table = table[(table["task"] == task) & (table["view"] == view)].dropna(subset=["mean"])
    acc = with_view(frame[frame["kind"] == kind])
    acc = acc[(acc["task"] == task) & (acc["view"] == view)]
    rows = []
    for fw, g in table.groupby("framework", sort=False):
        tr, rec = g[g["arch"] == "transformer"], g[g["arch"] != "transformer"]
        if tr.empty or rec.empty:
            continue
        metric = g["metric"].iloc[0]
        best = rec.loc[rec["mean"].idxmin() if metric in LOWER_IS_BETTER else rec["mean"].idxmax()]
        a, b = (per_seed(acc[acc["model"] == m], metric) for m in (tr["model"].iloc[0], best["model"]))
        rows.append(_comparison_row(view, task, fw, tr["model"].iloc[0], best["model"], a, b, metric))
    return pd.DataFrame(rows)


def execution_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Wall time, CPU time and CPU/wall of the stages that ran on Dask (rows of kind 'execution')."""
    ex = frame[frame["kind"] == "execution"] if "kind" in frame else frame.iloc[0:0]
    if ex.empty:
        return pd.DataFrame()
    t = ex.pivot_table(index="model", columns="metric", values="value", aggfunc="first").reset_index()
    extra = ex.drop_duplicates("model").set_index("model")
    for col in ("workers", "scheduler", "units_run"):
        if col in extra:
            t[col] = [extra.loc[m, col] for m in t["model"]]
    return t.rename(columns={"model": "stages"})


def run_summary(frame: pd.DataFrame, T: int | None = None, H: int | None = None) -> pd.DataFrame:
    """The table `suite run` prints: per view x task x model, params, learning rate, headline metric ± CI, and the
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
    return acc[["view", "task", "model", "hidden", "params", "lr", "metric", "value", "n_seeds", "baseline",
                "updates", "train_step_ms", "train_seconds", "truncated", "failed"]]


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
