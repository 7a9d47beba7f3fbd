"""The report's Details: one function per section, each selecting its rows and returning a Section
(suite.report.document) of paragraphs, tables and lazily drawn figures. Nothing here writes a file or
formats Markdown; suite.report.writer writes the CSVs and figures, suite.report.render the pages.

Every number comes from the run's results.csv / curves.csv / samples.json.gz or its config; the only figures
typed by hand are the published ones of Chung et al. 2014 (Table 2, JSB Chorales test NLL), quoted as such
next to our measurement.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from suite.bench.drift import ALPHA as DRIFT_ALPHA, MIN_SHIFT as DRIFT_MIN_SHIFT
from suite.bench.ratios import TOLERANCE
from suite.bench.speed import GUARD_BUDGET_S, OVERSUBSCRIBED
from suite.bench.timer import NOISY_RELATIVE_IQR
from suite.report import figures
from suite.report.document import Bullets, Figure, Link, Section, Table, section
from suite.report.settings import ReportSettings
from suite.report.tables import (VIEW_TITLES, accuracy_table, edge_table, execution_table, gru_vs_lstm,
                                 headline_view, ok_rows, solved_table, speed_table)

CHUNG_2014_JSB_NLL = {"gru": 8.54, "lstm": 8.67}   # Chung et al. 2014, Table 2, JSB Chorales, test NLL


def details(frame: pd.DataFrame, curves: pd.DataFrame, samples: dict | None, settings: ReportSettings) -> Section:
    """Everything below the claims, in this order: notebooks, failures, parameters, speed, accuracy, paper
    check, long context, edge, equivalence (a section without data in this run is left out or says so)."""
    return section("Details", subsections=(
        notebooks(frame), failures(frame), parameters(frame), speed(frame, settings, samples),
        accuracy(frame, curves, settings), paper_check(frame), long_context(frame), edge(frame), equivalence(frame)))


def notebooks(frame: pd.DataFrame) -> Section | None:
    nb = frame[frame["kind"] == "notebook"]
    if nb.empty:
        return None
    items = []
    for _, r in nb.iterrows():
        link = f"[{r['model']}]({r['html']})" if isinstance(r.get("html"), str) else r["model"]
        error = f" — {r['error']}" if isinstance(r.get("error"), str) else ""
        items.append(f"{link} ([ipynb]({r['notebook']})): {r['status']}, {float(r['value']):.1f} s{error}")
    return section("Executed notebooks", Bullets(tuple(items)))


def failures(frame: pd.DataFrame) -> Section:
    bad = frame[frame["status"].isin(["failed", "skipped", "truncated"])]
    if bad.empty:
        return section("Failures, skipped and truncated work units", "None.")
    cols = [c for c in ("work_unit", "kind", "task", "model", "seed", "status", "error", "notebook") if c in bad]
    t = bad[cols].drop_duplicates(subset=["work_unit"]).copy()
    if "notebook" in t:
        t["notebook"] = [Link(n, Path(n).with_suffix(".html").as_posix()) if isinstance(n, str) else ""
                         for n in t["notebook"]]
    return section("Failures, skipped and truncated work units", Table(t))


PARAMS_TEXT = ("Counted by the framework (numel / count_params); the last column says at how many sizes the formula "
               "of its convention gives the same number (input size and head as in the config's `params` section; "
               "every row in [params_long.csv](tables/params_long.csv)).")
BUDGET_TEXT = ("Matched budget ({budget:,} parameters, chorales shapes X=O=88; ≤ 10% over as in Long Range "
               "Arena):")


def parameters(frame: pd.DataFrame) -> Section:
    """Counted parameters per model and size, whether the convention's formula agrees, the matched widths."""
    blocks = []
    p = frame[(frame["kind"] == "params") & (frame["metric"] == "params_counted")]
    if not p.empty:
        formula = pd.to_numeric(p["formula"], errors="coerce")      # NaN: a plugin arch without a formula
        p = p.assign(agree=[None if f != f else int(v) == int(f) for v, f in zip(p["value"], formula)],
                     size=[f"L={int(l)} H={int(h)}" for l, h in zip(p["layers"], p["hidden"])])
        t = p.pivot_table(index=["model", "convention_label"], columns="size", values="value", aggfunc="first",
                          sort=False)
        t = t[sorted(t.columns, key=lambda c: tuple(int(x.split("=")[1]) for x in c.split()))]
        agree = p.groupby(["model", "convention_label"], sort=False)["agree"].agg(
            lambda a: f"{sum(x is True for x in a)}/{len(a)}" if a.notna().any() else "no formula")
        t = t.astype(int).join(agree.rename("formula agrees")).reset_index().rename(
            columns={"convention_label": "convention"})
        long = p[["model", "hidden", "layers", "value", "formula", "convention_label", "agree"]]
        blocks += [PARAMS_TEXT, Table(long, "params_long", shown=False), Table(t, "params", ".6g")]
    b = frame[(frame["kind"] == "params") & (frame["metric"] == "budget_width")]
    if not b.empty:
        widths = b[["model", "value", "params"]].rename(columns={"value": "width H", "params": "achieved params"})
        blocks += [BUDGET_TEXT.format(budget=int(b["budget"].iloc[0])), Table(widths, "budget_widths", ".6g")]
    return section("Parameters", *blocks)


