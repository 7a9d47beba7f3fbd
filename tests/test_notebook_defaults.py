"""Notebooks by hand: each runs as a Jupyter user runs it (papermill, no run folder given), and run one after
another they fill ONE folder (results/lab) whose report covers all of them. Their defaults are the main job's
(tests/test_notebooks.py holds them to configs/default.yaml), minutes of work; here they get SMALL, a smaller
job of the same shape, so the test stays short."""
from pathlib import Path

import papermill as pm
import pandas as pd
import pytest

from suite.run.notebook_api import declared_parameters

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent / "notebooks"
# One value per key, shared by every notebook that declares it (a key two notebooks gave differently would
# re-run the first one's stage).
SMALL = {"models": ["gru-numpy", "gru-torch", "lstm-torch", "transformer-torch"],
         "speed_batch": 32, "speed_base_hidden": 64, "speed_base_seq_len": 50, "speed_sweep_seq_lens": [25, 50],
         "speed_sweep_hiddens": [32, 64], "speed_contexts": [16, 128], "speed_rounds": 2, "speed_sweep_rounds": None,
         "speed_max_time_s": 0.5,
         "tasks": {"digits": {"variant": "rows"}}, "seeds": [0, 1, 2], "sizing_hidden": 32, "sizing_equal_width": False,
         "sizing_equal_width_models": None, "sizing_equal_width_tasks": None, "sizing_accuracy_models": None,
         "sizing_side_by_side_models": None, "sizing_side_by_side_tasks": None, "sizing_side_by_side_null": None,
         "training_lr": 0.005, "training_batch_size": 32, "training_epochs": 5, "training_task_epochs": {},
         "training_max_seconds": 120.0, "training_lr_grid": None}      # no search: tests/test_lr_tuning.py has it


def small(name: str, **extra) -> dict:
    """The SMALL values of the parameters notebook ``name`` declares, and ``extra``."""
    return {k: v for k, v in SMALL.items() if k in declared_parameters(name)} | extra


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
                        cwd=str(ROOT), parameters=small(name))
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
                        progress_bar=False, parameters=small("parameters", params_budget=30000))
    after = {p.name: p.stat().st_mtime for p in (lab / "units").glob("*.json")}
    assert after["params.json"] > before["params.json"]
    assert all(after[n] == t for n, t in before.items() if n != "params.json")
    assert "budget: 30000" in (lab / "config.yaml").read_text()
