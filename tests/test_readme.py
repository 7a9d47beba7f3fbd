"""The README is the first page a newcomer reads: what the suite is, the two commands within its first 15 lines, the
picture of the verdict table and the link to the reference report, under 800 words; every command it names
exists, and every relative link in it and in docs/ resolves to a file of the repository (and to a heading there,
when it names one)."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\"|\s+'[^']*')?\)")   # the target of a link or an image
VERDICTS_PNG = "results/reference/figures/verdicts.png"


def words(text: str) -> int:
    return len(text.split())


def first_screen() -> list[str]:
    return README.read_text().splitlines()[:15]


def test_the_two_commands_come_within_the_first_15_lines():
    lines = first_screen()
    commands = [line.split("#")[0].strip() for line in lines]
    assert "make report" in commands and "make test" in commands, lines
    assert lines[0].startswith("# ")


def test_the_first_screen_shows_the_verdict_table_and_links_the_reference_report():
    links = [m.group(1) for line in first_screen() for m in LINK.finditer(line)]
    assert VERDICTS_PNG in links                                    # the picture, as an image
    assert any("![" in line and VERDICTS_PNG in line for line in first_screen())
    assert "results/reference/report.md" in links and "results/reference/index.html" in links


def test_the_readme_is_under_800_words():
    assert words(README.read_text()) < 800


def make_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


def suite_commands() -> set[str]:
    from suite.cli import build_parser
    from suite.reference_docs import subcommands
    return {name for name, _, _ in subcommands(build_parser())}


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_command_a_page_names_exists(page):
    """`make X` is a Makefile target and `python -m suite Y` a subcommand, wherever a page names one."""
    text = page.read_text()
    targets, commands = make_targets(), suite_commands()
    named_make = set(re.findall(r"(?:^|`)make ([a-z][\w-]*)", text, re.M))
    named_suite = set(re.findall(r"python -m suite ([a-z][\w-]*)", text))
    assert named_make <= targets, named_make - targets
    assert named_suite <= commands, named_suite - commands


def repository_files() -> set[str]:
    """The files of the repository tree: tracked, or new and not ignored (a fresh clone has exactly these)."""
    r = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0:                      # not a git checkout: what is on disk
        return {str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts}
    return set(r.stdout.splitlines())


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", prose(page), re.M)}


def prose(page: Path) -> str:
    """The page without its fenced code blocks."""
    return re.sub(r"```.*?```", "", page.read_text(), flags=re.S)


def relative_links() -> list[tuple[Path, str]]:
    return [(page, m.group(1)) for page in PAGES for m in LINK.finditer(prose(page))]


def _link_cases():
    cases = []
    for page, target in relative_links():
        case_id = f"{page.relative_to(ROOT)}->{target}"
        cases.append(pytest.param(page, target, id=case_id))
    return cases


@pytest.mark.parametrize("page, target", _link_cases())
def test_every_link_resolves_inside_the_repository(page, target):
    assert not re.match(r"^[a-z]+:", target), f"{page.name} cites {target}: outside the project"
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    assert ROOT in file.parents, f"{page.name}: {target} leaves the repository"
    assert str(file.relative_to(ROOT)) in repository_files(), f"{page.name}: {target} is not a file of the repository"
    if anchor:
        assert anchor in anchors(file), f"{page.name}: {target}: no heading with that anchor"


def test_the_link_check_catches_a_broken_link(tmp_path):
    """The pattern finds links and images, and a path outside the tree is not among the repository's files."""
    text = "see [a](docs/nowhere.txt) and [![b](x.png 'title')](y.html) and [c](https://example.org)"
    assert [m.group(1) for m in LINK.finditer(text)] == ["docs/nowhere.txt", "x.png", "y.html", "https://example.org"]
    assert "docs/nowhere.txt" not in repository_files() and "README.md" in repository_files()
    assert slug("Parallel on Dask") == "parallel-on-dask" and slug("### `run` and batch".lstrip("# ")) == \
        "run-and-batch"
