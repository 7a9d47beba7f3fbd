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
                                 headline_view, learning_rate_table, ok_rows, solved_table, speed_table, tuning_rows)

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


PROTOCOL_TEXT = ("Protocol: Adam ({lr}, global-norm clip {s.clip_norm}), batch {s.batch_size}, a budget "
                 "counted in optimizer updates (epochs x floor(n_train / batch)), the same for every model on a task "
                 "({per_task}); {stop}; the weights of the lowest validation loss over those evaluations are scored on "
                 "the test split. "
                 "Seeds: {seeds} (a seed fixes the split and the initial weights), so a rerun gives the same numbers "
                 "whatever else the machine is doing. Wall-clock seconds are recorded (curves per second) but "
                 "decide nothing; the safety cap ({cap} per run) marks a run `truncated`, and truncated runs stay "
                 "out of the statistics.")
LR_PROTOCOL_TEXT = ("Learning rate: for each task and arch, the rate of the log grid {grid} ({span:.0f}x) with the "
                    "lowest mean, over tuning seeds {tuning_seeds} (never evaluation seeds), of the best validation "
                    "loss; each candidate is the arch's reference model at the headline size trained for the task's "
                    "full budget (a shorter search would favour fast starters), a diverged run scores +inf, ties "
                    "(relative difference ≤ 1e-9) go to the smaller rate, and a rate at either end of the grid is "
                    "flagged. Every implementation of the arch, in both views, then trains at that rate on the "
                    "evaluation seeds. The test split is never read by the search. The paper check keeps lr {lr:g}.")
VIEW_TEXT = {"budget": ("**matched parameter budget** ({budget:,} parameters: per arch and task the width whose count "
                        "is closest, at most 10% over, as in Long Range Arena; Chung et al. 2014 matched GRU and LSTM "
                        "budgets)"),
             "width": "**equal width** (H = {hidden} for every arch, so parameter counts differ)"}


def _protocol(s: ReportSettings, table: pd.DataFrame) -> list[str]:
    """The training protocol in words, every number from the config and the results."""
    updates = table.drop_duplicates("task")[["task", "updates"]]
    per_task = ", ".join(f"{r.task} {int(r.updates):,}" for r in updates.itertuples() if r.updates is not None)
    floor = (f"{s.patience_floor_updates:,} updates" if s.patience_floor_updates else "half the budget")
    stop = (f"early stopping after {s.patience} evaluations without a lower validation loss, never before {floor} "
            "(a function of the seed)" if s.patience else "no early stopping: every run gets the whole budget")
    every = f"every {s.eval_every} updates and after the last" if s.eval_every else "after each epoch"
    stop += f"; the validation split is scored {every}"
    cap = f"{s.max_seconds:g} s" if s.max_seconds else "none"
    tuned = "lr_source" in table and bool((table["lr_source"] == "tuned").any()) and s.lr_grid
    rates = sorted({float(v) for v in table["lr"].dropna()}) if "lr" in table else []
    lr = ("a learning rate per task and arch, chosen on validation: see Learning rate" if tuned else
          f"lr {', '.join(f'{v:g}' for v in rates or [s.lr])} for every model")
    protocol = PROTOCOL_TEXT.format(s=s, lr=lr, per_task=per_task, stop=stop, seeds=", ".join(map(str, s.seeds)),
                                    cap=cap)
    if tuned:
        protocol += " " + LR_PROTOCOL_TEXT.format(grid=", ".join(f"{v:g}" for v in s.lr_grid),
                                                  span=s.lr_grid[-1] / s.lr_grid[0],
                                                  tuning_seeds=", ".join(map(str, s.tuning_seeds)), lr=s.lr)
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
ACCURACY_COLUMNS = ["task", "model", "hidden", "params", "lr", "metric", "mean", "ci95", "n_seeds", "baseline",
                    "baseline_name", "solved_at", "updates", "train_seconds", "truncated", "failed", "forget_bias"]
LEARNING_RATE_TEXT = ("The search per task: validation {metric} of each candidate's best checkpoint (the point of each "
                      "tuning seed, the mean as a line, the chosen rate circled), and per task and arch the chosen "
                      "rate with the mean best validation loss at every rate of the grid (inf: a tuning seed "
                      "diverged). Rule and formula: `suite/results/lr_selection.py`.")


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
        subsections=(*views, learning_rate(frame, s),
                     section("Does each task tell the models apart?", SOLVED_TEXT,
                             Table(solved_table(frame), "solved")),
                     section("GRU vs LSTM", GRU_VS_LSTM_TEXT.format(min_seeds=MIN_SEEDS, alpha=ALPHA, margins=margins),
                             Table(gru_vs_lstm(frame), "gru_vs_lstm")),
                     training_states(frame, s), time_to_target(frame, s),
                     forget_bias_arms(frame, table, s), side_by_side(frame, curves),
                     section("Execution", EXECUTION_TEXT, Table(ex, "execution")) if not ex.empty else None))


