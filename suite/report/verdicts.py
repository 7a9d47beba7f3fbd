"""From per-cell outcomes of seed comparisons to one verdict in the report's words: holds / does not hold /
depends on ... / inconclusive (the combine rule of the accuracy claims, ``suite.report.claims_engine.SeedCells``).

A claim about accuracy is checked in cells (a task x framework, or a framework); each cell's comparison
(``suite.report.statistics.compare``) says whether that cell supports the claim ('yes'), contradicts it
('no') or cannot tell at its number of seeds ('open'). Then:
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
adding/torch, copy/torch; inconclusive on ...".
The verdict's word (``decide``) is its first words: holds, does not hold, depends, inconclusive, not measured.
"""
from __future__ import annotations

from dataclasses import dataclass

from suite.report.statistics import MIN_SEEDS


@dataclass(frozen=True)
class Cell:
    task: str | None
    framework: str | None
    result: str                     # 'yes' | 'no' | 'open'
    n_seeds: int
    seeds_needed: int | None = None
    direction: str | None = None    # which way a 'no' went, e.g. 'GRU better'; the verdict groups by it

    @property
    def label(self) -> str:
        return "/".join(x for x in (self.task, self.framework) if x)


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


def combine(cells: list[Cell]) -> str:
    """The verdict of a claim from its cells (rules in the module docstring)."""
    return decide(cells)[1]


def decide(cells: list[Cell]) -> tuple[str, str]:
    """(word, verdict) of a claim from its cells (rules in the module docstring)."""
    if not cells:
        return "not measured", "not measured"
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
