"""``python -m suite compare RUN_A RUN_B``: what changed from run A to run B (modelled on ``asv compare``).

Rows. Every metric present in both runs, one row per key:
    speed, speed_threads   key = kind|model|metric|B|T|H|L|context|threads (``suite.results.samples``);
                           a = A's value, b = B's value (medians of round medians)
    accuracy, paper,       key = kind|task|model|metric|split; a, b = means over seeds (an LSTM's forget-bias arms
    side_by_side           and the divergence null have model names of their own: lstm-torch-fb0, gru-torch-ulp1)
    params                 key = kind|model|metric|H|L|T|B (deterministic: a change is 'changed')
    equivalence            key = kind|model|metric|H|L|T|B: a residual (max |difference| between frameworks)
                           judged against its tolerance (the row's ``tolerance``, written from
                           the arch descriptor's ``tolerances``): pass when value <= tolerance
ratio = b / a.

Significance.
    speed: two-sided Mann-Whitney U on the raw samples of A and B (the stable rounds pooled, from
        samples.json.gz; ``scipy.stats.mannwhitneyu``) at p < ALPHA (0.01), AND the change beyond the
        noise floor: |ln ratio| > ln(1 + floor) (symmetric, so a time and its throughput agree),
        floor = max(FACTOR - 1, spread_A, spread_B, machine), where
            FACTOR = 1.10 (asv's default factor),
            spread = (max - min) / median of a row's round medians (``repeat_spread``: how far two workers
                     of the SAME run disagreed),
            machine = exp(3 sigma) - 1: the machine's own noise, measured inside the two runs. For every
                     time row (ms, us) of the same kind in A or B with R >= 2 rounds and each pair of its
                     rounds i < j, d = |ln(m_i / m_j)| (m a round's median): two workers of ONE run, minutes
                     apart, same code. sigma = 1.4826 median(d) / sqrt(2) (a robust MAD estimate of one
                     round's log-scale noise, which is also the noise of the difference of two run values
                     that each average two rounds); 3 sigma is the usual outlier bound. A shared machine's
                     load swings then read as noise, and the estimate does not grow with real changes
                     between A and B. With one round per run (the default job) there is no such pair; and a
                     measurement taken once can meet a slow spell that a second round would have halved. So
                     the floor is also estimated between the runs, from the rows themselves (an empirical
                     null: most rows did not change, so only with rows of >= MIN_SHIFT_MODELS models): over
                     the time rows of the kind ok in both runs,
                     l_i = ln(relative ratio_i), sigma = 1.4826 median |l_i - median l| (robust MAD, needs
                     >= MIN_NULL_ROWS rows), floor = exp(3 sigma) - 1. machine = the larger of the two.
                     Both are printed with the comparison.
        The Mann-Whitney test alone would flag every few-percent shift between two runs minutes apart.
        Machine shift: two runs hours apart meet a machine that is faster or slower as a whole (measured
        here between two sessions: train steps 1.24x, streaming steps 1.36x, training units 1.15x, nearly the
        same code). So for each measurement made of every model (the row key without its model: the same
        metric at the same shape and threads; for training times the same task and metric) with rows of at
        least MIN_SHIFT_MODELS (4) models ok in both runs, the common factor s = exp(median_i ln(b_i / a_i))
        is taken as the machine's, printed with the comparison, and each row is judged on its ratio relative
        to it, r / s (a speed row's B samples are divided by s in the Mann-Whitney test): a change of one
        model (or of one framework among three) stands out, a machine that changed as a whole does not. A
        change that hits half or more of the models at once reads as the machine's; the shift line shows it
        (and says so when the runs' commits differ).
        Worker moves: the models of one framework at one shape are timed together, interleaved, in one worker
        process, which meets its own moment of the machine; frameworks answer a machine state differently
        (measured here between two runs of the same commit: the streaming steps of every NumPy and PyTorch model
        0.52-0.56x, Keras's 0.98-1.02x). So a speed row significant against the machine shift is excused when
        every model of its worker group (same measurement and framework, >= 2 models, in a measurement with a
        machine shift, i.e. of >= MIN_SHIFT_MODELS models in all) moved together: each
        within the floor of their common factor s_f = exp(median ln r_j). The row keeps its ratio, is marked
        'not significant', and the worker move is listed. A change of one model stands out from the models it
        was timed with; a change of a whole framework's code reads as a worker move, like a machine shift.
    accuracy, paper: Welch's t-test on the per-seed values (``suite.report.statistics.welch``, which states
        its rule when both runs' values are constant) at p < 0.05; for a time among them (train_seconds,
        cpu_seconds: how long training took, not what it reached) also a ratio beyond 1 ± max(10%, the speed
        rows' machine floor), as for speed rows.
    params: significant when the values differ.
    equivalence: a pass in one run and a fail in the other; residuals that differ but pass in both are unchanged.
Changes (column 'change'). 'new failure' (ok in A, failed in B; for equivalence: passes in A, fails in B), 'fixed'
(the reverse), 'better' / 'worse' (significant; lower is better for times, losses and errors, higher for
throughputs and accuracies), 'changed' (a parameter count differs), 'not significant' (the rest, unstable rows
included).

Verdict changes come first: the claims of A and B matched by id (``suite.report.claims_engine``), listed where
a verdict's word or a cell's word differs; a verdict whose evidence numbers alone moved ("needs ~14 seeds" vs
"~97 seeds") is no change. Verdicts come from each run's tables/claims.csv when its report wrote one with ids
and words, else they are computed from its results, samples and config (``suite.report.claims.claims_table``);
a claims.csv without ids and a config that no longer validates: its titles and phrases (ids from the
declarations, words from the phrases' first words).

Exit status (``--fail-on``): 1 when a named condition holds ('verdict': any verdict changed;
'regression': any row 'worse' or 'new failure'), else 0; a directory that is not a finished run is a
one-line error (exit 2).
"""
from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import pandas as pd

