"""Plots for the notebooks and the report. Each function takes the tidy results (or curves) and
returns a matplotlib Figure, or None when the run has no data for it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from suite.bench.ratios import TOLERANCE, tolerance_text
from suite.report.tables import ok_rows

STYLE = {"gru": "-", "lstm": "--", "transformer": ":"}
MARK = {"numpy": "s", "torch": "o", "keras": "^"}


def _log2_ticks(ax, values) -> None:
    """Log-2 x axis labelled with the measured values themselves (25, 50, 100 rather than 2^5)."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(set(int(v) for v in values)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _lines(ax, data: pd.DataFrame, x: str, y: str = "value"):
    for model, g in data.groupby("model", sort=True):
        g = g.groupby(x)[y].median().sort_index()
        arch, framework = model.split("-")[:2]
        ax.plot(g.index, g.values, STYLE.get(arch, "-"), marker=MARK.get(framework, "o"), label=model)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def speed_sweep(frame: pd.DataFrame, x: str, fixed: str, fixed_value: int, metric: str = "train_step_ms"):
    """train_step_ms vs sequence length (x='T', fixed='hidden') or vs width (x='hidden', fixed='T')."""
    sp = ok_rows(frame, "speed")
    if sp.empty:
        return None
    data = sp[(sp["metric"] == metric) & (sp[fixed] == fixed_value)]
    if data[x].nunique() < 2:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    _lines(ax, data, x)
    _log2_ticks(ax, data[x])
    ax.set_yscale("log")
    ax.set_xlabel({"T": "sequence length T", "hidden": "width H"}[x])
    ax.set_ylabel(f"{metric} (median)")
    ax.set_title(f"{metric} vs {'T' if x == 'T' else 'H'} at {fixed}={fixed_value}")
    fig.tight_layout()
    return fig


def streaming_latency(frame: pd.DataFrame):
    """Per-step latency (batch 1) vs context length: recurrent state vs attention over the past."""
    sp = ok_rows(frame, "speed")
    data = sp[sp["metric"] == "step_latency_us"] if not sp.empty else sp
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    _lines(ax, data, "context")
    _log2_ticks(ax, data["context"])
    ax.set_yscale("log")
    ax.set_xlabel("context length (tokens already seen)")
    ax.set_ylabel("step latency, µs (median)")
    ax.set_title("Streaming: one more step at batch 1")
    fig.tight_layout()
    return fig


