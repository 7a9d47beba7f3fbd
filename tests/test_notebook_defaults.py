"""Each notebook runs as-is with its own defaults (what a user gets opening it in Jupyter); only run_dir
is pointed at a temporary folder. The report notebook then reads what the others wrote."""
from pathlib import Path

import papermill as pm
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("defaults") / "run"


@pytest.mark.parametrize("name", ["parameters", "equivalence", "accuracy", "speed", "report"])
def test_notebook_runs_with_its_defaults(name, run_dir, tmp_path):
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(ROOT / f"{name}.ipynb"), str(out), parameters={"run_dir": str(run_dir)},
                        kernel_name="python3", progress_bar=False, cwd=str(ROOT))
    frame = pd.read_csv(run_dir / "results.csv")
    assert not (frame["status"] == "failed").any()
    if name == "report":
        assert "## Claims" in (run_dir / "report.md").read_text()
        assert set(frame["kind"]) >= {"params", "equivalence", "accuracy", "speed"}