SPEED_TEXT = ("Medians at B={s.speed_batch}, T={s.speed_seq_len}, X={s.speed_input_size}, H={s.speed_hidden}; "
              "each framework in its own process, {s.threads} thread(s), interleaved A/B × {s.speed_repeats}, at "
              "least {s.speed_min_samples} samples per measurement. Floating-point policy: denormals "
              "**{s.denormals}** in every worker, applied before its first op (the mode each framework's kernels "
              "were observed to run under is the ledger's `fp_mode`). Ratios carry a bootstrap 95% CI from the raw "
              "samples ([samples.json.gz](samples.json.gz)); 'faster'/'slower' only when the whole CI lies outside "
              "±{tolerance:.0%}.")
EFFICIENCY_TEXT = ("Achieved GFLOP/s = analytic FLOPs (matrix products, multiply-add = 2; training step = 3 × "
                   "forward) / median time, against the best float32 matmul throughput of that framework measured "
                   "in the same worker:")
FLAGS_TEXT = ("{noisy} of {n} speed figures had IQR/median > {iqr:.0%} (flagged `noisy` in results.csv); {unstable} "
              "were `unstable` (their samples drifted between the first and second half of every round even after "
              "a retake: Mann-Whitney p < {alpha:g} and medians > {shift:.0%} apart) and enter no claim.")


def speed(frame: pd.DataFrame, s: ReportSettings, samples: dict | None) -> Section:
    """The base shape's medians, GRU / LSTM there, efficiency, the sweeps' figures, how many figures were
    noisy or unstable; then the Transformer crossover, thread scaling and the fairness ledger."""
    from suite.report.speed_evidence import crossover_table
    H, T = s.speed_hidden, s.speed_seq_len
    return section(
        "Speed",
        SPEED_TEXT.format(s=s, tolerance=TOLERANCE), Table(speed_table(frame, T, H), "speed"),
        *_gru_lstm_speed(frame, T, H, samples), *_efficiency(frame, T, H),
        Figure("train_step_vs_T", "train step vs T", lambda: figures.speed_sweep(frame, "T", "hidden", H)),
        Figure("train_step_vs_H", "train step vs H", lambda: figures.speed_sweep(frame, "hidden", "T", T)),
        Figure("streaming_latency", "streaming latency vs context", lambda: figures.streaming_latency(frame)),
        *_speed_flags(frame),
        subsections=(_crossover(crossover_table(frame, H, samples), H), _thread_scaling(frame, samples),
                     _ledger(frame)))


