"""Training states and time to target: the per-run rules (suite.run.convergence), the rows the accuracy unit
writes, the Kaplan-Meier summary (suite.report.time_to_target), the claims' under-trained guard and the
time-to-target claim, with synthetic curves and rows whose answers are known."""
import math

import numpy as np
import pandas as pd
import pytest

from suite.report.claims import CLAIMS
from suite.report.claims_engine import UNDER_TRAINED, WORDS, Context, evaluate, word_of
from suite.report.time_to_target import (LATER, NEITHER, SOONER, WITHIN_NOISE, compare_times, km_median,
                                         states_table, time_to_target_table)
from suite.run.convergence import (IMPROVING, NOT_STARTED, PLATEAUED, group_state, normalised, run_state,
                                   updates_to_target)

BY_ID = {c.id: c for c in CLAIMS}


def judge(claim_id: str, frame: pd.DataFrame) -> dict:
    return evaluate(BY_ID[claim_id], Context(frame, 100, 128)).as_row()


# --- the per-run rules ----------------------------------------------------------------------------------
def test_normalised_units_are_zero_at_the_naive_predictor_and_one_at_a_perfect_score():
    assert normalised(0.125, 0.125, True) == 0 and normalised(1.0, 0.125, True) == 1
    assert normalised(0.5625, 0.125, True) == pytest.approx(0.5)
    assert normalised(1 / 6, 1 / 6, False) == 0 and normalised(0.0, 1 / 6, False) == 1
    assert normalised(0.01, 1 / 6, False) == pytest.approx(0.94)            # adding's solved threshold: R² 0.94
    assert math.isnan(normalised(0.5, 1.0, True)) and math.isnan(normalised(0.5, 0.0, False))
    assert math.isnan(normalised(float("nan"), 0.1, True))


def test_a_run_stalled_at_the_baseline_is_not_started():
    updates = list(range(16, 321, 16))
    state = run_state(updates, [0.01 + 0.001 * k for k in range(len(updates))])
    assert state.state == NOT_STARTED and state.best < 0.05 and state.last_updates == 320


def test_a_run_that_took_off_in_the_last_half_is_still_improving_and_one_that_settled_is_plateaued():
    updates = list(range(16, 961, 16))                      # 60 evaluations to U = 960
    lstm_late = [0.02 if u < 700 else 0.95 for u in updates]        # the LSTM on adding at lr 3e-3: ~700 updates
    state = run_state(updates, lstm_late)
    assert state.state == IMPROVING and state.gain_last_half == pytest.approx(0.93)
    gru_early = [0.02 if u < 160 else 0.95 + 0.001 * (u > 700) * 5 for u in updates]
    state = run_state(updates, gru_early)
    assert state.state == PLATEAUED and state.gain_last_half == pytest.approx(0.005)
    rising = [0.02 if u < 160 else 0.95 + 0.02 * (u > 700) for u in updates]     # two points more in the last half
    assert run_state(updates, rising).state == IMPROVING
    copy_transformer = [min(u / 208, 1.0) * 0.9 + 0.1 * (u >= 208) for u in range(16, 401, 16)]  # 1.0 from 208 of 400
    state = run_state(list(range(16, 401, 16)), copy_transformer)
    assert state.gain_last_half > 0.1 and state.state == PLATEAUED          # a perfect score has nothing to gain
    overfit = [min(u / 300, 0.9) - (0.05 if u > 480 else 0) for u in updates]   # best in the first half: gain < 0
    assert run_state(updates, overfit).state == PLATEAUED and run_state(updates, overfit).gain_last_half < 0


def test_a_curve_without_a_point_in_its_first_half_starts_at_zero():
    """The (0, 0) start: a single evaluation at U that left the baseline has gained it all in the last half."""
    assert run_state([400], [0.6]).state == IMPROVING
    assert run_state([400], [0.01]).state == NOT_STARTED
    assert run_state([], []).state == "not judged" and run_state([16], [float("nan")]).state == "not judged"


