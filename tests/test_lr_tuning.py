"""A learning rate per (task, arch), chosen on validation: the config keys and their one-line errors, the
selection rule (lowest mean best validation loss over the tuning seeds, ties to the smaller rate, edges and missing
units flagged), tuning units that never read the test split, accuracy units planned at the chosen rate, resume
mid-search, and the report's section."""
import math
import re

import numpy as np
import pandas as pd
import pytest

from suite.config import validate_config
from suite.errors import UserError
from suite.results.lr_selection import (LearningRateSearchError, candidate_scores, select_learning_rates,
                                        tuning_unit_id)
from suite.results.store import RunStore
from suite.run.execute import run_units
from suite.run.plan import STAGES, plan
from suite.run.stages import run_stages, with_tuning
from suite.run.units_tuning import stored_learning_rates, tuning_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GRID = [0.001, 0.003, 0.01, 0.03]
TINY = {"name": "tiny", "seeds": [0], "models": ["gru-numpy", "lstm-numpy"],
        "tasks": {"adding": {"T": 4, "n_train": 64, "n_val": 32, "n_test": 32}},
        "sizing": {"hidden": 4, "budget": None},
        "training": {"epochs": 2, "batch_size": 32, "max_seconds": None, "lr_grid": GRID, "tuning_seeds": [100, 101],
                     "lstm_forget_bias": None},
        "speed": {"enabled": False}, "long_context": {"enabled": False}, "edge": {"enabled": False}}


# --- config ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("training, message", [
    ({"lr_grid": [0.001, 0.003, 0.01]}, "key 'training.lr_grid': expected at least 4 learning rates"),
    ({"lr_grid": [0.001, 0.01, 0.003, 0.03]}, "key 'training.lr_grid': expected learning rates in increasing order"),
    ({"lr_grid": [0.001, 0.003, 0.003, 0.03]}, "key 'training.lr_grid': expected learning rates in increasing order"),
    ({"lr_grid": [0.001, 0.002, 0.005, 0.01]}, "key 'training.lr_grid': expected a grid spanning at least 30x"),
    ({"lr_grid": [0.001, -1, 0.01, 0.1]}, "key 'training.lr_grid': expected a list of positive numbers or null"),
    ({"lr_grid": GRID, "tuning_seeds": [100]}, "key 'training.tuning_seeds': expected at least 2 different seeds"),
    ({"lr_grid": GRID, "tuning_seeds": [3, 100]}, "key 'training.tuning_seeds': expected seeds that are not "
                                                  "evaluation seeds"),
])
def test_bad_grid_or_tuning_seeds_is_one_line_naming_the_key(training, message):
    with pytest.raises(UserError) as e:
        validate_config({"training": training}, "x.yaml")
    assert str(e.value).startswith("x.yaml: " + message) and "\n" not in str(e.value)


def test_no_grid_means_no_search_and_every_model_at_training_lr():
    cfg = validate_config({**TINY, "training": {**TINY["training"], "lr_grid": None, "lr": 0.02}})
    assert cfg.training.lr_grid is None and with_tuning(cfg, ["accuracy"]) == ["accuracy"]
    units = plan(cfg, ["tuning", "accuracy"])
    assert [u.stage for u in units] == ["accuracy", "accuracy"]
    assert {u.run.args[5].lr for u in units} == {0.02} and {u.run.keywords["lr_source"] for u in units} == {"fixed"}


# --- the rule --------------------------------------------------------------------------------------
def _rows(losses: dict, task="adding", arch="gru", status=None):
    """Tuning rows: {(lr, seed): loss | 'diverged' | 'failed'}."""
    rows = []
    for (lr, seed), loss in losses.items():
        unit = tuning_unit_id(task, arch, lr, seed)
        common = dict(work_unit=unit, kind="tuning", task=task, arch=arch, lr=lr, seed=seed)
        if loss == "failed":
            rows.append(dict(common, metric="error", value=None, status="failed"))
            continue
        rows.append(dict(common, metric="diverged", value=int(loss == "diverged"), status="ok"))
        if loss != "diverged":
            rows.append(dict(common, metric="loss", value=loss, split="val", status="ok"))
    return rows


def _grid_losses(by_lr: dict) -> dict:
    return {(lr, s): v[i] for lr, v in by_lr.items() for i, s in enumerate((100, 101))}


