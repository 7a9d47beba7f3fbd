"""Resume for real: start a run in a subprocess, SIGKILL it mid-way, resume, and compare with an
uninterrupted run (same rows, same seeds, same accuracy for the CPU frameworks)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CONFIG = """
name: resume
seeds: [0, 1]
models: [gru-numpy, lstm-torch, gru-torch]
tasks:
  adding: {T: 10, n_train: 256, n_val: 64, n_test: 64}
  digits: {variant: rows}
sizing: {hidden: 16, budget: null}
training: {lr: 0.01, epochs: 3, max_seconds: null, batch_size: 32}
speed: {enabled: false}
paper_check: {enabled: false}
"""
KEY = ["work_unit", "kind", "task", "model", "seed", "metric"]
TIMING = {"train_seconds", "cpu_seconds"}


def _cli(*args, cwd):
    return [sys.executable, "-m", "suite", *args]


def _frame(run_dir: Path) -> pd.DataFrame:
    f = pd.read_csv(run_dir / "results.csv")
    f = f[f["kind"] == "accuracy"]
    return f[~f["metric"].isin(TIMING)].sort_values(KEY).reset_index(drop=True)


def test_kill_and_resume_equals_uninterrupted(tmp_path):
    cfg = tmp_path / "resume.yaml"
    cfg.write_text(CONFIG)
    full, killed = tmp_path / "full", tmp_path / "killed"
    t0 = time.perf_counter()
    subprocess.run(_cli("run", str(cfg), "--out", str(full), "--stages", "accuracy", cwd=tmp_path),
                   check=True, capture_output=True, timeout=600)
    uninterrupted_s = time.perf_counter() - t0

    proc = subprocess.Popen(_cli("run", str(cfg), "--out", str(killed), "--stages", "accuracy", cwd=tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((killed / "units").glob("*.json"))) < 4:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((killed / "units").glob("*.json")))
    assert 4 <= done_before < 12, "the kill must land mid-way"
    assert not list(killed.rglob("*.tmp")) or all(p.name.startswith(".") for p in killed.rglob("*.tmp"))
    for p in (killed / "units").glob("*.json"):  # no truncated unit file survives
        pd.read_json(p, typ="series")

    t0 = time.perf_counter()
    r = subprocess.run(_cli("run", "--resume", str(killed), cwd=tmp_path), capture_output=True, text=True,
                       timeout=600)
    resume_s = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    assert f"({done_before} already done)" in r.stderr
    a, b = _frame(full), _frame(killed)
    assert a[KEY].equals(b[KEY])
    same = (a["value"].values == b["value"].values) | (a["value"].isna().values & b["value"].isna().values)
    assert same.all(), pd.concat([a[KEY + ["value"]], b["value"]], axis=1)     # NaN: a run censored before its target
    print(f"uninterrupted {uninterrupted_s:.1f} s; killed after {done_before}/16 units; resume {resume_s:.1f} s")