def test_updates_to_target_is_the_first_evaluation_at_the_target_else_censored():
    updates = [16, 32, 48, 64]
    assert updates_to_target(updates, [0.15, 0.02, 0.009, 0.011], 0.01, higher_is_better=False) == (48.0, True)
    assert updates_to_target(updates, [0.5, 0.99, 0.98, 1.0], 0.99, higher_is_better=True) == (32.0, True)
    to_target, reached = updates_to_target(updates, [0.5, 0.6, 0.7, 0.8], 0.99, higher_is_better=True)
    assert math.isnan(to_target) and not reached
    assert updates_to_target(updates, [0.5] * 4, None, True)[1] is False


def test_a_model_is_plateaued_only_when_every_seed_is():
    assert group_state([PLATEAUED] * 5) == (True, "plateaued in 5 of 5 seeds")
    plateaued, text = group_state([IMPROVING, IMPROVING, IMPROVING, PLATEAUED, NOT_STARTED])
    assert not plateaued and text == "not started in 1 of 5 seeds, still improving in 3 of 5"
    assert group_state([])[0] is False


# --- Kaplan-Meier and the log-rank comparison ---------------------------------------------------------
def test_kaplan_meier_median_counts_the_censored_seeds():
    """Times 100, 200+, 300, 400+, 500 (+: censored): S = 0.8 after 100, 0.8 x 2/3 = 0.533 after 300, 0 after
    500, so the median is 500 -- the mean of the seeds that got there (300) would drop the two that had not."""
    km = km_median([100, 200, 300, 400, 500], [True, False, True, False, True])
    assert km["median"] == 500 and km["k"] == 3 and km["n"] == 5
    km = km_median([160, 176, 192, 320, 320], [True, True, True, False, False])        # S: 0.8, 0.6, 0.4
    assert km["median"] == 192 and km["lo"] == 160 and math.isnan(km["hi"])            # the band stays above 0.5
    km = km_median([200, 320, 320, 320, 320], [True, False, False, False, False])
    assert math.isnan(km["median"]) and km["k"] == 1                                    # not reached by half
    assert math.isnan(km_median([320] * 5, [False] * 5)["median"])
    rng = np.random.default_rng(0)
    times = np.sort(rng.integers(50, 300, size=20))
    km = km_median(times, [True] * 20)                      # no censoring: the lower empirical median
    assert km["median"] == times[9] and km["lo"] <= km["median"] <= km["hi"]


def test_the_log_rank_test_says_which_model_reached_the_target_sooner():
    rng = np.random.default_rng(1)
    fast = rng.integers(150, 200, size=5)
    slow = np.array([700, 800, 960, 960, 960])
    slow_reached = [True, True, False, False, False]
    assert compare_times(fast, [True] * 5, slow, slow_reached)[0] == SOONER
    assert compare_times(slow, slow_reached, fast, [True] * 5)[0] == LATER
    assert compare_times(fast, [True] * 5, fast + 1, [True] * 5)[0] == WITHIN_NOISE
    assert compare_times([400] * 5, [False] * 5, [400] * 5, [False] * 5)[0] == NEITHER
    assert compare_times(fast[:3], [True] * 3, slow[:3], [True] * 3)[0] == "inconclusive"


