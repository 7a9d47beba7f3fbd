"""The tree shows the flow: at most 10 flat modules in suite/, and imports point down (models and tasks never
import run or report; bench never imports run)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "suite"
FORBIDDEN = {"models": ("suite.run", "suite.report"), "tasks": ("suite.run", "suite.report"),
             "bench": ("suite.run", "suite.report")}


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


def test_imports_point_down():
    bad = []
    for package, forbidden in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            for name in imported_modules(path):
                if name.startswith(forbidden):
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, bad


def test_no_grab_bag_modules():
    names = {p.stem for p in ROOT.rglob("*.py")}
    assert not names & {"utils", "helpers", "misc", "common_utils"}


def test_no_file_cites_a_document_outside_the_repository():
    """Code and docs say what a reader needs themselves; nothing points at planning notes that do not ship."""
    root = ROOT.parent
    files = [*ROOT.rglob("*.py"), root / "README.md", *(root / "notebooks").glob("*.ipynb"), *(root / "configs").glob("*")]
    assert not [str(f.relative_to(root)) for f in files if "DESIGN.md" in f.read_text() or "STYLE.md" in f.read_text()]
