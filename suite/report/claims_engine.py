"""The claims engine: a claim of the folklore is a declaration (data); the engine turns it into a verdict (data).
The declarations are in ``suite.report.claims``, one per claim.

A claim, ``Claim(id, title, statistic, combine, figure, table)``:
    id          a stable slug ('gru-trains-faster'): ``suite compare`` matches the verdicts of two runs on it
    title       the claim as the report prints it
    statistic   the rows it reads, how they pair and what is computed of them: one of the kinds below with its
                parameters. It yields the claim's cells (each a label and a word: 'torch': 'faster'), the
                evidence text and the headline (the short deciding number of the report's verdict table)
    combine     how the cells' words make the verdict: one of the rules below
    figure, table   the report's figure and table the verdict rests on
The rule the report prints is generated from the same declaration, ``statistic.rule()`` + "; " +
``combine.rule()``, the speed tolerance formatted from ``suite.bench.ratios.TOLERANCE`` (the one constant).

Statistic kinds:
    ParameterCount  counted parameters of two archs at every configured (H, L), per framework: cell 'fewer' when
                    the first has fewer at every shape
    SpeedRatio      a time ratio of two archs' rows with the paired bootstrap 95% CI of ``suite.bench.ratios``
                    (``suite.report.speed_evidence``), marked faster / slower / within noise / too few samples
                    (``suite.bench.ratios.mark``). Pairings: the geometric mean over a sweep per framework or per
                    other arch, one ratio against each other arch at the longest context, one ratio per T
    Crossover       per framework and T, Transformer / best recurrent train step, marked; the crossover T
    ThreadScaling   per framework, speedup S = t(1 thread) / t(all) of the Transformer over the best-scaling
                    recurrent model's, with its CI: more / less / within noise
    SeedComparison  per-seed headline metrics of two models, Welch + TOST (``suite.report.statistics``): each
                    cell comparable / <model> better / inconclusive, and yes / no / open for the claim
    GrowthExponent  b of memory ~ T^b per arch over the T sweep: super-linear above a bound
    TimeToTarget    per task x framework, two models' times to the task's target over the seeds (Kaplan-Meier
                    medians, log-rank test, ``suite.report.time_to_target``), in seconds at the per-update cost
                    measured at the training shape: sooner / later / within noise / neither reached; the
                    per-update reading (``SpeedRatio`` over T) quoted beside it
    ForgetBiasArms  per task x framework, GRU vs the LSTM at forget-gate bias 0 and at 1, and bias 1 vs bias 0
                    (Welch + TOST): does bias 1 close (or narrow) the gap that bias 0 leaves?
Combine rules:
    Everywhere      holds if every cell has the good word, else does not hold
    MarksAcross     holds (good in every framework) / not shown (within noise in every one) / does not hold
                    (good in none) / depends on the framework
    MarksVersus     the same across the other archs, without 'not shown' ("does not hold (within noise of LSTM)")
    SeedCells       holds / does not hold / depends on the task (or framework) / inconclusive at n seeds
    CrossoverIn     holds if there is a crossover in every framework, does not hold if in none, else depends
    AgainstEach     holds if good against each other arch in every framework; ties and unjudged frameworks named
    AtLongest       the mark at the longest T decides: holds / does not hold / not shown
    FastestGrowth   holds if the named arch grows fastest and super-linearly
    ReachesSooner   holds if sooner in every task x framework, not shown if within noise in every one, depends
                    on the task if sooner in some, else does not hold; a cell where neither model reached the
                    target decides nothing (every cell so: under-trained)
Under-trained guard (``SeedComparison``): a cell whose either model is not plateaued on its task
(``suite.run.convergence``: the state of each seed's validation curve; plateaued when every seed is) is not
decided: its word is 'under-trained' and the verdict names the model and its states ("under-trained:
lstm-torch on copy still improving in 5 of 5 seeds"); a claim whose every cell is under-trained reads
'under-trained'. Runs that recorded no states (older runs) are not guarded.
For every claim: one without rows is "not measured"; one all of whose cells rest on rows with fewer raw samples
than ``suite.bench.ratios.MIN_SAMPLES`` (that module says why 10) is "too few samples"; one that raises is
"error", under its own id and title.

A verdict (``Verdict``, one row of ``verdict_frame``) is data: id, claim (the title), word (holds / does not hold
/ depends / not shown / inconclusive / not measured / too few samples / under-trained / error), cells
({cell: word}), verdict (the phrase the report prints), headline, evidence, rule, figure, table. A verdict changes between two runs
when its word or a cell's word does, never when only a number of its evidence does.

Adding a claim is one declaration in ``suite.report.claims.CLAIMS`` and its figure in ``suite.report.figures``;
for instance inference speed, read like training speed:

    Claim("gru-infers-faster", "GRU infers faster than LSTM",
          SpeedRatio(pairing=OVER_T, metric="infer_ms", numerator="gru", denominator="lstm"),
          MarksAcross(good="faster"), figure="infer_vs_T", table="speed")

A new kind of statistic is a class here with ``evaluate(context) -> Finding`` and ``rule() -> str``; a new
combine rule one with ``decide(finding) -> (word, verdict)`` and ``rule() -> str``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from suite.bench.ratios import MIN_SAMPLES, TOLERANCE, TOO_FEW, tolerance_text
from suite.report.speed_evidence import (crossover_T, crossover_table, mean_ratio, ok_kind, pair_ratio,
                                         reference_convention, speedup_ratio, thread_scaling_table)
from suite.report.statistics import ACCURACY_POINT, ALPHA, LOWER_IS_BETTER, MIN_SEEDS, RELATIVE, compare
from suite.report.tables import (VIEW_TITLES, edge_table, forget_bias_table, gru_vs_lstm, headline_arm, headline_view,
                                 long_context_accuracy_table, transformer_vs_recurrent)
from suite.report.time_to_target import (INCONCLUSIVE, LATER, NEITHER, SOONER, WITHIN_NOISE, compare_times,
                                         group_states, km_median, per_update_ms, runs_to_target, summary_text)
from suite.run.convergence import state_rule

UNDER_TRAINED = "under-trained"
WORDS = ("holds", "does not hold", "depends", "not shown", "inconclusive", "not measured", TOO_FEW, UNDER_TRAINED,
         "error")
NOT_MEASURED = "not measured"
COLUMNS = ["id", "claim", "word", "cells", "verdict", "headline", "evidence", "rule", "figure", "table"]
ARCH_NAMES = {"gru": "GRU", "lstm": "LSTM", "transformer": "Transformer", "mingru": "minGRU", "minlstm": "minLSTM"}
METRIC_NAMES = {"train_step_ms": ("train step", "ms"), "infer_ms": ("inference", "ms"),
                "step_latency_us": ("step latency", "µs")}
PARALLEL_MARKS = {"slower": "more", "faster": "less", "within noise": "within noise", TOO_FEW: TOO_FEW}
SHARED_CORES_MARGIN = 0.5    # a load average above the study's thread count + this: other processes held cores


def name(arch: str) -> str:
    return ARCH_NAMES.get(arch, arch)


def marks_rule(good: str = "faster", bad: str = "slower") -> str:
    """The rule of a time-ratio mark, from the one tolerance (``suite.bench.ratios.mark``)."""
    return (f"{good} when the whole CI < {1 - TOLERANCE:g}, {bad} when > {1 + TOLERANCE:g}, else within noise "
            f"({tolerance_text()}); too few samples when a row has fewer than {MIN_SAMPLES} raw samples")


def _fmt(v: float, digits: int = 3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}g}"


# --- what statistics hand to combine rules --------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell of a claim: where (``label``), its word, the number behind it; ``group`` and ``versus`` name
    the framework and the other arch of a cell of a ratio against each other arch."""
    label: str
    word: str
    value: float | None = None
    group: str | None = None
    versus: str | None = None


@dataclass(frozen=True)
class SeedCell:
    """One cell of a seed comparison for ``seed_verdict``: a task and/or framework, whether it supports the claim
    ('yes'), contradicts it ('no') or cannot tell ('open'), at how many seeds."""
    task: str | None
    framework: str | None
    result: str                     # 'yes' | 'no' | 'open' | 'under-trained'
    n_seeds: int
    seeds_needed: int | None = None
    direction: str | None = None    # which way a 'no' went, e.g. 'GRU better'; the verdict groups by it
    why: str | None = None          # result 'under-trained': which model is not plateaued and how

    @property
    def label(self) -> str:
        return "/".join(x for x in (self.task, self.framework) if x)


@dataclass
class Finding:
    """What a statistic found: cells, evidence, headline; ``detail``: what its combine rule reads beyond the
    words; ``unmeasured``: why these measurements cannot carry a verdict at all; ``figure``: another figure."""
    cells: list[Cell]
    evidence: str
    headline: str = ""
    detail: dict = field(default_factory=dict)
    unmeasured: str | None = None
    figure: str | None = None


