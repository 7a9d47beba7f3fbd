"""The top of the report as data: the header, the verdict summary and one section per claim
(suite.report.document). Nothing here writes a file or formats Markdown.

The claims come from ``suite.report.claims.claims_table``: columns claim, verdict, evidence, rule, figure,
table, and, where the claims engine gives them, id (a stable slug: the claim's anchor), word (the overall
verdict word) and headline (the deciding number, shown beside the word in the summary). Without those
columns the anchor comes from the title and the summary shows the verdict text alone.
"""
from __future__ import annotations

import math

import pandas as pd

from suite.report import figures
from suite.report.document import Figure, Link, Section, Table, Thumbnail, Verdict, section
from suite.report.tables import accuracy_table, headline_view

HEADER_TEXT = ("Machine: {cpu} ({cores} cores, {memory} GB), Python {python}, threads per framework: {threads}. "
               "torch {torch}, tensorflow {tensorflow}, keras {keras}, numpy {numpy}. Commit {commit}{dirty}. "
               "Config: [config.yaml](config.yaml), machine: [environment.json](environment.json), every row: "
               "[results.csv](results.csv).")
SUMMARY_TEXT = ("Each claim of the folklore and the verdict this run's measurements give it; the figure beside it is "
                "the one the verdict rests on. Sections below give the rule, the evidence and the table.")
NO_FIGURE = "(none in this run)"


def header(run_name: str, env: dict) -> Section:
    """The report's title and the machine, packages, commit and files of the run."""
    git, pk = env.get("git", {}), env.get("packages", {})
    text = HEADER_TEXT.format(
        cpu=env.get("cpu_model"), cores=env.get("cpu_count"), memory=env.get("memory_gb"), python=env.get("python"),
        threads=env.get("threads"), torch=pk.get("torch"), tensorflow=pk.get("tensorflow-cpu") or pk.get("tensorflow"),
        keras=pk.get("keras"), numpy=pk.get("numpy"), commit=str(git.get("commit"))[:10],
        dirty=" (dirty)" if git.get("dirty") else "")
    return section(f"GRU vs LSTM vs Transformer: report of run `{run_name}`", text)


def _text(value) -> str:
    """A claims-table cell as text: '' for a missing column, None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def claim_anchor(claim: pd.Series) -> str:
    """The claim's link target: 'claim-<id>' from the claims engine's stable id, else from the title."""
    slug = _text(claim.get("id")) or _text(claim["claim"]).lower()
    return "claim-" + "".join(c if c.isalnum() else "-" for c in slug.lower()).strip("-")


def summary_verdict(claim: pd.Series) -> Verdict:
    """The verdict as the summary shows it: '<verdict> — <headline>' (the verdict and the number that decides it)
    when the claim has a headline, else its verdict text; coloured by the word (the verdict text without one)."""
    verdict = _text(claim["verdict"])
    word, headline = _text(claim.get("word")) or verdict, _text(claim.get("headline"))
    return Verdict(f"{verdict} — {headline}" if headline else verdict, word)


def verdict_summary(claims: pd.DataFrame, drawn: set[str]) -> Section:
    """The summary a reader sees first: each claim (linked to its section), its verdict with the deciding
    number, and a thumbnail of the figure that decides it (``drawn``: the figures this run has)."""
    rows = []
    for _, c in claims.iterrows():
        fig = _text(c.get("figure"))
        rows.append({"claim": Link(c["claim"], f"#{claim_anchor(c)}"), "verdict": summary_verdict(c),
                     "deciding figure": Thumbnail(f"figures/{fig}.png", fig) if fig in drawn else NO_FIGURE})
    return section("Verdicts", SUMMARY_TEXT, Table(pd.DataFrame(rows)), Table(claims, "claims", shown=False),
                   "[claims.csv](tables/claims.csv)")


def verdict_picture_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The summary for the README's picture (figures/verdicts.png): claim, verdict (the overall word where the
    claims give one, else the verdict text; coloured by it) and the deciding number where the claims give one."""
    words = [_text(c.get("word")) or _text(c["verdict"]) for _, c in claims.iterrows()]
    headlines = [_text(c.get("headline")) for _, c in claims.iterrows()]
    table = pd.DataFrame({"claim": claims["claim"].astype(str), "verdict": [Verdict(w, w) for w in words]})
    return table.assign(**{"deciding number": headlines}) if any(headlines) else table


def claim_sections(claims: pd.DataFrame, drawn: set[str], tables: dict[str, Table]) -> Section:
    """One section per claim: its verdict, rule, evidence, the deciding figure (if ``drawn``) and table (one
    of ``tables``, by CSV name, as the details show it)."""
    subsections = []
    for _, c in claims.iterrows():
        fig, table, rule = _text(c.get("figure")), _text(c.get("table")), _text(c.get("rule"))
        subsections.append(section(
            c["claim"], f"**Verdict: {c['verdict']}**",
            f"Rule (stated in `suite/report/claims.py`): {rule}." if rule else None,
            f"Evidence: {c['evidence']}",
            Figure(fig, c["claim"]) if fig in drawn else None, tables.get(table), anchor=claim_anchor(c)))
    return section("Claims", subsections=subsections)


def claim_figures(frame: pd.DataFrame, claims: pd.DataFrame) -> list[Figure]:
    """The figures only the claims show (the details draw the others), and the verdict table's picture."""
    acc = accuracy_table(frame)
    head = acc[acc["view"] == headline_view(frame)] if not acc.empty else acc
    table = verdict_picture_table(claims)
    return [Figure("params", "parameters per model", lambda: figures.params_bars(frame)),
            Figure("gru_vs_lstm", "GRU vs LSTM", lambda: figures.gru_vs_lstm_bars(head)),
            Figure("verdicts", "the verdicts", lambda: figures.verdict_table(table))]