def test_the_lowest_mean_best_validation_loss_wins_and_edges_are_flagged():
    losses = _grid_losses({0.001: (0.5, 0.4), 0.003: (0.2, 0.3), 0.01: (0.1, 0.35), 0.03: (0.3, 0.3)})
    c = select_learning_rates(_rows(losses), GRID, [100, 101], [("adding", "gru")])[("adding", "gru")]
    assert c.lr == 0.01 and not c.edge and not c.incomplete            # means 0.45, 0.25, 0.225, 0.3
    assert c.mean_loss == pytest.approx({0.001: 0.45, 0.003: 0.25, 0.01: 0.225, 0.03: 0.3})
    top = _grid_losses({0.001: (0.5, 0.4), 0.003: (0.2, 0.3), 0.01: (0.1, 0.35), 0.03: (0.01, 0.02)})
    assert select_learning_rates(_rows(top), GRID, [101, 100], [("adding", "gru")])[("adding", "gru")].edge


def test_ties_go_to_the_smaller_rate_and_the_choice_ignores_row_order():
    rng = np.random.default_rng(0)
    losses = _grid_losses({0.001: (0.3, 0.3), 0.003: (0.2, 0.2), 0.01: (0.2 * (1 - 1e-12), 0.2), 0.03: (0.9, 0.9)})
    rows = _rows(losses)
    first = select_learning_rates(rows, GRID, [100, 101], [("adding", "gru")])[("adding", "gru")]
    assert first.lr == 0.003                                              # 1e-12 relative: a tie
    shuffled = [rows[i] for i in rng.permutation(len(rows))]
    assert select_learning_rates(shuffled, GRID, [100, 101], [("adding", "gru")])[("adding", "gru")] == first
    clear = _grid_losses({0.001: (0.3, 0.3), 0.003: (0.2, 0.2), 0.01: (0.2 * (1 - 1e-6), 0.2), 0.03: (0.9, 0.9)})
    assert select_learning_rates(_rows(clear), GRID, [100, 101], [("adding", "gru")])[("adding", "gru")].lr == 0.01


def test_a_diverged_seed_disqualifies_its_rate_and_a_failed_unit_is_named():
    losses = _grid_losses({0.001: (0.5, 0.4), 0.003: (0.2, 0.3), 0.01: (0.1, 0.1), 0.03: (0.01, 0.02)})
    losses[(0.03, 101)] = "diverged"
    losses[(0.01, 100)] = "failed"
    c = select_learning_rates(_rows(losses), GRID, [100, 101], [("adding", "gru")])[("adding", "gru")]
    assert c.lr == 0.003 and c.mean_loss[0.03] == math.inf and math.isnan(c.mean_loss[0.01])
    assert c.missing == ("tune-adding-gru-lr0.01-s100",) and c.incomplete
    assert candidate_scores(_rows({(0.03, 100): "diverged"}))["tune-adding-gru-lr0.03-s100"] == math.inf


def test_no_complete_rate_is_an_error_naming_the_units():
    losses = {(lr, 100): 0.1 for lr in GRID}                           # seed 101 never ran
    pair = ("adding", "lstm")
    error = select_learning_rates(_rows(losses, arch="lstm"), GRID, [100, 101], [pair])[pair]
    assert isinstance(error, LearningRateSearchError)
    assert re.search(r"lstm on adding: no rate has a result on every tuning seed.*tune-adding-lstm-lr0\.001-s101",
                     str(error))


# --- tuning units -----------------------------------------------------------------------------------
class Spy:
    """Wraps a model; keeps every input array it is given."""

    def __init__(self, model, seen):
        self.model, self.seen = model, seen

    def forward(self, x):
        self.seen.append(np.array(x))
        return self.model.forward(x)

    def train_step(self, x, y):
        self.seen.append(np.array(x))
        return self.model.train_step(x, y)

    def __getattr__(self, name):
        return getattr(self.model, name)


