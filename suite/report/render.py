"""One renderer for the report's sections (suite.report.document): Markdown for report.md and HTML for
index.html, both from the same data. The HTML is built from the sections, not from the Markdown: headings,
tables, figures and lists come from the data, only paragraph text (Markdown inline: links, `code`,
**bold**) goes through mistune.

The page never scrolls sideways: the body is at most 1100 px wide, a table at most the body's width, cells
wrap at spaces and, in a long token (an exec_path, a margin's text), after its separators; images scale down.
A table that still cannot fit scrolls inside its own box, never the page.
"""
from __future__ import annotations

import html
import math
import numbers
import re

import pandas as pd

from suite.report.document import NO_DATA, Bullets, Figure, Link, Section, Table, Thumbnail, Verdict

VERDICT_CLASSES = (("does not hold", "no"), ("holds", "yes"), ("depends", "mixed"), ("inconclusive", "open"),
                   ("not shown", "open"), ("not measured", "open"), ("under-trained", "under"), ("error", "no"))
VERDICT_COLOURS = {"yes": "#dff3df", "no": "#f8dcdc", "mixed": "#fdf1d0", "open": "#ececec", "under": "#e6dcc3"}

STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4;"
         "overflow-wrap:break-word}"
         "div.table{max-width:100%;overflow-x:auto}table{border-collapse:collapse;font-size:12px;margin:.5em 0}"
         "td,th{border:1px solid #ccc;padding:2px 4px;overflow-wrap:break-word;vertical-align:top}"
         "td.n{white-space:nowrap}"
         "th{background:#f3f3f3}img{max-width:100%;height:auto}td img{max-width:260px}"
         + "".join(f"td.v-{css}{{background:{colour}}}" for css, colour in VERDICT_COLOURS.items()))


def verdict_class(verdict: str) -> str:
    """CSS class of a verdict: yes (holds), no (does not hold, error), mixed (depends on ...), under (under-trained:
    a model had not plateaued, greyish amber), open (the rest)."""
    for prefix, css in VERDICT_CLASSES:
        if str(verdict).startswith(prefix):
            return css
    return "open"


def cell_text(value, floatfmt: str = ".4g") -> str:
    """A plain table value as text: floats in ``floatfmt``, NaN and None empty, one line."""
    if isinstance(value, float):
        return "" if math.isnan(value) else format(value, floatfmt)
    return "" if value is None else str(value).replace("\n", " ")


# --- Markdown ---------------------------------------------------------------------------------------------

def _markdown_cell(value, floatfmt: str) -> str:
    if isinstance(value, Link):
        return f"[{value.text}]({value.href})"
    if isinstance(value, Thumbnail):
        return f"[![{value.alt}]({value.src})]({value.src})"
    if isinstance(value, Verdict):
        value = value.text
    return cell_text(value, floatfmt).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame | None, floatfmt: str = ".4g") -> str:
    """A DataFrame as a Markdown table (the notebooks show their tables with it too)."""
    if frame is None or frame.empty:
        return NO_DATA + "\n"
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_markdown_cell(v, floatfmt) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body]) + "\n"


def _markdown_block(block) -> str:
    if isinstance(block, str):
        return block
    if isinstance(block, Figure):
        return f"![{block.caption}]({block.src})"
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if block.frame is None or block.frame.empty:
        return block.empty
    link = f"\n[{block.csv}.csv](tables/{block.csv}.csv)" if block.csv else ""
    return markdown_table(block.frame, block.floatfmt) + link


def _markdown_parts(sec: Section, level: int) -> list[str]:
    heading = f"{'#' * level} {sec.title}"
    parts = [f'<a id="{sec.anchor}"></a>\n\n{heading}' if sec.anchor else heading]
    parts += [_markdown_block(b) for b in sec.body if not (isinstance(b, Table) and not b.shown)]
    for sub in sec.subsections:
        parts += _markdown_parts(sub, level + 1)
    return parts