class NotMeasured(Exception):
    """The run has no rows for the claim (the message says what is missing)."""

    def __init__(self, why: str = "this run has no data for it"):
        super().__init__(why)


@dataclass(frozen=True)
class Context:
    """What every statistic reads: the run's tidy results, the speed sweep's base shape (T, H) and the raw
    speed samples (``suite.results.samples.load_samples``; None: no CIs)."""
    frame: pd.DataFrame
    T: int | None = None
    H: int | None = None
    samples: dict | None = None


# --- statistic kinds ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterCount:
    """Counted parameters (kind params, metric params_counted, the reference convention) of ``a`` vs ``b`` at
    every (H, L) both were counted at, per framework; evidence also names the widths a parameter budget
    affords (metric budget_width, PyTorch)."""
    a: str = "gru"
    b: str = "lstm"

    def rule(self) -> str:
        return (f"the {name(self.a)}'s counted parameters vs the {name(self.b)}'s at every configured (H, L), "
                f"per framework: fewer when {name(self.a)} < {name(self.b)} at every (H, L)")

    def evaluate(self, ctx: Context) -> Finding:
        frame = ctx.frame
        p = frame[(frame["kind"] == "params") & (frame["metric"] == "params_counted")]
        p = p[p["convention"].fillna("reset_after") == "reset_after"]
        cells, evidence, lows, highs = [], [], [], []
        va, vb = f"value_{self.a}", f"value_{self.b}"
        for fw, g in p.groupby("framework", sort=False):
            merged = g[g["arch"] == self.a].merge(g[g["arch"] == self.b], on=["hidden", "layers"],
                                                 suffixes=(f"_{self.a}", f"_{self.b}"))
            if merged.empty:
                continue
            ratios = merged[va].astype(float) / merged[vb].astype(float)
            cells.append(Cell(fw, "fewer" if bool((ratios < 1).all()) else "not fewer", float(ratios.max())))
            lows.append(ratios.min())
            highs.append(ratios.max())
            big = merged.sort_values(["layers", "hidden"]).iloc[-1]
            evidence.append(f"{fw}: {name(self.a)}/{name(self.b)} = {ratios.min():.3f}–{ratios.max():.3f} "
                            f"(H={int(big['hidden'])}, L={int(big['layers'])}: {int(big[va]):,} vs "
                            f"{int(big[vb]):,})")
        bw = frame[(frame["kind"] == "params") & (frame["metric"] == "budget_width")]
        widths = {r["arch"]: int(r["value"]) for _, r in bw.iterrows() if r["framework"] == "torch"}
        if self.a in widths and self.b in widths:
            evidence.append(f"at {int(bw['budget'].iloc[0]):,} params the {name(self.a)} affords H={widths[self.a]} "
                            f"vs {name(self.b)} H={widths[self.b]}")
        if not cells:
            raise NotMeasured()
        return Finding(cells, "; ".join(evidence),
                       f"{name(self.a)}/{name(self.b)} parameters {min(lows):.3f}–{max(highs):.3f}")


OVER_T = "geometric mean over T"                            # per framework, at the speed width H
AGAINST_EACH = "against each other arch at the longest context"   # per framework
OVER_RUNTIMES = "geometric mean over the edge runtimes"     # per other arch
AT_EACH_T = "at each T of the long-context sweep"


@dataclass(frozen=True)
class SpeedRatio:
    """numerator / denominator time (``metric``) of rows of ``kind``, each ratio with its bootstrap CI and
    mark; ``pairing`` says which rows pair and what a cell is:
        OVER_T          per framework, the rows at the speed width H at every T measured (base shape and sweep),
                        the geometric mean of the per-T ratios (``speed_evidence.mean_ratio``)
        AGAINST_EACH    per framework, numerator vs each other arch at the longest context: a cell per pair
        OVER_RUNTIMES   per other arch (denominator None: each), the geometric mean over every edge runtime x
                        precision (the framework runtimes torch, keras left out)
        AT_EACH_T       per T of the long-context sweep; ``beside``: another arch's ratio to the denominator,
                        quoted as evidence
    ``note``: a sentence of context closing the evidence."""
    pairing: str
    metric: str = "train_step_ms"
    numerator: str = "gru"
    denominator: str | None = "lstm"
    kind: str = "speed"
    beside: str | None = None
    note: str | None = None

    def rule(self) -> str:
        num, den = name(self.numerator), name(self.denominator) if self.denominator else "each other arch"
        what = {OVER_T: f"per framework, {num}/{den} {self.metric} at the speed width over every T measured, the "
                        "geometric mean of the per-T ratios with a bootstrap 95% CI from the raw samples",
                AGAINST_EACH: f"per framework, {num} {self.metric} at the longest context over {den}'s with a "
                              "bootstrap 95% CI",
                OVER_RUNTIMES: f"{num} / {den} batch-1 {self.metric} in ONNX Runtime and LiteRT (fp32, int8; the "
                               "steps of each runtime x precision timed interleaved in one process, so each ratio "
                               "is the median of the ratios of samples taken in the same pass), geometric mean "
                               "over runtimes and precisions with a bootstrap 95% CI",
                AT_EACH_T: f"{num} / {den} {self.metric} at each T of the long-context sweep with a bootstrap "
                           "95% CI"}[self.pairing]
        return f"{what}: {marks_rule()}"

    def evaluate(self, ctx: Context) -> Finding:
        finding = {OVER_T: self._over_T, AGAINST_EACH: self._against_each, OVER_RUNTIMES: self._over_runtimes,
                   AT_EACH_T: self._at_each_T}[self.pairing](ctx)
        if self.note:
            finding.evidence += f"; {self.note}"
        return finding

    def _rows(self, ctx: Context) -> pd.DataFrame:
        rows = ok_kind(ctx.frame, self.kind)
        return rows[rows["metric"] == self.metric] if not rows.empty else rows

    def _over_T(self, ctx: Context) -> Finding:
        sp = self._rows(ctx)
        sp = reference_convention(sp[sp["hidden"] == ctx.H]) if not sp.empty else sp
        if sp.empty:
            raise NotMeasured()
        num, den = name(self.numerator), name(self.denominator)
        what, unit = METRIC_NAMES.get(self.metric, (self.metric, ""))
        cells, evidence = [], []
        for fw, g in sp.groupby("framework", sort=True):
            pairs, points = [], []
            for t, at in g.groupby("T", sort=True):
                a, b = at[at["arch"] == self.numerator], at[at["arch"] == self.denominator]
                if len(a) and len(b):
                    pairs.append((a.iloc[0], b.iloc[0]))
                    r = pair_ratio([a.iloc[0]], [b.iloc[0]], ctx.samples)
                    points.append(f"T={int(t)}: {a['value'].iloc[0]:.3g} vs {b['value'].iloc[0]:.3g} {unit}, "
                                  f"{r['text']}")
            if not pairs:
                continue
            r = mean_ratio(pairs, ctx.samples)
            cells.append(Cell(fw, r["mark"], r["ratio"]))
            evidence.append(f"{fw}: {num}/{den} = {r['text']} ({r['mark']}; {'; '.join(points)})")
        if not cells:
            raise NotMeasured()
        B = int(sp["B"].iloc[0]) if "B" in sp and len(sp) else "?"
        Ts = ", ".join(str(int(t)) for t in sorted(sp["T"].unique()))
        return Finding(cells, f"{what} at B={B}, H={ctx.H}, geometric mean over T = {Ts} (ratio [95% bootstrap "
                              "CI]): " + "; ".join(evidence),
                       f"{num}/{den} " + ", ".join(f"{c.value:.2f}× {c.label}" for c in cells))

    def _against_each(self, ctx: Context) -> Finding:
        sp = self._rows(ctx)
        if sp.empty:
            raise NotMeasured()
        sp = reference_convention(sp)
        num = name(self.numerator)
        _, unit = METRIC_NAMES.get(self.metric, (self.metric, ""))
        c = int(sp["context"].max())
        at = sp[sp["context"] == c]
        frame = ctx.frame
        tried = frame[(frame["kind"] == self.kind) & (frame["metric"] == self.metric)]
        missing = set(tried["framework"]) - set(at["framework"])     # timed, but no usable row at context c
        cells, evidence = [], []
        for fw, g in at.groupby("framework", sort=True):
            a = g[g["arch"] == self.numerator]
            others = g[g["arch"] != self.numerator].sort_values("arch")
            if a.empty or others.empty:
                if len(set(tried[tried["framework"] == fw]["arch"])) > 1:
                    missing.add(fw)       # timed, but the numerator or every other arch has no usable row at c
                continue
            parts = []
            for _, o in others.iterrows():
                r = pair_ratio([a.iloc[0]], [o], ctx.samples)
                cells.append(Cell(f"{fw}/{name(o['arch'])}", r["mark"], r["ratio"], fw, name(o["arch"])))
                parts.append(f"vs {name(o['arch'])} {o['value']:.3g} {unit}: {r['text']} {r['mark']}")
            evidence.append(f"{fw}: {num} {a['value'].iloc[0]:.3g} {unit}, " + ", ".join(parts))
        if not cells:
            raise NotMeasured()
        missing = sorted(missing)
        cells += [Cell(fw, NOT_MEASURED, None, fw) for fw in missing]
        if missing:
            evidence.append(f"{', '.join(missing)}: no stable {num}-vs-other pair at context {c} (see the unstable "
                            "table)")
        by_other: dict[str, list[str]] = {}
        for cell in cells:
            if cell.versus:
                by_other.setdefault(cell.versus, []).append(f"{cell.value:.2f}× {cell.group}")
        return Finding(cells, f"batch-1 {METRIC_NAMES.get(self.metric, (self.metric,))[0]} at context {c}, {num} / "
                              "other (ratio [95% CI] mark): " + "; ".join(evidence),
                       "; ".join(f"{num}/{o} " + ", ".join(v) for o, v in by_other.items()),
                       {"context": c, "numerator": num})

    def _over_runtimes(self, ctx: Context) -> Finding:
        frame = ctx.frame
        t = edge_table(frame)
        t = t[(t["status"] == "ok") & ~t["runtime"].isin(["torch", "keras"])] if not t.empty else t
        if t.empty:
            raise NotMeasured()
        edge = frame[(frame["kind"] == self.kind) & (frame["metric"] == self.metric) & (frame["status"] == "ok")]
        edge = edge[edge["primary"].astype(str).isin(["True", "true", "1", "1.0"])] if "primary" in edge else edge
        num = name(self.numerator)
        _, unit = METRIC_NAMES.get(self.metric, (self.metric, ""))
        pairs: dict[str, list] = {}
        per_runtime = []
        for (runtime, precision), g in edge.groupby(["runtime", "precision"], sort=False):
            if runtime in ("torch", "keras"):
                continue
            by = {r["arch"]: r for _, r in g.iterrows()}
            if self.numerator not in by or len(by) < 2:
                continue
            parts = []
            for arch, r in by.items():
                if arch != self.numerator and self.denominator in (None, arch):
                    pairs.setdefault(arch, []).append((by[self.numerator], r))
                    one = pair_ratio([by[self.numerator]], [r], ctx.samples)
                    parts.append(f"vs {name(arch)} {float(r['value']):.3g} {unit}: {one['text']}")
            per_runtime.append(f"{runtime} {precision}: {num} {float(by[self.numerator]['value']):.3g} {unit} "
                               + ", ".join(parts))
        if not pairs:
            raise NotMeasured()
        cells, overall = [], []
        for arch, ps in pairs.items():
            r = mean_ratio(ps, ctx.samples)
            cells.append(Cell(name(arch), r["mark"], r["ratio"]))
            overall.append(f"{num} / {name(arch)} = {r['text']} {r['mark']} (over {r['k']})")
        return Finding(cells, "batch 1, one thread, same width, the steps of each runtime x precision timed "
                              "interleaved in one process; geometric mean over runtimes and precisions [95% "
                              "bootstrap CI]: " + "; ".join(overall) + ". Per runtime: " + "; ".join(per_runtime),
                       ", ".join(f"{num}/{c.label} {c.value:.2f}×" for c in cells))

    def _at_each_T(self, ctx: Context) -> Finding:
        s = self._rows(ctx)
        if "sweep" in s:
            s = s[s["sweep"] == "long_context"]
        if s.empty or not {self.numerator, self.denominator} <= set(s["arch"]):
            raise NotMeasured()
        num, den = name(self.numerator), name(self.denominator)
        steps = []
        for T, g in s.groupby("T", sort=True):
            by = {a: g[g["arch"] == a].iloc[0] for a in set(g["arch"])}
            if self.numerator in by and self.denominator in by:
                other = (pair_ratio([by[self.beside]], [by[self.denominator]], ctx.samples)
                         if self.beside in by else None)
                steps.append((int(T), pair_ratio([by[self.numerator]], [by[self.denominator]], ctx.samples), other))
        if len(steps) < 2:
            raise NotMeasured("needs at least two sequence lengths")
        evidence = [f"T={T}: {num}/{den} {r['text']} {r['mark']}" +
                    (f", {name(self.beside)}/{den} {o['text']}" if o else "") for T, r, o in steps]
        (first_T, first, _), (last_T, last, _) = steps[0], steps[-1]
        falling = last["ratio"] < first["ratio"]
        evidence.append(f"the {num}/{den} ratio {'falls' if falling else 'does not fall'} from T={first_T} to "
                        f"T={last_T}")
        what, _ = METRIC_NAMES.get(self.metric, (self.metric, ""))
        return Finding([Cell(f"T={T}", r["mark"], r["ratio"]) for T, r, _ in steps],
                       f"{what} (matched parameters; ratio [95% CI] mark): " + "; ".join(evidence),
                       f"{num}/{den} {last['ratio']:.2f}× at T={last_T}", {"numerator": num, "denominator": den})


