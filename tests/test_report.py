"""The report: sections as data, one renderer for Markdown and HTML, the verdict summary with and without the
claims engine's columns (id, word, cells, headline), figures/verdicts.png, and write_report on the committed
reference run's results."""
import json
import re
import shutil
import struct
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from suite.errors import UserError
from suite.report import writer
from suite.report.document import Bullets, Figure, Link, Section, Table, Thumbnail, Verdict
from suite.report.render import breakable, markdown_table, to_html, to_markdown, verdict_class
from suite.report.sections import claim_anchor, claim_sections, verdict_picture_table, verdict_summary

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "results" / "reference"
ENGINE_COLUMNS = ("id", "word", "cells", "headline")


def small_report() -> Section:
    table = Table(pd.DataFrame({"model": ["gru-numpy", "lstm-numpy"], "ms": [1.23456, 2.0]}), "speed")
    sub = Section("Speed", ("Medians, **bold**, [raw](samples.json.gz).", table, Figure("speed_vs_T", "speed vs T")),
                  anchor="speed")
    return Section("Report of `run`", ("Machine: 2 cores.",), (sub,))


def test_a_section_with_a_table_and_a_figure_renders_to_markdown():
    assert to_markdown(small_report()) == (
        "# Report of `run`\n\nMachine: 2 cores.\n\n"
        '<a id="speed"></a>\n\n## Speed\n\n'
        "Medians, **bold**, [raw](samples.json.gz).\n\n"
        "| model | ms |\n|---|---|\n| gru-numpy | 1.235 |\n| lstm-numpy | 2 |\n\n[speed.csv](tables/speed.csv)\n\n"
        "![speed vs T](figures/speed_vs_T.png)\n")


def test_the_same_section_renders_to_html_from_the_data():
    page = to_html(small_report(), "Report run")
    body = page[page.index("<body>"):]
    expected = ["<h1>Report of <code>run</code></h1>", "<p>Machine: 2 cores.</p>", '<h2 id="speed">Speed</h2>',
                '<p>Medians, <strong>bold</strong>, <a href="samples.json.gz">raw</a>.</p>',
                "<thead><tr><th>model</th><th>ms</th></tr></thead>",
                '<tr><td>gru-numpy</td><td class="n">1.235</td></tr>', '<a href="tables/speed.csv">speed.csv</a>',
                '<img src="figures/speed_vs_T.png" alt="speed vs T"']
    positions = [body.index(fragment) for fragment in expected]
    assert positions == sorted(positions)                       # in reading order
    assert "<title>Report run</title>" in page
    for rule in ("body{", "max-width:1100px", "div.table{max-width:100%;overflow-x:auto}", "overflow-wrap:break-word",
                 "img{max-width:100%;height:auto}"):                 # the page wraps at its width
        assert rule in page, rule


def test_empty_and_hidden_tables_lists_and_cells():
    frame = pd.DataFrame({"claim": [Link("GRU <fewer>", "#claim-x")], "verdict": [Verdict("holds — 0.75×", "holds")],
                          "figure": [Thumbnail("figures/params.png", "params")], "p": [float("nan")]})
    report = Section("R", (Table(pd.DataFrame(), "gone"), Table(frame), Table(frame, "only_csv", shown=False),
                           Bullets(("[speed](notebooks/speed.html): ok", "report: ok"))))
    md, page = to_markdown(report), to_html(report, "R")
    assert "_(no data in this run)_" in md and "gone.csv" not in md and "only_csv" not in md + page
    assert "| [GRU <fewer>](#claim-x) | holds — 0.75× | [![params](figures/params.png)](figures/params.png) |  |" in md
    assert '<td><a href="#claim-x">GRU &lt;fewer&gt;</a></td>' in page             # cell text is escaped
    assert '<td class="v-yes">holds — 0.75×</td>' in page
    assert '<a href="figures/params.png"><img src="figures/params.png"' in page
    assert "<em>(no data in this run)</em>" in page
    assert '<li><a href="notebooks/speed.html">speed</a>: ok</li>' in page and "- report: ok" in md


def test_long_tokens_get_break_opportunities_and_numbers_none():
    assert breakable("cudnn_eligible=True;device=cpu") == "cudnn_<wbr>eligible=<wbr>True;<wbr>device=<wbr>cpu"
    assert breakable("gru-numpy a<b") == "gru-numpy a&lt;b"                        # short tokens as they are
    page = to_html(Section("R", (Table(pd.DataFrame({"p": [9.573e-05]})),)), "R")
    assert '<td class="n">9.573e-05</td>' in page


