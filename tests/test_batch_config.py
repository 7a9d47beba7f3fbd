"""The batch hands every config key to the notebooks, not a chosen subset: keys that only change what the
harness does (speed.enabled, resources.max_memory_gb) act under `batch` exactly as under `run`."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent


def test_speed_disabled_and_memory_limit_reach_the_notebooks(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("models: [gru-numpy]\nseeds: [0]\ntasks: {adding: {T: 5, n_train: 16, n_val: 8, n_test: 8}}\n"
                   "training: {epochs: 1}\nspeed: {enabled: false}\npaper_check: {enabled: false}\n"
                   "resources: {max_memory_gb: 0.0000001}\nbatch: {notebooks: [speed, accuracy]}\n")
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "suite", "batch", str(cfg), "--out", str(out)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    frame = pd.read_csv(out / "results.csv")
    assert "speed" not in set(frame["kind"])                       # speed.enabled: false
    acc = frame[frame["kind"] == "accuracy"]
    assert len(acc) and set(acc["status"]) == {"skipped"}           # the memory limit refused the unit
    assert "exceeds the limit" in acc["error"].iloc[0]
    assert "Kernel is running over TCP" not in r.stderr              # kernels on IPC sockets, no warning


def test_side_by_side_notebooks_with_a_relative_run_folder(tmp_path):
    """parameters and equivalence run at once (papermill changes its process's working directory, so each
    runs in a process of its own): both are recorded, under a run folder given relative to the caller, and
    no kernel's socket folder stays behind (the forked processes never ran the atexit hook that removed it)."""
    import tempfile
    cfg = tmp_path / "c.yaml"
    cfg.write_text("models: [gru-numpy, gru-torch]\nseeds: [0]\ntasks: {adding: {T: 5, n_train: 16, n_val: 8, "
                   "n_test: 8}}\nbatch: {notebooks: [parameters, equivalence]}\n")
    scratch = Path(tempfile.mkdtemp(prefix="k", dir="/tmp"))     # short: an IPC socket path has ~107 characters
    try:
        r = subprocess.run([sys.executable, "-m", "suite", "batch", "c.yaml", "--out", "rel/run"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600, env={**os.environ, "TMPDIR": str(scratch)})
        assert r.returncode == 0, r.stderr[-2000:]
        assert not list(scratch.glob("suite-kernels-*"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = tmp_path / "rel" / "run"
    frame = pd.read_csv(out / "results.csv")
    assert {"params", "equivalence", "notebook"} <= set(frame["kind"])
    notebooks = frame[frame["kind"] == "notebook"].set_index("model")
    assert notebooks.loc["parameters", "notebook"] == "notebooks/parameters.ipynb"
    assert (out / notebooks.loc["equivalence", "html"]).is_file()