def to_markdown(report: Section) -> str:
    """report.md: ``report`` is the top heading (#), its subsections ##, theirs ###, and so on; blocks are
    separated by a blank line."""
    return "\n".join(part.rstrip() + "\n" for part in _markdown_parts(report, 1))


# --- HTML -------------------------------------------------------------------------------------------------

def _markdown_inline():
    import mistune
    return mistune.create_markdown(escape=True, plugins=[])


LONG_TOKEN = 10                                 # characters; longer tokens get break opportunities
_SEPARATOR_END = re.compile(r"(?<=[;,=/_:+&|-])")


def breakable(text: str) -> str:
    """``text`` as HTML, with a <wbr> after each separator (; , = / _ : + & | -) of a token longer than
    LONG_TOKEN, so a cell holding 'cudnn_eligible=True;device=cpu;...' wraps instead of widening its table."""
    return "".join("<wbr>".join(html.escape(p) for p in _SEPARATOR_END.split(token)) if len(token) > LONG_TOKEN
                   else html.escape(token) for token in re.split(r"(\s+)", text))


def _html_cell(value, floatfmt: str) -> str:
    if isinstance(value, Link):
        return f'<td><a href="{html.escape(value.href)}">{html.escape(value.text)}</a></td>'
    if isinstance(value, Thumbnail):
        src, alt = html.escape(value.src), html.escape(value.alt)
        return f'<td><a href="{src}"><img src="{src}" alt="{alt}" loading="lazy"></a></td>'
    if isinstance(value, Verdict):
        return f'<td class="v-{verdict_class(value.word)}">{breakable(value.text)}</td>'
    if isinstance(value, numbers.Real) and not isinstance(value, bool):   # a number in one piece: not '9.573e-' '05'
        return f'<td class="n">{html.escape(cell_text(value, floatfmt))}</td>'
    return f"<td>{breakable(cell_text(value, floatfmt))}</td>"


def html_table(frame: pd.DataFrame, floatfmt: str = ".4g") -> str:
    head = "".join(f"<th>{breakable(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(_html_cell(v, floatfmt) for v in row) + "</tr>\n"
                   for row in frame.itertuples(index=False))
    return f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table></div>\n'


def _html_block(block, paragraph) -> str:
    if isinstance(block, str):
        return paragraph(block)
    if isinstance(block, Figure):
        return f'<p><img src="{html.escape(block.src)}" alt="{html.escape(block.caption)}" loading="lazy"></p>\n'
    if isinstance(block, Bullets):
        items = "".join(f"<li>{_unwrap(paragraph(item))}</li>\n" for item in block.items)
        return f"<ul>\n{items}</ul>\n"
    if block.frame is None or block.frame.empty:
        return paragraph(block.empty)
    link = f'<p><a href="tables/{block.csv}.csv">{block.csv}.csv</a></p>\n' if block.csv else ""
    return html_table(block.frame, block.floatfmt) + link


def _unwrap(paragraph_html: str) -> str:
    text = paragraph_html.strip()
    return text[3:-4] if text.startswith("<p>") and text.endswith("</p>") else text


def _html_parts(sec: Section, level: int, paragraph) -> list[str]:
    anchor = f' id="{html.escape(sec.anchor)}"' if sec.anchor else ""
    parts = [f"<h{level}{anchor}>{_unwrap(paragraph(sec.title))}</h{level}>\n"]
    parts += [_html_block(b, paragraph) for b in sec.body if not (isinstance(b, Table) and not b.shown)]
    for sub in sec.subsections:
        parts += _html_parts(sub, min(level + 1, 6), paragraph)
    return parts


def to_html(report: Section, title: str) -> str:
    """index.html: the same sections as to_markdown, as one HTML page; verdict cells coloured (green holds,
    red does not hold, amber depends, grey inconclusive / not measured)."""
    body = "".join(_html_parts(report, 1, _markdown_inline()))
    return (f"<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}</body></html>\n")