# --- synthetic run rows -------------------------------------------------------------------------------
def run_rows(task, metric, model, values, states, to_target, budget, target, baseline=0.1, view="budget"):
    """Rows of one model's runs as the accuracy unit writes them (one per seed)."""
    arch, fw = model.split("-")[:2]
    rows = []
    for seed, (v, state, t) in enumerate(zip(values, states, to_target)):
        common = dict(kind="accuracy", status="ok", task=task, model=model, arch=arch, framework=fw,
                      convention="reset_after", seed=seed, hidden=64, params=1000, view=view,
                      work_unit=f"acc-{view}-{task}-{model}-s{seed}")
        rows += [{**common, "metric": metric, "value": v, "split": "test"},
                 {**common, "metric": "baseline_" + metric, "value": baseline, "unit": "chance"},
                 {**common, "metric": "train_seconds", "value": 1.0},
                 {**common, "metric": "updates", "value": budget},
                 {**common, "metric": "val_norm_best", "value": 0.9, "state": state},
                 {**common, "metric": "val_norm_gain_last_half", "value": 0.0 if state == PLATEAUED else 0.5,
                  "state": state},
                 {**common, "metric": "target_" + metric, "value": target},
                 {**common, "metric": "updates_to_target", "value": t if t else math.nan},
                 {**common, "metric": "reached", "value": 1.0 if t else 0.0}]
    return rows


SAME = [0.95, 0.96, 0.955, 0.953, 0.957]
SAME_TOO = [0.952, 0.958, 0.956, 0.954, 0.955]


def test_a_cell_on_a_model_that_is_not_plateaued_is_under_trained_not_decided():
    plateau = [PLATEAUED] * 5
    rows = run_rows("digits", "accuracy", "gru-torch", SAME, plateau, [200] * 5, 384, 0.9)
    rows += run_rows("digits", "accuracy", "lstm-torch", SAME_TOO, [IMPROVING] * 5, [300] * 5, 384, 0.9)
    out = judge("gru-comparable-accuracy", pd.DataFrame(rows))
    assert out["word"] == UNDER_TRAINED and out["cells"] == {"digits/torch": UNDER_TRAINED}
    assert out["verdict"] == "under-trained: lstm-torch on digits still improving in 5 of 5 seeds"
    # every seed plateaued: the same numbers decide (TOST inside ±1 point)
    rows = run_rows("digits", "accuracy", "gru-torch", SAME, plateau, [200] * 5, 384, 0.9)
    rows += run_rows("digits", "accuracy", "lstm-torch", SAME_TOO, plateau, [300] * 5, 384, 0.9)
    assert judge("gru-comparable-accuracy", pd.DataFrame(rows))["verdict"] == "holds"
    # one decided cell, one under-trained: a 'holds' on part of the cells is inconclusive and names the rest
    rows += run_rows("adding", "mse", "gru-torch", [0.001] * 5, plateau, [160] * 5, 320, 0.01)
    rows += run_rows("adding", "mse", "lstm-torch", [0.15] * 5, [NOT_STARTED] * 3 + [PLATEAUED] * 2,
                     [None] * 5, 320, 0.01)
    out = judge("gru-comparable-accuracy", pd.DataFrame(rows))
    assert out["word"] == "inconclusive" and out["cells"] == {"digits/torch": "comparable",
                                                             "adding/torch": UNDER_TRAINED}
    assert out["verdict"] == ("inconclusive: holds on digits/torch; under-trained: lstm-torch on adding not started "
                              "in 3 of 5 seeds")
    assert "under-trained" in out["rule"]
    rows = run_rows("copy", "accuracy", "gru-torch", SAME, [IMPROVING] * 5, [None] * 5, 400, 0.99)
    rows += run_rows("copy", "accuracy", "lstm-torch", SAME_TOO, [NOT_STARTED] * 5, [None] * 5, 400, 0.99)
    assert judge("gru-comparable-accuracy", pd.DataFrame(rows))["verdict"] == (
        "under-trained: gru-torch on copy still improving in 5 of 5 seeds and lstm-torch on copy not started in 5 of "
        "5 seeds")


def test_runs_without_states_are_not_guarded():
    """Runs recorded before the states existed decide as before (no state rows, no guard)."""
    rows = [r for r in run_rows("digits", "accuracy", "gru-torch", SAME, [IMPROVING] * 5, [200] * 5, 384, 0.9) +
            run_rows("digits", "accuracy", "lstm-torch", SAME_TOO, [IMPROVING] * 5, [300] * 5, 384, 0.9)
            if not r["metric"].startswith("val_norm")]
    assert judge("gru-comparable-accuracy", pd.DataFrame(rows))["verdict"] == "holds"


