"""The smoke batch through papermill for real: every notebook executes, the report is written, and
every GRU and LSTM in every framework reaches >= 93% on digits (8x8 rows) within the smoke budget."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from suite.bench.ratios import MIN_SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke") / "run"
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "suite", "batch", str(ROOT / "configs/smoke.yaml"), "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr[-3000:]
    print(f"smoke batch: {seconds:.1f} s")
    return out, r


def test_every_notebook_ran_and_the_report_exists(smoke_run):
    out, r = smoke_run
    assert f"report: {out / 'index.html'}" in r.stderr
    for name in ("parameters", "equivalence", "speed", "accuracy", "edge", "report"):
        assert (out / "notebooks" / f"{name}.ipynb").is_file()
        assert (out / "notebooks" / f"{name}.html").is_file()
    report = (out / "report.md").read_text()
    sections = ["## Verdicts", "## Claims", "## Details", "### Parameters", "### Speed", "### Accuracy",
                "### Equivalence", "#### Fairness ledger"]
    positions = [report.index(s) for s in sections]
    assert positions[:3] == sorted(positions[:3])          # the verdict summary comes first
    # every claim has data; the thread study alone may find the cores held (the other test worker runs beside it)
    verdicts = report.split("## Details")[0]
    for allowed in ("not measured (other processes held the cores", "not measured when other processes held the cores"):
        verdicts = verdicts.replace(allowed, "")                # that verdict, and its rule's text
    assert "GRU trains faster than LSTM" in report and "not measured" not in verdicts
    assert len(list((out / "figures").glob("*.png"))) >= 4
    assert (out / "tables" / "claims.csv").is_file()
    claims = pd.read_csv(out / "tables" / "claims.csv").set_index("id")
    # one round of ~3 samples a measurement, below suite.bench.ratios.MIN_SAMPLES: a framework whose GRU or LSTM
    # train-step row has fewer samples is not judged (its cell reads 'too few samples'), one with enough is
    cells = json.loads(claims.loc["gru-trains-faster", "cells"])
    rows = pd.read_csv(out / "results.csv", low_memory=False)
    steps = rows[(rows["kind"] == "speed") & (rows["metric"] == "train_step_ms") & rows["arch"].isin(["gru", "lstm"])
                 & (rows["status"] == "ok")]
    fewest = steps.groupby("framework")["n"].min()
    assert set(cells) == set(fewest.index), (cells, fewest)
    for framework, n in fewest.items():
        assert (cells[framework] == "too few samples") == (n < MIN_SAMPLES), (framework, n, cells)
    assert "too few samples" in cells.values()
    html = (out / "index.html").read_text()
    assert 'href="notebooks/speed.html"' in html
    assert 'class="v-' in html                             # verdict cells are colour-coded


def test_links_are_relative_and_the_report_is_written_once(smoke_run):
    """No absolute path of this machine in the report or the rendered notebooks; the report notebook
    writes the report and the batch does not write it again afterwards."""
    out, _ = smoke_run
    for page in [out / "index.html", out / "report.md", *sorted((out / "notebooks").glob("*.html"))]:
        text = page.read_text()
        assert str(out) not in text, page
        assert 'src="/' not in text and "](/" not in text, page
    import re
    for src in re.findall(r'src="([^"]+)"', (out / "index.html").read_text()):
        assert (out / src).is_file(), src
    assert (out / "index.html").stat().st_mtime <= (out / "notebooks" / "report.ipynb").stat().st_mtime


def test_every_model_has_results_and_nothing_failed(smoke_run):
    out, _ = smoke_run
    frame = pd.read_csv(out / "results.csv")
    assert set(frame["status"]) <= {"ok", "skipped", "unstable"}
    # 'unstable': a timing whose samples drifted (the tests' other worker shares the machine); only timings
    unstable = frame[frame["status"] == "unstable"]
    assert unstable["metric"].str.endswith(("_ms", "_us")).all(), unstable[["kind", "metric"]]
    skipped = frame[frame["status"] == "skipped"]
    # a thread count the other test worker made pathologically slow is given up, with its reason (seen: gru-torch
    # at 2 threads 136x its 1-thread time, load average 3.7); nothing else may be skipped but unsupported exports
    given_up = skipped[skipped["kind"] == "speed_threads"]
    assert given_up["error"].str.startswith("oversubscribed: at ").all(), given_up["error"]
    skipped = skipped[skipped["kind"] != "speed_threads"]
    assert set(skipped["kind"]) <= {"edge"} and (skipped["edge_status"] == "unsupported").all()
    import yaml
    models = yaml.safe_load((ROOT / "configs/smoke.yaml").read_text())["models"]
    from suite.config import forget_bias_arms, load_config, model_entries
    cfg = load_config(ROOT / "configs/smoke.yaml")
    trained = {e["name"] for e in forget_bias_arms(cfg, model_entries(cfg))}    # each LSTM at each forget-bias arm
    assert trained > set(models) - {m for m in models if m.startswith("lstm-")}
    acc = frame[frame["kind"] == "accuracy"]
    for task in ("digits", "adding"):
        assert set(acc[acc["task"] == task]["model"]) == trained
    side = frame[frame["kind"] == "side_by_side"]                               # the three GRUs and the null
    assert set(side["model"]) == {"gru-numpy", "gru-torch", "gru-keras", "gru-torch-ulp1"}
    speed = frame[(frame["kind"] == "speed") & (frame["metric"] == "train_step_ms")]
    if "sweep" in speed:
        speed = speed[speed["sweep"] != "long_context"]          # the long-context T sweep has its own models
    assert set(speed["model"]) == set(models)
    env = (out / "environment.json").read_text()
    assert '"commit"' in env and '"threads": 1' in env


def test_digits_rows_reaches_93_percent_for_every_gru_and_lstm(smoke_run):
    out, _ = smoke_run
    frame = pd.read_csv(out / "results.csv")
    acc = frame[(frame["kind"] == "accuracy") & (frame["task"] == "digits") & (frame["metric"] == "accuracy")]
    recurrent = acc[acc["arch"].isin(["gru", "lstm"])]
    assert set(recurrent["framework"]) == {"numpy", "torch", "keras"}
    low = recurrent[recurrent["value"] < 0.93]
    assert low.empty, low[["model", "value"]]


def test_killed_batch_resumes(tmp_path):
    """SIGKILL a batch after its first notebook, resume it, and get the same rows as a clean run."""
    cfg = tmp_path / "b.yaml"
    cfg.write_text("name: b\nmodels: [gru-numpy, lstm-numpy]\nseeds: [0, 1]\n"
                   "tasks: {adding: {T: 8, n_train: 256, n_val: 64, n_test: 64}}\nmodel: {hidden: 16, budget: null}\n"
                   "training: {epochs: 3, max_seconds: null}\nparams: {hiddens: [4, 8], layers: [1]}\n"
                   "paper_check: {enabled: false}\nbatch: {notebooks: [parameters, accuracy, report]}\n")
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    subprocess.run([sys.executable, "-m", "suite", "batch", str(cfg), "--out", str(clean)], cwd=tmp_path,
                   check=True, capture_output=True, timeout=600)
    proc = subprocess.Popen([sys.executable, "-m", "suite", "batch", str(cfg), "--out", str(killed)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (killed / "units" / "notebook-parameters.json").is_file():
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its kernels
    proc.wait()
    assert not (killed / "report.md").exists()
    r = subprocess.run([sys.executable, "-m", "suite", "batch", "--resume", str(killed)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    key = ["work_unit", "metric", "model", "seed", "task"]
    def rows(run):
        f = pd.read_csv(run / "results.csv")
        f = f[f["kind"].isin(["accuracy", "params"]) & ~f["metric"].isin(["train_seconds", "cpu_seconds"])]
        return f.sort_values(key)[key + ["value"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows(clean), rows(killed))
    assert (killed / "report.md").is_file()


def test_publish_reference_copies_the_report(smoke_run, tmp_path):
    out, _ = smoke_run
    r = subprocess.run([sys.executable, "-m", "suite", "publish-reference", str(out), str(tmp_path / "ref")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ref = tmp_path / "ref"
    assert (ref / "report.md").read_text().startswith("# GRU vs LSTM vs Transformer")
    assert (ref / "notebooks" / "speed.html").is_file() and not list(ref.rglob("*.ipynb"))
    assert "ipynb" not in (ref / "index.html").read_text()
    assert list((ref / "figures").glob("*.png")) and (ref / "environment.json").is_file()
