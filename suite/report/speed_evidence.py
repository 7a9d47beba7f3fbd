"""Speed comparisons with their uncertainty: the tables the speed claims, the report and the figures share.

Every comparison is a ratio of row values (medians of round medians; for rows timed interleaved, the median of
the per-sample ratios) with a bootstrap 95% CI from the
rows' raw samples (``suite.bench.ratios``, which states the method) and a mark (``suite.bench.ratios.mark``:
'faster' / 'slower' when the whole CI lies outside 1 ± TOLERANCE, else 'within noise'; 'too few samples' when
a row of it has fewer than MIN_SAMPLES raw samples). Rows come from results.csv, their samples from
samples.json.gz (``suite.results.samples``); a row without samples gets its point ratio and no CI.

    pair_ratio(num, den, samples)          one ratio of rows (or of products of rows)
    mean_ratio(pairs, samples)             the geometric mean of K ratios of rows (num_k / den_k), with CI
                                           (each ratio bootstrapped on its own, paired)
    crossover_table(frame, H, samples)     per framework and T: Transformer / best recurrent train step
    crossover_T(table, framework)          the T from which the Transformer stays cheaper
    thread_scaling_table(frame, samples)   per model and metric: speedup t(1 thread) / t(n threads)
"""
from __future__ import annotations

import math

import pandas as pd

from suite.bench.ratios import format_ratio, geometric_mean_ci, mark, ratio_ci
from suite.results.samples import sample_key
from suite.spec import framework_of

RECURRENT = ("gru", "lstm")


