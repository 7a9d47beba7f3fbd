"""The report's plugin section: each plugin model of the run beside the built-in GRU and LSTM of its framework,
on the same tasks, with the statistics the built-in claims use.

Which models are plugins: the run's environment.json, whose ``plugins`` record lists the plugin models and tasks
registered when the run was made (``suite.results.environment.plugin_record``), each with its source. For every
plugin model P of framework f and each reference R in (gru-f, lstm-f) the run measured:

- speed, at the base shape (T = speed.base_seq_len, H = speed.base_hidden, B = speed.batch): the ratio of medians
  P / R of train_step_ms, infer_ms and step_latency_us at each streaming context, with its bootstrap 95% CI from
  the raw samples and the mark of ``suite.bench.ratios.mark`` ('faster' / 'slower' only when the whole CI lies
  outside 1 ± TOLERANCE), computed by ``suite.report.speed_evidence.pair_ratio`` (a ratio < 1: P takes less time);
- accuracy, per view and task: P's per-seed headline test metric against R's, by
  ``suite.report.statistics.compare`` (Welch's t-test, TOST at the metric's stated margin; outcome comparable /
  different / inconclusive, the difference with its 95% CI, Cohen's d, the seeds a difference of that size needs);
- time to target, where the rows hold ``updates_to_target`` (accuracy rows, one per seed: the optimizer updates a
  run took to reach the task's target): the seeds that reached it, and Welch's test on ln(updates) of the seeds
  that did -- the ratio of geometric means P / R with its 95% CI (``suite.report.statistics.welch``). A run
  without such rows has no time-to-target column.
- the stages: per plugin model and stage, how many rows were ok, skipped or failed, and the first reason a row
  gives for being skipped or failed (a stage that needs what the plugin lacks says so in its rows).
"""
from __future__ import annotations

import math

import pandas as pd

from suite.report.document import Section, Table, section
from suite.report.settings import ReportSettings
from suite.report.speed_evidence import ok_kind, pair_ratio, reference_convention
from suite.report.statistics import on_scale, welch
from suite.report.tables import _comparison_row, _view_order, headline_arm, headline_metric, per_seed, with_view
from suite.spec import FORGET_BIAS_PREFIX

REFERENCES = ("gru", "lstm")
SPEED_METRICS = ("train_step_ms", "infer_ms", "step_latency_us")
STAGE_KINDS = {"params": "params", "equivalence": "equivalence", "speed": "speed", "accuracy": "accuracy",
               "long_context": "long_context", "memory": "long_context", "edge": "edge"}
INTRO = ("Each plugin model of this run beside the built-in GRU and LSTM of its framework, on the same tasks and "
         "shapes: speed ratios plugin / built-in at the base shape (B={s.speed_batch}, T={s.speed_seq_len}, "
         "H={s.speed_hidden}) with bootstrap 95% CIs (< 1: the plugin takes less time), accuracy per task by Welch's "
         "test and TOST at the metric's margin, and time to target where the rows have it. Plugins: {sources}.")


def plugin_models(env: dict, frame: pd.DataFrame) -> list[dict]:
    """The plugin models of environment.json's record that have rows in this run."""
    present = set(frame["model"].dropna().astype(str)) if "model" in frame else set()
    return [p for p in env.get("plugins") or [] if p.get("kind") == "model" and p.get("name") in present]


def _speed_rows(frame: pd.DataFrame, model: str, T: int, H: int) -> pd.DataFrame:
    rows = reference_convention(ok_kind(frame, "speed"))
    rows = rows[(rows["model"] == model) & (rows["T"] == T) & (rows["hidden"] == H)]
    return rows[rows["metric"].isin(SPEED_METRICS)]


def speed_ratios(frame: pd.DataFrame, samples: dict | None, plugin: str, reference: str, T: int, H: int) -> list[dict]:
    """One row per metric (and context) measured for both models: ratio plugin / reference with CI and mark."""
    mine, theirs = _speed_rows(frame, plugin, T, H), _speed_rows(frame, reference, T, H)
    out = []
    for metric in SPEED_METRICS:
        a, b = mine[mine["metric"] == metric], theirs[theirs["metric"] == metric]
        contexts = [None] if metric != "step_latency_us" else sorted(set(a["context"].dropna()) &
                                                                     set(b["context"].dropna()))
        for c in contexts:
            ra = a if c is None else a[a["context"] == c]
            rb = b if c is None else b[b["context"] == c]
            if ra.empty or rb.empty:
                continue
            r = pair_ratio([ra.iloc[0]], [rb.iloc[0]], samples)
            out.append({"plugin": plugin, "reference": reference,
                        "metric": metric + ("" if c is None else f"@{int(c)}"), "plugin_value": ra["value"].iloc[0],
                        "reference_value": rb["value"].iloc[0], "ratio (95% CI)": r["text"], "mark": r["mark"],
                        "n": r["n"]})
    return out


def accuracy_comparisons(frame: pd.DataFrame, plugin: str, reference: str) -> list[dict]:
    """Per view and task both models trained on: ``compare`` of their per-seed headline metrics."""
    acc = with_view(frame[frame["kind"] == "accuracy"])
    out = []
    for view in _view_order(acc):
        for task, g in acc[acc["view"] == view].groupby("task", sort=False):
            metric = headline_metric(g)
            a, b = g[g["model"] == plugin], g[g["model"] == reference]
            if metric is None or a.empty or b.empty:
                continue
            row = _comparison_row(view, task, a["framework"].iloc[0], plugin, reference, per_seed(a, metric),
                                  per_seed(b, metric), metric)
            out.append({k: v for k, v in row.items() if k != "framework"})
    return out


