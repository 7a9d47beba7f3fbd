"""Failure isolation: a raising work unit, a NaN loss, a failing notebook and a notebook past its time limit
are recorded as failed (with their error text) and everything else goes on."""
import math
import subprocess
import sys
from pathlib import Path

import pytest

import nbformat
import numpy as np
import pandas as pd

from suite.results.store import RunStore
from suite.run.execute import run_units
from suite.run.plan import WorkUnit
from suite.tasks import get_task
from suite.run.training import TrainingConfig, train

ROOT = Path(__file__).resolve().parent.parent


def test_a_raising_unit_becomes_a_failed_row_and_the_rest_runs(tmp_path):
    store = RunStore(tmp_path / "run")
    store.units_dir.mkdir(parents=True)
    def boom():
        raise RuntimeError("model exploded\nsecond line")
    units = [WorkUnit("a", "accuracy", boom, "raises"),
             WorkUnit("b", "accuracy", lambda: {"rows": [{"kind": "accuracy", "metric": "m", "value": 1.0,
                                                      "status": "ok", "error": None}]}, "fine")]
    counts = run_units(units, store, progress=False)
    frame = store.finalize()
    assert counts["failed"] == 1
    bad = frame[frame["work_unit"] == "a"].iloc[0]
    assert bad["status"] == "failed" and bad["error"] == "RuntimeError: model exploded"
    assert (store.dir / "logs" / "a.txt").read_text().startswith("Traceback")
    assert frame[frame["work_unit"] == "b"]["value"].iloc[0] == 1.0


class NaNModel:
    """Trains for two steps, then its loss becomes NaN."""
    def __init__(self):
        self.steps = 0
    def configure_training(self, lr, clip_norm):
        pass
    def train_step(self, x, y):
        self.steps += 1
        return 0.5 if self.steps < 3 else math.nan
    def forward(self, x):
        return np.zeros((len(x), 1), np.float32)


def test_nan_loss_stops_the_run_early():
    task = get_task("adding", T=5, n_train=320, n_val=16, n_test=16)
    data = task.load(0)
    model = NaNModel()
    result = train(model, task, data, TrainingConfig(batch_size=32, epochs=50))
    assert result.status == "failed"
    assert result.error == "loss became nan at epoch 1 step 3"
    assert model.steps == 3


def _notebooks_with_faults(tmp_path) -> Path:
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for p in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(str(p), as_version=4)
        if p.stem == "speed":
            nb.cells.insert(2, nbformat.v4.new_code_cell("raise RuntimeError('speed notebook broke')"))
        if p.stem == "accuracy":
            nb.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(300)"))
        nbformat.write(nb, str(nb_dir / p.name))
    return nb_dir


@pytest.mark.slow
@pytest.mark.integration
def test_failed_and_timed_out_notebooks_do_not_stop_the_batch(tmp_path):
    cfg = tmp_path / "faults.yaml"
    cfg.write_text("name: faults\nmodels: [gru-numpy, lstm-numpy]\nseeds: [0]\n"
                   "tasks: {adding: {T: 5, n_train: 64, n_val: 16, n_test: 16}}\n"
                   "params: {hiddens: [4], layers: [1]}\npaper_check: {enabled: false}\n"
                   "batch: {notebooks: [parameters, speed, accuracy, report], cell_timeout_s: 25}\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "suite", "batch", str(cfg), "--out", str(out)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, "SUITE_NOTEBOOK_DIR": str(_notebooks_with_faults(tmp_path))})
    assert r.returncode == 1, r.stderr[-2000:]
    assert r.stderr.strip().splitlines()[-1] == "4 notebooks, 2 failed; 0 work units failed"
    frame = pd.read_csv(out / "results.csv")
    nb = frame[frame["kind"] == "notebook"].set_index("model")
    assert nb.loc["parameters", "status"] == "ok" and nb.loc["report", "status"] == "ok"
    assert nb.loc["speed", "status"] == "failed" and "speed notebook broke" in nb.loc["speed", "error"]
    assert nb.loc["accuracy", "status"] == "failed" and "timed out" in nb.loc["accuracy", "error"]
    assert (out / "notebooks" / "speed.ipynb").is_file() and (out / "notebooks" / "speed.html").is_file()
    report = (out / "report.md").read_text()
    assert "speed notebook broke" in report and "(notebooks/speed.html)" in report
    assert (out / "index.html").is_file()
    assert not list(out.rglob("*.partial.ipynb"))
