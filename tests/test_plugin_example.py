"""The worked plugin example (examples/lightgru) as a user runs it: installed with pip, found through its entry
points, listed by `python -m suite list`, run by `python -m suite run examples/lightgru/config.yaml` with rows for
Light GRU in every stage (equivalence skipped with its reason), then `batch --resume` on that folder: the notebooks
and the report, whose plugin section sets Light GRU beside the built-in GRU and LSTM.

How it is installed: ``pip install --no-deps --no-build-isolation --target <tmp>/site`` of a copy of the package,
and ``PYTHONPATH=<tmp>/site`` for the processes of this test only. pip writes the package and its
``lightgru_example-0.1.0.dist-info/entry_points.txt`` there, exactly as into site-packages, so the suite finds the
entry points the way it finds an installed package's; the suite's own environment is never changed, so nothing
has to be undone and no other test (running beside this one) sees the plugin. The copy keeps pip's build folders
out of the repository. About 2 minutes on 2 cores."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "lightgru"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lightgru")
    package = tmp / "package"
    shutil.copytree(EXAMPLE, package, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
                    str(site), str(package)], check=True, capture_output=True, timeout=300)
    assert (site / "lightgru_example-0.1.0.dist-info" / "entry_points.txt").is_file()
    return tmp, {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def suite(*args, env, timeout=900):
    return subprocess.run([sys.executable, "-m", "suite", *args], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_list_shows_the_plugin_model_and_task_with_their_source(installed):
    _, env = installed
    r = suite("list", env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    model = next(ln for ln in r.stdout.splitlines() if ln.startswith("model  lightgru-torch"))
    task = next(ln for ln in r.stdout.splitlines() if ln.startswith("task   majority"))
    assert "[plugin lightgru_example.model (entry point gru_suite.models: lightgru, distribution lightgru-example " \
           "0.1.0)]" in model
    assert "[plugin lightgru_example.task (entry point gru_suite.tasks: majority" in task


def test_the_example_runs_in_every_stage_and_reaches_the_report(installed):
    tmp, env = installed
    out = tmp / "run"
    r = suite("run", str(EXAMPLE / "config.yaml"), "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    frame = pd.read_csv(out / "results.csv")
    mine = frame[frame["model"] == "lightgru-torch"]
    for kind in ("params", "speed", "accuracy", "memory", "edge"):
        rows = mine[mine["kind"] == kind]
        assert len(rows) and (rows["status"] == "ok").all(), (kind, rows[["metric", "status", "error"]])
    skipped = frame[(frame["kind"] == "equivalence") & (frame["arch"] == "lightgru")]
    assert list(skipped["status"]) == ["skipped"] and "no canonical weight layout" in skipped["error"].iloc[0]
    accuracy = mine[(mine["kind"] == "accuracy") & (mine["metric"] == "accuracy")]
    assert sorted(accuracy["seed"]) == [0, 1, 2, 3, 4] and accuracy["value"].min() > 0.6   # chance is 0.5
    assert set(mine[(mine["kind"] == "speed")]["metric"]) >= {"train_step_ms", "infer_ms", "step_latency_us"}
    edge = mine[(mine["kind"] == "edge") & (mine["metric"] == "max_abs_diff") & (mine["precision"] == "fp32")
                & (mine["runtime"] == "onnxruntime")]
    assert list(edge["graph"]) == ["encoder step()"] and edge["value"].max() < 1e-5
    env_record = json.loads((out / "environment.json").read_text())["plugins"]
    assert {(p["kind"], p["name"]) for p in env_record} == {("model", "lightgru-torch"), ("task", "majority")}

    r = suite("batch", "--resume", str(out), env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    report = (out / "report.md").read_text()
    section = report.split("## Plugin models beside GRU and LSTM")[1]
    for reference in ("gru-torch", "lstm-torch"):
        assert f"| lightgru-torch | {reference} | train_step_ms |" in section
        assert f"| budget | majority | accuracy | lightgru-torch | {reference} |" in section
    assert "| lightgru-torch | equivalence | 0 | 1 | 0 | 0 | not compared:" in section