def task_targets(frame: pd.DataFrame, kind: str = "accuracy") -> dict[str, tuple[float, str]]:
    """{task: (target, metric)} from the runs' target_<metric> rows (the task's time-to-quality target)."""
    rows = frame[(frame["kind"] == kind) & frame["metric"].astype(str).str.startswith("target_")]
    return {r["task"]: (float(r["value"]), str(r["metric"]).removeprefix("target_"))
            for _, r in rows.drop_duplicates("task").iterrows()}


def learning_rate(frame: pd.DataFrame, s: ReportSettings) -> Section | None:
    """The learning-rate search: per task a figure of validation metric vs rate per arch, and the table of the
    chosen rates (edge choices and units without a result named in the text). None when nothing was searched."""
    tune = tuning_rows(frame)
    table = learning_rate_table(frame, s.lr_grid, s.tuning_seeds, s.tuning_pairs)
    if table.empty:
        return None
    metric = ", ".join(dict.fromkeys(tune["headline_metric"].dropna())) or "metric"
    edge = table[table["edge"] == "yes"]
    notes = []
    if len(edge):
        notes.append("**At the edge of the grid** (the best rate may lie outside it): " + "; ".join(
            f"{r['arch']} on {r['task']} ({r['chosen lr']:g})" for _, r in edge.iterrows()) + ".")
    else:
        notes.append("No chosen rate lies at an edge of the grid.")
    gaps = table[table["no result"].astype(str) != ""]
    if len(gaps):
        notes.append("Chosen without every candidate (units with no usable result): " + "; ".join(
            f"{r['arch']} on {r['task']}: {r['no result']}" for _, r in gaps.iterrows()) + ".")
    cpu = tune[tune["metric"] == "cpu_seconds"]["value"].astype(float)
    units = tune["work_unit"].nunique() if "work_unit" in tune else 0
    if len(cpu):
        notes.append(f"The search: {units} work units, {cpu.sum():.0f} CPU-s of training.")
    task_figures = [Figure(f"lr_search_{task}", f"{task} learning-rate search",
                           lambda task=task: figures.learning_rate_search(tune, table, task))
                    for task in dict.fromkeys(table["task"])]
    return section("Learning rate", LEARNING_RATE_TEXT.format(metric=metric), *notes,
                   Table(table, "learning_rates"), *task_figures)


def _accuracy_figures(frame: pd.DataFrame, table: pd.DataFrame, curves: pd.DataFrame) -> list[Figure]:
    """Per task of the headline view: accuracy bars, learning curves per epoch, per second and per update (with
    the task's target); the accuracy runs' curves, not the learning-rate search's."""
    view = headline_view(frame)
    head = table[table["view"] == view]
    if not curves.empty and "kind" in curves:
        curves = curves[curves["kind"].fillna("accuracy") == "accuracy"]
    if not curves.empty and "view" in curves:
        curves = curves[curves["view"].fillna("width") == view]
    targets = task_targets(frame)
    out = []
    for task in head["task"].unique():
        target, metric = targets.get(task, (None, str(head[head["task"] == task]["metric"].iloc[0])))
        out += [Figure(f"accuracy_{task}", f"{task} accuracy", lambda task=task: figures.accuracy_bars(head, task)),
                Figure(f"curves_{task}_updates", f"{task} curves/update",
                       lambda task=task, target=target, metric=metric: figures.curves_vs_updates(curves, task, target,
                                                                                                 metric)),
                Figure(f"curves_{task}_epochs", f"{task} curves/epoch",
                       lambda task=task: figures.learning_curves(curves, task, "epoch")),
                Figure(f"curves_{task}_seconds", f"{task} curves/s",
                       lambda task=task: figures.learning_curves(curves, task, "seconds"))]
    return out


