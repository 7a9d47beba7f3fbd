"""The reference implementations trained side by side (rows of kind 'side_by_side'): do whole training runs agree?

The accuracy stage trains the models of ``sizing.side_by_side_models`` (the main job: gru-numpy, gru-torch,
gru-keras on adding) from the same initial weights (init shared), on the same data in the same batches (a seed
fixes both), and one of them again from those weights moved 1 ulp (``sizing.side_by_side_null``: model
'gru-torch-ulp1', rows with ``null_of``). The equivalence stage shows that one forward/backward agrees to about
1e-6; over hundreds of Adam updates float32 rounding differences grow (training is chaotic), so two frameworks'
runs are not expected to be bit-identical. They are judged against the null: how far ONE framework's run moves
from itself when its initial point moves by the smallest step float32 can represent.

Normalised score of a metric value v against the task's naive baseline b (``normalised_score``): the fraction of
the way from the baseline to a perfect score,
    lower is better (mse, losses)     n(v) = 1 - v / b                 (0 at the baseline, 1 at v = 0)
    higher is better (accuracy)       n(v) = (v - b) / (1 - b)         (0 at the baseline, 1 at v = 1)
so divergences of different tasks and metrics read on one scale.

Divergence of two runs A and B of the same seed (``divergences``):
    curve   Δ_curve = max over u in U_A ∩ U_B of |n(val_A(u)) - n(val_B(u))|, U the update counts at which the
            run scored its validation split (curves.csv), n of the validation headline metric
    test    Δ_test  = |n(test_A) - n(test_B)|, n of the test headline metric (the checkpoint each run selected)
for each pair of side-by-side models (e.g. numpy-torch, keras-torch, numpy-keras) and for the null (the null
model against the model it perturbs), one value per seed.

Rule (``divergence_summary``), per pair and measure: the pair's divergence lies beyond the null when the one-sided
Mann-Whitney U test of H1 "the pair's per-seed divergences are stochastically larger than the null's"
(``scipy.stats.mannwhitneyu(pair, null, alternative='greater')``: exact without ties, else the normal
approximation) gives p < ALPHA (0.05); otherwise it lies within the null. A pair agrees like one framework with
itself when it lies within the null on both measures. Why a rank test: divergences are bounded below by 0 and
heavy-tailed (a chaotic trajectory either stays close or jumps to another basin), so no normal model fits, and a
rule such as "median <= the null's max" has no stated error rate. Small-n caveat: with 5 seeds against 5 the
smallest attainable p is 1/C(10, 5) = 1/252 ≈ 0.004 and p < 0.05 needs U >= 21 of the 25 pair-null orderings, so
only a nearly complete separation reads as beyond the null; "within the null" says the run could not tell the
pair from the null, not that they are shown equal. The summary also gives each measure's median and range.

The side-by-side models' seed distributions of the test metric are compared pairwise with the equivalence test
(``suite.report.statistics.compare``: TOST at the metric's margin, Welch): ``seed_equivalence``.
"""
from __future__ import annotations

import itertools
import math

import pandas as pd

from suite.report.statistics import ALPHA, LOWER_IS_BETTER, compare, finite
from suite.report.tables import headline_metric
from suite.run.convergence import normalised
from suite.spec import FRAMEWORKS

SIDE_BY_SIDE = "side_by_side"        # the row kind (suite.run.units_accuracy.SIDE_BY_SIDE)
NULL = "null"                        # the pair label of the null


def normalised_score(value: float, baseline: float, metric: str) -> float:
    """n(v) of the module docstring: the training-state normalisation (``suite.run.convergence.normalised``) for
    this metric's direction."""
    if value is None or baseline is None:
        return math.nan
    return normalised(float(value), float(baseline), higher_is_better=metric not in LOWER_IS_BETTER)


def side_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame["kind"] == SIDE_BY_SIDE) & (frame["status"] == "ok")] if "kind" in frame else frame.iloc[:0]


def null_pairs(rows: pd.DataFrame) -> dict[str, str]:
    """{null model: the model it perturbs}."""
    if "null_of" not in rows:
        return {}
    nulls = rows.dropna(subset=["null_of"]).drop_duplicates("model")
    return dict(zip(nulls["model"], nulls["null_of"]))