def _gru_lstm_speed(frame: pd.DataFrame, T: int, H: int, samples: dict | None) -> list:
    from suite.report.speed_evidence import pair_ratio, reference_convention
    sp = ok_rows(frame, "speed")
    if sp.empty:
        return []
    base = reference_convention(sp[(sp["T"] == T) & (sp["hidden"] == H)])
    pairs = []
    for (fw, metric), g in base[base["metric"].isin(["train_step_ms", "infer_ms"])].groupby(["framework", "metric"]):
        gru, lstm = g[g["arch"] == "gru"], g[g["arch"] == "lstm"]
        if len(gru) and len(lstm):
            r = pair_ratio([gru.iloc[0]], [lstm.iloc[0]], samples)
            pairs.append({"framework": fw, "metric": metric, "GRU / LSTM": r["ratio"], "ci_lo": r["lo"],
                          "ci_hi": r["hi"], "mark": r["mark"]})
    if not pairs:
        return []
    return ["GRU / LSTM at the base shape (ratio, bootstrap 95% CI, mark):", Table(pd.DataFrame(pairs),
                                                                                  "gru_lstm_speed")]


def _efficiency(frame: pd.DataFrame, T: int, H: int) -> list:
    sp = ok_rows(frame, "speed")
    if sp.empty or "gflop_s" not in sp:
        return []
    eff = sp[sp["metric"].isin(["train_step_ms", "infer_ms"]) & (sp["T"] == T) & (sp["hidden"] == H)]
    eff = eff[["model", "metric", "value", "flops", "gflop_s", "peak_gflops", "peak_fraction"]].rename(
        columns={"metric": "what", "value": "median", "peak_gflops": "framework matmul peak GFLOP/s",
                 "peak_fraction": "fraction of peak"})
    return [EFFICIENCY_TEXT, Table(eff, "efficiency")]


def _speed_flags(frame: pd.DataFrame) -> list:
    """How many speed figures were noisy (IQR/median over the timer's threshold) or unstable (drifted: left
    out of every claim), and the unstable ones."""
    rows = frame[frame["kind"].isin(["speed", "speed_threads"]) & (frame["status"].isin(["ok", "unstable"]))]
    if rows.empty:
        return []
    noisy = rows["noisy"].astype(str).isin(["True", "true", "1"]) if "noisy" in rows else pd.Series(False)
    unstable = rows[rows["status"] == "unstable"]
    text = FLAGS_TEXT.format(noisy=int(noisy.sum()), n=len(rows), iqr=NOISY_RELATIVE_IQR, unstable=len(unstable),
                             alpha=DRIFT_ALPHA, shift=DRIFT_MIN_SHIFT)
    if not len(unstable):
        return [text]
    cols = [c for c in ("kind", "model", "metric", "T", "hidden", "context", "threads", "value", "error")
            if c in unstable]
    return [text, Table(unstable[cols], "speed_unstable")]


def _crossover(cross: pd.DataFrame, H: int) -> Section | None:
    if cross.empty:
        return None
    return section("Transformer vs the best recurrent model over T",
                   f"Transformer / best recurrent (lower of GRU and LSTM at each T) train step at H={H}:",
                   Table(cross, "transformer_crossover"),
                   Figure("transformer_crossover", "Transformer / recurrent vs T",
                          lambda: figures.transformer_crossover(cross)))


GAVE_UP_TEXT = ("{n} thread-scaling measurement(s) given up (oversubscribed: more than {factor:g}x the one-thread "
                "time and more than {budget:g} s per measurement), e.g. {example}.")
THREADS_TEXT = ("Train step and inference at the base shape at {threads} threads (the counts interleaved in each "
                "round); speedup = time at the fewest / at the most threads with its bootstrap 95% CI, efficiency = "
                "speedup / thread ratio. `load_avg` is the highest 1-minute load average seen around the "
                "measurements: above the core count, other processes took cores from the multi-thread runs.")


def _thread_scaling(frame: pd.DataFrame, samples: dict | None) -> Section | None:
    """Speedup t(1 thread) / t(all cores) per model: table and figure (the parallelisation claim's evidence),
    and the measurements given up as oversubscribed."""
    from suite.report.speed_evidence import thread_scaling_table
    table = thread_scaling_table(frame, samples)
    gave_up = frame[(frame["kind"] == "speed_threads") & (frame["status"] == "skipped")]
    note = GAVE_UP_TEXT.format(n=len(gave_up), factor=OVERSUBSCRIBED, budget=GUARD_BUDGET_S,
                               example=gave_up["error"].iloc[0]) if len(gave_up) else None
    if table.empty:
        return section("Thread scaling", note) if note else None
    return section("Thread scaling", note, THREADS_TEXT.format(threads=table["threads"].iloc[0]),
                   Table(table, "thread_scaling"),
                   Figure("thread_scaling", "thread scaling", lambda: figures.thread_speedup(table)))