from suite.errors import UserError
from suite.models.registry import arch as arch_descriptor
from suite.report.claims import CLAIMS, claims_table
from suite.report.claims_engine import word_of
from suite.report.statistics import LOWER_IS_BETTER, welch
from suite.results.samples import load_samples, pooled, sample_key
from suite.spec import framework_of

ALPHA_SPEED = 0.01
MIN_SHIFT_MODELS = 4
MIN_NULL_ROWS = 8             # rows of a kind needed to estimate the between-run floor
ALPHA_ACCURACY = 0.05
FACTOR = 1.10
SPEED_KINDS = ("speed", "speed_threads")
SEED_KINDS = ("accuracy", "paper", "side_by_side")
EXACT_KINDS = ("params", "equivalence")
TOLERANCE_COLUMN = {"max_out_diff": 0, "max_grad_diff": 1}    # index into an arch descriptor's tolerances
HIGHER_IS_BETTER = {"train_throughput", "infer_throughput", "accuracy", "r2", "f1", "auc"}
CHANGE_ORDER = ("new failure", "worse", "better", "fixed", "changed", "not significant")
FAIL_ON = ("verdict", "regression")


# --- loading ----------------------------------------------------------------------------------------
def load_run(path) -> dict:
    """{'dir', 'frame', 'samples', 'cfg'} of a finished run directory. A damaged or foreign directory is the
    one-line UserError of ``suite.results.run_dir.open_run_folder``."""
    from suite.config import validate_config
    from suite.results.run_dir import open_run_folder
    folder = open_run_folder(path, "compare")
    cfg = None
    if folder.config is not None:
        try:
            cfg = validate_config(folder.config, str(folder.dir / "config.yaml"))
        except UserError:
            cfg = None           # an older schema: verdicts then come from tables/claims.csv only
    return {"dir": folder.dir, "frame": pd.read_csv(folder.dir / "results.csv", low_memory=False),
            "samples": load_samples(folder.dir), "cfg": cfg}