def test_a_tuning_unit_scores_validation_only_and_never_shows_the_model_the_test_split(monkeypatch):
    import suite.models
    from suite.tasks import get_task
    cfg = validate_config(TINY)
    seen, build = [], suite.models.build_model
    monkeypatch.setattr(suite.models, "build_model", lambda spec: Spy(build(spec), seen))
    entry = {"name": "gru-numpy", "arch": "gru", "framework": "numpy", "convention": "reset_after",
             "scan": "parallel"}
    out = tuning_rows(cfg, "adding", entry, 100, 0.01, cfg.sizing, cfg.training, view="width")
    rows = out["rows"]
    assert rows and {r["kind"] for r in rows} == {"tuning"} and {r["lr"] for r in rows} == {0.01}
    assert {r["seed"] for r in rows} == {100} and {r["status"] for r in rows} == {"ok"}
    assert not [r for r in rows if r.get("split") == "test" or str(r["metric"]).startswith("baseline_")]
    metrics = {r["metric"]: r["value"] for r in rows}
    assert metrics["updates"] == metrics["planned_updates"] == 4 and metrics["diverged"] == 0
    assert {r["metric"] for r in rows if r.get("split") == "val"} >= {"loss", "mse"}
    data = get_task("adding", **cfg.tasks["adding"]).load(100)
    assert len(seen) > 4                                                # train steps and validation passes
    test_x = {row.tobytes() for row in data.test.x}
    assert not any(row.tobytes() in test_x for x in seen for row in x)
    assert any(row.tobytes() in {r.tobytes() for r in data.val.x} for row in seen[-1])
    assert {c["kind"] for c in out["curves"]} == {"tuning"} and {c["lr"] for c in out["curves"]} == {0.01}


def test_the_tuning_stage_comes_before_accuracy_with_one_unit_per_candidate():
    cfg = validate_config(TINY)
    assert STAGES.index("tuning") == STAGES.index("accuracy") - 1
    units = plan(cfg, ["tuning"])
    assert [u.id for u in units[:3]] == ["tune-adding-gru-lr0.001-s100", "tune-adding-gru-lr0.001-s101",
                                         "tune-adding-gru-lr0.003-s100"]
    assert len(units) == 2 * len(GRID) * 2 and all(u.parallel and u.stage == "tuning" for u in units)
    with pytest.raises(ValueError, match="need the tuning stage's choice"):
        plan(cfg, ["accuracy"])
    assert with_tuning(cfg, ["accuracy"]) == ["tuning", "accuracy"]


def test_the_main_job_searches_four_rates_over_33x_on_two_tuning_seeds():
    from suite.config import load_config
    cfg = load_config("configs/default.yaml")
    assert cfg.training.lr_grid == [0.003, 0.01, 0.03, 0.1] and cfg.training.tuning_seeds == [100, 101]
    units = plan(cfg, ["tuning"])
    assert len(units) == 2 * 3 * 4 * 2          # tasks x archs x rates x tuning seeds and {u.id.split("-")[2] for u in units} == {"gru", "lstm", "transformer"}


def test_the_reference_is_the_torch_model_of_the_arch_else_its_first():
    from suite.config import tuning_references
    cfg = validate_config({**TINY, "models": ["gru-numpy", "gru-torch", "lstm-keras", "lstm-numpy"]})
    assert [(t, e["name"]) for t, e in tuning_references(cfg)] == [("adding", "gru-torch"), ("adding", "lstm-keras")]


# --- the accuracy units use the choice; resume mid-search ----------------------------------------------
def _accuracy_lrs(store) -> dict:
    return {u["work_unit"]: (u["rows"][0]["lr"], u["rows"][0]["lr_source"]) for u in store.units()
            if u.get("stage") == "accuracy"}


def _store(path):
    store = RunStore(path)
    store.units_dir.mkdir(parents=True)
    return store