def _ledger(frame: pd.DataFrame) -> Section:
    every = frame[frame["kind"].isin(["speed", "speed_threads"]) & (frame["status"] != "skipped")]
    if every.empty:
        return section("Fairness ledger")
    cols = [c for c in ("model", "framework", "threads", "device", "fp_policy", "fp_mode", "exec_path",
                        "framework_version") if c in every]
    ledger = every[cols].drop_duplicates(subset=[c for c in ("model", "threads", "fp_mode") if c in every])
    return section("Fairness ledger", Table(ledger, "ledger"))


PROTOCOL_TEXT = ("Protocol: Adam (lr {s.lr:g}, global-norm clip {s.clip_norm}), batch {s.batch_size}, a budget "
                 "counted in optimizer updates (epochs x floor(n_train / batch)), the same for every model on a task "
                 "({per_task}); {stop}; the weights of the lowest validation loss are scored on the test split. "
                 "Seeds: {seeds} (a seed fixes the split and the initial weights), so a rerun gives the same numbers "
                 "whatever else the machine is doing. Wall-clock seconds are recorded (curves per second) but "
                 "decide nothing; the safety cap ({cap} per run) marks a run `truncated`, and truncated runs stay "
                 "out of the statistics.")
VIEW_TEXT = {"budget": ("**matched parameter budget** ({budget:,} parameters: per arch and task the width whose count "
                        "is closest, at most 10% over, as in Long Range Arena; Chung et al. 2014 matched GRU and LSTM "
                        "budgets)"),
             "width": "**equal width** (H = {hidden} for every arch, so parameter counts differ)"}


def _protocol(s: ReportSettings, table: pd.DataFrame) -> list[str]:
    """The training protocol in words, every number from the config and the results."""
    updates = table.drop_duplicates("task")[["task", "updates"]]
    per_task = ", ".join(f"{r.task} {int(r.updates):,}" for r in updates.itertuples() if r.updates is not None)
    stop = (f"early stopping after {s.patience} epochs without a lower validation loss (a function of the seed)"
            if s.patience else "no early stopping: every run gets the whole budget")
    cap = f"{s.max_seconds:g} s" if s.max_seconds else "none"
    protocol = PROTOCOL_TEXT.format(s=s, per_task=per_task, stop=stop, seeds=", ".join(map(str, s.seeds)), cap=cap)
    views = [VIEW_TEXT[v].format(budget=s.budget, hidden=s.width_hidden) if v != "budget" or s.budget else ""
             for v in dict.fromkeys(table["view"])]
    second = f" Second view: {views[1]}." if len(views) > 1 else ""
    return [protocol, f"Headline view: {views[0]}.{second} The claims use the headline view only."]


VIEW_TABLE_TEXT = ("Headline test metric, mean ± 95% CI (Student t) over the seeds that ran to their budget, the "
                   "task's naive baseline and its 'solved' threshold beside it.")
SOLVED_TEXT = ("A task discriminates only if its best model reaches the task's 'solved' threshold in the budget "
               "(a task nobody solves leaves differences to noise):")
GRU_VS_LSTM_TEXT = ("Per view, task and framework over the seeds (≥ {min_seeds} needed for any outcome): "
                    "**comparable** only when equivalence is shown by TOST (two one-sided Welch tests, α = {alpha}) at "
                    "the metric's margin — {margins} — **different** when Welch's t-test gives p < {alpha} (effect: "
                    "difference, or ratio for losses, with its 95% CI and Cohen's d), otherwise **inconclusive**, with "
                    "the seeds per model a difference of the observed size would need for 80% power. Formulas: "
                    "`suite/report/statistics.py`.")
EXECUTION_TEXT = ("Training units ran on Dask workers, one unit at a time per worker; CPU/wall is the CPU seconds of "
                  "the workers and this process over the stage's wall-clock seconds (near the number of workers when "
                  "every core is busy).")
ACCURACY_COLUMNS = ["task", "model", "hidden", "params", "metric", "mean", "ci95", "n_seeds", "baseline",
                    "baseline_name", "solved_at", "updates", "train_seconds", "truncated", "failed"]