@pytest.mark.parametrize("verdict, css", [("holds", "yes"), ("does not hold: no crossover", "no"),
                                          ("depends on the framework", "mixed"), ("inconclusive", "open"),
                                          ("not measured", "open"), ("error", "no"), ("too few samples", "open"),
                                          ("under-trained: lstm-torch on copy still improving", "under")])
def test_verdict_class(verdict, css):
    assert verdict_class(verdict) == css


def claims_frame(engine_columns: bool) -> pd.DataFrame:
    """Two claims as claims_table gives them before the claims engine (no id/word/cells/headline) or after."""
    frame = pd.DataFrame({
        "claim": ["Long context costs the Transformer memory", "GRU trains faster than LSTM"],
        "verdict": ["holds", "depends on the framework: faster in numpy; slower in torch"],
        "evidence": ["peak MB over T", "train step <lambda>"], "rule": ["holds if ...", ""],
        "figure": ["long_context_memory", "train_step_vs_T"], "table": ["long_context_memory", "speed"]})
    if engine_columns:
        frame = frame.assign(id=["transformer-memory", "gru-trains-faster"], word=["holds", "depends"],
                             cells=[{"torch": "holds"}, {"numpy": "faster", "torch": "slower"}],
                             headline=["Transformer memory ~ T^0.99, GRU ~ T^1.04", float("nan")])
    return frame


def test_summary_without_the_engine_columns_shows_the_verdict_text_and_title_anchors():
    claims = claims_frame(engine_columns=False)
    rows = verdict_summary(claims, drawn={"train_step_vs_T"}).body[1].frame
    assert [c.href for c in rows["claim"]] == ["#claim-long-context-costs-the-transformer-memory",
                                               "#claim-gru-trains-faster-than-lstm"]
    assert [v.text for v in rows["verdict"]] == list(claims["verdict"])
    assert [verdict_class(v.word) for v in rows["verdict"]] == ["yes", "mixed"]
    assert rows["deciding figure"].tolist() == ["(none in this run)",
                                                Thumbnail("figures/train_step_vs_T.png", "train_step_vs_T")]
    assert list(verdict_picture_table(claims).columns) == ["claim", "verdict"]


def test_summary_with_the_engine_columns_carries_the_headline_and_the_id_anchor():
    claims = claims_frame(engine_columns=True)
    rows = verdict_summary(claims, drawn=set()).body[1].frame
    assert rows["verdict"].tolist() == [
        Verdict("holds — Transformer memory ~ T^0.99, GRU ~ T^1.04", "holds"),
        Verdict("depends on the framework: faster in numpy; slower in torch", "depends")]   # no headline: the text
    assert [c.href for c in rows["claim"]] == ["#claim-transformer-memory", "#claim-gru-trains-faster"]
    picture = verdict_picture_table(claims)
    assert picture["deciding number"].tolist() == ["Transformer memory ~ T^0.99, GRU ~ T^1.04", ""]
    assert [v.text for v in picture["verdict"]] == ["holds", "depends"]


def test_claim_sections_quote_the_details_tables_and_drawn_figures_only():
    claims = claims_frame(engine_columns=True)
    speed = Table(pd.DataFrame({"model": ["gru-numpy"]}), "speed")
    sections = claim_sections(claims, drawn={"long_context_memory"}, tables={"speed": speed}).subsections
    memory, faster = sections
    assert memory.anchor == claim_anchor(claims.iloc[0]) == "claim-transformer-memory"
    assert "Rule (stated in `suite/report/claims.py`): holds if ...." in memory.body
    assert [b.name for b in memory.body if isinstance(b, Figure)] == ["long_context_memory"]
    assert not [b for b in memory.body if isinstance(b, Table)]            # its table is not in this run
    assert faster.body[-1] is speed and not [b for b in faster.body if isinstance(b, Figure)]
    assert not any(str(b).startswith("Rule") for b in faster.body)        # no rule text: no rule line


def test_markdown_table_for_the_notebooks():
    frame = pd.DataFrame({"a": [1.0, float("nan")], "b": ["x|y", None]})
    assert markdown_table(frame) == "| a | b |\n|---|---|\n| 1 | x\\|y |\n|  |  |\n"
    assert writer.markdown_table is markdown_table                        # the notebooks import it from writer


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def reference_run(tmp_path: Path, name: str = "run") -> Path:
    run = tmp_path / name
    run.mkdir()
    for file in ("results.csv", "curves.csv", "environment.json"):
        shutil.copy2(REFERENCE / file, run / file)
    return run