def test_the_long_range_memory_claim_is_guarded_too():
    rows = run_rows("copy", "accuracy", "gru-torch", [0.3, 0.31, 0.29, 0.3, 0.32], [IMPROVING] * 4 + [PLATEAUED],
                    [None] * 5, 400, 0.99, baseline=0.125)
    rows += run_rows("copy", "accuracy", "lstm-torch", [0.2, 0.21, 0.19, 0.2, 0.22], [PLATEAUED] * 5,
                     [None] * 5, 400, 0.99, baseline=0.125)
    rows += run_rows("copy", "accuracy", "transformer-torch", [0.9, 0.95, 0.92, 1.0, 0.97], [PLATEAUED] * 5,
                     [200] * 5, 400, 0.99, baseline=0.125)
    out = judge("transformer-long-range-memory", pd.DataFrame(rows))
    assert out["word"] == UNDER_TRAINED
    assert out["verdict"] == "under-trained: gru-torch on copy still improving in 4 of 5 seeds"


def speed_training_rows(ms: dict) -> list[dict]:
    return [dict(kind="speed_training", status="ok", task=task, model=model, metric="train_step_ms", value=v,
                 view="budget") for (task, model), v in ms.items()]


def speed_rows(times: dict) -> list[dict]:
    return [dict(kind="speed", status="ok", model=f"{a}-{fw}", arch=a, framework=fw, convention="reset_after", T=100,
                 hidden=128, metric="train_step_ms", value=v) for (a, fw), v in times.items()]


def test_time_to_target_has_both_readings_per_update_and_to_target():
    plateau = [PLATEAUED] * 5
    rows = run_rows("adding", "mse", "gru-torch", [1e-4] * 5, plateau, [160, 176, 176, 192, 160], 960, 0.01)
    rows += run_rows("adding", "mse", "lstm-torch", [0.05] * 5, [IMPROVING] * 5, [704, 800, None, None, None],
                     960, 0.01)
    rows += speed_training_rows({("adding", "gru-torch"): 5.0, ("adding", "lstm-torch"): 2.5})
    rows += speed_rows({("gru", "torch"): 22.7, ("lstm", "torch"): 7.8})
    frame = pd.DataFrame(rows)
    out = judge("gru-reaches-target-sooner", frame)
    assert out["word"] == "holds" and out["cells"] == {"adding/torch": SOONER}
    assert out["verdict"] == "holds (to target: sooner on adding/torch); per update: slower in torch"
    assert "GRU 5 of 5 reached, median 176 [160, 192] updates (0.88 s)" in out["evidence"]
    assert "LSTM 2 of 5 reached, not reached by half the seeds (2 of 5 reached in 960 updates)" in out["evidence"]
    assert "log-rank in seconds" in out["evidence"] and out["figure"] == "curves_adding_updates"
    table = time_to_target_table(frame).set_index("model")
    assert table.loc["gru-torch", "median_updates"] == 176 and table.loc["gru-torch", "reached"] == "5 of 5"
    assert table.loc["gru-torch", "median_seconds"] == pytest.approx(176 * 5e-3)
    assert math.isnan(table.loc["lstm-torch", "median_updates"]) and table.loc["lstm-torch", "k"] == 2
    # neither model reached the target anywhere: the claim cannot be read
    rows = run_rows("copy", "accuracy", "gru-torch", [0.5] * 5, plateau, [None] * 5, 400, 0.99)
    rows += run_rows("copy", "accuracy", "lstm-torch", [0.4] * 5, plateau, [None] * 5, 400, 0.99)
    out = judge("gru-reaches-target-sooner", pd.DataFrame(rows))
    assert out["word"] == UNDER_TRAINED and out["verdict"].startswith("under-trained: neither model reached")
    assert judge("gru-reaches-target-sooner", pd.DataFrame(speed_rows({("gru", "torch"): 1.0})))["word"] == \
        "not measured"