@dataclass(frozen=True)
class Crossover:
    """Per framework and T (at the speed width H): Transformer / best recurrent train step with its CI and mark
    (``speed_evidence.crossover_table``); the crossover T is the smallest T from which it is faster at every
    longer T (``speed_evidence.crossover_T``). A cell per framework: 'crossover at T=…' or 'no crossover'."""
    note: str | None = None

    def rule(self) -> str:
        return ("per framework and T of the sweep, Transformer / best recurrent (lower of GRU, LSTM) train_step_ms "
                f"with a bootstrap 95% CI: {marks_rule()}; the crossover T is the smallest T from which it is "
                "faster at every longer T")

    def evaluate(self, ctx: Context) -> Finding:
        table = crossover_table(ctx.frame, ctx.H, ctx.samples)
        if table.empty:
            raise NotMeasured()
        longest = int(table["T"].max())
        cells, evidence, at_longest = [], [], []
        for fw in sorted(table["framework"].unique()):
            t = table[table["framework"] == fw].sort_values("T")
            crossing = crossover_T(table, fw)
            steps = ", ".join(f"T={T}: {r:.2f}× [{lo:.2f}, {hi:.2f}] {m}" if not math.isnan(lo) else
                              f"T={T}: {r:.2f}× {m}" for T, r, lo, hi, m in
                              zip(t["T"], t["ratio"], t["ci_lo"], t["ci_hi"], t["mark"]))
            where = (f"crossover at T={crossing}" if crossing is not None
                     else f"no crossover up to T={int(t['T'].max())}")
            evidence.append(f"{fw}: {where} ({steps})")
            word = TOO_FEW if (t["mark"] == TOO_FEW).any() else (
                f"crossover at T={crossing}" if crossing is not None else "no crossover")
            cells.append(Cell(fw, word, crossing))
            at_longest.append(f"{t['ratio'].iloc[-1]:.2f}× {fw}")
        text = (f"Transformer / best recurrent train step over the T sweep at H={ctx.H} (ratio [95% CI] mark): "
                + "; ".join(evidence))
        if self.note:
            text += f" ({self.note})"
        return Finding(cells, text, f"Transformer/best recurrent at T={longest}: " + ", ".join(at_longest),
                       {"longest": longest})


@dataclass(frozen=True)
class ThreadScaling:
    """Thread scaling (kind speed_threads): speedup S = t(fewest threads) / t(most) of the train step at the base
    shape; per framework S(Transformer) / S(best-scaling recurrent model) with its CI (``speed_evidence.
    speedup_ratio``): more / less / within noise. No verdict when other processes held the cores during the
    study: a measurement at more threads was given up as oversubscribed, or the 1-minute load average around it
    exceeded its thread count + SHARED_CORES_MARGIN (quiet runs here: 1.1-1.4 at 2 threads; with one core kept
    busy by another process: 3.6, and the Transformer's 2-thread inference took 8x its 1-thread time)."""

    def rule(self) -> str:
        return ("speedup S = train step at 1 thread / at all cores, base shape; per framework S(Transformer) / "
                f"S(best-scaling recurrent model) with a bootstrap 95% CI: {marks_rule('less', 'more')}; not "
                "measured when other processes held the cores (a measurement given up as oversubscribed, or a "
                f"load average above the thread count + {SHARED_CORES_MARGIN})")

    def evaluate(self, ctx: Context) -> Finding:
        frame, samples = ctx.frame, ctx.samples
        table = thread_scaling_table(frame, samples)
        gave_up = frame[(frame["kind"] == "speed_threads") & (frame["status"] == "skipped")] \
            if "kind" in frame and not frame.empty else frame.iloc[0:0]
        note = (f" ({len(gave_up)} measurement(s) at more threads given up: "
                f"{gave_up['error'].iloc[0]})" if len(gave_up) else "")
        if table.empty:
            raise NotMeasured("this run has no thread-scaling data" + note)
        train = table[table["metric"] == "train_step_ms"]
        cells, evidence = [], []
        for fw, g in train.groupby("framework", sort=True):
            tr, rec = g[g["arch"] == "transformer"], g[g["arch"] != "transformer"]
            if tr.empty or rec.empty:
                continue
            best = rec.loc[rec["speedup"].idxmax()]
            r = speedup_ratio(frame, samples, tr["model"].iloc[0], best["model"])
            if r is None:
                continue
            word = PARALLEL_MARKS[r["mark"]]    # a "slower" speedup ratio above 1 means more gain
            cells.append(Cell(fw, word, r["ratio"]))
            speedups = ", ".join(f"{m} {s:.2f}×" + (f" [{lo:.2f}, {hi:.2f}]" if not math.isnan(lo) else "")
                                 for m, s, lo, hi in zip(g["model"], g["speedup"], g["ci_lo"], g["ci_hi"]))
            evidence.append(f"{fw} ({g['threads'].iloc[0]} threads): speedups {speedups}; Transformer / "
                            f"{best['model']} = {r['text']} ({word})")
        if not cells:
            raise NotMeasured("no framework has both a Transformer and a recurrent model at every thread count" + note)
        load = table["load_avg"].max()
        cores = int(ok_kind(frame, "speed_threads")["threads"].max())
        busy = (f" (highest 1-minute load average around them {load:.1f} with up to {cores} threads per worker: "
                f"above {cores}, other processes took cores and capped the speedups)") if not math.isnan(load) else ""
        held = len(gave_up) or (not math.isnan(load) and load > cores + SHARED_CORES_MARGIN)
        return Finding(cells, "train step at the base shape, speedup = t(1 thread) / t(all cores) [95% CI]: "
                              + "; ".join(evidence) + busy + note,
                       "S(Transformer)/S(recurrent) " + ", ".join(f"{c.value:.2f}× {c.label}" for c in cells),
                       unmeasured="other processes held the cores during the thread study" if held else None)