def test_resume_mid_search_runs_only_the_missing_units_and_chooses_the_same(tmp_path):
    cfg = validate_config(TINY)
    full = _store(tmp_path / "full")
    counts = run_stages(cfg, ["accuracy"], full, progress=False)
    assert counts == {"units": 16 + 2, "already_done": 0, "failed": 0}
    choice = stored_learning_rates(cfg, full)
    assert set(choice) == {("adding", "gru"), ("adding", "lstm")}
    lrs = _accuracy_lrs(full)
    assert lrs == {f"acc-width-adding-{m}-s0": (choice[("adding", a)].lr, "tuned")
                   for m, a in (("gru-numpy", "gru"), ("lstm-numpy", "lstm"))}

    killed = _store(tmp_path / "killed")
    tuning = plan(cfg, ["tuning"])
    run_units(tuning[:7], killed, progress=False)                       # killed after 7 of 16 tuning units
    before = {p.name: p.stat().st_mtime_ns for p in killed.units_dir.glob("*.json")}
    partial = stored_learning_rates(cfg, killed)                        # no lstm rate has both seeds yet
    assert isinstance(partial[("adding", "lstm")], LearningRateSearchError)
    counts = run_stages(cfg, ["accuracy"], killed, progress=False)
    assert counts == {"units": 18, "already_done": 7, "failed": 0}
    assert all(p.stat().st_mtime_ns == before[p.name] for p in killed.units_dir.glob("*.json") if p.name in before)
    assert stored_learning_rates(cfg, killed) == choice
    assert _accuracy_lrs(killed) == lrs


def test_the_report_shows_the_search_the_choice_and_each_accuracy_row_lr(tmp_path):
    from suite.report import figures
    from suite.report.details import accuracy
    from suite.report.document import Figure, Table
    from suite.report.settings import ReportSettings
    from suite.report.tables import accuracy_table, learning_rate_table, tuning_rows as tuning_frame
    cfg = validate_config(TINY)
    store = _store(tmp_path / "run")
    run_stages(cfg, ["accuracy"], store, progress=False)
    frame = store.finalize()
    curves = pd.read_csv(store.dir / "curves.csv")
    assert set(curves["kind"]) == {"tuning", "accuracy"}
    choice = stored_learning_rates(cfg, store)
    table = learning_rate_table(frame, GRID, [100, 101], [("adding", "gru"), ("adding", "lstm")])
    assert list(table["chosen lr"]) == [choice[("adding", "gru")].lr, choice[("adding", "lstm")].lr]
    assert list(table["edge"]) == ["yes" if choice[k].edge else "no" for k in [("adding", "gru"), ("adding", "lstm")]]
    assert [c for c in table if c.startswith("loss@")] == ["loss@0.001", "loss@0.003", "loss@0.01", "loss@0.03"]
    acc = accuracy_table(frame)
    assert list(acc["lr"]) == list(table["chosen lr"]) and set(acc["lr_source"]) == {"tuned"}
    assert figures.learning_rate_search(tuning_frame(frame), table, "adding") is not None

    s = ReportSettings.from_config(cfg)
    section = accuracy(frame, curves, s)
    protocol = section.body[0]
    assert "chosen on validation: see Learning rate" in protocol and "0.001, 0.003, 0.01, 0.03" in protocol
    lr_section = next(sub for sub in section.subsections if sub and sub.title == "Learning rate")
    assert any(isinstance(b, Table) and b.csv == "learning_rates" for b in lr_section.body)
    assert [b.name for b in lr_section.body if isinstance(b, Figure)] == ["lr_search_adding"]
    headline = next(sub for sub in section.subsections if sub and sub.title.startswith("Headline"))
    shown = next(b for b in headline.body if isinstance(b, Table))
    assert "lr" in shown.frame and list(shown.frame["lr"]) == list(table["chosen lr"])


def test_an_arch_whose_every_candidate_failed_fails_its_accuracy_units_naming_them(tmp_path):
    from dataclasses import replace

    def boom():
        raise RuntimeError("the model raised")
    cfg = validate_config(TINY)
    store = _store(tmp_path / "run")
    tuning = [replace(u, run=boom) if "-lstm-" in u.id else u for u in plan(cfg, ["tuning"])]
    assert run_units(tuning, store, progress=False)["failed"] == len(GRID) * 2
    counts = run_stages(cfg, ["accuracy"], store, progress=False)
    assert counts == {"units": 18, "already_done": 16, "failed": 1}
    frame = store.finalize()
    lstm = frame[frame["work_unit"] == "acc-width-adding-lstm-numpy-s0"].iloc[0]
    assert lstm["status"] == "failed" and "lstm on adding: no rate has a result on every tuning seed" in lstm["error"]
    gru = frame[(frame["work_unit"] == "acc-width-adding-gru-numpy-s0") & (frame["metric"] == "mse")].iloc[0]
    assert gru["status"] == "ok" and gru["lr_source"] == "tuned"