def test_time_to_target_reads_the_lstm_at_its_headline_forget_bias_arm():
    """The accuracy stage names an LSTM by its arm ('lstm-torch-fb1', the headline; 'lstm-torch-fb0' the other)
    while the speed stage times 'lstm-torch': the claim pairs the GRU with the headline arm and its cost."""
    plateau = [PLATEAUED] * 5
    rows = run_rows("adding", "mse", "gru-torch", [1e-4] * 5, plateau, [160, 176, 176, 192, 160], 960, 0.01)
    for model, headline, reached in (("lstm-torch-fb1", True, [704, 800, 720, 760, 740]),
                                     ("lstm-torch-fb0", False, [96, 96, 96, 96, 96])):
        rows += [{**r, "headline_arm": headline} for r in
                 run_rows("adding", "mse", model, [0.05] * 5, plateau, reached, 960, 0.01)]
    rows += speed_training_rows({("adding", "gru-torch"): 5.0, ("adding", "lstm-torch"): 2.5})
    out = judge("gru-reaches-target-sooner", pd.DataFrame(rows))
    assert out["cells"] == {"adding/torch": SOONER}             # against fb0 (96 updates) it would read 'later'
    assert "LSTM 5 of 5 reached, median 740" in out["evidence"] and "log-rank in seconds" in out["evidence"]


def test_states_table_counts_the_seeds_per_state():
    rows = run_rows("adding", "mse", "lstm-torch", [0.05] * 5, [NOT_STARTED, IMPROVING, IMPROVING, PLATEAUED,
                                                                PLATEAUED], [None] * 5, 320, 0.01)
    t = states_table(pd.DataFrame(rows)).iloc[0]
    assert (t["not started"], t["still improving"], t["plateaued_seeds"], t["n"]) == (1, 2, 2, 5)
    assert not t["plateaued"] and t["state"] == "not started in 1 of 5 seeds, still improving in 2 of 5"


def test_the_new_word_has_a_colour_and_compare_reads_it_as_a_word():
    from suite.report.render import verdict_class
    assert UNDER_TRAINED in WORDS and word_of("under-trained: lstm-torch on copy ...") == UNDER_TRAINED
    assert verdict_class("under-trained: lstm-torch on copy") == "under"


# --- the accuracy unit's rows and curves --------------------------------------------------------------
@pytest.mark.slow
def test_the_accuracy_unit_writes_states_and_updates_to_target_that_travel_through_the_store(tmp_path):
    from suite.config import validate_config
    from suite.results.store import RunStore, load_curves, load_results
    from suite.run.units_accuracy import accuracy_rows
    cfg = validate_config({"models": ["gru-numpy"], "seeds": [0],
                           "tasks": {"adding": {"T": 6, "n_train": 256, "n_val": 64, "n_test": 64}},
                           "sizing": {"hidden": 8, "budget": None},
                           "training": {"epochs": 5, "max_seconds": None, "lr": 0.02, "eval_every": 6}})
    entry = {"name": "gru-numpy", "arch": "gru", "framework": "numpy", "convention": "reset_after", "scan": "parallel"}
    out = accuracy_rows(cfg, "adding", entry, 0, cfg.sizing, cfg.training)
    by = {r["metric"]: r for r in out["rows"]}
    assert [c["updates"] for c in out["curves"]] == [6, 12, 18, 20]            # 4 updates per epoch, 20 in all
    assert by["val_norm_best"]["state"] in (NOT_STARTED, IMPROVING, PLATEAUED)
    assert by["val_norm_best"]["value"] == pytest.approx(max(c["val_norm"] for c in out["curves"]))
    assert by["target_mse"]["value"] == 0.01 and by["reached"]["value"] in (0.0, 1.0)
    base = by["val_norm_baseline"]["value"]
    assert out["curves"][0]["val_norm"] == pytest.approx(1 - out["curves"][0]["val_metric"] / base)
    store = RunStore(tmp_path)
    store.create({}, "name: t\n", 1)
    store.write_unit("acc-width-adding-gru-numpy-s0", out["rows"], out["curves"])
    store.finalize()
    frame, curves = load_results(tmp_path), load_curves(tmp_path)
    state = frame[frame["metric"] == "val_norm_best"]["state"].iloc[0]
    assert state == by["val_norm_best"]["state"] and "val_norm" in curves and len(curves) == 4