def learning_curves(curves: pd.DataFrame, task: str, x: str = "epoch"):
    """Validation headline metric vs epoch or wall-clock seconds, mean over seeds per model (per epoch: each seed's
    last evaluation in that epoch, since a curve may be scored several times an epoch; the side-by-side runs left
    out: ``side_by_side_curves`` draws them)."""
    if not curves.empty and "kind" in curves:
        curves = curves[curves["kind"] != "side_by_side"]
    data = curves[curves["task"] == task] if not curves.empty else curves
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for model, g in data.groupby("model", sort=True):
        arch, framework = model.split("-")[:2]
        if x == "epoch":
            if "updates" in g:
                g = g.sort_values("updates").groupby(["seed", "epoch"], as_index=False).last()
            g = g.groupby("epoch")["val_metric"].mean()
            ax.plot(g.index, g.values, STYLE.get(arch, "-"), marker=MARK.get(framework, "o"), label=model)
        else:
            for i, (_, gs) in enumerate(g.groupby("seed")):
                ax.plot(gs["wall_s"], gs["val_metric"], STYLE.get(arch, "-"), marker=MARK.get(framework, "o"),
                        markersize=3, color=_color(model), label=model if i == 0 else None)
    ax.set_xlabel("epoch" if x == "epoch" else "wall-clock seconds")
    ax.set_ylabel("validation metric")
    ax.set_title(f"{task}: learning curves vs {'epochs' if x == 'epoch' else 'seconds'}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def curves_vs_updates(curves: pd.DataFrame, task: str, target: float | None = None, metric: str = ""):
    """Validation headline metric vs optimizer updates on ``task``: per model the mean over seeds at each
    evaluation (thick) and each seed (thin), the task's target as a horizontal line (time to quality)."""
    data = curves[curves["task"] == task] if not curves.empty and "updates" in curves else pd.DataFrame()
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for model, g in data.groupby("model", sort=True):
        arch = model.split("-")[0]
        for _, gs in g.groupby("seed"):
            ax.plot(gs["updates"], gs["val_metric"], STYLE.get(arch, "-"), color=_color(model), lw=0.6, alpha=0.45)
        mean = g.groupby("updates")["val_metric"].mean()
        ax.plot(mean.index, mean.values, STYLE.get(arch, "-"), color=_color(model), lw=2,
                label=f"{model} (mean of {g['seed'].nunique()} seeds)")
    if target is not None and pd.notna(target):
        ax.axhline(target, color="k", ls="--", lw=1, label=f"target ({target:g})")
    if metric in ("mse", "nll_per_step", "bits_per_char", "loss") and (data["val_metric"] > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel("optimizer updates")
    ax.set_ylabel(f"validation {metric}" if metric else "validation metric")
    ax.set_title(f"{task}: validation {metric or 'metric'} vs updates (thin: each seed)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


_COLORS: dict[str, str] = {}


def _color(model: str) -> str:
    if model not in _COLORS:
        _COLORS[model] = f"C{len(_COLORS) % 10}"
    return _COLORS[model]


def accuracy_bars(table: pd.DataFrame, task: str):
    """Headline test metric per model, mean ± 95% CI over seeds, with the naive baseline and the task's
    'solved' threshold as lines; the title names the view (matched budget or equal width)."""
    from suite.report.tables import VIEW_TITLES
    t = table[table["task"] == task]
    if t.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.bar(t["model"], t["mean"], yerr=t["ci95"].fillna(0), capsize=4, color=[_color(m) for m in t["model"]])
    ax.axhline(t["baseline"].iloc[0], color="k", ls="--", lw=1, label=f"baseline ({t['baseline_name'].iloc[0]})")
    solved = t["solved_at"].iloc[0] if "solved_at" in t else float("nan")
    if pd.notna(solved):
        ax.axhline(solved, color="g", ls=":", lw=1, label=f"solved ({solved:g})")
    view = VIEW_TITLES.get(t["view"].iloc[0], "") if "view" in t else ""
    n = int(t["n_seeds"].min()) if "n_seeds" in t else 0
    ax.set_ylabel(t["metric"].iloc[0])
    ax.set_title(f"{task}: test {t['metric'].iloc[0]}{', ' + view if view else ''} (mean ± 95% CI, {n} seeds)",
                 fontsize=9)
    ax.tick_params(axis="x", rotation=30, labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def params_bars(frame: pd.DataFrame):
    """Counted parameters per arch at each configured size (one framework per arch: the first found)."""
    p = frame[(frame["kind"] == "params") & (frame["metric"] == "params_counted")]
    p = p[p["convention"].fillna("reset_after") == "reset_after"] if not p.empty else p
    if p.empty:
        return None
    p = p.assign(size=[f"L={int(l)}\nH={int(h)}" for l, h in zip(p["layers"], p["hidden"])])
    piv = p.pivot_table(index="size", columns="arch", values="value", aggfunc="min", sort=False)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    width = 0.8 / len(piv.columns)
    for i, arch in enumerate(piv.columns):
        ax.bar([x + i * width for x in range(len(piv))], piv[arch], width, label=arch, color=f"C{i}")
    ax.set_xticks([x + width * (len(piv.columns) - 1) / 2 for x in range(len(piv))], piv.index, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("parameters (counted)")
    ax.set_title("Parameters per arch at equal width")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def gru_vs_lstm_bars(table: pd.DataFrame):
    """Per task: GRU and LSTM headline test metric (mean ± 95% CI) side by side, one pair per framework (the
    reference convention; an LSTM at its headline forget-bias arm)."""
    if not table.empty:
        plain = table["model"] == table["arch"] + "-" + table["framework"]
        arm = (table["arch"] == "lstm") & table["headline_arm"].astype(str).isin(["True", "true", "1", "1.0"]) \
            if "headline_arm" in table else False
        table = table[table["arch"].isin(["gru", "lstm"]) & (plain | arm)]
    t = table
    if t.empty:
        return None
    tasks = list(t["task"].unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        g = t[t["task"] == task]
        frameworks = list(g["framework"].unique())
        for i, arch in enumerate(("gru", "lstm")):
            a = g[g["arch"] == arch].set_index("framework").reindex(frameworks)
            ax.bar([x + 0.4 * i for x in range(len(frameworks))], a["mean"], 0.4, yerr=a["ci95"].fillna(0),
                   capsize=3, label=arch.upper(), color=f"C{i}")
        ax.set_xticks([x + 0.2 for x in range(len(frameworks))], frameworks, fontsize=8)
        ax.set_title(f"{task}: {g['metric'].iloc[0]}", fontsize=9)
        ax.axhline(g["baseline"].iloc[0], color="k", ls="--", lw=1)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("GRU vs LSTM (mean ± 95% CI over seeds; dashed: naive baseline)", fontsize=9)
    fig.tight_layout()
    return fig


def edge_latency(frame: pd.DataFrame):
    """Per-step latency (median, IQR as error bar) of each model in its edge runtime, fp32 and int8, beside
    the framework's own eager step; log scale."""
    from suite.report.tables import edge_table
    t = edge_table(frame)
    if t.empty:
        return None
    t = t[t["step_latency_us"].notna()]
    labels = [f"{m}\n{r} {p}" for m, r, p in zip(t["model"], t["runtime"], t["precision"])]
    colors = [{"onnxruntime": "C0", "litert": "C2"}.get(r, "C7") for r in t["runtime"]]
    fig, ax = plt.subplots(figsize=(max(6.4, 0.45 * len(t)), 4))
    ax.bar(range(len(t)), t["step_latency_us"], yerr=t["latency_iqr_us"].fillna(0) / 2, capsize=3, color=colors,
           hatch=None)
    for i, p in enumerate(t["precision"]):
        if p == "int8":
            ax.patches[i].set_hatch("//")
    ax.set_xticks(range(len(t)), labels, rotation=90, fontsize=6)
    ax.set_yscale("log")
    ax.set_ylabel("µs per step (median; bar: IQR)")
    ax.set_title("Streaming step at batch 1, one thread: edge runtimes (hatched: int8) vs the framework (grey)")
    fig.tight_layout()
    return fig


def long_context_accuracy(table: pd.DataFrame):
    """Test accuracy (mean ± 95% CI over seeds) vs the sweep (mqar pairs, copy delay), one line per model,
    chance and the solved bar dashed; one panel per task."""
    if table is None or table.empty:
        return None
    tasks = list(table["task"].unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        g = table[table["task"] == task]
        for model, m in g.groupby("model", sort=True):
            arch = model.split("-")[0]
            ax.errorbar(m["size"], m["mean"], yerr=m["ci95"].fillna(0), capsize=3, marker="o",
                        ls=STYLE.get(arch, "-."), label=model)
        ax.axhline(g["baseline"].iloc[0], color="k", ls="--", lw=1, label="chance")
        if g["solved"].notna().any():
            ax.axhline(g["solved"].dropna().iloc[0], color="g", ls=":", lw=1, label="solved")
        ax.set_xticks(sorted(int(s) for s in g["size"].unique()))
        ax.set_xlabel("key-value pairs N" if task == "mqar" else "delay T")
        ax.set_ylabel(f"test {g['metric'].iloc[0]}")
        ax.set_title(f"{task} at {int(g['params'].median()):,} parameters")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def long_context_sweep(frame: pd.DataFrame, kind: str, metric: str, ylabel: str, title: str):
    """``metric`` vs T on log-log axes, one line per model (the long-context T sweep)."""
    data = frame[(frame["kind"] == kind) & (frame["status"] == "ok") & (frame["metric"] == metric)]
    if kind == "speed" and "sweep" in data:
        data = data[data["sweep"] == "long_context"]
    if data.empty or data["T"].nunique() < 2:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    _lines(ax, data, "T")
    _log2_ticks(ax, data["T"])
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _ci_errors(values, lo, hi):
    """Asymmetric error bars (2, n) from CI bounds; zero where a bound is missing."""
    import numpy as np
    v, lo, hi = (np.asarray(a, dtype=float) for a in (values, lo, hi))
    return np.vstack([np.nan_to_num(v - lo), np.nan_to_num(hi - v)])


def transformer_crossover(table: pd.DataFrame):
    """Transformer / best recurrent train step vs T per framework, with bootstrap 95% CIs; the band
    1 ± TOLERANCE (``suite.bench.ratios``) is 'within noise', below it the Transformer is faster."""
    if table is None or table.empty or table["T"].nunique() < 2:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for fw, g in table.groupby("framework", sort=True):
        g = g.sort_values("T")
        ax.errorbar(g["T"], g["ratio"], yerr=_ci_errors(g["ratio"], g["ci_lo"], g["ci_hi"]), marker=MARK.get(fw, "o"),
                    capsize=3, label=fw)
    ax.axhspan(1 - TOLERANCE, 1 + TOLERANCE, color="grey", alpha=0.2, label=f"within noise ({tolerance_text()})")
    ax.axhline(1.0, color="k", lw=0.8)
    _log2_ticks(ax, table["T"])
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("Transformer / best recurrent train step")
    ax.set_title("Where the Transformer's train step becomes cheaper (95% CI)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def thread_speedup(table: pd.DataFrame):
    """Speedup t(1 thread) / t(all cores) per model, train step and inference, with bootstrap 95% CIs."""
    if table is None or table.empty:
        return None
    metrics = [m for m in ("train_step_ms", "infer_ms") if m in set(table["metric"])]
    models = sorted(table["model"].unique())
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    width = 0.8 / len(metrics)
    for i, metric in enumerate(metrics):
        g = table[table["metric"] == metric].set_index("model").reindex(models)
        ax.bar([x + i * width for x in range(len(models))], g["speedup"], width,
               yerr=_ci_errors(g["speedup"], g["ci_lo"], g["ci_hi"]), capsize=3, color=f"C{i}",
               label={"train_step_ms": "train step", "infer_ms": "inference"}[metric])
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks([x + width * (len(metrics) - 1) / 2 for x in range(len(models))], models, fontsize=7,
                  rotation=30)
    ax.set_ylabel(f"speedup, {table['threads'].iloc[0]} threads")
    ax.set_title("Thread scaling at the base shape (95% CI)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def verdict_table(table: pd.DataFrame, width_in: float = 10.0, fontsize: float = 11.0):
    """The verdict summary as a picture (the README's): one row per claim, the columns of ``table`` (claim,
    verdict, optionally deciding number) wrapped to fit ``width_in`` inches, the verdict cell coloured as in
    the report (suite.report.render.VERDICT_COLOURS). None without claims."""
    from textwrap import wrap

    from matplotlib.patches import Rectangle

    from suite.report.document import Verdict
    from suite.report.render import VERDICT_COLOURS, cell_text, verdict_class
    if table is None or table.empty:
        return None
    shares = {"claim": 0.36, "verdict": 0.2, "deciding number": 0.44} if "deciding number" in table else \
        {"claim": 0.42, "verdict": 0.58}
    columns = [c for c in shares if c in table]
    char_in, line_in, pad = fontsize * 0.6 / 72, fontsize * 1.45 / 72, 0.07   # DejaVu Sans: ~0.55 em a character

    def lines(value, column):
        text = value.text if isinstance(value, Verdict) else cell_text(value)
        return wrap(text, max(8, int((shares[column] * width_in - 2 * pad) / char_in))) or [""]

    rows = [[(c, [c], "#f3f3f3") for c in columns]]
    for _, r in table.iterrows():
        rows.append([(c, lines(r[c], c), VERDICT_COLOURS[verdict_class(r[c].word)] if isinstance(r[c], Verdict)
                      else "white") for c in columns])
    heights = [max(len(cell[1]) for cell in row) * line_in + 2 * pad for row in rows]
    fig = plt.figure(figsize=(width_in, sum(heights)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.01, width_in + 0.01)          # the outer borders inside the picture
    ax.set_ylim(sum(heights) + 0.01, -0.01)
    ax.axis("off")
    y = 0.0
    for i, (row, h) in enumerate(zip(rows, heights)):
        x = 0.0
        for column, text, fill in row:
            w = shares[column] * width_in
            ax.add_patch(Rectangle((x, y), w, h, facecolor=fill, edgecolor="#bbbbbb", linewidth=0.8))
            ax.text(x + pad, y + pad, "\n".join(text), va="top", ha="left", fontsize=fontsize, linespacing=1.3,
                    fontweight="bold" if i == 0 else "normal")
            x += w
        y += h
    return fig


def side_by_side_curves(curves: pd.DataFrame, task: str, metric: str):
    """The side-by-side models' validation curves overlaid, one panel per seed (rows of kind side_by_side): the
    three reference implementations from the same initial weights, and the null (the same framework from weights
    moved 1 ulp, dashed black). Validation headline metric vs updates; log scale for a loss."""
    from suite.report.statistics import LOWER_IS_BETTER
    if curves.empty or "kind" not in curves:
        return None
    data = curves[(curves["kind"] == "side_by_side") & (curves["task"] == task)]
    if data.empty:
        return None
    seeds = sorted(data["seed"].unique())
    fig, axes = plt.subplots(1, len(seeds), figsize=(2.6 * len(seeds) + 0.6, 3.2), squeeze=False, sharey=True)
    nulls = set(data.dropna(subset=["null_of"])["model"]) if "null_of" in data else \
        {m for m in data["model"].unique() if "-ulp" in m}
    for ax, seed in zip(axes[0], seeds):
        for model, g in data[data["seed"] == seed].groupby("model", sort=False):
            g = g.sort_values("updates")
            if model in nulls:
                ax.plot(g["updates"], g["val_metric"], "k--", lw=1, label=model)
            else:
                ax.plot(g["updates"], g["val_metric"], "-", marker=MARK.get(model.split("-")[1], "o"), markersize=3,
                        lw=1, alpha=0.8, label=model)
        ax.set_title(f"seed {seed}", fontsize=9)
        ax.set_xlabel("updates", fontsize=8)
        ax.grid(True, alpha=0.3)
    values = data["val_metric"].astype(float)
    if metric in LOWER_IS_BETTER and (values > 0).all():
        axes[0][0].set_yscale("log")
    axes[0][0].set_ylabel(f"validation {metric}", fontsize=8)
    axes[0][-1].legend(fontsize=6)
    fig.suptitle(f"{task}: reference implementations side by side (same initial weights, data, batches); dashed: "
                 "the null (1 ulp)", fontsize=9)
    fig.tight_layout()
    return fig


def forget_bias_bars(table: pd.DataFrame):
    """Per task: the GRU and the LSTM at each forget-gate bias arm, headline test metric (mean ± 95% CI over seeds),
    with the naive baseline dashed (the accuracy table of the headline view)."""
    from suite.report.statistics import LOWER_IS_BETTER
    if table.empty or "forget_bias" not in table:
        return None
    t = table[(table["arch"] == "gru") & (table["model"] == table["arch"] + "-" + table["framework"])
              | ((table["arch"] == "lstm") & table["forget_bias"].notna())]
    t = t[t["task"].isin(t[t["arch"] == "lstm"]["task"])]
    if t.empty or not (t["arch"] == "lstm").any():
        return None
    tasks = list(t["task"].unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(max(3.4 * len(tasks), 5.6), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        g = t[t["task"] == task]
        ax.bar(range(len(g)), g["mean"], yerr=g["ci95"].fillna(0), capsize=3,
               color=["C0" if a == "gru" else "C1" for a in g["arch"]])
        ax.set_xticks(range(len(g)), g["model"], rotation=30, fontsize=7)
        ax.axhline(g["baseline"].iloc[0], color="k", ls="--", lw=1)
        if g["metric"].iloc[0] in LOWER_IS_BETTER:
            ax.set_yscale("log")
        ax.set_title(f"{task}: {g['metric'].iloc[0]}", fontsize=9)
    fig.suptitle("GRU vs LSTM forget-bias arms\n(mean ± 95% CI over seeds; dashed: naive baseline)", fontsize=9)
    fig.tight_layout()
    return fig


def learning_rate_search(tune: pd.DataFrame, table: pd.DataFrame, task: str):
    """The learning-rate search on one task: the validation headline metric at each run's best checkpoint vs the
    learning rate (log x), per arch each tuning seed as a point and the mean over the seeds as a line, the chosen
    rate circled (chosen by the mean best validation loss: suite.results.lr_selection). Diverged runs have no
    point. None without tuning rows for the task."""
    from suite.report.statistics import LOWER_IS_BETTER
    t = tune[(tune["task"] == task) & (tune["status"] == "ok")] if not tune.empty else tune
    if t.empty or "headline_metric" not in t:
        return None
    metric = t["headline_metric"].dropna().iloc[0]
    points = t[(t["metric"] == metric) & (t["split"] == "val")].assign(value=lambda d: d["value"].astype(float))
    if points.empty:
        return None
    chosen = {} if table.empty else {a: lr for tk, a, lr in zip(table["task"], table["arch"], table["chosen lr"])
                                     if tk == task and pd.notna(lr)}
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, (arch, g) in enumerate(points.groupby("arch", sort=True)):
        colour = f"C{i}"
        ax.scatter(g["lr"], g["value"], color=colour, s=14, alpha=0.6)
        mean = g.groupby("lr")["value"].mean().sort_index()
        ax.plot(mean.index, mean.values, STYLE.get(arch, "-"), color=colour, label=f"{g['model'].iloc[0]} (mean)")
        if arch in chosen and chosen[arch] in mean.index:
            ax.scatter([chosen[arch]], [mean[chosen[arch]]], s=140, facecolors="none", edgecolors=colour,
                       linewidths=1.8, zorder=3)
    ax.set_xscale("log")
    ax.set_xticks(sorted(points["lr"].unique()))
    ax.set_xticklabels([f"{v:g}" for v in sorted(points["lr"].unique())])
    ax.minorticks_off()
    if metric in LOWER_IS_BETTER and (points["value"] > 0).all():
        ax.set_yscale("log")
    seeds = ", ".join(str(int(s)) for s in sorted(points["seed"].unique()))
    ax.set_xlabel("learning rate (Adam)")
    ax.set_ylabel(f"validation {metric} (best checkpoint)")
    ax.set_title(f"{task}: learning-rate search, tuning seeds {seeds} (points), mean (line), chosen (circle)",
                 fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