def not_plateaued(states: dict, where: tuple, models, task: str) -> str | None:
    """'lstm-torch on copy still improving in 5 of 5 seeds' for each of ``models`` that is not plateaued at
    ``where`` + (model,) of ``states`` (``time_to_target.group_states``), joined by ' and '; None when each is
    plateaued or recorded no states (runs from before the states were recorded)."""
    found = [(m, states[(*where, m)]) for m in models if (*where, m) in states]
    bad = [f"{m} on {task} {text}" for m, (plateaued, text) in found if not plateaued]
    return " and ".join(bad) or None


PER_TASK_AND_FRAMEWORK = "per task x framework"       # GRU vs LSTM (suite.report.tables.gru_vs_lstm)
BEST_RECURRENT = "per framework, vs the best recurrent model"   # on the first of ``tasks`` the run trained
PER_SWEEP_POINT = "per point of the long-context sweep, vs the best recurrent model"
COMPARABLE, A_BETTER = "comparable", "better"


@dataclass(frozen=True)
class SeedComparison:
    """Per-seed headline test metrics of model a vs model b over >= MIN_SEEDS seeds in the headline view
    (``suite.report.statistics.compare``: Welch + TOST). ``pairing``: PER_TASK_AND_FRAMEWORK (GRU vs LSTM),
    BEST_RECURRENT (``a`` vs the best recurrent model of each framework, by mean, on the first of ``tasks`` the
    run trained), PER_SWEEP_POINT (``a`` vs the best recurrent model at each mqar / long-copy point).
    ``supports``: what a cell needs to say yes: COMPARABLE (equivalence shown; a difference says no) or
    A_BETTER (a different in a's favour; the other model ahead or equivalence says no). A cell's word:
    comparable, '<model> better' or inconclusive."""
    pairing: str
    supports: str
    a: str = "gru"
    b: str = "lstm"
    tasks: tuple[str, ...] = ()

    def rule(self) -> str:
        where = {PER_TASK_AND_FRAMEWORK: f"per task x framework, {name(self.a)} vs {name(self.b)} headline test "
                                         "metric",
                 BEST_RECURRENT: f"on {' (else '.join(self.tasks)}{')' * (len(self.tasks) - 1)}, per framework the "
                                 f"{name(self.a)} vs the best recurrent model (by mean)",
                 PER_SWEEP_POINT: f"per point of the mqar sweep (and long copy), {name(self.a)} vs the best recurrent "
                                  "model (by mean)"}[self.pairing]
        head = f"{where} over >= {MIN_SEEDS} seeds at the matched parameter budget"
        guard = (f"; a cell whose either model is not plateaued on its task is under-trained, not decided "
                 f"({state_rule()})")
        if self.supports == COMPARABLE:
            return (f"{head}: comparable only if equivalence is shown (TOST, α = {ALPHA}, margin "
                    f"{ACCURACY_POINT.text} or {RELATIVE.text} for losses), different if Welch's p < {ALPHA}, else "
                    f"inconclusive{guard}")
        return (f"{head}: better if Welch's p < {ALPHA} in its favour, not better if the recurrent model wins or "
                f"equivalence is shown (TOST), else inconclusive{guard}")

    def _result(self, outcome: str, a_better: bool) -> str:
        if self.supports == COMPARABLE:
            return {"comparable": "yes", "different": "no"}.get(outcome, "open")
        return "yes" if outcome == "different" and a_better else ("open" if outcome == "inconclusive" else "no")

    @staticmethod
    def _word(outcome: str, a_better: bool, name_a: str, name_b: str) -> str:
        return f"{name_a if a_better else name_b} better" if outcome == "different" else outcome

    def evaluate(self, ctx: Context) -> Finding:
        return {PER_TASK_AND_FRAMEWORK: self._per_task_and_framework, BEST_RECURRENT: self._best_recurrent,
                PER_SWEEP_POINT: self._per_sweep_point}[self.pairing](ctx)

    @staticmethod
    def _text(r, name_a: str, name_b: str) -> str:
        """'adding/torch: mse GRU 0.0004 vs LSTM 0.003, different: ratio 0.13 [0.05, 0.3], d=-3 (p=0.001, n=5/5)'."""
        return (f"{r['task']}/{r['framework']}: {r['metric']} {name_a} {_fmt(r['mean_a'])} vs {name_b} "
                f"{_fmt(r['mean_b'])}, {r['outcome']}: {r['effect (95% CI)']} (Welch p={_fmt(r['p_welch'], 2)}, "
                f"TOST p={_fmt(r['p_tost'], 2)}, n={r['n_a']}/{r['n_b']})")

    def _per_task_and_framework(self, ctx: Context) -> Finding:
        frame = ctx.frame
        tests = gru_vs_lstm(frame)
        if tests.empty:
            raise NotMeasured()
        view = headline_view(frame)
        head = tests[tests["view"] == view]
        cells, seed_cells, evidence = [], [], []
        na, nb = name(self.a), name(self.b)
        states = group_states(frame, "accuracy")
        for _, r in head.iterrows():
            why = not_plateaued(states, (view, r["task"]), (r["a"], r["b"]), r["task"])
            if why:
                seed_cells.append(SeedCell(r["task"], r["framework"], UNDER_TRAINED, min(r["n_a"], r["n_b"]), why=why))
                cells.append(Cell(f"{r['task']}/{r['framework']}", UNDER_TRAINED))
                evidence.append(self._text(r, na, nb) + f" (under-trained: {why})")
                continue
            way = f"{na if r['a_better'] else nb} better" if r["outcome"] == "different" else None
            seed_cells.append(SeedCell(r["task"], r["framework"], self._result(r["outcome"], r["a_better"]),
                                            min(r["n_a"], r["n_b"]), r["seeds_needed"], way))
            cells.append(Cell(f"{r['task']}/{r['framework']}", self._word(r["outcome"], r["a_better"], na, nb)))
            evidence.append(self._text(r, na, nb) + (f" ({way})" if way else ""))
        second = tests[tests["view"] != view]
        if len(second):
            counts = second["outcome"].value_counts()
            evidence.append(f"second view, {VIEW_TITLES.get(second['view'].iloc[0], second['view'].iloc[0])}: " +
                            ", ".join(f"{k} {v}" for k, v in counts.items()) + f" of {len(second)}")
        return Finding(cells, f"{VIEW_TITLES.get(view, view)} (headline): " + "; ".join(evidence),
                       f"{na} vs {nb}: " + ", ".join(f"{r['task']}/{r['framework']} "
                                                     f"{str(r['effect (95% CI)']).split(' [')[0]}"
                                                     for _, r in head.iterrows()),
                       {"seed_cells": seed_cells})

    def _best_recurrent(self, ctx: Context) -> Finding:
        frame = ctx.frame
        acc = frame[frame["kind"] == "accuracy"]
        trained = set(acc["task"].dropna()) if len(acc) else set()
        task = next((t for t in self.tasks if t in trained), None)
        if task is None:
            raise NotMeasured(f"needs the {' or '.join(self.tasks)} task" if len(acc) else
                              "this run has no data for it")
        view = headline_view(frame)
        tests = transformer_vs_recurrent(frame, task, view)
        if tests.empty:
            raise NotMeasured()
        cells, seed_cells, evidence = [], [], []
        states = group_states(frame, "accuracy")
        for _, r in tests.iterrows():
            why = not_plateaued(states, (view, task), (r["a"], r["b"]), task)
            if why:
                seed_cells.append(SeedCell(None, r["framework"], UNDER_TRAINED, min(r["n_a"], r["n_b"]), why=why))
                cells.append(Cell(r["framework"], UNDER_TRAINED))
                evidence.append(self._text(r, name(self.a), r["b"]) + f" (under-trained: {why})")
                continue
            seed_cells.append(SeedCell(None, r["framework"], self._result(r["outcome"], r["a_better"]),
                                            min(r["n_a"], r["n_b"]), r["seeds_needed"]))
            cells.append(Cell(r["framework"], self._word(r["outcome"], r["a_better"], name(self.a), r["b"])))
            evidence.append(self._text(r, name(self.a), r["b"]))
        return Finding(cells, f"{task} task, {VIEW_TITLES.get(view, view)}: " + "; ".join(evidence),
                       f"{task}: " + ", ".join(f"{name(self.a)} {_fmt(r['mean_a'])} vs {r['b']} {_fmt(r['mean_b'])}"
                                               for _, r in tests.iterrows()),
                       {"seed_cells": seed_cells}, figure=f"accuracy_{task}")

    def _per_sweep_point(self, ctx: Context) -> Finding:
        frame = ctx.frame
        t = long_context_accuracy_table(frame)
        if t.empty:
            raise NotMeasured("no mqar or long-copy training in this run (long_context.mqar_pairs and "
                              "long_context.copy_delays; configs/full.yaml trains both)")
        if self.a not in set(t["arch"]):
            raise NotMeasured()
        lc = frame[(frame["kind"] == "long_context") & (frame["status"] == "ok")]
        cells, seed_cells, evidence, heads = [], [], [], []
        states = group_states(frame, "long_context", by=("view", "task", "sweep_size", "model"))
        for (task, size), g in t.groupby(["task", "size"], sort=True):
            mine, rec = g[g["arch"] == self.a], g[g["arch"] != self.a]
            if mine.empty or rec.empty:
                continue
            best = rec.loc[rec["mean"].idxmax()]
            metric = g["metric"].iloc[0]

            def seeds(model):
                s = lc[(lc["task"] == task) & (lc["sweep_size"] == size) & (lc["model"] == model) &
                       (lc["metric"] == metric)]
                return s["value"].astype(float).values

            c = compare(seeds(mine["model"].iloc[0]), seeds(best["model"]), metric)
            label = f"{task} {'N' if task == 'mqar' else 'T'}={size}"
            why = not_plateaued(states, ("budget", task, size), (mine["model"].iloc[0], best["model"]), label)
            if why:
                seed_cells.append(SeedCell(label, None, UNDER_TRAINED, min(c.n_a, c.n_b), why=why))
                cells.append(Cell(label, UNDER_TRAINED))
                evidence.append(f"{label}: {name(self.a)} {c.mean_a:.3f} vs {best['model']} {c.mean_b:.3f} "
                                f"(under-trained: {why})")
                heads.append(f"{label} {c.mean_a:.2f} vs {c.mean_b:.2f}")
                continue
            seed_cells.append(SeedCell(label, None, self._result(c.outcome, c.a_better), min(c.n_a, c.n_b),
                                            c.seeds_needed))
            cells.append(Cell(label, self._word(c.outcome, c.a_better, name(self.a), best["model"])))
            evidence.append(f"{label}: {name(self.a)} {c.mean_a:.3f} vs {best['model']} {c.mean_b:.3f} ({c.outcome}, "
                            f"{c.effect_text()}, Welch p={c.p_welch:.2g}, n={c.n_a}/{c.n_b})")
            heads.append(f"{label} {c.mean_a:.2f} vs {c.mean_b:.2f}")
        if not cells:
            raise NotMeasured()
        params = ", ".join(f"{m} {p:,}" for m, p in t.drop_duplicates("model")[["model", "params"]].values)
        return Finding(cells, "; ".join(evidence) + f" (parameters: {params})",
                       f"{name(self.a)} vs best recurrent: " + ", ".join(heads), {"seed_cells": seed_cells})


