"""docs/ stays true to the code: the generated pages (config.md from the schema, the command table of cli.md from
the parser, the module list of layout.md from the source) equal what ``python -m suite.reference_docs`` writes;
they cover every key, subcommand and module; no table cell is a wall of text; the config keys the hand-written
pages name are keys of the schema; and the Python example of docs/python.md runs."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from suite import reference_docs
from suite.reference_docs import BEGIN, COMMAND, END, rendered

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MAX_CELL = 300          # characters in one Markdown table cell (the old README's compare row had 836)


@pytest.mark.parametrize("page", reference_docs.pages())
def test_each_generated_page_is_current(page):
    committed = (DOCS / page).read_text()
    assert committed == rendered(page), f"docs/{page} differs from the code: regenerate it with {COMMAND}"


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def test_config_md_has_a_row_for_every_key_of_the_schema():
    from suite.config import flat_keys
    keys = {row[0].strip("`") for row in table_rows((DOCS / "config.md").read_text())}
    missing = sorted(dotted for dotted in flat_keys().values() if dotted not in keys)
    assert not missing, missing


def test_config_md_documents_every_task_option():
    from suite.tasks import BUILTIN_TASK_NAMES, task_class
    keys = {row[0].strip("`") for row in table_rows((DOCS / "config.md").read_text())}
    options = {f"tasks.{t}.{o}" for t in BUILTIN_TASK_NAMES for o in task_class(t).Options.model_fields}
    assert options and options <= keys, sorted(options - keys)


def test_cli_md_has_a_row_and_a_help_for_every_subcommand():
    from suite.cli import build_parser
    text = (DOCS / "cli.md").read_text()
    names = [name for name, _, _ in reference_docs.subcommands(build_parser())]
    rows = {row[0] for row in table_rows(text)}
    assert len(names) >= 10
    for name in names:
        assert f"[`{name}`](#{reference_docs.anchor(name)})" in rows, name
        assert f"\n### {name}\n\n```text\nusage: python -m suite {name} " in text, name


def test_layout_md_lists_every_module_of_the_package():
    text = (DOCS / "layout.md").read_text()
    rows = {(section, row[0].strip("`")) for section, block in
            re.findall(r"### (suite/[^\n]*)\n\n(\|.*?)(?=\n\n|\Z)", text, re.S) for row in table_rows(block)}
    for path in sorted((ROOT / "suite").rglob("*.py")):
        parts = path.relative_to(ROOT / "suite").parts
        section = f"suite/{parts[0]}/" if len(parts) > 1 else "suite/ (flat modules)"
        assert (section, "/".join(parts[1:] if len(parts) > 1 else parts)) in rows, path


def test_a_block_is_replaced_and_the_hand_written_text_kept():
    page = f"# Title\n\nby hand before\n\n{BEGIN}\nstale table\n{END}\n\nby hand after\n"
    text = rendered("cli.md", page)
    assert text.startswith("# Title\n\nby hand before\n\n" + BEGIN + "\n| command |")
    assert text.endswith(f"\n{END}\n\nby hand after\n") and "stale table" not in text
    with pytest.raises(ValueError, match="expected one generated block"):
        rendered("cli.md", "# no block here\n")


def test_check_names_a_stale_page_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(reference_docs, "DOCS", tmp_path)
    for page in reference_docs.pages():
        (tmp_path / page).write_text((DOCS / page).read_text())
    (tmp_path / "config.md").write_text("# an old config page\n")
    assert reference_docs.main(["--check"]) == 1
    assert "docs/config.md: differs" in capsys.readouterr().err
    assert (tmp_path / "config.md").read_text() == "# an old config page\n"
    assert reference_docs.main([]) == 0 and reference_docs.main(["--check"]) == 0


def all_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", all_pages(), ids=lambda p: p.name)
def test_no_table_cell_is_a_wall_of_text(page):
    long = [cell[:60] for row in table_rows(page.read_text()) for cell in row if len(cell) > MAX_CELL]
    assert not long, long


def test_the_docs_cite_nothing_outside_the_project():
    """No address on the web, no absolute path, nothing of the machines the project is built on."""
    for page in all_pages():
        text = page.read_text()
        assert not re.search(r"https?://", text), page.name
        assert not re.search(r"(?<![\w.`])/(?:work|tmp|home|root|Users)/", text), page.name


FILE_SUFFIXES = (".md", ".py", ".csv", ".json", ".yaml", ".png", ".gz", ".html", ".ipynb")


def named_config_keys(text: str, sections: set[str]) -> set[str]:
    """`section.key` spans of a page (a key of a config section, not a file such as `speed.md`)."""
    return {m.group(1) for m in re.finditer(r"`([a-z_]+\.[a-z_]+)", text)
            if m.group(1).split(".")[0] in sections and not m.group(1).endswith(FILE_SUFFIXES)}


def test_the_hand_written_pages_name_only_keys_of_the_schema():
    from pydantic import BaseModel

    from suite.config import Config, flat_keys
    sections = {name for name, f in Config.model_fields.items()
                if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)}
    keys = set(flat_keys().values())
    unknown = {f"{page.name}: {key}" for page in all_pages() if page.name != "config.md"
               for key in named_config_keys(page.read_text(), sections) if key not in keys}
    assert not unknown, sorted(unknown)


def test_named_config_keys_reads_keys_not_files():
    text = "`speed.rounds` and `training.lr: 0.003`, see `speed.md`, `results.csv`, `suite.models`"
    assert named_config_keys(text, {"speed", "training"}) == {"speed.rounds", "training.lr"}


@pytest.mark.slow
@pytest.mark.integration      # the example in a process of its own, all three frameworks
def test_the_python_example_runs():
    text = (DOCS / "python.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    diffs = ast.literal_eval(r.stdout.strip().splitlines()[-1])
    assert set(diffs) == {"torch", "keras"} and max(diffs.values()) < 1e-5