def accuracy(frame: pd.DataFrame, curves: pd.DataFrame, s: ReportSettings) -> Section:
    """The protocol, one table per view (the headline view with its per-task figures), which tasks
    discriminate, GRU vs LSTM, and how the training units ran."""
    from suite.report.statistics import ALPHA, MIN_SEEDS, margin_for
    table = accuracy_table(frame)
    if table.empty:
        return section("Accuracy", "_(no accuracy runs in this run)_")
    views = []
    for i, view in enumerate(dict.fromkeys(table["view"])):
        title = f"{'Headline' if i == 0 else 'Second view'}: {VIEW_TITLES.get(view, view)}"
        task_figures = _accuracy_figures(frame, table, curves) if i == 0 else []
        views.append(section(title, VIEW_TABLE_TEXT, Table(table[table["view"] == view][ACCURACY_COLUMNS],
                                                           f"accuracy_{view}"), *task_figures))
    margins = "; ".join(f"{m}: {margin_for(m).text}" for m in dict.fromkeys(table["metric"]))
    ex = execution_table(frame)
    return section(
        "Accuracy", *_protocol(s, table),
        subsections=(*views,
                     section("Does each task tell the models apart?", SOLVED_TEXT,
                             Table(solved_table(frame), "solved")),
                     section("GRU vs LSTM", GRU_VS_LSTM_TEXT.format(min_seeds=MIN_SEEDS, alpha=ALPHA, margins=margins),
                             Table(gru_vs_lstm(frame), "gru_vs_lstm")),
                     section("Execution", EXECUTION_TEXT, Table(ex, "execution")) if not ex.empty else None))


def _accuracy_figures(frame: pd.DataFrame, table: pd.DataFrame, curves: pd.DataFrame) -> list[Figure]:
    """Per task of the headline view: accuracy bars, learning curves per epoch and per second."""
    view = headline_view(frame)
    head = table[table["view"] == view]
    if not curves.empty and "view" in curves:
        curves = curves[curves["view"].fillna("width") == view]
    out = []
    for task in head["task"].unique():
        out += [Figure(f"accuracy_{task}", f"{task} accuracy", lambda task=task: figures.accuracy_bars(head, task)),
                Figure(f"curves_{task}_epochs", f"{task} curves/epoch",
                       lambda task=task: figures.learning_curves(curves, task, "epoch")),
                Figure(f"curves_{task}_seconds", f"{task} curves/s",
                       lambda task=task: figures.learning_curves(curves, task, "seconds"))]
    return out


PAPER_TEXT = ("Our data is JSB-*style*: music21's bundled Bach chorales (not the 2012 Boulanger-Lewandowski pickle), "
              "88-key piano roll at quarter notes, NLL per step summed over keys. Chung et al. 2014, Table 2 (JSB "
              "Chorales test NLL) is quoted beside it; same budget, different data and training length, so compare "
              "the GRU–LSTM ordering rather than the absolute values.")


def paper_check(frame: pd.DataFrame) -> Section:
    title = "Paper check: Chung et al. 2014, JSB-style chorales"
    table = accuracy_table(frame, kind="paper")
    if table.empty:
        return section(title, "_(not run)_")
    table = table.assign(chung_2014=[CHUNG_2014_JSB_NLL.get(a) for a in table["arch"]])
    tests = gru_vs_lstm(frame, kind="paper")
    return section(title, PAPER_TEXT,
                   Table(table[["model", "params", "hidden", "mean", "ci95", "n_seeds", "baseline", "updates",
                                "truncated", "chung_2014"]], "paper_check"),
                   *(["GRU vs LSTM on the chorales (same rules as the accuracy comparison):",
                      Table(tests.drop(columns=["view"]), "paper_gru_vs_lstm")] if not tests.empty else []))


LONG_CONTEXT_TEXT = ("Every model at the same parameter budget (its width chosen to match it). Recall: mqar "
                     "(multi-query associative recall, Arora et al. 2023) over the number of key-value pairs, and copy "
                     "at long delays; test accuracy, mean ± 95% CI over seeds. Sweep: train step and inference time, "
                     "and the peak memory of one train step (a fresh process per point, the high-water mark reset "
                     "right before the step) up to the longest T.")