# --- seconds to target: the speed stage's training shapes ----------------------------------------------
def test_the_speed_stage_times_each_accuracy_model_at_its_training_shape():
    from suite.config import defaults, validate_config
    from suite.run.units_speed import job_key, training_shape_jobs, training_shape_rows
    tasks = {**defaults().tasks, "copy": {"T": 10, "K": 5, "n_train": 2560, "n_val": 250, "n_test": 1000}}
    cfg = validate_config({**defaults().model_dump(mode="python"), "tasks": tasks,
                           "sizing": {"accuracy_models": ["gru-torch", "lstm-torch", "transformer-torch"]}})
    jobs, tasks_of, skipped = training_shape_jobs(cfg)
    assert not skipped and len(jobs) == 9                     # 3 models x digits, adding, copy at the matched budget
    assert {j.batch for j in jobs} == {64} and {j.seq_len for j in jobs} == {8, 30, 20}    # copy: T + 2K = 20
    assert all(not j.infer and not j.contexts for j in jobs)
    adding = [j for j in jobs if tasks_of[job_key(j)] == ["adding"]]
    assert {j.spec.input_size for j in adding} == {2} and {j.spec.output_size for j in adding} == {1}
    row = {"model": adding[0].spec.name, "hidden": adding[0].spec.hidden, "layers": 1, "input_size": 2,
           "output_size": 1, "B": 64, "T": 30, "metric": "train_step_ms", "value": 3.0, "samples": {"rounds": []}}
    (out,) = training_shape_rows(row, ["adding"], "budget")
    assert out["kind"] == "speed_training" and out["task"] == "adding" and "samples" not in out
    assert training_shape_rows({**row, "metric": "peak_rss_mb"}, ["adding"], "budget") == []


def test_the_report_shows_states_time_to_target_and_curves_against_updates():
    import matplotlib.pyplot as plt
    from suite.config import defaults
    from suite.report import details, figures
    from suite.report.settings import ReportSettings
    rows = run_rows("adding", "mse", "gru-torch", [1e-4] * 5, [PLATEAUED] * 5, [160, 176, 176, 192, 160], 320, 0.01)
    rows += run_rows("adding", "mse", "lstm-torch", [0.1] * 5, [NOT_STARTED] * 5, [None] * 5, 320, 0.01)
    frame = pd.DataFrame(rows)
    s = ReportSettings.from_config(defaults())
    states = details.training_states(frame, s)
    assert "every 16 updates" in states.body[0] and states.body[1].frame["plateaued"].tolist() == [True, False]
    times = details.time_to_target(frame, s)
    assert "Kaplan–Meier" in times.body[0] and times.body[1].csv == "time_to_target"
    assert details.task_targets(frame) == {"adding": (0.01, "mse")}
    rng = np.random.default_rng(0)
    curves = pd.DataFrame([{"task": "adding", "model": m, "seed": seed, "updates": u,
                            "val_metric": float(0.17 * np.exp(-u / 100) + rng.random() * 1e-3)}
                           for m in ("gru-torch", "lstm-torch") for seed in range(2) for u in range(16, 321, 16)])
    fig = figures.curves_vs_updates(curves, "adding", 0.01, "mse")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and any(line.get_label() == "target (0.01)" for line in ax.get_lines())
    assert len(ax.get_lines()) == 2 * 2 + 2 + 1              # a thin line per seed, the mean per model, the target
    plt.close(fig)
    assert figures.curves_vs_updates(curves, "copy") is None
