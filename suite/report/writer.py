"""The generated report: report.md + index.html + figures/*.png + tables/*.csv in the run directory.

Every number comes from the run's results.csv / curves.csv; nothing here is typed by hand except the
published reference figures of Chung et al. 2014 (Table 2, JSB Chorales test NLL), which are quoted as
such next to our measurement.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from suite.bench.ratios import tolerance_text
from suite.report.claims import claims_table
from suite.atomic import atomic_write_bytes, atomic_write_csv, atomic_write_text
from suite.results.samples import load_samples
from suite.results.store import load_curves, load_results
from suite.report.tables import (VIEW_TITLES, accuracy_table, execution_table, gru_vs_lstm, headline_view, ok_rows,
                                 solved_table, speed_table)

CHUNG_2014_JSB_NLL = {"gru": 8.54, "lstm": 8.67}   # Chung et al. 2014, Table 2, JSB Chorales, test NLL


def markdown_table(frame: pd.DataFrame, floatfmt: str = ".4g") -> str:
    if frame is None or frame.empty:
        return "_(no data in this run)_\n"
    def cell(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else format(v, floatfmt)
        return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body]) + "\n"


class ReportWriter:
    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir)
        self.fig_dir = self.dir / "figures"
        self.tab_dir = self.dir / "tables"
        self.fig_dir.mkdir(exist_ok=True)
        self.tab_dir.mkdir(exist_ok=True)
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text.rstrip() + "\n")

    def table(self, name: str, frame: pd.DataFrame, floatfmt: str = ".4g") -> None:
        if frame is not None and not frame.empty:
            atomic_write_csv(self.tab_dir / f"{name}.csv", frame)
            self.add(markdown_table(frame, floatfmt) + f"\n[{name}.csv](tables/{name}.csv)\n")
        else:
            self.add("_(no data in this run)_\n")

    def save_figure(self, name: str, fig) -> bool:
        """figures/<name>.png from a matplotlib figure (None: nothing); True when written."""
        if fig is None:
            return False
        import io

        import matplotlib.pyplot as plt
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        atomic_write_bytes(self.fig_dir / f"{name}.png", buf.getvalue())
        return True

    def figure(self, name: str, fig, caption: str) -> None:
        if self.save_figure(name, fig):
            self.add(f"![{caption}](figures/{name}.png)\n")

    def text(self) -> str:
        return "\n".join(self.parts)


def _header(w: ReportWriter, cfg: dict, env: dict) -> None:
    git = env.get("git", {})
    pk = env.get("packages", {})
    w.add(f"# GRU vs LSTM vs Transformer: report of run `{w.dir.resolve().name}`\n")
    w.add(f"Machine: {env.get('cpu_model')} ({env.get('cpu_count')} cores, {env.get('memory_gb')} GB), "
          f"Python {env.get('python')}, threads per framework: {env.get('threads')}. "
          f"torch {pk.get('torch')}, tensorflow {pk.get('tensorflow-cpu') or pk.get('tensorflow')}, "
          f"keras {pk.get('keras')}, numpy {pk.get('numpy')}. Commit {str(git.get('commit'))[:10]}"
          f"{' (dirty)' if git.get('dirty') else ''}. Config: [config.yaml](config.yaml), "
          f"machine: [environment.json](environment.json), every row: [results.csv](results.csv).\n")


def _params(w: ReportWriter, frame: pd.DataFrame) -> None:
    w.add("### Parameters\n")
    p = frame[(frame["kind"] == "params") & (frame["metric"] == "params_counted")]
    if not p.empty:
        p = p.assign(agree=p["value"].astype(int) == p["formula"].astype(int),
                     size=[f"L={int(l)} H={int(h)}" for l, h in zip(p["layers"], p["hidden"])])
        t = p.pivot_table(index=["model", "convention_label"], columns="size", values="value", aggfunc="first",
                          sort=False)
        t = t[sorted(t.columns, key=lambda c: tuple(int(x.split("=")[1]) for x in c.split()))]
        agree = p.groupby(["model", "convention_label"], sort=False)["agree"].agg(lambda a: f"{a.sum()}/{len(a)}")
        t = t.astype(int).join(agree.rename("formula agrees")).reset_index().rename(
            columns={"convention_label": "convention"})
        w.add("Counted by the framework (numel / count_params); the last column says at how many sizes the formula "
              "of its convention gives the same number (input size and head as in the config's `params` section; "
              "every row in [params_long.csv](tables/params_long.csv)).\n")
        atomic_write_csv(w.tab_dir / "params_long.csv", p[["model", "hidden", "layers", "value", "formula",
                                                            "convention_label", "agree"]])
        w.table("params", t, ".6g")
    b = frame[(frame["kind"] == "params") & (frame["metric"] == "budget_width")]
    if not b.empty:
        w.add(f"Matched budget ({int(b['budget'].iloc[0]):,} parameters, chorales shapes X=O=88; ≤ 10% over as in "
              "Long Range Arena):\n")
        w.table("budget_widths", b[["model", "value", "params"]].rename(columns={"value": "width H", "params":
                                                                                  "achieved params"}), ".6g")


def _speed(w: ReportWriter, frame: pd.DataFrame, cfg: dict, samples: dict | None = None) -> None:
    from suite.report import figures
    from suite.report.speed_evidence import crossover_table, pair_ratio, reference_convention, thread_scaling_table
    s = cfg["speed"]
    w.add("### Speed\n")
    t = speed_table(frame, s["seq_len"], s["hidden"])
    w.add(f"Medians at B={s['batch']}, T={s['seq_len']}, X={s['input_size']}, H={s['hidden']}; each framework in "
          f"its own process, {cfg['threads']} thread(s), interleaved A/B × {s['repeats']}, at least "
          f"{s['min_samples']} samples per measurement. Floating-point policy: denormals **{s['denormals']}** in "
          f"every worker, applied before its first op (the mode each framework's kernels were observed to run "
          f"under is the ledger's `fp_mode`). Ratios carry a bootstrap 95% CI from the raw samples "
          f"([samples.json.gz](samples.json.gz)); 'faster'/'slower' only when the whole CI lies outside "
          f"{tolerance_text()}.\n")
    w.table("speed", t)
    sp = ok_rows(frame, "speed")
    base = reference_convention(sp[(sp["T"] == s["seq_len"]) & (sp["hidden"] == s["hidden"])]) if not sp.empty else sp
    pairs = []
    for (fw, metric), g in (base[base["metric"].isin(["train_step_ms", "infer_ms"])].groupby(["framework", "metric"])
                            if not base.empty else []):
        gru, lstm = g[g["arch"] == "gru"], g[g["arch"] == "lstm"]
        if len(gru) and len(lstm):
            r = pair_ratio([gru.iloc[0]], [lstm.iloc[0]], samples)
            pairs.append({"framework": fw, "metric": metric, "GRU / LSTM": r["ratio"], "ci_lo": r["lo"],
                          "ci_hi": r["hi"], "mark": r["mark"]})
    if pairs:
        w.add("GRU / LSTM at the base shape (ratio, bootstrap 95% CI, mark):\n")
        w.table("gru_lstm_speed", pd.DataFrame(pairs))
    if not sp.empty and "gflop_s" in sp:
        eff = sp[sp["metric"].isin(["train_step_ms", "infer_ms"]) & (sp["T"] == s["seq_len"]) &
                 (sp["hidden"] == s["hidden"])]
        eff = eff[["model", "metric", "value", "flops", "gflop_s", "peak_gflops", "peak_fraction"]].rename(
            columns={"metric": "what", "value": "median", "peak_gflops": "framework matmul peak GFLOP/s",
                     "peak_fraction": "fraction of peak"})
        w.add("Achieved GFLOP/s = analytic FLOPs (matrix products, multiply-add = 2; training step = 3 × forward) / "
              "median time, against the best float32 matmul throughput of that framework measured in the same worker:\n")
        w.table("efficiency", eff)
    w.figure("train_step_vs_T", figures.speed_sweep(frame, "T", "hidden", s["hidden"]), "train step vs T")
    w.figure("train_step_vs_H", figures.speed_sweep(frame, "hidden", "T", s["seq_len"]), "train step vs H")
    w.figure("streaming_latency", figures.streaming_latency(frame), "streaming latency vs context")
    cross = crossover_table(frame, s["hidden"], samples)
    if not cross.empty:
        w.add("#### Transformer vs the best recurrent model over T\n")
        w.add(f"Transformer / best recurrent (lower of GRU and LSTM at each T) train step at H={s['hidden']}:\n")
        w.table("transformer_crossover", cross)
        w.figure("transformer_crossover", figures.transformer_crossover(cross), "Transformer / recurrent vs T")
    _thread_scaling(w, frame, samples, thread_scaling_table)
    _speed_flags(w, frame)
    w.add("#### Fairness ledger\n")
    every = frame[frame["kind"].isin(["speed", "speed_threads"]) & (frame["status"] != "skipped")]
    if not every.empty:
        cols = [c for c in ("model", "framework", "threads", "device", "fp_policy", "fp_mode", "exec_path",
                            "framework_version") if c in every]
        w.table("ledger", every[cols].drop_duplicates(subset=[c for c in ("model", "threads", "fp_mode")
                                                             if c in every]))


def _thread_scaling(w: ReportWriter, frame: pd.DataFrame, samples, thread_scaling_table) -> None:
    """Speedup t(1 thread) / t(all cores) per model: table and figure (the parallelisation claim's evidence)."""
    from suite.report import figures
    table = thread_scaling_table(frame, samples)
    gave_up = frame[(frame["kind"] == "speed_threads") & (frame["status"] == "skipped")]
    if len(gave_up):
        w.add(f"{len(gave_up)} thread-scaling measurement(s) given up (oversubscribed: more than 5x the "
              f"one-thread time and more than 5 s per measurement), e.g. {gave_up['error'].iloc[0]}.\n")
    if table.empty:
        return
    w.add("#### Thread scaling\n")
    w.add(f"Train step and inference at the base shape at {table['threads'].iloc[0]} threads (the counts "
          "interleaved in each round); speedup = time at the fewest / at the most threads with its bootstrap 95% "
          "CI, efficiency = speedup / thread ratio. `load_avg` is the highest 1-minute load average seen around "
          "the measurements: above the core count, other processes took cores from the multi-thread runs.\n")
    w.table("thread_scaling", table)
    w.figure("thread_scaling", figures.thread_speedup(table), "thread scaling")


def _speed_flags(w: ReportWriter, frame: pd.DataFrame) -> None:
    """How many speed figures were noisy (IQR/median > 10%) or unstable (drifted: left out of every claim)."""
    rows = frame[frame["kind"].isin(["speed", "speed_threads"]) & (frame["status"].isin(["ok", "unstable"]))]
    if rows.empty:
        return
    noisy = rows["noisy"].astype(str).isin(["True", "true", "1"]) if "noisy" in rows else pd.Series(False)
    unstable = rows[rows["status"] == "unstable"]
    w.add(f"{int(noisy.sum())} of {len(rows)} speed figures had IQR/median > 10% (flagged `noisy` in results.csv); "
          f"{len(unstable)} were `unstable` (their samples drifted between the first and second half of every "
          f"round even after a retake: Mann-Whitney p < 0.01 and medians > 10% apart) and enter no claim.\n")
    if len(unstable):
        cols = [c for c in ("kind", "model", "metric", "T", "hidden", "context", "threads", "value", "error")
                if c in unstable]
        w.table("speed_unstable", unstable[cols])


def _protocol(w: ReportWriter, cfg: dict, table: pd.DataFrame) -> None:
    """The training protocol in words, every number from the config and the results."""
    t, m = cfg["training"], cfg["model"]
    updates = table.drop_duplicates("task")[["task", "updates"]]
    per_task = ", ".join(f"{r.task} {int(r.updates):,}" for r in updates.itertuples() if r.updates is not None)
    stop = (f"early stopping after {t['patience']} epochs without a lower validation loss (a function of the seed)"
            if t["patience"] else "no early stopping: every run gets the whole budget")
    cap = f"{t['max_seconds']:g} s" if t["max_seconds"] else "none"
    w.add(f"Protocol: Adam (lr {t['lr']:g}, global-norm clip {t['clip_norm']}), batch {t['batch_size']}, a budget "
          f"counted in optimizer updates (epochs x floor(n_train / batch)), the same for every model on a task "
          f"({per_task}); "
          f"{stop}; the weights of the lowest validation loss are scored on the test split. Seeds: "
          f"{', '.join(map(str, cfg['seeds']))} (a seed fixes the split and the initial weights), so a rerun gives "
          f"the same numbers whatever else the machine is doing. Wall-clock seconds are recorded (curves per "
          f"second) but decide nothing; the safety cap ({cap} per run) marks a run `truncated`, and truncated runs "
          f"stay out of the statistics.\n")
    views = list(dict.fromkeys(table["view"]))
    text = {"budget": f"**matched parameter budget** ({m['budget']:,} parameters: per arch and task the width whose "
                      f"count is closest, at most 10% over, as in Long Range Arena; Chung et al. 2014 matched GRU "
                      f"and LSTM budgets)" if m["budget"] else "",
            "width": f"**equal width** (H = {m['hidden']} for every arch, so parameter counts differ)"}
    w.add(f"Headline view: {text[views[0]]}." + (f" Second view: {text[views[1]]}." if len(views) > 1 else "") +
          " The claims use the headline view only.\n")


def _accuracy(w: ReportWriter, frame: pd.DataFrame, curves: pd.DataFrame, cfg: dict | None = None) -> None:
    from suite.report import figures
    from suite.report.statistics import ALPHA, MIN_SEEDS, margin_for
    w.add("### Accuracy\n")
    table = accuracy_table(frame)
    if table.empty:
        w.add("_(no accuracy runs in this run)_\n")
        return
    if cfg is not None:
        _protocol(w, cfg, table)
    cols = ["task", "model", "hidden", "params", "metric", "mean", "ci95", "n_seeds", "baseline", "baseline_name",
            "solved_at", "updates", "train_seconds", "truncated", "failed"]
    for i, view in enumerate(dict.fromkeys(table["view"])):
        title = VIEW_TITLES.get(view, view)
        w.add(f"#### {'Headline' if i == 0 else 'Second view'}: {title}\n")
        w.add("Headline test metric, mean ± 95% CI (Student t) over the seeds that ran to their budget, the task's "
              "naive baseline and its 'solved' threshold beside it.\n")
        w.table(f"accuracy_{view}", table[table["view"] == view][cols])
    w.add("#### Does each task tell the models apart?\n")
    w.add("A task discriminates only if its best model reaches the task's 'solved' threshold in the budget "
          "(a task nobody solves leaves differences to noise):\n")
    w.table("solved", solved_table(frame))
    w.add("#### GRU vs LSTM\n")
    metrics = list(dict.fromkeys(table["metric"]))
    w.add(f"Per view, task and framework over the seeds (≥ {MIN_SEEDS} needed for any outcome): **comparable** only "
          f"when equivalence is shown by TOST (two one-sided Welch tests, α = {ALPHA}) at the metric's margin — " +
          "; ".join(f"{m_}: {margin_for(m_).text}" for m_ in metrics) +
          f" — **different** when Welch's t-test gives p < {ALPHA} (effect: difference, or ratio for losses, with "
          f"its 95% CI and Cohen's d), otherwise **inconclusive**, with the seeds per model a difference of the "
          f"observed size would need for 80% power. Formulas: `suite/report/statistics.py`.\n")
    w.table("gru_vs_lstm", gru_vs_lstm(frame))
    ex = execution_table(frame)
    if not ex.empty:
        w.add("#### Execution\n")
        w.add("Training units ran on Dask workers, one unit at a time per worker; CPU/wall is the CPU seconds of "
              "the workers and this process over the stage's wall-clock seconds (near the number of workers when "
              "every core is busy).\n")
        w.table("execution", ex)
    head = table[table["view"] == headline_view(frame)]
    curves = curves[curves["view"].fillna("width") == headline_view(frame)] \
        if not curves.empty and "view" in curves else curves
    for task in head["task"].unique():
        w.figure(f"accuracy_{task}", figures.accuracy_bars(head, task), f"{task} accuracy")
        w.figure(f"curves_{task}_epochs", figures.learning_curves(curves, task, "epoch"), f"{task} curves/epoch")
        w.figure(f"curves_{task}_seconds", figures.learning_curves(curves, task, "seconds"), f"{task} curves/s")


def _equivalence(w: ReportWriter, frame: pd.DataFrame) -> None:
    w.add("### Equivalence (shared weights, float32)\n")
    e = frame[frame["kind"] == "equivalence"]
    if e.empty:
        w.add("_(not run)_\n")
        return
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
    w.table("equivalence", t, ".2e")
    bad = e[e["status"] != "ok"]
    w.add(f"{len(bad)} comparison(s) outside tolerance.\n" if len(bad) else "Every comparison within tolerance.\n")


def _paper(w: ReportWriter, frame: pd.DataFrame) -> None:
    w.add("### Paper check: Chung et al. 2014, JSB-style chorales\n")
    table = accuracy_table(frame, kind="paper")
    if table.empty:
        w.add("_(not run)_\n")
        return
    table = table.assign(chung_2014=[CHUNG_2014_JSB_NLL.get(a) for a in table["arch"]])
    w.add("Our data is JSB-*style*: music21's bundled Bach chorales (not the 2012 Boulanger-Lewandowski pickle), "
          "88-key piano roll at quarter notes, NLL per step summed over keys. Chung et al. 2014, Table 2 (JSB Chorales "
          "test NLL) is quoted beside it; same budget, different data and training length, so compare the GRU–LSTM "
          "ordering rather than the absolute values.\n")
    w.table("paper_check", table[["model", "params", "hidden", "mean", "ci95", "n_seeds", "baseline", "updates",
                                  "truncated", "chung_2014"]])
    tests = gru_vs_lstm(frame, kind="paper")
    if not tests.empty:
        w.add("GRU vs LSTM on the chorales (same rules as the accuracy comparison):\n")
        w.table("paper_gru_vs_lstm", tests.drop(columns=["view"]))


def _long_context(w: ReportWriter, frame: pd.DataFrame) -> None:
    from suite.report import figures
    from suite.report.tables import long_context_accuracy_table
    table = long_context_accuracy_table(frame)
    has_sweep = "kind" in frame and frame["kind"].isin(["memory"]).any()
    if table.empty and not has_sweep:
        return
    w.add("### Long context\n")
    w.add("Every model at the same parameter budget (its width chosen to match it). Recall: mqar (multi-query "
          "associative recall, Arora et al. 2023) over the number of key-value pairs, and copy at long delays; test "
          "accuracy, mean ± 95% CI over seeds. Sweep: train step and inference time, and the peak memory of one "
          "train step (a fresh process per point, the high-water mark reset right before the step) up to the "
          "longest T.\n")
    if not table.empty:
        w.table("long_context_accuracy", table)
        w.figure("long_context_accuracy", figures.long_context_accuracy(table), "recall vs pairs")
    sp = frame[(frame["kind"] == "speed") & (frame.get("sweep") == "long_context")] if "sweep" in frame else \
        frame.iloc[0:0]
    if not sp.empty:
        t = sp[sp["metric"].isin(["train_step_ms", "infer_ms"])].pivot_table(
            index=["model", "hidden", "params"], columns=["metric", "T"], values="value", aggfunc="median")
        t.columns = [f"{m}@T={int(T)}" for m, T in t.columns]
        w.table("long_context_speed", t.reset_index())
        w.figure("long_context_train_step", figures.long_context_sweep(
            frame, "speed", "train_step_ms", "train step, ms (median)", "Train step vs T (matched parameters)"),
            "train step vs T")
    mem = frame[frame["kind"] == "memory"]
    if not mem.empty:
        t = mem.pivot_table(index=["model", "hidden"], columns=["metric", "T"], values="value", aggfunc="median")
        t.columns = [f"{m}@T={int(T)}" for m, T in t.columns]
        w.table("long_context_memory", t.reset_index())
        w.figure("long_context_memory", figures.long_context_sweep(
            frame, "memory", "train_step_peak_mb", "peak MB of one train step",
            "Training memory vs T (matched parameters)"), "memory vs T")


def _edge(w: ReportWriter, frame: pd.DataFrame) -> None:
    from suite.report import figures
    from suite.report.tables import edge_table
    t = edge_table(frame)
    if t.empty:
        return
    w.add("### Edge runtimes (batch 1, one thread)\n")
    w.add("Each torch model's one-token step exported to ONNX (ONNX Runtime), each Keras model's converted to LiteRT; "
          "fp32 must match the framework's own step within 1e-5 over a 50-step stream; int8 is dynamic "
          "quantisation where the runtime supports the op (status 'unsupported' says where not). The Transformer's "
          "state is its key/value cache in fixed buffers. Latency: median, IQR and n of the timed steps; peak memory: "
          "a fresh process's high-water mark minus its size after imports. Rows 'torch' / 'keras' are the "
          "framework's own eager step.\n")
    w.table("edge", t)
    w.figure("edge_latency", figures.edge_latency(frame), "edge step latency")


def _failures(w: ReportWriter, frame: pd.DataFrame) -> None:
    bad = frame[frame["status"].isin(["failed", "skipped", "truncated"])]
    w.add("### Failures, skipped and truncated work units\n")
    if bad.empty:
        w.add("None.\n")
        return
    cols = [c for c in ("work_unit", "kind", "task", "model", "seed", "status", "error", "notebook") if c in bad]
    t = bad[cols].drop_duplicates(subset=["work_unit"]).copy()
    if "notebook" in t:
        t["notebook"] = [f"[{n}]({Path(n).with_suffix('.html').as_posix()})" if isinstance(n, str) else ""
                         for n in t["notebook"]]
    w.add(markdown_table(t))


def _notebooks(w: ReportWriter, frame: pd.DataFrame) -> None:
    nb = frame[frame["kind"] == "notebook"]
    if nb.empty:
        return
    w.add("### Executed notebooks\n")
    lines = []
    for _, r in nb.iterrows():
        html = r.get("html") if isinstance(r.get("html"), str) else None
        link = f"[{r['model']}]({html})" if html else r["model"]
        lines.append(f"- {link} ([ipynb]({r['notebook']})): {r['status']}, {float(r['value']):.1f} s"
                     + (f" — {r['error']}" if isinstance(r.get("error"), str) else ""))
    w.add("\n".join(lines) + "\n")


VERDICT_CLASSES = (("does not hold", "no"), ("holds", "yes"), ("depends", "mixed"), ("inconclusive", "open"),
                   ("not shown", "open"), ("not measured", "open"), ("error", "no"))


def verdict_class(verdict: str) -> str:
    """CSS class of a verdict: yes (holds), no (does not hold), mixed (depends on ...), open (the rest)."""
    for prefix, css in VERDICT_CLASSES:
        if str(verdict).startswith(prefix):
            return css
    return "open"


def _anchor(claim: str) -> str:
    return "claim-" + "".join(c if c.isalnum() else "-" for c in claim.lower()).strip("-")


def _verdicts(w: ReportWriter, claims: pd.DataFrame) -> None:
    """The summary a reader sees first: claim, verdict, the figure that decides it."""
    w.add("## Verdicts\n")
    w.add("Each claim of the folklore and the verdict this run's measurements give it; the figure beside it is "
          "the one the verdict rests on. Sections below give the rule, the evidence and the table.\n")
    rows = []
    for _, c in claims.iterrows():
        fig = c.get("figure")
        has_fig = isinstance(fig, str) and (w.fig_dir / f"{fig}.png").is_file()
        rows.append({"claim": f"[{c['claim']}](#{_anchor(c['claim'])})", "verdict": c["verdict"],
                     "deciding figure": f"[![{fig}](figures/{fig}.png)](figures/{fig}.png)" if has_fig
                     else "(none in this run)"})
    w.add(markdown_table(pd.DataFrame(rows)))
    atomic_write_csv(w.tab_dir / "claims.csv", claims)
    w.add("[claims.csv](tables/claims.csv)\n")


def _claim_sections(w: ReportWriter, claims: pd.DataFrame) -> None:
    w.add("## Claims\n")
    for _, c in claims.iterrows():
        w.add(f'<a id="{_anchor(c["claim"])}"></a>\n\n### {c["claim"]}\n')
        w.add(f"**Verdict: {c['verdict']}**\n")
        if c.get("rule"):
            w.add(f"Rule (stated in `suite/report/claims.py`): {c['rule']}.\n")
        w.add(f"Evidence: {c['evidence']}\n")
        fig, table = c.get("figure"), c.get("table")
        if isinstance(fig, str) and (w.fig_dir / f"{fig}.png").is_file():
            w.add(f"![{c['claim']}](figures/{fig}.png)\n")
        if isinstance(table, str) and (w.tab_dir / f"{table}.csv").is_file():
            w.add(markdown_table(pd.read_csv(w.tab_dir / f"{table}.csv")) + f"\n[{table}.csv](tables/{table}.csv)\n")


def write_report(run_dir, cfg: dict) -> Path:
    """Write report.md and index.html (+ figures, tables) for the run; returns the index.html path.

    Order: header, verdict summary, one section per claim (rule, evidence, figure, table), then the details
    (notebooks, failures, parameters, speed, accuracy, paper check, equivalence). Links are relative."""
    from suite.report import figures
    run_dir = Path(run_dir)
    frame = load_results(run_dir)
    curves = load_curves(run_dir) if (run_dir / "curves.csv").is_file() else pd.DataFrame()
    env = json.loads((run_dir / "environment.json").read_text()) if (run_dir / "environment.json").is_file() else {}
    details = ReportWriter(run_dir)
    details.add("## Details\n")
    _notebooks(details, frame)
    _failures(details, frame)
    _params(details, frame)
    samples = load_samples(run_dir)
    _speed(details, frame, cfg, samples)
    _accuracy(details, frame, curves, cfg)
    _paper(details, frame)
    _long_context(details, frame)
    _edge(details, frame)
    _equivalence(details, frame)
    details.save_figure("params", figures.params_bars(frame))
    acc = accuracy_table(frame)
    details.save_figure("gru_vs_lstm", figures.gru_vs_lstm_bars(acc[acc["view"] == headline_view(frame)]
                                                                if not acc.empty else acc))
    claims = claims_table(frame, cfg["speed"]["seq_len"], cfg["speed"]["hidden"], samples)
    w = ReportWriter(run_dir)
    _header(w, cfg, env)
    _verdicts(w, claims)
    _claim_sections(w, claims)
    md = w.text() + "\n" + details.text()
    atomic_write_text(run_dir / "report.md", md)
    index = run_dir / "index.html"
    atomic_write_text(index, to_html(md, f"Report {run_dir.name}"))
    return index


STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4}"
         "table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px}"
         "th{background:#f3f3f3}img{max-width:100%}td img{max-width:260px}"
         "td.v-yes{background:#dff3df}td.v-no{background:#f8dcdc}td.v-mixed{background:#fdf1d0}"
         "td.v-open{background:#ececec}")


def to_html(markdown: str, title: str) -> str:
    """The report as one HTML page; verdict cells are coloured (green holds, red does not hold, amber depends,
    grey inconclusive / not measured)."""
    import re

    import mistune
    body = mistune.create_markdown(plugins=["table"], escape=False)(markdown)
    body = re.sub(r"<td>(?=(does not hold|holds|depends|inconclusive|not shown|not measured|error))",
                  lambda m: f'<td class="v-{verdict_class(m.group(1))}">', body)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def notebook_display(run_dir):
    """The report as IPython display objects (one Markdown), its figures embedded as PNG data URIs so the
    executed notebook shows them wherever it is opened, without a path of this machine."""
    import base64
    import re

    from IPython.display import Markdown
    run_dir = Path(run_dir)

    def embed(match):
        data = base64.b64encode((run_dir / match.group(1)).read_bytes()).decode("ascii")
        return f"data:image/png;base64,{data}"

    text = (run_dir / "report.md").read_text()
    yield Markdown(re.sub(r"(figures/[\w.-]+\.png)", embed, text))