@dataclass(frozen=True)
class ForgetBiasArms:
    """Jozefowicz et al. 2015: an LSTM whose forget-gate bias starts at 1 closes the gap to the GRU. Per task x
    framework in the headline view, over the per-seed headline test metrics (rows of kind accuracy; the LSTM's
    arms are its rows with ``forget_bias`` = ``closed`` and ``open_arm``, from training.lstm_forget_bias), three
    comparisons with ``suite.report.statistics.compare`` (Welch + TOST, the SeedComparison statistics):
        c0  = GRU vs LSTM(b_f = 0)      is there a gap to close?
        c1  = GRU vs LSTM(b_f = 1)      is it closed?
        c10 = LSTM(b_f = 1) vs LSTM(b_f = 0)   is bias 1 closer, i.e. better than bias 0? On the comparison scale
              (log for losses) the gaps D_k = mean(GRU) - mean(LSTM(k)) differ by exactly
              D_0 - D_1 = mean(LSTM(1)) - mean(LSTM(0)), the difference c10 tests: with the GRU ahead of LSTM(0),
              the gap shrinks exactly when c10 finds bias 1 better.
    (``forget_bias_table`` computes the three; the rows come from training.lstm_forget_bias.)
    A cell says
        yes ('closes')  c0 different with the GRU better, and c1 comparable or c10 different with LSTM(1) better
        no ('no closer') c0 different with the GRU better, and c10 comparable or different with LSTM(0) better
        open            otherwise: no gap at bias 0 (c0 comparable, inconclusive or the LSTM ahead: nothing to
                        close, the cell says which), or c10 inconclusive
    combined over the cells by ``SeedCells``."""
    a: str = "gru"
    b: str = "lstm"
    closed: float = 1.0
    open_arm: float = 0.0

    def rule(self) -> str:
        return (f"per task x framework, headline test metric over >= {MIN_SEEDS} seeds at the matched parameter "
                f"budget: c0 = {name(self.a)} vs {name(self.b)}(forget bias {self.open_arm:g}), c1 = {name(self.a)} "
                f"vs {name(self.b)}(bias {self.closed:g}), c10 = bias {self.closed:g} vs bias {self.open_arm:g} "
                f"(Welch + TOST at α = {ALPHA}, margins as for GRU vs LSTM); yes if c0 shows a gap in the "
                f"{name(self.a)}'s favour and bias {self.closed:g} closes it (c1 comparable) or narrows it (c10 "
                f"better), no if there is a gap and bias {self.closed:g} is no closer (c10 comparable or worse), "
                "else open (no gap to close, or inconclusive)")

    def evaluate(self, ctx: Context) -> Finding:
        frame = ctx.frame
        table = forget_bias_table(frame, self.open_arm, self.closed)
        if table.empty:
            raise NotMeasured(f"needs GRU and LSTM runs at forget-gate bias {self.open_arm:g} and {self.closed:g} "
                              "on one task (training.lstm_forget_bias)")
        view = headline_view(frame)
        head = table[table["view"] == view]
        if head.empty:
            raise NotMeasured()
        na, nb = name(self.a), name(self.b)
        cells, seed_cells, evidence, heads = [], [], [], []
        for _, r in head.iterrows():
            result, word = self._cell(r)
            label = f"{r['task']}/{r['framework']}"
            needed = r["c10_seeds_needed"] if result == "open" and r["c0_outcome"] == "different" else None
            seed_cells.append(SeedCell(r["task"], r["framework"], result,
                                       int(min(r["c0_n_a"], r["c0_n_b"], r["c1_n_b"])),
                                       None if needed is None or pd.isna(needed) else int(needed)))
            cells.append(Cell(label, word))
            evidence.append(f"{label}: {r['metric']} {na} {_fmt(r['c0_mean_a'])}, {nb}(b_f={self.open_arm:g}) "
                            f"{_fmt(r['c0_mean_b'])}, {nb}(b_f={self.closed:g}) {_fmt(r['c1_mean_b'])}; c0 "
                            f"{r['c0_outcome']} ({r['c0_effect']}), c1 {r['c1_outcome']} ({r['c1_effect']}), c10 "
                            f"{r['c10_outcome']} ({r['c10_effect']}, Welch p={_fmt(r['c10_p_welch'], 2)}, "
                            f"n={r['c0_n_a']}/{r['c0_n_b']}/{r['c1_n_b']}): {word}")
            heads.append(f"{label} {_fmt(r['c0_mean_b'])} → {_fmt(r['c1_mean_b'])} ({na} {_fmt(r['c0_mean_a'])})")
        return Finding(cells, f"{VIEW_TITLES.get(view, view)} (headline): " + "; ".join(evidence),
                       f"{nb} b_f {self.open_arm:g} → {self.closed:g}: " + ", ".join(heads),
                       {"seed_cells": seed_cells})

    def _cell(self, r) -> tuple[str, str]:
        """(yes | no | open, the cell's word) of one row of ``forget_bias_table`` by the rule of the class
        docstring."""
        if not (r["c0_outcome"] == "different" and bool(r["c0_a_better"])):
            why = {"comparable": "no gap at bias 0 (comparable)",
                   "inconclusive": "gap at bias 0 inconclusive"}.get(r["c0_outcome"],
                                                                     f"{name(self.b)} ahead at bias 0")
            return "open", why
        if r["c1_outcome"] == "comparable":
            return "yes", "closes (comparable at bias 1)"
        if r["c10_outcome"] == "different" and bool(r["c10_a_better"]):
            return "yes", "narrows (bias 1 better than bias 0)"
        if r["c10_outcome"] in ("comparable", "different"):
            return "no", "no closer"
        return "open", "inconclusive"


