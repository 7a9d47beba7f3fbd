"""The tree shows the flow: at most 10 flat modules in suite/, and imports point down (tasks never import models:
the loss primitives both use live below them, in suite.losses; models and tasks never import run or report; bench
never imports run; results never import report; the plugin loader imports no subpackage)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "suite"
FORBIDDEN = {"models": ("suite.run", "suite.report"), "tasks": ("suite.models", "suite.run", "suite.report"),
             "bench": ("suite.run", "suite.report"),
             "plugins": ("suite.models", "suite.tasks", "suite.run", "suite.report", "suite.bench", "suite.edge",
                         "suite.results")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_at_most_ten_flat_modules():
    flat = sorted(p.name for p in ROOT.glob("*.py"))
    assert len(flat) <= 10, flat


def imports_against(package: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """'<module> imports <name>' for every import (top-level or inside a function) of a forbidden package."""
    return [f"{path.relative_to(root)} imports {name}" for path in sorted((root / package).rglob("*.py"))
            for name in sorted(imported_modules(path))
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


def test_imports_point_down():
    bad = [line for package, forbidden in FORBIDDEN.items() for line in imports_against(package, forbidden)]
    assert not bad, bad


def test_the_arrow_check_sees_an_import_inside_a_function(tmp_path):
    """The check reads every import node, so a lazy import inside a function counts as an arrow too."""
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "lazy.py").write_text("import suite.modelsx\n\ndef f():\n"
                                                "    from suite.models.base import SequenceModel\n")
    assert imports_against("tasks", ("suite.models",), tmp_path) == ["tasks/lazy.py imports suite.models.base"]


def test_results_never_import_report():
    assert not imports_against("results", ("suite.report",))


def test_no_grab_bag_modules():
    names = {p.stem for p in ROOT.rglob("*.py")}
    assert not names & {"utils", "helpers", "misc", "common_utils"}


def test_no_file_cites_a_document_outside_the_repository():
    """Code and docs say what a reader needs themselves: every Markdown document they name (``*.md``) is one the
    repository ships or a run writes (report.md), never planning notes that do not ship."""
    import re
    root = ROOT.parent
    files = [*ROOT.rglob("*.py"), *(root / "tests").glob("*.py"), root / "README.md", root / "Makefile",
             *(root / "notebooks").glob("*.ipynb"), *(root / "configs").glob("*")]
    shipped = {p.name for p in root.rglob("*.md") if ".venv" not in p.parts} | {"report.md"}
    cited = {(str(f.relative_to(root)), name) for f in files
             for name in re.findall(r"\b[A-Za-z_][\w.-]*\.md\b", f.read_text())}
    assert not [(f, name) for f, name in cited if name not in shipped]