def time_to_target(frame: pd.DataFrame, plugin: str, reference: str) -> list[dict]:
    """Per view and task, where the rows hold ``updates_to_target``: seeds that reached the target, and the
    ratio of geometric means of their updates plugin / reference with Welch's 95% CI (module docstring)."""
    acc = with_view(frame[(frame["kind"] == "accuracy") & (frame["metric"] == "updates_to_target")])
    out = []
    for (view, task), g in acc.groupby(["view", "task"], sort=False):
        a = pd.to_numeric(g[g["model"] == plugin]["value"], errors="coerce")
        b = pd.to_numeric(g[g["model"] == reference]["value"], errors="coerce")
        if a.empty or b.empty:
            continue
        reached_a, reached_b = a.dropna(), b.dropna()
        row = {"view": view, "task": task, "plugin": plugin, "reference": reference,
               "reached": f"{len(reached_a)}/{len(a)} vs {len(reached_b)}/{len(b)}",
               "median_updates": f"{_median(reached_a)} vs {_median(reached_b)}", "ratio (95% CI)": "", "p_welch": None}
        if len(reached_a) >= 2 and len(reached_b) >= 2:
            w = welch(on_scale(reached_a, True), on_scale(reached_b, True))
            if math.isfinite(w["diff"]):
                row["ratio (95% CI)"] = (f"{math.exp(w['diff']):.3g} [{math.exp(w['ci_low']):.3g}, "
                                         f"{math.exp(w['ci_high']):.3g}]")
                row["p_welch"] = w["p"]
        out.append(row)
    return out


def _median(values: pd.Series) -> str:
    return f"{values.median():.0f}" if len(values) else "-"


def stage_participation(frame: pd.DataFrame, plugin: str) -> list[dict]:
    """Per stage: the plugin model's rows ok / skipped / failed, and the first reason a row gives."""
    mine = frame[frame["model"] == plugin] if "model" in frame else frame.iloc[0:0]
    if "arch" in frame:
        arch = mine["arch"].dropna().iloc[0] if mine["arch"].notna().any() else None
        mine = pd.concat([mine, frame[(frame["kind"] == "equivalence") & (frame["arch"] == arch)
                                      & (frame["model"] != plugin)]]) if arch else mine
    out = []
    for stage in dict.fromkeys(STAGE_KINDS.values()):
        rows = mine[mine["kind"].map(STAGE_KINDS) == stage]
        if rows.empty:
            continue
        counts = rows["status"].value_counts()
        reasons = rows[rows["status"] != "ok"]["error"].dropna() if "error" in rows else pd.Series(dtype=object)
        out.append({"plugin": plugin, "stage": stage, "ok": int(counts.get("ok", 0)),
                    "skipped": int(counts.get("skipped", 0)), "failed": int(counts.get("failed", 0)),
                    "other": int(len(rows) - counts.get("ok", 0) - counts.get("skipped", 0) - counts.get("failed", 0)),
                    "first reason": str(reasons.iloc[0]) if len(reasons) else ""})
    return out


def reference_names(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with an LSTM at its headline forget-bias arm only, named as the other stages name it
    ('lstm-torch-fb1' -> 'lstm-torch'), so a plugin is compared with the arm every other claim reads."""
    rows = headline_arm(frame)
    if "model" not in rows or rows.empty:
        return rows
    return rows.assign(model=rows["model"].astype(str).str.replace(rf"-{FORGET_BIAS_PREFIX}[^-]+$", "", regex=True))


def plugin_section(frame: pd.DataFrame, samples: dict | None, settings: ReportSettings, env: dict) -> Section | None:
    """The section (module docstring); None when the run has no plugin model."""
    models = plugin_models(env, frame)
    if not models:
        return None
    T, H = settings.speed_seq_len, settings.speed_hidden
    frame = reference_names(frame)
    speed, accuracy, target, stages = [], [], [], []
    for p in models:
        name, framework = p["name"], p["framework"]
        for arch in REFERENCES:
            reference = f"{arch}-{framework}"
            speed += speed_ratios(frame, samples, name, reference, T, H)
            accuracy += accuracy_comparisons(frame, name, reference)
            target += time_to_target(frame, name, reference)
        stages += stage_participation(frame, name)
    sources = "; ".join(f"`{p['name']}` ({p.get('source', '')}): {p.get('description', '')}" for p in models)
    return section(
        "Plugin models beside GRU and LSTM",
        INTRO.format(s=settings, sources=sources),
        "Stages each plugin model took part in (a stage that needs what the plugin lacks says why in its rows):",
        Table(pd.DataFrame(stages), "plugin_stages"),
        "Speed at the base shape, plugin / built-in:", Table(pd.DataFrame(speed), "plugin_speed"),
        "Accuracy, plugin (a) vs built-in (b):", Table(pd.DataFrame(accuracy), "plugin_accuracy"),
        *(("Time to target (optimizer updates), plugin vs built-in:", Table(pd.DataFrame(target),
                                                                              "plugin_time_to_target"))
          if target else ()),
        anchor="plugin-models")