def growth_exponent(series: pd.Series) -> float:
    """b of m ~ T^b between the first and the last T: log(m_last / m_first) / log(T_last / T_first)."""
    s = series.dropna()
    s = s[s > 0]
    if len(s) < 2:
        return math.nan
    return math.log(s.iloc[-1] / s.iloc[0]) / math.log(s.index[-1] / s.index[0])


@dataclass(frozen=True)
class GrowthExponent:
    """Per arch, the growth exponent b of m ~ T^b (``growth_exponent``: first to last T of the sweep) of the
    median ``metric`` of rows of ``kind``; a cell per arch, 'super-linear' when b > ``super_linear_above``, else
    'at most linear' (a recurrent model stores O(T) activations: b ~ 1). ``arch`` must be measured."""
    metric: str = "train_step_peak_mb"
    kind: str = "memory"
    arch: str = "transformer"
    super_linear_above: float = 1.2

    def rule(self) -> str:
        return (f"train-step peak memory ~ T^b per arch over the T sweep, b = log(m_last / m_first) / "
                f"log(T_last / T_first); super-linear when b > {self.super_linear_above}")

    def evaluate(self, ctx: Context) -> Finding:
        frame = ctx.frame
        s = frame[(frame["kind"] == self.kind) & (frame["status"] == "ok") & (frame["metric"] == self.metric)] \
            if "kind" in frame else frame.iloc[0:0]
        p = s.pivot_table(index="T", columns="arch", values="value", aggfunc="median") if not s.empty else \
            pd.DataFrame()
        if p.empty or self.arch not in p:
            raise NotMeasured()
        b = {arch: growth_exponent(p[arch]) for arch in p.columns}
        b = {a: v for a, v in b.items() if not math.isnan(v)}
        if self.arch not in b:
            raise NotMeasured(f"needs the {name(self.arch)} at two sequence lengths at least")
        largest = max(b, key=b.get)
        T0, T1 = int(p.index.min()), int(p.index.max())
        ev = ", ".join(f"{name(a)} b={v:.2f} ({p[a].iloc[0]:.3g} → {p[a].iloc[-1]:.3g} MB)" for a, v in b.items())
        fastest = f"; {name(largest)} grows fastest" if largest != self.arch else ""
        others = ", ".join(f"{name(a)} ~ T^{v:.2f}" for a, v in b.items() if a != self.arch)
        return Finding([Cell(name(a), "super-linear" if v > self.super_linear_above else "at most linear", v)
                        for a, v in b.items()],
                       f"train-step peak memory from T={T0} to T={T1} (memory ~ T^b): {ev}{fastest}",
                       f"{name(self.arch)} memory ~ T^{b[self.arch]:.2f}" + (f", {others}" if others else ""),
                       {"largest": name(largest), "arch": name(self.arch)})


def _base_model(runs: pd.DataFrame, arch: str) -> pd.DataFrame:
    """The runs of one arch's model in a framework group: the model named 'arch-framework' (plus an LSTM arm's
    '-fb' suffix), not a convention or scan variant."""
    g = runs[runs["arch"] == arch]
    if g.empty:
        return g
    base = min(g["model"].unique(), key=len)
    return g[g["model"] == base]


@dataclass(frozen=True)
class TimeToTarget:
    """Per task x framework of the headline view: model a (``a``-framework) vs model b's times to the task's
    target over the seeds (``suite.report.time_to_target``: k of n reached, Kaplan-Meier median with its 95% CI,
    log-rank test), in seconds = updates x the per-update cost measured at the training shape (kind
    'speed_training'), or in updates where that cost was not measured. A cell's word: sooner / later / within
    noise / inconclusive (fewer than MIN_SEEDS seeds) / neither reached. The cost-per-update reading (``per_update``,
    a ``SpeedRatio`` over T) is read beside it and quoted in the verdict, so the verdict says which reading holds."""
    a: str = "gru"
    b: str = "lstm"
    per_update: SpeedRatio | None = None

    def rule(self) -> str:
        return (f"per task x framework, {name(self.a)} vs {name(self.b)} updates to the task's target over >= "
                f"{MIN_SEEDS} seeds at the matched parameter budget (first validation evaluation at the target; a "
                "seed that never gets there is censored at its budget), times the per-update cost measured alone "
                f"at the training shape: sooner / later when the log-rank test gives p < {ALPHA} (Kaplan-Meier "
                "medians with 95% CIs as evidence), else within noise; neither reached when no seed of either "
                "model reached the target")

    def evaluate(self, ctx: Context) -> Finding:
        frame = ctx.frame
        runs = runs_to_target(headline_arm(frame), "accuracy")      # an LSTM at its headline forget-bias arm
        if runs.empty:
            raise NotMeasured("this run recorded no updates to target")
        view = headline_view(frame)
        runs = runs[runs["view"] == view]
        cost = per_update_ms(frame)                 # keyed by (task, 'arch-framework'): the speed stage's names
        na, nb = name(self.a), name(self.b)
        cells, evidence, heads, tasks = [], [], [], []
        for (task, fw), g in runs.groupby(["task", "framework"], sort=False):
            ga, gb = (_base_model(g, arch) for arch in (self.a, self.b))
            if ga.empty or gb.empty:
                continue
            ca, cb = cost.get((task, f"{self.a}-{fw}"), math.nan), cost.get((task, f"{self.b}-{fw}"), math.nan)
            if ga.empty or gb.empty:
                continue
            in_seconds = not (math.isnan(ca) or math.isnan(cb))
            sa, sb = (ca / 1e3, cb / 1e3) if in_seconds else (1.0, 1.0)
            word, p = compare_times(ga["time"] * sa, ga["reached"], gb["time"] * sb, gb["reached"])
            cells.append(Cell(f"{task}/{fw}", word, p))
            tasks.append(task)
            kms = [(m, km_median(gr["time"], gr["reached"]), int(gr["updates"].max()), c)
                   for m, gr, c in ((na, ga, ca), (nb, gb, cb))]
            parts = [f"{m} {km['k']} of {km['n']} reached, {summary_text(km, budget, c)}" for m, km, budget, c in kms]
            unit = "seconds" if in_seconds else "updates (per-update cost not measured at the training shape)"
            target = f"{ga['metric'].iloc[0]} {'<=' if ga['metric'].iloc[0] in LOWER_IS_BETTER else '>='} " \
                     f"{ga['target'].iloc[0]:g}"
            evidence.append(f"{task}/{fw} (target {target}): " + "; ".join(parts) +
                            f"; log-rank in {unit} p={_fmt(p, 2)}: {word}")
            heads.append(f"{task}/{fw} " + " vs ".join(
                f"{km['median']:.0f}" if not math.isnan(km["median"]) else "n.r." for _, km, _, _ in kms))
        if not cells:
            raise NotMeasured()
        judged = [t for t, c in zip(tasks, cells) if c.word in (SOONER, LATER)]
        deciding = (judged or tasks)[0]                  # the figure: the first task whose cell went one way
        per_update = None
        if self.per_update is not None:
            try:
                per_update = {c.label: c.word for c in self.per_update.evaluate(ctx).cells}
            except NotMeasured:
                per_update = None
        return Finding(cells, f"{VIEW_TITLES.get(view, view)} (headline): " + "; ".join(evidence),
                       f"median updates to target {na} vs {nb}: " + ", ".join(heads) + " (n.r.: not reached by "
                       "half the seeds)",
                       {"per_update": per_update, "a": na, "b": nb}, figure=f"curves_{deciding}_updates")


# --- combine rules ------------------------------------------------------------------------------------
def _labels(cells) -> str:
    return ", ".join(c.label for c in cells)


@dataclass(frozen=True)
class Everywhere:
    """holds (the ``holds`` phrase) if every cell reads ``good``, else does not hold (``otherwise``)."""
    good: str
    holds: str = "holds"
    otherwise: str = "does not hold"

    def rule(self) -> str:
        return f"holds if {self.good} in every framework"

    def decide(self, finding: Finding) -> tuple[str, str]:
        ok = all(c.word == self.good for c in finding.cells)
        return ("holds", self.holds) if ok else ("does not hold", self.otherwise)


