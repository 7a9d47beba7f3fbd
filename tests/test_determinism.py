"""Same config and seed -> identical accuracy metrics, validation curve and training state: NumPy and PyTorch on
CPU, Keras with op determinism."""
import pytest

from suite.run.units_accuracy import accuracy_rows
from suite.config import validate_config

CFG = validate_config({"models": ["gru-numpy", "lstm-torch", "gru-keras", "transformer-torch"], "seeds": [3],
                       "tasks": {"adding": {"T": 6, "n_train": 256, "n_val": 64, "n_test": 64}},
                       "model": {"hidden": 16, "budget": None}, "training": {"epochs": 6, "max_seconds": None, "lr": 0.02, "patience": 6,
                                    "eval_every": 5}})


@pytest.fixture(scope="module", autouse=True)
def deterministic_process():
    from suite.run.experiment import prepare_process
    prepare_process(CFG)


def _metrics(entry, seed):
    """The run's metrics and its validation curve without the clock (every key of each point but wall_s)."""
    out = accuracy_rows(CFG, "adding", entry, seed, CFG.sizing, CFG.training)
    metrics = {r["metric"]: "nan" if r["value"] != r["value"] else r["value"] for r in out["rows"]   # NaN: censored
               if r["metric"] not in ("train_seconds", "cpu_seconds")}
    metrics["curve"] = [{k: v for k, v in c.items() if k != "wall_s"} for c in out["curves"]]
    metrics["state"] = next(r["state"] for r in out["rows"] if r["metric"] == "val_norm_best")
    return metrics


@pytest.mark.slow
@pytest.mark.parametrize("name", CFG.models)
def test_same_seed_same_metrics(name):
    from suite.config import parse_model_name
    entry = {"name": name, **parse_model_name(name)}
    first, second = _metrics(entry, 3), _metrics(entry, 3)
    assert first == second                             # metrics, the curve at every 5 updates, the state
    assert [c["updates"] for c in first["curve"]] == [5, 10, 15, 20, 24]
    assert first["mse"] < first["baseline_mse"]        # trained: beats predicting the mean (zeros would not)
    assert _metrics(entry, 4)["mse"] != first["mse"]   # and the seed matters
