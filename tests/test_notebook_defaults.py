"""Notebooks by hand: each runs as-is with its own defaults (what a Jupyter user gets), and run one after
another they fill ONE folder (results/lab) whose report covers all of them."""
from pathlib import Path

import papermill as pm
import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def results_root(tmp_path_factory):
    """results/ redirected to a temporary folder ($SUITE_RESULTS_DIR, inherited by the kernels)."""
    root = tmp_path_factory.mktemp("results")
    mp = pytest.MonkeyPatch()
    mp.setenv("SUITE_RESULTS_DIR", str(root))
    yield root
    mp.undo()


@pytest.mark.parametrize("name", ["parameters", "speed", "accuracy", "report"])   # equivalence: the smoke batch
def test_notebooks_by_hand_share_one_folder(name, results_root, tmp_path):
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(ROOT / f"{name}.ipynb"), str(out), kernel_name="python3", progress_bar=False,
                        cwd=str(ROOT))
    lab = results_root / "lab"
    assert [p.name for p in results_root.iterdir()] == ["lab"]          # no folder per notebook
    frame = pd.read_csv(lab / "results.csv")
    assert not (frame["status"] == "failed").any()
    if name == "report":
        assert set(frame["kind"]) >= {"params", "accuracy", "speed", "speed_threads"}
        verdicts = (lab / "report.md").read_text().split("## Claims")[0]
        for claim in ("GRU has fewer parameters", "GRU trains faster", "GRU reaches accuracy comparable"):
            line = next(l for l in verdicts.splitlines() if claim in l)
            assert "not measured" not in line, line


def test_changed_parameters_rerun_that_stage_only(results_root, tmp_path):
    """A second hand run of `parameters` with another budget re-measures the params stage and leaves the
    others' units alone."""
    lab = results_root / "lab"
    before = {p.name: p.stat().st_mtime for p in (lab / "units").glob("*.json")}
    pm.execute_notebook(str(ROOT / "parameters.ipynb"), str(tmp_path / "p.ipynb"), kernel_name="python3",
                        progress_bar=False, parameters={"params_budget": 30000})
    after = {p.name: p.stat().st_mtime for p in (lab / "units").glob("*.json")}
    assert after["params.json"] > before["params.json"]
    assert all(after[n] == t for n, t in before.items() if n != "params.json")
    assert "budget: 30000" in (lab / "config.yaml").read_text()