@dataclass(frozen=True)
class MarksAcross:
    """One mark per framework (or other ``across``): holds (``good`` everywhere) / not shown (within noise
    everywhere: the CIs reach into the tolerance) / does not hold (``good`` nowhere) / depends on the framework;
    the other marks are named with their frameworks, e.g. "depends on the framework: faster in keras; slower in
    torch"."""
    good: str = "faster"
    across: str = "framework"

    def rule(self) -> str:
        return (f"holds if {self.good} in every {self.across}, not shown if within noise in every one, does not hold "
                f"if {self.good} in none, else depends on the {self.across}")

    def decide(self, finding: Finding) -> tuple[str, str]:
        marks = {c.label: c.word for c in finding.cells}
        yes = [fw for fw, m in marks.items() if m == self.good]
        others = sorted({m for m in marks.values() if m != self.good})

        def named(m):
            return f"{m} in {', '.join(fw for fw, x in marks.items() if x == m)}"

        detail = "; ".join(named(m) for m in others)
        if len(yes) == len(marks):
            return "holds", "holds"
        if not yes and set(others) <= {"within noise", TOO_FEW} and "within noise" in others:
            few = f"; {named(TOO_FEW)}" if TOO_FEW in others else ""
            return "not shown", f"not shown ({named('within noise')}: the 95% CIs reach into {tolerance_text()}{few})"
        if not yes:
            return "does not hold", f"does not hold ({detail})"
        return "depends", f"depends on the {self.across}: {self.good} in {', '.join(yes)}; {detail}"


@dataclass(frozen=True)
class MarksVersus:
    """One mark per other arch: holds (``good`` than each) / does not hold (than none; each other arch named:
    "does not hold (within noise of LSTM)") / depends on the other arch ("faster than Transformer; slower than
    LSTM")."""
    good: str = "faster"

    def rule(self) -> str:
        return f"holds if {self.good} than each other arch, does not hold if than none, else depends on the other arch"

    def decide(self, finding: Finding) -> tuple[str, str]:
        marks = {c.label: c.word for c in finding.cells}
        good = [a for a, m in marks.items() if m == self.good]

        def said(a, m):
            return {"within noise": f"within noise of {a}", TOO_FEW: f"too few samples against {a}"}.get(
                m, f"{m} than {a}")

        if len(good) == len(marks):
            return "holds", "holds"
        if not good:
            return "does not hold", "does not hold (" + "; ".join(said(a, m) for a, m in marks.items()) + ")"
        return "depends", (f"depends on the other arch: {self.good} than " + ", ".join(good) + "; " +
                           "; ".join(said(a, m) for a, m in marks.items() if m != self.good))


@dataclass(frozen=True)
class SeedCells:
    """The yes / no / open of the cells of a seed comparison (``SeedComparison``: whether a cell supports the
    claim, contradicts it, or cannot tell at its number of seeds), combined (``seed_verdict``):
        every cell yes                  -> "holds"
        every cell no                   -> "does not hold"
        yes and no cells                -> "depends on the task | framework | task and framework: holds on ...;
                                            not on ..." (open cells named after them)
        yes and open cells, no 'no'     -> "inconclusive at n seeds: holds on ...; open on ..."
        no and open cells, no 'yes'     -> "does not hold on ...; inconclusive on ..."
        every cell open                 -> "inconclusive at n seeds"
        no cells                        -> "not measured"
    where n is the smallest number of seeds in a cell. "depends on the task" when, within each task, every
    decided cell agrees (likewise for the framework). Open cells come with the seeds per model that a
    difference of the observed size would need for 80% power (``suite.report.statistics.seeds_needed``).
    Cells that carry a ``direction`` (which way a 'no' went) are named by it: "does not hold: GRU better on
    adding/torch, copy/torch; inconclusive on ...". Under-trained cells (the guard of ``SeedComparison``) decide
    nothing: every cell under-trained -> "under-trained: <model> on <task> <states>"; otherwise the other cells
    decide as above, a "holds" becomes "inconclusive: holds on ...", and the under-trained cells are named after
    the verdict."""

    def rule(self) -> str:
        return ("holds if yes in every cell, does not hold if no in every cell, depends on the task (or framework) "
                "when the decided cells split by it, else inconclusive at the cells' seeds; under-trained cells "
                "decide nothing (all under-trained: under-trained)")

    def decide(self, finding: Finding) -> tuple[str, str]:
        return seed_verdict(finding.detail["seed_cells"])


def _names(cells) -> str:
    return ", ".join(c.label for c in cells)


def _no_text(cells) -> str:
    """'adding/torch, copy/torch' or, when the cells say which way they went, 'GRU better on adding/torch;
    LSTM better on copy/torch'."""
    if not all(c.direction for c in cells):
        return _names(cells)
    ways = sorted({c.direction for c in cells})
    return "; ".join(f"{w} on {_names([c for c in cells if c.direction == w])}" for w in ways)


def _open_text(cells) -> str:
    """'adding/torch, copy/keras (a difference of the observed size needs 8–43 seeds per model, 80% power)'."""
    needs = sorted(c.seeds_needed for c in cells if c.seeds_needed)
    if not needs:
        return f"{_names(cells)} (no difference observed)"
    span = f"~{needs[0]}" if needs[0] == needs[-1] else f"{needs[0]}–{needs[-1]}"
    return f"{_names(cells)} (a difference of the observed size needs {span} seeds per model, 80% power)"


def _splits_by(cells, attr: str) -> bool:
    """Within each value of ``attr``, the decided cells all agree."""
    groups: dict = {}
    for c in cells:
        if c.result != "open":
            groups.setdefault(getattr(c, attr), set()).add(c.result)
    return len(groups) > 1 and all(len(v) == 1 for v in groups.values())


def seed_verdict(cells: list[SeedCell]) -> tuple[str, str]:
    """(word, verdict) of a claim from its seed cells (``SeedCells``)."""
    if not cells:
        return "not measured", "not measured"
    under = [c for c in cells if c.result == UNDER_TRAINED]
    if under:
        note = f"{UNDER_TRAINED}: " + "; ".join(c.why or c.label for c in under)
        rest = [c for c in cells if c.result != UNDER_TRAINED]
        if not rest:
            return UNDER_TRAINED, note
        word, verdict = seed_verdict(rest)
        if word == "holds":
            return "inconclusive", f"inconclusive: holds on {_names(rest)}; {note}"
        return word, f"{verdict}; {note}"
    yes = [c for c in cells if c.result == "yes"]
    no = [c for c in cells if c.result == "no"]
    open_ = [c for c in cells if c.result == "open"]
    n = min(c.n_seeds for c in cells)
    tail = f"; inconclusive on {_open_text(open_)}" if open_ else ""
    if yes and not no and not open_:
        return "holds", "holds"
    if no and not yes and not open_:
        return "does not hold", "does not hold" + (f" ({_no_text(no)})" if all(c.direction for c in no) else "")
    if yes and no:
        by = "task" if _splits_by(cells, "task") else ("framework" if _splits_by(cells, "framework")
                                                        else "task and framework")
        return "depends", f"depends on the {by}: holds on {_names(yes)}; not on {_no_text(no)}{tail}"
    if no:
        return "does not hold", (f"does not hold: {_no_text(no)}{tail}" if all(c.direction for c in no)
                                 else f"does not hold on {_names(no)}{tail}")
    short = f" (the rules need ≥ {MIN_SEEDS})" if n < MIN_SEEDS else ""
    if yes:
        return "inconclusive", f"inconclusive at {n} seeds{short}: holds on {_names(yes)}; open on {_open_text(open_)}"
    return "inconclusive", f"inconclusive at {n} seeds{short}: {_open_text(open_)}"


@dataclass(frozen=True)
class CrossoverIn:
    """holds if there is a crossover in every framework ("holds (from T=400 in torch)"), does not hold if in none
    ("does not hold: no crossover up to T=<longest>"), else depends on the framework."""

    def rule(self) -> str:
        return "holds if there is a crossover in every framework, else 'no crossover up to T=…'"

    def decide(self, finding: Finding) -> tuple[str, str]:
        longest = finding.detail["longest"]
        judged = [c for c in finding.cells if c.word != TOO_FEW]
        few = [c for c in finding.cells if c.word == TOO_FEW]
        few_text = f"; too few samples in {_labels(few)}" if few else ""
        have = [c for c in judged if c.value is not None]
        starts = ", ".join(f"from T={c.value} in {c.label}" for c in have)
        if len(have) == len(judged) and not few:
            return "holds", f"holds ({starts})"
        if not have:
            return "does not hold", f"does not hold: no crossover up to T={longest}{few_text}"
        return "depends", (f"depends on the framework: {starts}; no crossover up to T={longest} in "
                           + _labels([c for c in judged if c.value is None]) + few_text)


