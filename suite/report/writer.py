"""The generated report: report.md + index.html + figures/*.png + tables/*.csv in the run directory.

write_report reads the run, builds its sections as data (suite.report.sections: header, verdicts, claims;
suite.report.details: the details), draws every figure and writes every CSV here, in one place, and renders
both pages from the same sections (suite.report.render).
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from suite.atomic import atomic_write_bytes, atomic_write_csv, atomic_write_text
from suite.errors import UserError
from suite.report.claims import claims_table
from suite.report.details import details
from suite.report.document import Figure, Section, Table
from suite.report.plugins import plugin_section
from suite.report.render import markdown_table, to_html, to_markdown   # noqa: F401  (markdown_table: the notebooks')
from suite.report.sections import claim_figures, claim_sections, header, verdict_summary
from suite.report.settings import ReportSettings
from suite.results.samples import load_samples
from suite.results.store import load_curves, load_results

FIGURE_DPI = 110


def write_report(run_dir, cfg) -> Path:
    """Write report.md and index.html (+ figures, tables) for the run; returns the index.html path.

    Order: header, verdict summary, one section per claim (verdict, rule, evidence, figure, table), then the
    details (notebooks, failures, parameters, speed, accuracy, paper check, long context, edge, equivalence), then,
    when the run has plugin models, their comparison with GRU and LSTM (suite.report.plugins).
    Links are relative. ``cfg``: the run's validated config (what the report uses of it: ReportSettings)."""
    run_dir = Path(run_dir)
    settings = ReportSettings.from_config(cfg)
    frame, curves, env, samples = _read_run(run_dir)
    detail = details(frame, curves, samples, settings)
    plugins = plugin_section(frame, samples, settings, env)
    claims = claims_table(frame, settings.speed_seq_len, settings.speed_hidden, samples)
    drawn = write_figures(run_dir / "figures", [*detail.blocks(Figure), *claim_figures(frame, claims)])
    shown_tables = {t.csv: t for t in detail.blocks(Table) if t.csv and not t.frame.empty}
    top = header(run_dir.resolve().name, env)
    report = Section(top.title, top.body, (verdict_summary(claims, drawn), claim_sections(claims, drawn, shown_tables),
                                           detail, *([plugins] if plugins else []))).keep_figures(drawn)
    write_tables(run_dir / "tables", report)
    atomic_write_text(run_dir / "report.md", to_markdown(report))
    index = run_dir / "index.html"
    atomic_write_text(index, to_html(report, f"Report {run_dir.name}"))
    return index


def _read_run(run_dir: Path):
    """results.csv, curves.csv (empty when absent), environment.json ({} when absent) and the raw samples."""
    if not (run_dir / "results.csv").is_file():
        raise UserError(f"{run_dir}: no results.csv here (expected a run directory)")
    frame = load_results(run_dir)
    curves = load_curves(run_dir) if (run_dir / "curves.csv").is_file() else pd.DataFrame()
    env_path = run_dir / "environment.json"
    try:
        env = json.loads(env_path.read_text()) if env_path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{env_path}: not readable JSON ({e}); expected the machine description a run writes")
    if not isinstance(env, dict):
        raise UserError(f"{env_path}: expected a JSON object (the machine description), got {type(env).__name__}")
    return frame, curves, env, load_samples(run_dir)


def write_figures(fig_dir: Path, wanted: Iterable[Figure]) -> set[str]:
    """figures/<name>.png of every figure that has a ``draw`` and data (each name once); the names drawn."""
    import matplotlib.pyplot as plt
    fig_dir.mkdir(exist_ok=True)
    drawn = set()
    for figure in wanted:
        if figure.draw is None or figure.name in drawn:
            continue
        fig = figure.draw()
        if fig is None:
            continue
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=FIGURE_DPI)
        plt.close(fig)
        atomic_write_bytes(fig_dir / f"{figure.name}.png", buf.getvalue())
        drawn.add(figure.name)
    return drawn


def write_tables(tab_dir: Path, report: Section) -> None:
    """tables/<csv>.csv of every non-empty table with a CSV name; list and dict cells as JSON."""
    tab_dir.mkdir(exist_ok=True)
    written: dict[str, Table] = {}
    for table in report.blocks(Table):
        if not table.csv or table.frame is None or table.frame.empty:
            continue
        if table.csv in written:
            if written[table.csv].frame is not table.frame:
                raise ValueError(f"two different tables would be written as tables/{table.csv}.csv")
            continue
        atomic_write_csv(tab_dir / f"{table.csv}.csv", _json_cells(table.frame))
        written[table.csv] = table


def _json_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with list, tuple and dict cells as JSON text (a CSV cell holds one string)."""
    nested = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, (list, tuple, dict))).any()]
    return frame.assign(**{c: frame[c].map(lambda v: json.dumps(v) if isinstance(v, (list, tuple, dict)) else v)
                           for c in nested}) if nested else frame


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
