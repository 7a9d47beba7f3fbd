"""Resource guard (estimate up front, skip what cannot fit) and safety (data not code, nothing written
outside the output directory)."""
import subprocess
import sys

import pandas as pd
import papermill as pm
import pytest

from suite.errors import UserError
from suite.run.resources import check_fits, estimate_training_bytes
from suite.spec import ModelSpec


def test_estimate_grows_quadratically_for_attention_linearly_for_recurrence():
    tr = ModelSpec("transformer", "torch", 32, 128, 1)
    gru = ModelSpec("gru", "torch", 32, 128, 1)
    assert estimate_training_bytes(tr, 32, 2048) / estimate_training_bytes(tr, 32, 1024) > 3.5
    assert estimate_training_bytes(gru, 32, 2048) / estimate_training_bytes(gru, 32, 1024) < 2.1


def test_check_fits_names_model_shape_and_figures():
    with pytest.raises(UserError, match=r"transformer-torch at B=32 T=16384 H=128: estimated memory [\d.]+ GiB "
                                        r"exceeds the limit 20.0 GiB"):
        check_fits(ModelSpec("transformer", "torch", 32, 128, 1), 32, 16384, 20 * 2**30)


@pytest.mark.slow
@pytest.mark.integration
def test_oversized_cells_are_skipped_not_run(tmp_path):
    cfg = tmp_path / "huge.yaml"
    cfg.write_text("models: [transformer-torch, gru-numpy]\nseeds: [0]\n"
                   "tasks: {adding: {T: 16384, n_train: 4, n_val: 4, n_test: 4}}\n"
                   "training: {epochs: 1, batch_size: 32}\nmodel: {hidden: 16, budget: null}\n"
                   "speed: {batch: 4, seq_len: 16384, seq_lens: [16384], hiddens: [16], hidden: 16, contexts: [16],\n"
                   "        repeats: 1, max_time_s: 0.5, min_samples: 3, thread_counts: [1]}\n"
                   "resources: {max_memory_gb: 4}\npaper_check: {enabled: false}\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "suite", "run", str(cfg), "--out", str(out), "--stages", "accuracy",
                        "speed"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    frame = pd.read_csv(out / "results.csv")
    skipped = frame[frame["status"] == "skipped"]
    assert set(skipped["kind"]) == {"accuracy", "speed", "speed_training"}    # speed_training: its training shape
    assert set(skipped["model"]) == {"transformer-torch"}
    assert skipped["error"].str.contains("estimated memory [0-9.]+ GiB exceeds the limit 4.0 GiB").all()
    gru = frame[(frame["model"] == "gru-numpy") & (frame["kind"] == "speed") & (frame["metric"] == "train_step_ms")]
    assert (gru["status"] == "ok").all() and len(gru) == 1   # the GRU at T=16384 fits and ran
    assert "skipped" in r.stderr.splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.yaml", "out"]   # nothing written elsewhere


def test_parameters_reach_papermill_as_data():
    evil = "\"; import os; os.system('touch /tmp/pwned') #"
    code = pm.translators.PythonTranslator.codify({"run_dir": evil, "tasks": {"adding": {"T": evil}}})
    namespace: dict = {}
    exec(code, {}, namespace)  # what papermill injects into the notebook
    assert namespace["run_dir"] == evil and namespace["tasks"]["adding"]["T"] == evil
