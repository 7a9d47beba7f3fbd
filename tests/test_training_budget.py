"""The training budget is counted in updates; seconds only mark a run truncated; early stopping is optional."""
import time

import numpy as np
import pandas as pd

from suite.config import validate_config
from suite.report.tables import accuracy_table
from suite.run.training import TrainingConfig, train, updates_per_epoch
from suite.tasks import get_task


class CountingModel:
    """Counts updates; each step sleeps ``step_s``; the validation loss never improves after epoch 1."""

    def __init__(self, step_s: float = 0.0):
        self.steps, self.step_s, self.weights = 0, step_s, {"w": np.zeros(1)}

    def configure_training(self, lr, clip_norm):
        pass

    def train_step(self, x, y):
        self.steps += 1
        time.sleep(self.step_s)
        return 0.5

    def forward(self, x):
        return np.ones((len(x), 1), np.float32)

    def get_weights(self):
        return dict(self.weights)

    def set_weights(self, w):
        self.weights = dict(w)


DATA_TASK = get_task("adding", T=5, n_train=200, n_val=16, n_test=16)
DATA = DATA_TASK.load(0)


def test_every_run_gets_the_whole_budget_in_updates():
    model = CountingModel()
    result = train(model, DATA_TASK, DATA, TrainingConfig(batch_size=32, epochs=7, max_seconds=None))
    assert updates_per_epoch(200, 32) == 6
    assert model.steps == result.updates == result.planned_updates == 7 * 6
    assert result.status == "ok" and result.stopped == "budget" and result.epochs == 7
    assert [c["updates"] for c in result.curve] == [6 * k for k in range(1, 8)]


def test_early_stopping_is_off_unless_asked_for():
    model = CountingModel()
    result = train(model, DATA_TASK, DATA, TrainingConfig(batch_size=32, epochs=7, patience=2, patience_floor_updates=1))
    assert result.stopped == "early_stopping" and result.epochs == 3 and model.steps == 18


def test_early_stopping_never_fires_before_its_floor():
    """Stale from the second evaluation on, but the floor (default: half the budget of 42) holds it to 24 updates."""
    model = CountingModel()
    result = train(model, DATA_TASK, DATA, TrainingConfig(batch_size=32, epochs=7, patience=2))
    assert result.stopped == "early_stopping" and model.steps == 24 and result.updates >= 42 // 2
    model = CountingModel()
    result = train(model, DATA_TASK, DATA, TrainingConfig(batch_size=32, epochs=7, patience=2, patience_floor_updates=36))
    assert result.stopped == "early_stopping" and model.steps == 36


def test_validation_is_scored_every_n_updates_and_after_the_last():
    model = CountingModel()
    result = train(model, DATA_TASK, DATA, TrainingConfig(batch_size=32, epochs=7, eval_every=4, max_seconds=None))
    assert [c["updates"] for c in result.curve] == [4 * k for k in range(1, 11)] + [42]
    assert [c["epoch"] for c in result.curve][:3] == [1, 2, 2]        # update 4 in epoch 1, 8 and 12 in epoch 2
    assert result.best_updates == 4 and model.steps == 42           # the loss never improves after the first point


def test_the_time_cap_marks_the_run_truncated():
    model = CountingModel(step_s=0.02)
    result = train(model, DATA_TASK, DATA, TrainingConfig(batch_size=32, epochs=50, max_seconds=0.2))
    assert result.status == "truncated" and result.stopped == "time_cap"
    assert result.updates < result.planned_updates == 300
    assert result.error.startswith("stopped by the safety cap max_seconds=0.2 after ")
    assert result.test                                          # scored, for inspection


def test_truncated_runs_stay_out_of_the_statistics():
    rows = []
    for seed, (value, status) in enumerate([(0.9, "ok"), (0.91, "ok"), (0.2, "truncated")]):
        common = dict(kind="accuracy", task="copy", model="gru-torch", arch="gru", framework="torch", seed=seed,
                      view="budget", work_unit=f"u{seed}", hidden=8, params=100, error=None)
        rows += [dict(common, metric="accuracy", value=value, status=status),
                 dict(common, metric="baseline_accuracy", value=0.125, status="ok", unit="chance"),
                 dict(common, metric="planned_updates", value=400, status="ok"),
                 dict(common, metric="train_seconds", value=1.0, status=status)]
    t = accuracy_table(pd.DataFrame(rows)).iloc[0]
    assert t["n_seeds"] == 2 and t["mean"] == 0.905 and t["truncated"] == 1 and t["updates"] == 400


def test_task_epochs_override_and_views():
    from suite.config import accuracy_views
    from suite.run.plan import plan
    cfg = validate_config({"models": ["gru-torch", "lstm-torch"], "seeds": [0], "model": {"budget": 3000,
                           "equal_width_models": ["gru-torch"]}, "training": {"task_epochs": {"digits": 4}},
                           "tasks": {"digits": {}, "adding": {}}})
    assert [(v, [e["name"] for e in entries]) for v, _, entries, _ in accuracy_views(cfg)] == \
        [("budget", ["gru-torch", "lstm-torch"]), ("width", ["gru-torch"])]
    ids = [u.id for u in plan(cfg, ["accuracy"])]
    assert ids[0] == "acc-budget-digits-gru-torch-s0" and "acc-width-adding-gru-torch-s0" in ids
    assert len(ids) == 2 * 3 + 2          # budget: 2 tasks x (GRU, LSTM at forget bias 1 and 0); width: the GRU
    narrowed = validate_config({"models": ["gru-torch", "lstm-torch", "gru-keras"], "seeds": [0],
                                "model": {"budget": 3000, "accuracy_models": ["gru-torch", "lstm-torch"]}})
    assert [(v, [e["name"] for e in entries]) for v, _, entries, _ in accuracy_views(narrowed)] == \
        [("budget", ["gru-torch", "lstm-torch"]), ("width", ["gru-torch", "lstm-torch"])]
    only_width = validate_config({"model": {"equal_width": False, "budget": 100}})
    assert [v for v, _, _, _ in accuracy_views(only_width)] == ["budget"]


def test_equal_width_view_on_chosen_tasks_only():
    from suite.run.plan import plan
    cfg = validate_config({"models": ["gru-torch", "lstm-torch"], "seeds": [0],
                           "model": {"budget": 3000, "equal_width_tasks": ["adding"]}})
    ids = [u.id for u in plan(cfg, ["accuracy"])]
    width = [i for i in ids if i.startswith("acc-width-")]
    assert width == ["acc-width-adding-gru-torch-s0", "acc-width-adding-lstm-torch-fb1-s0",
                     "acc-width-adding-lstm-torch-fb0-s0"]         # the LSTM at each forget-bias arm
    assert len(ids) - len(width) == 3 * len(cfg.tasks)