@dataclass(frozen=True)
class AgainstEach:
    """Cells per framework x other arch: holds if ``good`` against each other arch in every framework, does not
    hold if in none, else depends on the framework ("holds in torch"); within noise counts as a tie, named when
    the claim does not hold everywhere ("GRU ≈ LSTM in keras, within noise"); a framework timed without a usable
    pair is named "not measured in ..." (the claim then holds only where it was judged)."""
    good: str = "faster"

    def rule(self) -> str:
        return f"holds if {self.good} against each other arch in every framework; within noise counts as a tie"

    def decide(self, finding: Finding) -> tuple[str, str]:
        judged = [c for c in finding.cells if c.word != NOT_MEASURED]
        missing = [c.label for c in finding.cells if c.word == NOT_MEASURED]
        groups: dict[str, list[Cell]] = {}
        for c in judged:
            groups.setdefault(c.group, []).append(c)
        good = [fw for fw, cs in groups.items() if all(c.word == self.good for c in cs)]
        word, verdict = (("holds", "holds") if len(good) == len(groups) else
                         ("does not hold", "does not hold") if not good else
                         ("depends", f"depends on the framework: holds in {', '.join(good)}"))
        numerator = finding.detail["numerator"]
        ties = [f"{numerator} ≈ {c.versus} in {c.group}" for c in judged if c.word == "within noise"]
        if ties and len(good) != len(groups):
            verdict += f" ({'; '.join(ties)}, within noise)"
        few = [fw for fw, cs in groups.items() if any(c.word == TOO_FEW for c in cs)]
        if few:
            verdict += f"; too few samples in {', '.join(few)}"
        if missing:                 # 'holds' speaks for every framework: say which one could not be judged
            if verdict == "holds":
                verdict = f"holds in {', '.join(good)}"
            verdict += (f"; not measured in {', '.join(missing)} (unstable or failed at context "
                        f"{finding.detail['context']})")
        return word, verdict


@dataclass(frozen=True)
class AtLongest:
    """The mark of the last cell (the longest T) decides: faster -> holds, slower -> does not hold, else not
    shown; the other cells are evidence."""

    def rule(self) -> str:
        return "holds if faster at the longest T, does not hold if slower, else not shown"

    def decide(self, finding: Finding) -> tuple[str, str]:
        last = finding.cells[-1]
        if last.word == TOO_FEW:
            return TOO_FEW, f"too few samples (fewer than {MIN_SAMPLES} raw samples in a row at {last.label})"
        word = {"faster": "holds", "slower": "does not hold"}.get(last.word, "not shown")
        if word != "not shown":
            return word, word
        d = finding.detail
        return word, f"not shown ({d['numerator']} within noise of the {d['denominator']} at {last.label})"


@dataclass(frozen=True)
class FastestGrowth:
    """holds if the statistic's arch has the largest exponent and its cell reads super-linear."""

    def rule(self) -> str:
        return "holds if the Transformer's b is the largest of all archs and super-linear"

    def decide(self, finding: Finding) -> tuple[str, str]:
        d = finding.detail
        mine = next(c for c in finding.cells if c.label == d["arch"])
        holds = d["largest"] == d["arch"] and mine.word == "super-linear"
        return ("holds", "holds") if holds else ("does not hold", "does not hold")


@dataclass(frozen=True)
class ReachesSooner:
    """The cells of ``TimeToTarget``, read like ``MarksAcross`` over the tasks: holds if sooner in every cell, not
    shown if within noise in every one, depends on the task when some cells are sooner and others not, else does
    not hold; cells that decide nothing (neither reached; inconclusive at too few seeds) turn a "holds" into
    "inconclusive" and are named. The verdict opens with the time-to-target reading and closes with the
    per-update one ("holds (to target: sooner on adding/torch); per update: slower in torch"); every cell
    neither reached -> "under-trained"."""

    def rule(self) -> str:
        return ("to target: holds if sooner in every task x framework, not shown if within noise in every one, "
                "depends on the task if sooner in some, else does not hold; a cell where neither model reached the "
                "target decides nothing (every cell so: under-trained); the per-update reading (train step over "
                "T) is quoted beside it")

    def decide(self, finding: Finding) -> tuple[str, str]:
        marks = {c.label: c.word for c in finding.cells}

        def where(word):
            return ", ".join(label for label, m in marks.items() if m == word)

        judged = {m for m in marks.values() if m in (SOONER, LATER, WITHIN_NOISE)}
        unjudged = [f"neither model reached the target on {where(NEITHER)}" if NEITHER in marks.values() else "",
                    f"inconclusive on {where(INCONCLUSIVE)} (fewer than {MIN_SEEDS} seeds)"
                    if INCONCLUSIVE in marks.values() else ""]
        tail = "".join(f"; {u}" for u in unjudged if u)
        if not judged:
            word = UNDER_TRAINED if set(marks.values()) == {NEITHER} else "inconclusive"
            phrase = (f"{UNDER_TRAINED}: neither model reached the target on {where(NEITHER)}" if word == UNDER_TRAINED
                      else f"inconclusive{tail}")
        elif judged == {SOONER}:
            word = "holds" if not tail else "inconclusive"
            phrase = f"{word} (to target: sooner on {where(SOONER)}){tail}"
        elif SOONER in judged:
            others = "; ".join(f"{m} on {where(m)}" for m in (LATER, WITHIN_NOISE) if m in judged)
            word, phrase = "depends", f"depends on the task: to target sooner on {where(SOONER)}; {others}{tail}"
        elif judged == {WITHIN_NOISE}:
            word, phrase = "not shown", f"not shown (to target: within noise on {where(WITHIN_NOISE)}){tail}"
        else:
            others = "; ".join(f"{m} on {where(m)}" for m in (LATER, WITHIN_NOISE) if m in judged)
            word, phrase = "does not hold", f"does not hold (to target: {others}){tail}"
        per_update = finding.detail.get("per_update")
        if per_update:
            by_mark: dict[str, list[str]] = {}
            for fw, m in per_update.items():
                by_mark.setdefault(m, []).append(fw)
            phrase += "; per update: " + "; ".join(f"{m} in {', '.join(fws)}" for m, fws in sorted(by_mark.items()))
        return word, phrase


# --- declarations and verdicts -------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """One claim (module docstring)."""
    id: str
    title: str
    statistic: object
    combine: object
    figure: str | None = None
    table: str | None = None

    def rule(self) -> str:
        return f"{self.statistic.rule()}; {self.combine.rule()}"


@dataclass(frozen=True)
class Verdict:
    """One claim's verdict as data (module docstring); ``as_row`` is its row of the claims table."""
    id: str
    claim: str
    word: str
    cells: dict
    verdict: str
    headline: str
    evidence: str
    rule: str
    figure: str | None
    table: str | None

    def as_row(self) -> dict:
        return asdict(self)


def too_few(cells: list[Cell]) -> bool:
    """Every judged cell rests on a row with fewer raw samples than MIN_SAMPLES."""
    judged = [c for c in cells if c.word != NOT_MEASURED]
    return bool(judged) and all(c.word == TOO_FEW for c in judged)


def evaluate(claim: Claim, ctx: Context) -> Verdict:
    """The verdict of one declaration on one run; never raises (a claim that does is an 'error' verdict)."""
    base = dict(id=claim.id, claim=claim.title, rule=claim.rule(), figure=claim.figure, table=claim.table)
    try:
        finding = claim.statistic.evaluate(ctx)
    except NotMeasured as e:
        return Verdict(**base, word=NOT_MEASURED, cells={}, verdict=NOT_MEASURED, headline="", evidence=str(e))
    except Exception as e:  # one broken claim must not sink the report
        return Verdict(**base, word="error", cells={}, verdict="error", headline="",
                       evidence=f"could not evaluate: {type(e).__name__}: {e}")
    try:
        if finding.unmeasured:
            word, verdict = NOT_MEASURED, f"not measured ({finding.unmeasured})"
        elif too_few(finding.cells):
            word = TOO_FEW
            verdict = (f"too few samples (fewer than {MIN_SAMPLES} raw samples in a row of every ratio: "
                       f"{_labels(finding.cells)})")
        else:
            word, verdict = claim.combine.decide(finding)
    except Exception as e:
        return Verdict(**base, word="error", cells={}, verdict="error", headline=finding.headline,
                       evidence=f"could not combine: {type(e).__name__}: {e}; {finding.evidence}")
    return Verdict(**{**base, "figure": finding.figure or claim.figure}, word=word,
                   cells={c.label: c.word for c in finding.cells}, verdict=verdict, headline=finding.headline,
                   evidence=finding.evidence)


def verdict_frame(claims, ctx: Context) -> pd.DataFrame:
    """One row per claim (COLUMNS), in declaration order."""
    return pd.DataFrame([evaluate(c, ctx).as_row() for c in claims], columns=COLUMNS)


def word_of(verdict: str) -> str:
    """The word a verdict phrase opens with (for a claims table written before verdicts carried their word)."""
    text = str(verdict)
    return next((w for w in sorted(WORDS, key=len, reverse=True) if text.startswith(w)), "error")
