"""environment.yml and pyproject.toml list the same dependencies; the layout is the mission's."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower()


def _pyproject_requirements() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + [r for extra in data["project"]["optional-dependencies"].values()
                                              for r in extra]
    return {_name(r): r.replace(" ", "") for r in reqs}


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {_name(r): r.replace(" ", "") for r in pip if not r.startswith("-e")}


def test_environment_matches_pyproject():
    assert _environment_requirements() == _pyproject_requirements()


def test_environment_is_conda_forge_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]


def test_torch_pinned_to_the_cpu_wheel_on_disk():
    # an unpinned torch pulls a multi-GB CUDA build on these machines
    assert _pyproject_requirements()["torch"] == "torch==2.13.0"


def test_layout():
    for name in ("notebooks", "suite", "configs", "results", "tests", "environment.yml", "README.md",
                 "pyproject.toml", "Makefile", ".ci/run"):
        assert (ROOT / name).exists(), name
    ci = (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test\n" in ci and "make test-integration" in ci          # the CI runs both tiers
    assert "make test" in readme and "make report" in readme