def pairs(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    """[(label, model a, model b)]: every pair of the side-by-side models, in the order numpy, torch, keras,
    labelled by their frameworks ('numpy-torch'), then the null ('null': the model it perturbs vs the null)."""
    nulls = null_pairs(rows)
    framework = dict(zip(rows["model"], rows["framework"]))
    models = sorted((m for m in dict.fromkeys(rows["model"]) if m not in nulls),
                    key=lambda m: FRAMEWORKS.index(framework[m]) if framework[m] in FRAMEWORKS else len(FRAMEWORKS))
    out = []
    for a, b in itertools.combinations(models, 2):
        fa, fb = (rows[rows["model"] == m]["framework"].iloc[0] for m in (a, b))
        out.append((f"{fa}-{fb}" if fa != fb else f"{a}-{b}", a, b))
    out += [(NULL, of, null) for null, of in nulls.items()]
    return out


def divergences(frame: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """One row per task x pair x seed: Δ_curve and Δ_test (module docstring), the curve points compared and the
    two runs' normalised test scores."""
    rows = side_rows(frame)
    if rows.empty:
        return pd.DataFrame()
    cv = curves[curves["kind"] == SIDE_BY_SIDE] if not curves.empty and "kind" in curves else curves.iloc[:0]
    out = []
    for task, g in rows.groupby("task", sort=False):
        metric = headline_metric(g)
        if metric is None:
            continue
        baseline = float(g[g["metric"] == "baseline_" + metric]["value"].iloc[0])
        test = g[g["metric"] == metric]
        for label, a, b in pairs(g):
            for seed in sorted(set(test[test["model"] == a]["seed"]) & set(test[test["model"] == b]["seed"])):
                ta, tb = (float(test[(test["model"] == m) & (test["seed"] == seed)]["value"].iloc[0]) for m in (a, b))
                na, nb = normalised_score(ta, baseline, metric), normalised_score(tb, baseline, metric)
                ca, cb = (cv[(cv["task"] == task) & (cv["model"] == m) & (cv["seed"] == seed)] for m in (a, b))
                joined = ca.merge(cb, on="updates", suffixes=("_a", "_b")) if len(ca) and len(cb) else pd.DataFrame()
                if len(joined):
                    d = [abs(normalised_score(x, baseline, metric) - normalised_score(y, baseline, metric))
                         for x, y in zip(joined["val_metric_a"].astype(float), joined["val_metric_b"].astype(float))]
                    curve = max(finite(d)) if len(finite(d)) else math.nan
                else:
                    curve = math.nan
                out.append({"task": task, "pair": label, "a": a, "b": b, "seed": int(seed), "metric": metric,
                            "curve_divergence": curve, "test_divergence": abs(na - nb), "points": len(joined),
                            "score_a": na, "score_b": nb})
    return pd.DataFrame(out)


def _mann_whitney_greater(x, y) -> float:
    """One-sided Mann-Whitney U p of H1 'x stochastically larger than y' (NaN with fewer than 2 values a side)."""
    from scipy.stats import mannwhitneyu
    x, y = finite(x), finite(y)
    if len(x) < 2 or len(y) < 2:
        return math.nan
    return float(mannwhitneyu(x, y, alternative="greater").pvalue)


MEASURES = (("curve_divergence", "validation curve"), ("test_divergence", "test metric"))


def divergence_summary(div: pd.DataFrame) -> pd.DataFrame:
    """Per task x pair x measure: n seeds, median, min and max of the per-seed divergences, the one-sided
    Mann-Whitney p against the null's, and the verdict 'within the null' / 'beyond the null' (module docstring;
    the null's own row says 'null')."""
    if div.empty:
        return pd.DataFrame()
    out = []
    for task, g in div.groupby("task", sort=False):
        null = g[g["pair"] == NULL]
        for label in dict.fromkeys(g["pair"]):
            mine = g[g["pair"] == label]
            for col, what in MEASURES:
                v = finite(mine[col])
                p = _mann_whitney_greater(v, null[col]) if label != NULL and len(null) else math.nan
                verdict = (NULL if label == NULL else "no null" if null.empty else
                           "too few seeds" if math.isnan(p) else
                           "beyond the null" if p < ALPHA else "within the null")
                out.append({"task": task, "pair": label, "measure": what, "n_seeds": len(v),
                            "median": float(pd.Series(v).median()) if len(v) else math.nan,
                            "min": float(v.min()) if len(v) else math.nan,
                            "max": float(v.max()) if len(v) else math.nan,
                            "per_seed": ", ".join(f"{x:.2g}" for x in v), "p_mann_whitney": p, "verdict": verdict})
    return pd.DataFrame(out)


def agreement(summary: pd.DataFrame) -> pd.DataFrame:
    """Per task x pair (the null left out): 'agrees like one framework with itself' when within the null on every
    measure, else which measures lie beyond it."""
    if summary.empty:
        return pd.DataFrame()
    out = []
    for (task, label), g in summary[summary["pair"] != NULL].groupby(["task", "pair"], sort=False):
        beyond = g[g["verdict"] == "beyond the null"]["measure"].tolist()
        unjudged = g[~g["verdict"].isin(["beyond the null", "within the null"])]
        out.append({"task": task, "pair": label,
                    "agreement": ("not judged (" + ", ".join(unjudged["verdict"].unique()) + ")" if len(unjudged)
                                  else "within the null" if not beyond else "beyond the null on " +
                                  " and ".join(beyond))})
    return pd.DataFrame(out)


def seed_equivalence(frame: pd.DataFrame) -> pd.DataFrame:
    """Per task x pair of side-by-side models (the null left out): their seed distributions of the headline test
    metric compared with ``compare`` (TOST at the metric's margin, Welch): outcome, means, effect, p values."""
    rows = side_rows(frame)
    if rows.empty:
        return pd.DataFrame()
    out = []
    for task, g in rows.groupby("task", sort=False):
        metric = headline_metric(g)
        if metric is None:
            continue
        vals = g[g["metric"] == metric]
        for label, a, b in pairs(g):
            if label == NULL:
                continue
            c = compare(*(vals[vals["model"] == m].sort_values("seed")["value"].astype(float) for m in (a, b)), metric)
            out.append({"task": task, "pair": label, "a": a, "b": b, "metric": metric, "mean_a": c.mean_a,
                        "mean_b": c.mean_b, "n_a": c.n_a, "n_b": c.n_b, "outcome": c.outcome,
                        "effect (95% CI)": c.as_row()["effect_95ci"], "p_tost": c.p_tost, "p_welch": c.p_welch,
                        "margin": c.margin})
    return pd.DataFrame(out)