def ok_kind(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Rows of ``kind`` with status ok (unstable and failed rows never enter a ratio)."""
    if frame.empty or "kind" not in frame:
        return frame.iloc[0:0]
    return frame[(frame["kind"] == kind) & (frame["status"] == "ok")]


def reference_convention(rows: pd.DataFrame) -> pd.DataFrame:
    """GRUs in the default reset_after convention only (one GRU per framework)."""
    return rows[rows["convention"].fillna("reset_after") == "reset_after"] if "convention" in rows else rows


def stable_rounds(row, samples: dict | None) -> list[list[float]] | None:
    """The row's rounds of raw samples that passed the drift check (all when none did); None without."""
    record = samples.get(sample_key(row)) if samples else None
    if not record or not record.get("rounds"):
        return None
    stable = record.get("stable") or [True] * len(record["rounds"])
    return [r for r, ok in zip(record["rounds"], stable) if ok] or record["rounds"]


def paired_rounds(rows: list, samples: dict | None) -> list[list[list[float]] | None]:
    """The rounds of raw samples of each row for one ratio. When every row has the same number of rounds
    (round r of each taken in the same round of workers, the models of a shape interleaved), a round is kept
    only where it is stable in every row, so the pairs stay matched (all rounds when none is stable in all);
    otherwise each row keeps its own stable rounds (``stable_rounds``)."""
    records = [samples.get(sample_key(r)) if samples else None for r in rows]
    if any(not rec or not rec.get("rounds") for rec in records):
        return [stable_rounds(r, samples) for r in rows]
    if len({len(rec["rounds"]) for rec in records}) != 1:
        return [stable_rounds(r, samples) for r in rows]
    flags = [rec.get("stable") or [True] * len(rec["rounds"]) for rec in records]
    keep = [i for i in range(len(records[0]["rounds"])) if all(f[i] for f in flags)] or \
        list(range(len(records[0]["rounds"])))
    return [[rec["rounds"][i] for i in keep] for rec in records]


def interleaved(rows: list) -> bool:
    """Whether the rows were timed in one process, their samples taken in turn: one kind, metric, framework,
    shape, thread count (and runtime and precision for edge rows), only the model differing. A speed worker times
    the models of one framework and shape interleaved (``suite.bench.speed_worker``); the edge stage the steps of
    one runtime x precision (``suite.edge.measure``). Their ratio is then taken per sample (``suite.bench.ratios``)."""
    def identity(row) -> str:
        parts = sample_key(row).split("|")
        parts[1] = framework_of(parts[1])
        return "|".join(p for p in parts if not p.startswith("graph="))    # GRU op vs LSTM op: one pass
    return len(rows) > 1 and len({identity(r) for r in rows}) == 1


def fewest_samples(rounds: list[list[list[float]]]) -> int:
    """The fewest raw samples of a row, over the rounds a ratio uses of each (``paired_rounds``)."""
    return min(sum(len(r) for r in row) for row in rounds)


def pair_ratio(num: list, den: list, samples: dict | None) -> dict:
    """{'ratio', 'lo', 'hi', 'n', 'mark', 'text'} for prod(num values) / prod(den values); the ratio is taken per
    sample when the rows were timed interleaved (``interleaved``); n: the fewest raw samples of a row (None
    without samples)."""
    rounds = paired_rounds(list(num) + list(den), samples)
    if all(r is not None for r in rounds):
        rho, lo, hi = ratio_ci(rounds[:len(num)], rounds[len(num):], interleaved=interleaved(list(num) + list(den)))
        n = fewest_samples(rounds)
    else:
        rho = math.prod(float(r["value"]) for r in num) / math.prod(float(r["value"]) for r in den)
        lo = hi = math.nan
        n = None
    return {"ratio": rho, "lo": lo, "hi": hi, "n": n, "mark": mark(rho, lo, hi, n=n),
            "text": format_ratio(rho, lo, hi)}


def mean_ratio(pairs: list[tuple], samples: dict | None) -> dict:
    """The geometric mean of K row ratios, (prod_k num_k / den_k)^(1/K), with a CI: each ratio bootstrapped on
    its own, its rows' rounds and samples paired, the replicates combined (``suite.bench.ratios.
    geometric_mean_ci``). Used over a sweep, where each point alone would be a noisier basis for one verdict.
    Without raw samples for every row, the point value and no CI. n: the fewest raw samples of any row."""
    k = len(pairs)
    rounds = [paired_rounds([num, den], samples) for num, den in pairs]
    if all(r is not None for pair in rounds for r in pair):
        rho, lo, hi = geometric_mean_ci([([num], [den]) for num, den in rounds],
                                        interleaved=[interleaved([num, den]) for num, den in pairs])
        n = min(fewest_samples(pair) for pair in rounds)
    else:
        rho = math.prod(float(num["value"]) / float(den["value"]) for num, den in pairs) ** (1 / k)
        lo = hi = math.nan
        n = None
    return {"ratio": rho, "lo": lo, "hi": hi, "n": n, "mark": mark(rho, lo, hi, n=n),
            "text": format_ratio(rho, lo, hi), "k": k}


def _one(rows: pd.DataFrame, **where):
    sel = rows
    for k, v in where.items():
        sel = sel[sel[k] == v]
    return sel.iloc[0] if len(sel) else None


# --- Transformer vs recurrent over T -------------------------------------------------------------------
def crossover_table(frame: pd.DataFrame, H: int, samples: dict | None) -> pd.DataFrame:
    """Per framework and T (at width H): Transformer / best recurrent train_step_ms with CI and mark.
    The best recurrent model is the one with the lower median train step at that T."""
    sp = reference_convention(ok_kind(frame, "speed"))
    sp = sp[(sp["metric"] == "train_step_ms") & (sp["hidden"] == H)] if not sp.empty else sp
    rows = []
    for (fw, T), g in sp.groupby(["framework", "T"], sort=True):
        tr = _one(g, arch="transformer")
        rec = g[g["arch"].isin(RECURRENT)]
        if tr is None or rec.empty:
            continue
        best = rec.loc[rec["value"].astype(float).idxmin()]
        r = pair_ratio([tr], [best], samples)
        rows.append({"framework": fw, "T": int(T), "transformer_ms": float(tr["value"]),
                     "best_recurrent": best["model"], "recurrent_ms": float(best["value"]),
                     "ratio": r["ratio"], "ci_lo": r["lo"], "ci_hi": r["hi"], "mark": r["mark"]})
    return pd.DataFrame(rows)


def crossover_T(table: pd.DataFrame, framework: str) -> int | None:
    """The smallest measured T from which the Transformer's train step is 'faster' at every longer T;
    None when it is not faster at the longest T (no crossover in the measured range)."""
    t = table[table["framework"] == framework].sort_values("T")
    crossing = None
    for T, m in zip(t["T"], t["mark"]):
        if m == "faster":
            crossing = crossing if crossing is not None else int(T)
        else:
            crossing = None
    return crossing


# --- thread scaling ------------------------------------------------------------------------------------
def thread_scaling_table(frame: pd.DataFrame, samples: dict | None,
                         metrics=("train_step_ms", "infer_ms")) -> pd.DataFrame:
    """Per model and metric: time at the fewest and at the most threads measured (ms_fewest, ms_most), the
    speedup t(fewest) / t(most) with its CI, and the parallel efficiency speedup / (most / fewest)."""
    th = ok_kind(frame, "speed_threads")
    rows = []
    if th.empty:
        return pd.DataFrame(rows)
    for (model, metric), g in th[th["metric"].isin(metrics)].groupby(["model", "metric"], sort=True):
        counts = sorted(int(c) for c in g["threads"].unique())
        if len(counts) < 2:
            continue
        one, many = _one(g, threads=counts[0]), _one(g, threads=counts[-1])
        r = pair_ratio([one], [many], samples)
        rows.append({"model": model, "arch": one["arch"], "framework": one["framework"], "metric": metric,
                     "threads": f"{counts[0]}→{counts[-1]}", "ms_fewest": float(one["value"]),
                     "ms_most": float(many["value"]), "speedup": r["ratio"], "ci_lo": r["lo"], "ci_hi": r["hi"],
                     "efficiency": r["ratio"] / (counts[-1] / counts[0]),
                     "load_avg": max(float(one.get("load_avg") or math.nan), float(many.get("load_avg") or math.nan))})
    return pd.DataFrame(rows)


def speedup_ratio(frame: pd.DataFrame, samples: dict | None, model_a: str, model_b: str,
                  metric: str = "train_step_ms") -> dict | None:
    """Speedup of model_a over speedup of model_b: [t_a(1) / t_a(n)] / [t_b(1) / t_b(n)], with CI
    (> 1: model_a gains more from the extra cores)."""
    th = ok_kind(frame, "speed_threads")
    th = th[th["metric"] == metric] if not th.empty else th
    a, b = th[th["model"] == model_a], th[th["model"] == model_b]
    counts = sorted(set(int(c) for c in a["threads"]) & set(int(c) for c in b["threads"]))
    if len(counts) < 2:
        return None
    lo_n, hi_n = counts[0], counts[-1]
    return pair_ratio([_one(a, threads=lo_n), _one(b, threads=hi_n)],
                      [_one(a, threads=hi_n), _one(b, threads=lo_n)], samples)