def long_context(frame: pd.DataFrame) -> Section | None:
    """Recall accuracy over the number of pairs, and time and memory over the T sweep."""
    from suite.report.tables import long_context_accuracy_table
    table = long_context_accuracy_table(frame)
    if table.empty and not ("kind" in frame and frame["kind"].isin(["memory"]).any()):
        return None
    blocks = [LONG_CONTEXT_TEXT]
    if not table.empty:
        blocks += [Table(table, "long_context_accuracy"),
                   Figure("long_context_accuracy", "recall vs pairs", lambda: figures.long_context_accuracy(table))]
    sp = frame[(frame["kind"] == "speed") & (frame["sweep"] == "long_context")] if "sweep" in frame else frame.iloc[:0]
    if not sp.empty:
        t = sp[sp["metric"].isin(["train_step_ms", "infer_ms"])].pivot_table(
            index=["model", "hidden", "params"], columns=["metric", "T"], values="value", aggfunc="median")
        t.columns = [f"{m}@T={int(T)}" for m, T in t.columns]
        blocks += [Table(t.reset_index(), "long_context_speed"), Figure(
            "long_context_train_step", "train step vs T", lambda: figures.long_context_sweep(
                frame, "speed", "train_step_ms", "train step, ms (median)", "Train step vs T (matched parameters)"))]
    mem = frame[frame["kind"] == "memory"]
    if not mem.empty:
        t = mem.pivot_table(index=["model", "hidden"], columns=["metric", "T"], values="value", aggfunc="median")
        t.columns = [f"{m}@T={int(T)}" for m, T in t.columns]
        blocks += [Table(t.reset_index(), "long_context_memory"), Figure(
            "long_context_memory", "memory vs T", lambda: figures.long_context_sweep(
                frame, "memory", "train_step_peak_mb", "peak MB of one train step",
                "Training memory vs T (matched parameters)"))]
    return section("Long context", *blocks)


EDGE_TEXT = ("Each torch model's one-token step exported to ONNX (ONNX Runtime), each Keras model's converted to "
             "LiteRT; fp32 must match the framework's own step within 1e-5 over a 50-step stream; int8 is "
             "dynamic quantisation where the runtime supports the op (status 'unsupported' says where not). The "
             "Transformer's state is its key/value cache in fixed buffers. Latency: median, IQR and n of the timed "
             "steps; peak memory: a fresh process's high-water mark minus its size after imports. Rows 'torch' / "
             "'keras' are the framework's own eager step.")


def edge(frame: pd.DataFrame) -> Section | None:
    t = edge_table(frame)
    if t.empty:
        return None
    return section("Edge runtimes (batch 1, one thread)", EDGE_TEXT,
                   Table(t, "edge"), Figure("edge_latency", "edge step latency", lambda: figures.edge_latency(frame)))


def equivalence(frame: pd.DataFrame) -> Section:
    """Largest output and gradient differences of each pair of implementations sharing weights, with tolerances."""
    title = "Equivalence (shared weights, float32)"
    e = frame[frame["kind"] == "equivalence"]
    if e.empty:
        return section(title, "_(not run)_")
    t = e.pivot_table(index=["model", "convention", "hidden", "layers", "T", "B"], columns="metric",
                      values=["value", "tolerance"], aggfunc="max", sort=False)
    t.columns = [m if kind == "value" else m.replace("max_", "tol_") for kind, m in t.columns]
    t = t.reset_index().rename(columns={"model": "pair"})
    t = t[["pair", "convention", "hidden", "layers", "T", "B", "max_out_diff", "tol_out_diff", "max_grad_diff",
           "tol_grad_diff"]]
    for col in ("hidden", "layers", "T", "B"):
        t[col] = t[col].astype(int)
    t["convention"] = [c if str(p).startswith(("numpy-gru", "torch-gru")) else "" for c, p in
                       zip(t["convention"], t["pair"])]
    bad = e[e["status"] != "ok"]
    return section(title, Table(t, "equivalence", ".2e"),
                   f"{len(bad)} comparison(s) outside tolerance." if len(bad) else "Every comparison within tolerance.")