STATES_TEXT = ("Training states, from each run's validation curve (scored every {every}) in normalised units: s = "
               "(m − m₀) / (1 − m₀) for accuracy, s = 1 − m / m₀ for MSE, NLL and bits (m₀: the task's naive "
               "predictor on the validation split; for an MSE against the mean predictor s is the explained-variance "
               "fraction, for NLL and bits the fraction of the naive predictor's nats or bits removed). A run is **not started** "
               "when its best s < {not_started:g} (still at the baseline), **plateaued** when the best s of the last "
               "half of its budget exceeds the best s before it by less than {gain:g} (one normalised point) or its "
               "best s exceeds {ceiling:g} (no room left for a point), else **still improving**; a model is plateaued on a task when every seed is, and a claim cell resting on "
               "a model that is not reads **under-trained** instead of a verdict. Rule and thresholds: "
               "`suite/run/convergence.py`.")
TIME_TEXT = ("Time to quality (MLPerf Training's measure): a run's updates to target are the updates of the first "
             "validation evaluation at which its headline metric meets the task's target (the 'solved' threshold "
             "where the task has one); a run that never gets there is censored at its budget. Per model and task "
             "over the seeds: k of n reached, and the Kaplan–Meier median updates to target with its {confidence:.0%} "
             "CI (log-log band, inverted at S = 0.5; 'not reached by half the seeds' when the estimate never falls "
             "to 0.5; an open upper limit '> budget'), so a seed that never reached the target counts as one that "
             "needed more than its budget instead of being dropped. Seconds to target = updates × the per-update "
             "cost: the median train step at the model's training shape (batch {batch}, the task's T, X, O and the "
             "model's width), measured alone in the speed stage at {threads} thread(s), not the wall time of the "
             "training workers that share the cores; evaluation time is not counted. Formulas: "
             "`suite/report/time_to_target.py`.")


def training_states(frame: pd.DataFrame, s: ReportSettings) -> Section | None:
    """The states table (model x task: the state over the seeds, seeds per state) with the rule."""
    from suite.report.time_to_target import states_table
    from suite.run.convergence import NOT_STARTED_BELOW, PLATEAU_GAIN
    table = states_table(frame)
    if table.empty:
        return None
    every = f"{s.eval_every} updates" if s.eval_every else "epoch"
    return section("Training states: plateaued, still improving or not started",
                   STATES_TEXT.format(every=every, not_started=NOT_STARTED_BELOW, gain=PLATEAU_GAIN,
                                      ceiling=1 - PLATEAU_GAIN),
                   Table(table, "training_states"))


def time_to_target(frame: pd.DataFrame, s: ReportSettings) -> Section | None:
    """The time-to-target table (k of n, Kaplan-Meier median updates [CI], seconds to target) with the rules."""
    from suite.report.time_to_target import CONFIDENCE, time_to_target_table
    table = time_to_target_table(frame)
    if table.empty:
        return None
    return section("Time to target", TIME_TEXT.format(confidence=CONFIDENCE, batch=s.batch_size, threads=s.threads),
                   Table(table, "time_to_target"))


FORGET_BIAS_TEXT = ("Every LSTM trains once per forget-gate bias arm (training.lstm_forget_bias: {arms}; model "
                    "'<name>-fb<b_f>'): the initial b_f, the sum of the forget slice of both bias vectors (gate order "
                    "i|f|g|o), set at build time in each framework — torch: bias_ih[H:2H] = b_f, bias_hh[H:2H] = 0 "
                    "(its own init draws each from U(-1/√H, 1/√H), so b_f starts near 0); Keras: unit_forget_bias "
                    "for 1 (its default), an initializer otherwise; NumPy: b_i[H:2H] = b_f, b_h[H:2H] = 0 (its init "
                    "is torch's). The headline arm — the one every other claim and comparison table reads — is "
                    "**b_f = {headline}**. Per task and framework: c0 = GRU vs LSTM(b_f = 0), c1 = GRU vs LSTM(b_f = "
                    "1), c10 = LSTM(1) vs LSTM(0), each compared as GRU vs LSTM (outcome, effect with its 95% CI); "
                    "the claim 'LSTM forget-gate bias 1 closes the gap to the GRU' reads this table (every column: "
                    "[forget_bias_arms_long.csv](tables/forget_bias_arms_long.csv)).")


