"""The learning rate of each (task, arch), chosen from the stored tuning rows by one rule.

The run reads it (the accuracy units train at the chosen rate), and so does the report (it shows the search and
the choice).

Candidates: the grid r_1 < ... < r_m (``training.lr_grid``) on the tuning seeds s_1 < ... < s_n
(``training.tuning_seeds``, never evaluation seeds), one work unit ``tune-{task}-{arch}-lr{r:g}-s{s}`` each,
trained for the task's full budget (``suite.run.units_tuning``). Its score is

    L(r, s) = the lowest validation loss over the run's evaluations (the checkpoint the accuracy stage keeps),
              +inf when the run diverged (its loss became non-finite: at that rate the accuracy stage loses the run).

Rule, per (task, arch), over the complete rates C (those with a usable result on every tuning seed):

    mean(r) = (1/n) * sum_{s_1..s_n} L(r, s)          (summed in seed order, so the float result is reproducible)
    chosen  = scan C from the smallest rate up; r replaces the current choice c only when r is lower by more than
              a relative 1e-9:  mean(c) - mean(r) > 1e-9 * max(|mean(c)|, |mean(r)|), or mean(c) = +inf > mean(r).
              So ties (relative difference <= 1e-9) go to the smaller rate.

Flags: ``edge`` -- the chosen rate is r_1 or r_m, so the best rate may lie outside the grid; ``missing`` -- units
whose result is not usable (failed, truncated, skipped, or absent): the rate is then chosen among the complete
rates and the choice names those units. A (task, arch) with no complete rate is a LearningRateSearchError naming
its units. The rule reads only validation rows (the tuning units score no test split); the same rows give the
same choice.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

TIE_RELATIVE = 1e-9
TUNING_KIND = "tuning"


def tuning_unit_id(task: str, arch: str, lr: float, seed: int) -> str:
    """The work unit of one candidate: ``tune-{task}-{arch}-lr{lr:g}-s{seed}``."""
    return f"tune-{task}-{arch}-lr{lr:g}-s{seed}"


class LearningRateSearchError(RuntimeError):
    """No rate of a (task, arch) has a usable result on every tuning seed."""


@dataclass(frozen=True)
class LearningRateChoice:
    """The chosen rate of one (task, arch), with the mean score of every grid rate (nan: not complete)."""
    task: str
    arch: str
    lr: float
    edge: bool
    mean_loss: dict[float, float] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.missing)


def candidate_scores(rows: Iterable[dict]) -> dict[str, float | None]:
    """work unit -> L(r, s) for every tuning unit among ``rows``: its best validation loss, +inf when it diverged,
    None when it has no usable result (failed, truncated, skipped)."""
    by_unit: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("kind") == TUNING_KIND:
            by_unit.setdefault(r["work_unit"], []).append(r)
    scores: dict[str, float | None] = {}
    for unit, unit_rows in by_unit.items():
        if any(r.get("status") != "ok" for r in unit_rows):
            scores[unit] = None
            continue
        values = {r["metric"]: r["value"] for r in unit_rows if r.get("split") == "val" or r["metric"] == "diverged"}
        if values.get("diverged"):
            scores[unit] = math.inf
        else:
            loss = values.get("loss")
            scores[unit] = float(loss) if loss is not None and math.isfinite(float(loss)) else None
    return scores


def _lower(candidate: float, current: float) -> bool:
    """``candidate`` beats ``current`` by more than the tie tolerance (+inf loses to any finite score)."""
    if math.isinf(current):
        return not math.isinf(candidate)
    if math.isinf(candidate):
        return False
    return current - candidate > TIE_RELATIVE * max(abs(current), abs(candidate))


def choose(task: str, arch: str, grid: list[float], seeds: list[int],
           scores: dict[str, float | None]) -> LearningRateChoice:
    """The rule of the module docstring for one (task, arch)."""
    grid, seeds = sorted(grid), sorted(seeds)
    means, missing = {}, []
    for lr in grid:
        units = [tuning_unit_id(task, arch, lr, s) for s in seeds]
        values = [scores.get(u) for u in units]
        missing += [u for u, v in zip(units, values) if v is None]
        means[lr] = math.nan if any(v is None for v in values) else math.fsum(values) / len(values)
    complete = [lr for lr in grid if not math.isnan(means[lr])]
    if not complete:
        raise LearningRateSearchError(f"learning-rate search of {arch} on {task}: no rate has a result on every "
                                      f"tuning seed (no usable result: {', '.join(missing)}; see logs/<unit>.txt)")
    chosen = complete[0]
    for lr in complete[1:]:
        if _lower(means[lr], means[chosen]):
            chosen = lr
    return LearningRateChoice(task, arch, chosen, chosen in (grid[0], grid[-1]), means, tuple(missing))


def select_learning_rates(rows: Iterable[dict], grid: list[float], seeds: list[int], pairs: Iterable[tuple[str, str]]
                          ) -> dict[tuple[str, str], LearningRateChoice | LearningRateSearchError]:
    """(task, arch) -> its LearningRateChoice, for every pair of ``pairs``, from the tuning rows among ``rows``
    (rows of other kinds are ignored); a pair with no complete rate maps to its LearningRateSearchError."""
    scores = candidate_scores(rows)
    out: dict[tuple[str, str], LearningRateChoice | LearningRateSearchError] = {}
    for task, arch in pairs:
        try:
            out[(task, arch)] = choose(task, arch, grid, seeds, scores)
        except LearningRateSearchError as e:
            out[(task, arch)] = e
    return out