# --- keys -------------------------------------------------------------------------------------------
def _v(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def row_key(row) -> str:
    kind = row.get("kind")
    if kind in SPEED_KINDS:
        return sample_key(row)
    if kind in SEED_KINDS:
        return "|".join(str(_v(row.get(k))) for k in ("kind", "task", "model", "metric", "split"))
    return "|".join([str(_v(row.get("kind"))), str(_v(row.get("model"))), str(_v(row.get("metric"))),
                     *(f"{lab}={_v(row.get(k))}" for lab, k in (("H", "hidden"), ("L", "layers"), ("T", "T"),
                                                                 ("B", "B")))])


def grouped(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{key: its rows} for the kinds compare knows (notebook timings and error rows left out)."""
    f = frame[frame["kind"].isin(SPEED_KINDS + SEED_KINDS + EXACT_KINDS) & (frame["metric"] != "error")]
    f = f[~f["metric"].astype(str).str.startswith("baseline_")]
    keys = [row_key(r) for r in f.to_dict("records")]
    return {k: g for k, g in f.assign(_key=keys).groupby("_key", sort=True)}


def failed_units(frame: pd.DataFrame) -> set:
    col = "work_unit" if "work_unit" in frame else ("cell" if "cell" in frame else None)
    if col is None:
        return set()
    return set(frame.loc[frame["status"] == "failed", col].dropna())


# --- one row ----------------------------------------------------------------------------------------
def _state(g: pd.DataFrame) -> str:
    statuses = set(g["status"])
    if "ok" in statuses:
        return "ok"
    if "unstable" in statuses:
        return "unstable"
    return "failed" if "failed" in statuses else "other"


def _log_ratio(a: pd.DataFrame, b: pd.DataFrame) -> float | None:
    """ln(b / a) of a row's mean ok value in two runs; None unless both are ok and positive."""
    if _state(a) != "ok" or _state(b) != "ok":
        return None
    va = float(a[a["status"] == "ok"]["value"].astype(float).mean())
    vb = float(b[b["status"] == "ok"]["value"].astype(float).mean())
    return math.log(vb / va) if va > 0 and vb > 0 else None


def _is_time(metric: str) -> bool:
    """A wall-clock or CPU time (train_seconds, cpu_seconds, ..._s, ..._ms, ..._us)."""
    return metric.endswith(("_seconds", "_s", "_ms", "_us"))


def _lower_is_better(metric: str) -> bool:
    if metric in HIGHER_IS_BETTER:
        return False
    return metric in LOWER_IS_BETTER or metric.endswith(("_ms", "_us", "_mb", "_s", "_seconds")) or \
        metric in ("train_seconds",)


def compare_rows(key: str, ga: pd.DataFrame, gb: pd.DataFrame, run_a: dict, run_b: dict,
                 machine_floor: dict | None = None, shift: float = 1.0) -> dict:
    kind, metric = ga["kind"].iloc[0], str(ga["metric"].iloc[0])
    out = {"kind": kind, "key": key, "metric": metric, "a": None, "b": None, "ratio": None, "p": None,
           "relative": None, "significant": False, "change": "not significant", "status_a": _state(ga),
           "status_b": _state(gb)}
    if kind == "equivalence":
        return _equivalence_change(out, ga, gb)
    ok_a, ok_b = out["status_a"] == "ok", out["status_b"] == "ok"
    if out["status_a"] == "failed" and ok_b:
        out["change"] = "fixed"
    elif ok_a and out["status_b"] == "failed":
        out["change"] = "new failure"
    if not (ok_a and ok_b):
        return out
    va = ga[ga["status"] == "ok"]["value"].astype(float)
    vb = gb[gb["status"] == "ok"]["value"].astype(float)
    a, b = float(va.mean()), float(vb.mean())
    out.update(a=a, b=b, ratio=b / a if a else math.inf if b else 1.0)
    if kind in SPEED_KINDS:
        out["relative"] = out["ratio"] / shift
        p, sig = _speed_test(key, ga, gb, run_a, run_b, out["relative"], (machine_floor or {}).get(kind, 0.0),
                             shift)
    elif kind in SEED_KINDS:
        p, sig = _seed_test(va.values, vb.values)
        if _is_time(metric):      # wall/CPU seconds of training: also beyond the machine's noise floor and shift
            out["relative"] = out["ratio"] / shift
            floor = max(FACTOR - 1, (machine_floor or {}).get("speed", 0.0))
            sig = sig and out["relative"] > 0 and abs(math.log(out["relative"])) > math.log(1 + floor)
    else:
        p, sig = None, not math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
        if sig:
            out.update(significant=True, change="changed")
        return out
    out.update(p=p, significant=sig)
    if sig:
        change = out["relative"] if out["relative"] is not None else out["ratio"]     # beyond the machine's shift
        improved = (change < 1) if _lower_is_better(metric) else (change > 1)
        out["change"] = "better" if improved else "worse"
    return out


def equivalence_tolerance(row) -> float:
    """The tolerance an equivalence residual is judged against: the row's own (written by the equivalence stage
    from its arch descriptor's ``tolerances``), else the descriptor's for its arch and metric."""
    tol = row.get("tolerance")
    if tol is not None and not (isinstance(tol, float) and math.isnan(tol)):
        return float(tol)
    pair = arch_descriptor(str(row.get("arch"))).tolerances         # an unknown arch: one-line UserError, never a guess
    return pair[TOLERANCE_COLUMN.get(str(row.get("metric")), 0)]


def equivalence_passes(g: pd.DataFrame) -> bool | None:
    """Every residual of the group within its tolerance (None: no value to judge, e.g. the check errored)."""
    values = [(float(r["value"]), equivalence_tolerance(r)) for r in g.to_dict("records")
              if r.get("value") is not None and not math.isnan(float(r["value"]))]
    return all(v <= tol for v, tol in values) if values else None


def _equivalence_change(out: dict, ga: pd.DataFrame, gb: pd.DataFrame) -> dict:
    """A residual's change is its pass turning into a fail ('new failure') or back ('fixed'); values that differ
    but pass in both runs (float32 residuals differ across machines) are unchanged."""
    pass_a, pass_b = equivalence_passes(ga), equivalence_passes(gb)
    va = ga["value"].astype(float)
    vb = gb["value"].astype(float)
    a, b = float(va.max()), float(vb.max())
    out.update(a=a, b=b, ratio=b / a if a else (math.inf if b else 1.0), status_a=_verdict_of(pass_a),
               status_b=_verdict_of(pass_b))
    if pass_a is True and pass_b is False:
        out.update(significant=True, change="new failure")
    elif pass_a is False and pass_b is True:
        out.update(significant=True, change="fixed")
    return out


def _verdict_of(passes: bool | None) -> str:
    return {True: "ok", False: "failed", None: "other"}[passes]


def _speed_test(key, ga, gb, run_a, run_b, ratio, machine: float, shift: float = 1.0) -> tuple[float | None, bool]:
    """(p, significant) of a speed row whose ratio relative to the machine shift is ``ratio``."""
    from scipy.stats import mannwhitneyu
    xa, xb = pooled(run_a["samples"].get(key)), pooled(run_b["samples"].get(key))
    if len(xa) < 2 or len(xb) < 2:
        return None, False
    p = float(mannwhitneyu(xa, [x / shift for x in xb], alternative="two-sided").pvalue)
    floor = max(FACTOR - 1, _spread(ga), _spread(gb), machine)
    return p, bool(p < ALPHA_SPEED and ratio > 0 and abs(math.log(ratio)) > math.log(1 + floor))


def between_run_floors(ga: dict, gb: dict, keys: list[str], shift_of) -> dict[str, float]:
    """{kind: exp(3 sigma) - 1} of the time rows' ln(relative ratio) between A and B (module docstring)."""
    import statistics
    logs: dict[str, list[float]] = {}
    models: dict[str, set] = {}
    for k in keys:
        a, b = ga[k], gb[k]
        kind = a["kind"].iloc[0]
        if kind not in SPEED_KINDS or not str(a["metric"].iloc[0]).endswith(("_ms", "_us")):
            continue
        models.setdefault(kind, set()).add(k.split("|")[1])
        lr = _log_ratio(a, b)
        if lr is not None:
            logs.setdefault(kind, []).append(lr - math.log(shift_of(k)))
    out = {}
    for kind, v in logs.items():
        if len(v) >= MIN_NULL_ROWS and len(models[kind]) >= MIN_SHIFT_MODELS:
            centre = statistics.median(v)
            out[kind] = math.exp(3 * 1.4826 * statistics.median(abs(x - centre) for x in v)) - 1
    return out


def worker_moves(ga: dict, gb: dict, keys: list[str], shifts: dict, floors: dict[str, float]) -> dict[str, dict]:
    """{worker group: {"shift", "models", "together"}}: per measurement and framework (the models one worker
    timed together) the common factor s_f of their ratios relative to the machine shift, and whether every
    model lies within the kind's floor of it (module docstring)."""
    import statistics
    logs: dict[str, list[float]] = {}
    kinds: dict[str, str] = {}
    for k in keys:
        a, b = ga[k], gb[k]
        kind = a["kind"].iloc[0]
        machine = shifts.get(shift_group(k, kind)) if kind in SPEED_KINDS else None
        lr = _log_ratio(a, b) if machine else None
        if lr is not None:
            group = worker_group(k, kind)
            logs.setdefault(group, []).append(lr - math.log(machine["shift"]))
            kinds[group] = kind
    out = {}
    for group, v in logs.items():
        if len(v) >= 2:
            centre = statistics.median(v)
            bound = math.log(1 + max(FACTOR - 1, floors.get(kinds[group], 0.0)))
            out[group] = {"shift": math.exp(centre), "models": len(v),
                          "together": all(abs(x - centre) <= bound for x in v)}
    return out


def worker_group(key: str, kind: str) -> str:
    """A speed row's measurement and framework: the models one worker timed together."""
    parts = key.split("|")
    return shift_group(key, kind) + f"|fw={framework_of(parts[1]) if len(parts) > 1 else ''}"


def machine_floors(runs: list[dict]) -> dict[str, float]:
    """{kind: exp(3 sigma) - 1} from the round-to-round differences of the runs' time rows (module docstring)."""
    import itertools
    import statistics
    diffs: dict[str, list[float]] = {}
    for run in runs:
        for record in run["samples"].values():
            if record.get("kind") not in SPEED_KINDS or record.get("unit") not in ("ms", "us"):
                continue
            medians = [statistics.median(r) for r in record.get("rounds") or [] if r]
            diffs.setdefault(record["kind"], []).extend(
                abs(math.log(a / b)) for a, b in itertools.combinations(medians, 2) if a > 0 and b > 0)
    return {kind: math.exp(3 * 1.4826 * statistics.median(d) / math.sqrt(2)) - 1 for kind, d in diffs.items() if d}


def shift_group(key: str, kind: str) -> str | None:
    """The measurement a row is one model's instance of (None: no shift applies). A speed row: its key without
    the model. A training time: its kind and metric over every task and model, since each training unit is timed
    on its own and the default job trains three models per task (too few for a shift of one task): measured
    between two runs of the same commit, every training time moved 0.58-0.72x with the machine, and digits
    lstm-torch's 0.58x alone crossed the floor."""
    parts = key.split("|")
    if kind in SPEED_KINDS:
        return "|".join(parts[:1] + parts[2:])
    if kind in SEED_KINDS and _is_time(parts[3] if len(parts) > 3 else ""):
        return "|".join([parts[0], "*", *parts[3:]])
    return None


def machine_shifts(ga: dict, gb: dict, keys: list[str]) -> dict[str, dict]:
    """{group: {"shift", "models"}}: the common factor of B over A of each measurement made of every model
    (``shift_group``), exp(median ln(b/a)) over its rows ok in both runs, where >= MIN_SHIFT_MODELS models."""
    import statistics
    logs: dict[str, list[float]] = {}
    for k in keys:
        a, b = ga[k], gb[k]
        group = shift_group(k, a["kind"].iloc[0])
        lr = _log_ratio(a, b) if group is not None else None
        if lr is not None:
            logs.setdefault(group, []).append(lr)
    return {g: {"shift": math.exp(statistics.median(v)), "models": len(v)}
            for g, v in logs.items() if len(v) >= MIN_SHIFT_MODELS}


def _commits(run: dict) -> str | None:
    """The git commit (with '+dirty') a run was made at, from its environment.json."""
    import json
    path = run["dir"] / "environment.json"
    try:
        git = json.loads(path.read_text()).get("git") or {}
    except (OSError, ValueError):
        return None
    commit = git.get("commit") if isinstance(git, dict) else None
    return commit and commit + ("+dirty" if git.get("dirty") else "")


def _spread(g: pd.DataFrame) -> float:
    s = g["repeat_spread"].astype(float).max() if "repeat_spread" in g else math.nan
    return 0.0 if math.isnan(s) else float(s)


def _seed_test(a, b) -> tuple[float | None, bool]:
    """(Welch's p, p < ALPHA_ACCURACY) of two runs' per-seed values; p None with fewer than 2 values a side."""
    p = welch(a, b)["p"]
    if math.isnan(p):
        return None, False
    return p, bool(p < ALPHA_ACCURACY)


# --- verdicts -----------------------------------------------------------------------------------------
def parse_cells(text) -> dict:
    """A claims.csv ``cells`` entry back to {cell: word}: JSON, or the dict literal pandas writes for a dict."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text.strip():
        return {}
    try:
        cells = json.loads(text)
    except ValueError:
        try:
            cells = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return {}
    return {str(k): str(v) for k, v in cells.items()} if isinstance(cells, dict) else {}


def _by_id(table: pd.DataFrame) -> dict[str, dict]:
    return {str(r["id"]): {"claim": r["claim"], "word": str(r["word"]), "cells": parse_cells(r.get("cells")),
                           "verdict": r["verdict"]} for r in table.to_dict("records")}


def verdicts(run: dict) -> tuple[dict[str, dict], str]:
    """({claim id: {"claim", "word", "cells", "verdict"}}, where they came from) of a run (module docstring)."""
    path = run["dir"] / "tables" / "claims.csv"
    table = pd.read_csv(path) if path.is_file() else None
    if table is not None and {"id", "word"} <= set(table.columns):
        return _by_id(table), "tables/claims.csv"
    if run["cfg"] is not None:
        s = run["cfg"].speed
        return (_by_id(claims_table(run["frame"], s.base_seq_len, s.base_hidden, run["samples"])),
                "computed from results.csv and samples.json.gz")
    if table is not None:               # an older report and a config this version cannot read
        ids = {c.title: c.id for c in CLAIMS}
        return ({ids.get(r["claim"], r["claim"]): {"claim": r["claim"], "word": word_of(r["verdict"]), "cells": {},
                                                  "verdict": r["verdict"]} for r in table.to_dict("records")},
                "tables/claims.csv (no ids: matched by title, words read from the verdicts)")
    return {}, "none (no claims.csv and no readable config.yaml)"


def verdict_changes(run_a: dict, run_b: dict) -> tuple[list[dict], dict]:
    """The claims whose word or a cell's word differs between A and B: {"id", "claim", "a", "b" (the verdicts),
    "word_a", "word_b", "cells" ({cell: [word in A, word in B]} of the cells that differ)}."""
    va, source_a = verdicts(run_a)
    vb, source_b = verdicts(run_b)
    changes = []
    for cid in list(va) + [c for c in vb if c not in va]:
        a, b = va.get(cid, {}), vb.get(cid, {})
        cells_a, cells_b = a.get("cells", {}), b.get("cells", {})
        cells = {c: [cells_a.get(c), cells_b.get(c)] for c in list(cells_a) + [c for c in cells_b if c not in cells_a]
                 if cells_a.get(c) != cells_b.get(c)}
        if a.get("word") != b.get("word") or cells:
            changes.append({"id": cid, "claim": a.get("claim") or b.get("claim"), "a": a.get("verdict"),
                            "b": b.get("verdict"), "word_a": a.get("word"), "word_b": b.get("word"), "cells": cells})
    return changes, {"a": source_a, "b": source_b}


# --- the whole comparison -----------------------------------------------------------------------------
def compare_runs(path_a, path_b) -> dict:
    """{'verdict_changes', 'rows', 'only_a', 'only_b', 'sources'} (module docstring)."""
    run_a, run_b = load_run(path_a), load_run(path_b)
    ga, gb = grouped(run_a["frame"]), grouped(run_b["frame"])
    both = sorted(set(ga) & set(gb))
    shifts = machine_shifts(ga, gb, both)

    def shift_of(k):
        return shifts.get(shift_group(k, ga[k]["kind"].iloc[0]), {}).get("shift", 1.0)

    within, between = machine_floors([run_a, run_b]), between_run_floors(ga, gb, both, shift_of)
    floors = {k: max(within.get(k, 0.0), between.get(k, 0.0)) for k in sorted(set(within) | set(between))}

    rows = [compare_rows(k, ga[k], gb[k], run_a, run_b, floors, shift_of(k)) for k in both]
    moves = worker_moves(ga, gb, both, shifts, floors)
    excused: dict[str, dict] = {}
    for r in rows:
        if r["kind"] in SPEED_KINDS and r["significant"] and r["change"] in ("better", "worse"):
            move = moves.get(worker_group(r["key"], r["kind"]))
            if move and move["together"]:
                r.update(significant=False, change="not significant", worker_move=move["shift"])
                excused[worker_group(r["key"], r["kind"])] = move
    rows.sort(key=lambda r: (CHANGE_ORDER.index(r["change"]), r["key"]))
    changes, sources = verdict_changes(run_a, run_b)
    commits = {"a": _commits(run_a), "b": _commits(run_b)}
    return {"verdict_changes": changes, "rows": rows, "only_a": sorted(set(ga) - set(gb)),
            "only_b": sorted(set(gb) - set(ga)), "sources": sources, "noise_floor": floors,
            "noise_floor_within": within, "noise_floor_between": between,
            "machine_shift": shifts, "worker_moves": excused, "commits": commits, "runs": {"a": str(run_a["dir"]), "b": str(run_b["dir"])}}


def failing(result: dict, fail_on: list[str]) -> list[str]:
    """The --fail-on conditions that hold."""
    held = []
    if "verdict" in fail_on and result["verdict_changes"]:
        held.append(f"{len(result['verdict_changes'])} verdict change(s)")
    bad = [r for r in result["rows"] if r["change"] in ("worse", "new failure")]
    if "regression" in fail_on and bad:
        held.append(f"{len(bad)} regression(s)")
    return held


def format_table(result: dict) -> str:
    """Verdict changes first, then every row (changes before the rest), then a one-line summary."""
    lines = [f"A: {result['runs']['a']}", f"B: {result['runs']['b']}", ""]
    if result["verdict_changes"]:
        lines.append(f"Verdict changes ({len(result['verdict_changes'])}):")
        for c in result["verdict_changes"]:
            words = f"{c['word_a']} -> {c['word_b']}" if c["word_a"] != c["word_b"] else c["word_a"]
            cells = "; ".join(f"{cell} {a} -> {b}" for cell, (a, b) in c["cells"].items())
            lines.append(f"  {c['claim']} [{c['id']}]: {words}" + (f" ({cells})" if cells else "") +
                         f"\n    A: {c['a']}\n    B: {c['b']}")
    else:
        lines.append(f"Verdict changes: none (A: {result['sources']['a']}; B: {result['sources']['b']})")
    lines.append("")
    def pct(d):
        return ", ".join(f"{k} {v:.0%}" for k, v in d.items()) or "n/a"
    lines.append(f"Machine noise floor: {pct(result.get('noise_floor', {}))} (the larger of 3 robust sigma of the "
                 f"round-to-round differences inside both runs: {pct(result.get('noise_floor_within', {}))}; and of "
                 f"the rows' relative ratios between the runs: {pct(result.get('noise_floor_between', {}))}); "
                 f"a speed row is significant at Mann-Whitney p < {ALPHA_SPEED} AND a ratio beyond 1 ± it "
                 f"(and beyond {FACTOR - 1:.0%} and both runs' round-to-round spread)")
    shifts = result.get("machine_shift", {})
    if shifts:
        commits = result.get("commits", {})
        same = commits.get("a") and commits.get("a") == commits.get("b")
        values = sorted(v["shift"] for v in shifts.values())
        lines.append(f"Machine shift (B / A, the median ratio over the models of each measurement made of every "
                     f"model; a timing is judged on its ratio relative to it, column 'rel'): {len(shifts)} "
                     f"measurements, shift {values[0]:.3f} to {values[-1]:.3f} (median "
                     f"{values[len(values) // 2]:.3f}; per measurement in --format json)"
                     + ("; same commit in both runs: a machine difference" if same else
                        f"; commits differ ({commits.get('a')} vs {commits.get('b')}): a change of every model "
                        "at once would read as the machine's"))
    moves = result.get("worker_moves", {})
    if moves:
        lines.append(f"Worker moves (every model one worker timed together moved by the same factor beyond the "
                     f"machine shift: their rows are not significant): "
                     + "; ".join(f"{g.replace('|', ' ')}: x{m['shift']:.2f} ({m['models']} models)"
                                 for g, m in sorted(moves.items())))
    lines.append("")
    lines.append(f"{'change':<16} {'a':>11} {'b':>11} {'ratio b/a':>10} {'rel':>7} {'p':>9}  key")
    for r in result["rows"]:
        fmt = (lambda v, f=".4g": "" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, f))
        status = "" if r["status_a"] == r["status_b"] == "ok" else f"  [{r['status_a']} -> {r['status_b']}]"
        lines.append(f"{r['change']:<16} {fmt(r['a']):>11} {fmt(r['b']):>11} {fmt(r['ratio'], '.3f'):>10} "
                     f"{fmt(r.get('relative'), '.3f'):>7} {fmt(r['p'], '.2g'):>9}  {r['key']}{status}")
    counts = {m: sum(r["change"] == m for r in result["rows"]) for m in CHANGE_ORDER}
    lines.append("")
    lines.append(f"{len(result['rows'])} rows in both runs: " + ", ".join(f"{n} {m}" for m, n in counts.items() if n)
                 + f"; {len(result['only_a'])} only in A, {len(result['only_b'])} only in B; "
                 f"{len(result['verdict_changes'])} verdict change(s)")
    return "\n".join(lines)


def as_json(result: dict) -> dict:
    """The JSON form: verdict_changes and rows (kind, key, metric, a, b, ratio, significant, change, ...)."""
    keep = ("kind", "key", "metric", "a", "b", "ratio", "relative", "significant", "change", "p", "status_a",
            "status_b", "worker_move")
    return {"verdict_changes": result["verdict_changes"],
            "rows": [{k: r.get(k) for k in keep} for r in result["rows"]],
            "only_a": result["only_a"], "only_b": result["only_b"], "sources": result["sources"],
            "noise_floor": result.get("noise_floor", {}), "noise_floor_within": result.get("noise_floor_within", {}),
            "noise_floor_between": result.get("noise_floor_between", {}),
            "machine_shift": result.get("machine_shift", {}), "worker_moves": result.get("worker_moves", {}),
            "commits": result.get("commits", {}), "runs": result["runs"]}