def forget_bias_arms(frame: pd.DataFrame, table: pd.DataFrame, s: ReportSettings) -> Section | None:
    """The LSTM's forget-bias arms: how each framework sets them, the headline arm, GRU vs each arm."""
    from suite.report.tables import forget_bias_table
    tests = forget_bias_table(frame)
    if tests.empty:
        return None
    head = table[table["view"] == headline_view(frame)]
    arms = ", ".join(f"{v:g}" for v in s.lstm_forget_bias) if s.lstm_forget_bias else "framework init"
    headline = f"{s.lstm_forget_bias[0]:g}" if s.lstm_forget_bias else "the framework's own"
    shown = pd.DataFrame({
        "view": tests["view"], "task": tests["task"], "framework": tests["framework"], "metric": tests["metric"],
        "GRU": tests["c0_mean_a"], "LSTM b_f=0": tests["c0_mean_b"], "LSTM b_f=1": tests["c1_mean_b"],
        **{f"{label} ({what})": [f"{o}: {e}" for o, e in zip(tests[f"{label}_outcome"], tests[f"{label}_effect"])]
           for label, what in (("c0", "GRU vs b_f=0"), ("c1", "GRU vs b_f=1"), ("c10", "b_f=1 vs b_f=0"))},
        "n": [f"{a}/{b}/{c}" for a, b, c in zip(tests["c0_n_a"], tests["c0_n_b"], tests["c1_n_b"])]})
    return section("LSTM forget-gate bias arms", FORGET_BIAS_TEXT.format(arms=arms, headline=headline),
                   Table(shown, "forget_bias_arms"), Table(tests, "forget_bias_arms_long", shown=False),
                   Figure("forget_bias_arms", "GRU vs LSTM forget-bias arms", lambda: figures.forget_bias_bars(head)))


SIDE_BY_SIDE_TEXT = ("The reference implementations trained side by side on {tasks}: the same initial weights (init "
                     "shared: the first configured model of the arch draws them, every other gets a copy, head "
                     "included), the same data and the same "
                     "batches (a seed fixes both), the accuracy stage's protocol otherwise. The null: {null} trained "
                     "again from those weights with every weight moved 1 ulp toward +inf (np.nextafter), model "
                     "{null_model} — how far one framework's run moves from itself under the smallest change float32 "
                     "can make. Divergence per seed in normalised units n = 1 − MSE/baseline (losses) or (acc − "
                     "baseline)/(1 − baseline): Δ_curve = max over the validation points of |n_A − n_B|, Δ_test = "
                     "|n_A − n_B| of the test metric. A pair lies **beyond the null** when a one-sided Mann–Whitney U "
                     "test (pair > null) gives p < {alpha}, else **within** it; with 5 seeds a side only a nearly "
                     "complete separation (U ≥ 21 of 25) reaches p < 0.05, so 'within' means not told apart from the "
                     "null, not shown equal. Formulas: `suite/report/side_by_side.py`.")


def side_by_side(frame: pd.DataFrame, curves: pd.DataFrame) -> Section | None:
    """The side-by-side models (rows of kind side_by_side): accuracy per model, divergence per pair and seed
    against the null, whether each pair lies within it, the seed distributions' equivalence test, the curves."""
    from suite.report import side_by_side as sbs
    from suite.report.statistics import ALPHA
    table = accuracy_table(frame, kind=sbs.SIDE_BY_SIDE)
    if table.empty:
        return None
    rows = sbs.side_rows(frame)
    nulls = sbs.null_pairs(rows)
    div = sbs.divergences(frame, curves)
    summary = sbs.divergence_summary(div)
    metric_of = dict(zip(table["task"], table["metric"]))
    figs = [Figure(f"side_by_side_{task}", f"{task}: side-by-side curves",
                   lambda task=task: figures.side_by_side_curves(curves, task, metric_of[task]))
            for task in table["task"].unique()]
    null_model = ", ".join(nulls) or "(none)"
    null = ", ".join(dict.fromkeys(nulls.values())) or "(none)"
    models = [m for m in dict.fromkeys(rows["model"]) if m not in nulls]
    count = {2: "Two", 3: "Three", 4: "Four"}.get(len(models), str(len(models)))
    arch = {"gru": "GRU", "lstm": "LSTM"}.get(rows["arch"].iloc[0], rows["arch"].iloc[0])
    return section(f"{count} reference {arch}s trained side by side",
                   SIDE_BY_SIDE_TEXT.format(tasks=", ".join(table["task"].unique()), null=null, null_model=null_model,
                                            alpha=ALPHA),
                   Table(table[ACCURACY_COLUMNS[:-1]], "side_by_side_accuracy"),
                   "Divergence per pair and measure (per-seed values, median, range, Mann–Whitney p against the null):",
                   Table(summary, "side_by_side_divergence"), Table(div, "side_by_side_divergence_long", shown=False),
                   Table(sbs.agreement(summary), "side_by_side_agreement"),
                   "Seed distributions of the test metric, pairwise (TOST at the metric's margin, Welch):",
                   Table(sbs.seed_equivalence(frame), "side_by_side_equivalence"), *figs)


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