@pytest.fixture(scope="module")
def default_cfg():
    from suite.config import load_config
    return load_config(ROOT / "configs" / "default.yaml")


@pytest.fixture(scope="module")
def written(tmp_path_factory, default_cfg):
    """The report of the committed reference run's results, written into a copy of them."""
    run = reference_run(tmp_path_factory.mktemp("report"))
    writer.write_report(run, default_cfg)
    return run


def headings(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("#")]


def test_write_report_keeps_the_sections_and_their_order(written):
    md = (written / "report.md").read_text()
    top = [h for h in headings(md) if h.startswith(("# ", "## "))]
    assert [h.split(": report of run")[0] for h in top] == ["# GRU vs LSTM vs Transformer", "## Verdicts",
                                                             "## Claims", "## Details"]
    details = [h for h in headings(md.split("## Details")[1]) if h.startswith("### ")]
    assert details == ["### Executed notebooks", "### Failures, skipped and truncated work units", "### Parameters",
                       "### Speed", "### Accuracy", "### Paper check: Chung et al. 2014, JSB-style chorales",
                       "### Long context", "### Edge runtimes (batch 1, one thread)",
                       "### Equivalence (shared weights, float32)"]
    page = (written / "index.html").read_text()
    html_headings = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", page)]
    assert html_headings == [re.sub(r"^#+ |`", "", h) for h in headings(md)]   # both pages from the same sections
    claims = pd.read_csv(written / "tables" / "claims.csv")
    assert len(re.findall(r'<td class="v-(?:yes|no|mixed|open|under)">', page)) == len(claims)
    for anchor in re.findall(r'href="#([^"]+)"', page):
        assert f'id="{anchor}"' in page and f'<a id="{anchor}"></a>' in md
    for src in re.findall(r'src="([^"]+)"', page):
        assert (written / src).is_file(), src
    for csv in re.findall(r"\(tables/([\w-]+\.csv)\)", md):
        assert (written / "tables" / csv).is_file(), csv
    assert not plt.get_fignums()                                             # every figure closed once saved


def test_write_report_saves_the_verdict_table_picture(written):
    width, height = png_size(written / "figures" / "verdicts.png")
    assert width == 1100 and 200 < height < 2000                            # 10 in at 110 dpi: legible at 1000 px
    from PIL import Image
    with Image.open(written / "figures" / "verdicts.png") as im:
        im.verify()


def test_write_report_with_the_engine_columns(tmp_path, default_cfg):
    """The claims engine's columns reach the report: the anchor from the id, the verdict with its headline in the
    summary, the cells as JSON in claims.csv."""
    run = reference_run(tmp_path)
    writer.write_report(run, default_cfg)
    md = (run / "report.md").read_text()
    claims = pd.read_csv(run / "tables" / "claims.csv")
    first = claims.iloc[0]
    assert first["id"] == "gru-fewer-params" and isinstance(first["headline"], str) and first["headline"]
    assert f"| [{first['claim']}](#claim-{first['id']}) | {first['verdict']} — {first['headline']} |" in md
    assert f'<a id="claim-{first["id"]}"></a>' in md
    assert json.loads(first["cells"]) and all(isinstance(w, str) for w in json.loads(first["cells"]).values())
    assert png_size(run / "figures" / "verdicts.png")[0] == 1100


def test_publish_reference_copies_the_verdict_picture(written, tmp_path):
    from suite.report.publish import publish_reference
    dest = publish_reference(written, tmp_path / "reference")
    assert (dest / "figures" / "verdicts.png").read_bytes() == (written / "figures" / "verdicts.png").read_bytes()


def test_notebook_display_embeds_the_figures(written):
    (part,) = list(writer.notebook_display(written))
    assert "data:image/png;base64," in part.data and "](figures/" not in part.data


def test_a_damaged_environment_file_is_a_user_error(tmp_path, default_cfg):
    run = reference_run(tmp_path)
    (run / "environment.json").write_text("{not json")
    with pytest.raises(UserError, match=r"environment\.json: not readable JSON"):
        writer.write_report(run, default_cfg)
    assert not (run / "report.md").exists()


def test_a_folder_without_results_is_a_user_error(tmp_path, default_cfg):
    with pytest.raises(UserError, match="no results.csv"):
        writer.write_report(tmp_path, default_cfg)
