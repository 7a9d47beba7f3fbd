"""The report as data: sections holding paragraphs, tables and figures, which one renderer turns into
Markdown and HTML (suite.report.render) and one writer turns into files (suite.report.writer).

A section's ``body`` keeps its blocks in reading order; its ``subsections`` follow the body one heading
level down. Paragraphs and list items are Markdown inline text (links, `code`, **bold**); table cells are
plain values, or the cell types below where a cell is a link, a thumbnail or a verdict.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Union

import pandas as pd

NO_DATA = "_(no data in this run)_"


@dataclass(frozen=True)
class Link:
    """A table cell that links ``text`` to ``href`` (relative to the run folder, or '#anchor')."""
    text: str
    href: str


@dataclass(frozen=True)
class Thumbnail:
    """A table cell showing the image ``src`` small, linked to itself."""
    src: str
    alt: str


@dataclass(frozen=True)
class Verdict:
    """A table cell with a verdict, coloured by its word (suite.report.render.verdict_class)."""
    text: str
    word: str


@dataclass(frozen=True)
class Table:
    """A table shown in the report, and written as tables/<csv>.csv when ``csv`` is set (then linked under it).
    ``shown=False``: the CSV only (a longer form of a table the text links to). An empty frame shows
    ``empty`` and writes no CSV."""
    frame: pd.DataFrame
    csv: str | None = None
    floatfmt: str = ".4g"
    shown: bool = True
    empty: str = NO_DATA


@dataclass(frozen=True)
class Figure:
    """figures/<name>.png with its caption. ``draw`` makes the matplotlib figure (None from it: no data, and the
    figure is left out); ``draw=None`` refers to a figure drawn for another section."""
    name: str
    caption: str
    draw: Callable[[], object] | None = None

    @property
    def src(self) -> str:
        return f"figures/{self.name}.png"


@dataclass(frozen=True)
class Bullets:
    """A bulleted list, one Markdown inline text per item."""
    items: tuple[str, ...]


Block = Union[str, Table, Figure, Bullets]


@dataclass(frozen=True)
class Section:
    """One heading of the report: its title, an anchor to link to ('' for none), the blocks under it in
    reading order, then its subsections."""
    title: str
    body: tuple[Block, ...] = ()
    subsections: tuple[Section, ...] = ()
    anchor: str = ""

    def walk(self) -> Iterator[Section]:
        """This section and every section below it, in reading order."""
        yield self
        for sub in self.subsections:
            yield from sub.walk()

    def blocks(self, kind: type) -> Iterator:
        """Every block of type ``kind`` in this section and below it, in reading order."""
        for section in self.walk():
            yield from (b for b in section.body if isinstance(b, kind))

    def keep_figures(self, drawn: set[str]) -> Section:
        """The same section without the figures whose name is not in ``drawn`` (no data for them)."""
        body = tuple(b for b in self.body if not isinstance(b, Figure) or b.name in drawn)
        return dataclasses.replace(self, body=body, subsections=tuple(s.keep_figures(drawn)
                                                                       for s in self.subsections))


def section(title: str, *body: Block | None, subsections=(), anchor: str = "") -> Section:
    """A Section from its blocks in order, leaving out the ones given as None (absent in this run)."""
    return Section(title, tuple(b for b in body if b is not None), tuple(s for s in subsections if s is not None),
                   anchor)

