"""The three reference GRUs side by side (shared initial weights, the 1-ulp null, divergence against it) and the
LSTM's forget-gate bias arms (set at build time in each framework, named, planned, read by the claims)."""
import math

import numpy as np
import pandas as pd
import pytest

from suite.config import configurable_model, forget_bias_arms, model_entries, parse_model_name, validate_config
from suite.errors import UserError
from suite.models import build_model
from suite.spec import ModelSpec

H = 8


def forget_slice(model, layers: int) -> list[np.ndarray]:
    """The effective forget-gate bias b_i + b_h on the f slice [H:2H] of every layer (canonical i|f|g|o)."""
    w = model.get_weights()
    return [w[f"l{k}.b_i"][H:2 * H] + w[f"l{k}.b_h"][H:2 * H] for k in range(layers)]


@pytest.mark.parametrize("framework", ["numpy", "torch", "keras"])
def test_forget_bias_arm_is_the_built_models_effective_bias(framework):
    seed = int(np.random.default_rng(7).integers(1000))
    spec = ModelSpec("lstm", framework, 3, H, 2, layers=2, seed=seed)
    own = build_model(spec)
    for value in (0.0, 1.0, -0.5):
        armed = build_model(spec.with_(forget_bias=value))
        for k, fb in enumerate(forget_slice(armed, 2)):
            assert np.array_equal(fb, np.full(H, value, np.float32)), (framework, value, k)
        if framework != "keras":        # the other draws are kept: only the f slice of the biases changes
            a, b = own.get_weights(), armed.get_weights()
            assert np.array_equal(a["l0.W_i"], b["l0.W_i"]) and np.array_equal(a["l1.W_h"], b["l1.W_h"])
            assert np.array_equal(a["l0.b_i"][:H], b["l0.b_i"][:H])
    default = forget_slice(own, 2)[0]
    if framework == "keras":            # unit_forget_bias=True: exactly 1
        assert np.array_equal(default, np.ones(H, np.float32))
    else:                               # two U(-1/sqrt(H), 1/sqrt(H)) draws: near 0, not constant
        assert np.abs(default).max() <= 2 / math.sqrt(H) and np.ptp(default) > 0


def test_arm_names_parse_and_stay_out_of_the_configs_model_lists():
    spec = ModelSpec("lstm", "torch", 2, H, 1, forget_bias=0.0)
    assert spec.name == "lstm-torch-fb0" and spec.with_(forget_bias=1.0).name == "lstm-torch-fb1"
    assert spec.with_(forget_bias=-0.0).name == "lstm-torch-fb0"
    assert parse_model_name("lstm-keras-fb0.5")["forget_bias"] == 0.5
    assert parse_model_name("gru-torch-ulp1") == {"arch": "gru", "framework": "torch", "convention": "reset_after",
                                                  "scan": "parallel", "forget_bias": None, "init_ulps": 1}
    with pytest.raises(UserError, match="lstm only"):
        ModelSpec("gru", "torch", 2, H, 1, forget_bias=1.0)
    with pytest.raises(UserError, match="only on LSTM models"):
        parse_model_name("gru-torch-fb1", "x.yaml")
    with pytest.raises(UserError, match="-fb<bias>"):
        parse_model_name("lstm-torch-fbx", "x.yaml")
    with pytest.raises(UserError, match="training.lstm_forget_bias"):
        configurable_model("lstm-torch-fb0", "x.yaml", "models[0]")
    with pytest.raises(UserError, match="models\\[1\\]'.*side_by_side_null"):
        validate_config({"models": ["gru-torch", "gru-torch-ulp1"]}, "x.yaml")


def test_config_keys_validate_with_one_line_errors():
    for raw, text in (({"training": {"lstm_forget_bias": [1.0, 1.0]}}, "training.lstm_forget_bias"),
                      ({"training": {"lstm_forget_bias": []}}, "training.lstm_forget_bias"),
                      ({"sizing": {"side_by_side_models": ["gru-torch", "lstm-torch"]}}, "one arch"),
                      ({"sizing": {"side_by_side_models": ["gru-torch", "gru-torch"]}}, "each once"),
                      ({"sizing": {"side_by_side_models": ["gru-torch", "gru-numpy"], "side_by_side_tasks": ["co2"]}},
                       "side_by_side_tasks"),
                      ({"sizing": {"side_by_side_models": ["gru-torch", "gru-numpy"],
                                   "side_by_side_null": "gru-keras"}}, "side_by_side_null")):
        with pytest.raises(UserError, match=text) as e:
            validate_config(raw, "x.yaml")
        assert str(e.value).startswith("x.yaml: key '") and "\n" not in str(e.value)


def test_plan_trains_each_lstm_at_each_arm_and_the_side_by_side_runs():
    from suite.config import load_config
    from suite.run.plan import plan
    from suite.results.lr_selection import LearningRateChoice
    cfg = load_config("configs/default.yaml")
    rates = {(task, arch): LearningRateChoice(task, arch, lr, edge=False)          # as if the search chose these
             for task in cfg.tasks for arch, lr in (("gru", 0.03), ("lstm", 0.01), ("transformer", 0.003))}
    units = {u.id: u for u in plan(cfg, ["accuracy"], learning_rates=rates)}
    for task in cfg.tasks:
        assert {f"acc-budget-{task}-lstm-torch-fb1-s0", f"acc-budget-{task}-lstm-torch-fb0-s0"} <= set(units)
        assert f"acc-budget-{task}-lstm-torch-s0" not in units
    side = sorted(i for i in units if i.startswith("side-"))
    assert side == sorted(f"side-adding-{m}-s{s}" for m in ("gru-numpy", "gru-torch", "gru-keras", "gru-torch-ulp1")
                          for s in cfg.seeds)
    run = units["side-adding-gru-torch-ulp1-s3"].run
    assert run.keywords["kind"] == "side_by_side" and run.args[5].init == "shared" and run.args[3] == 3
    assert {units[i].run.args[5].lr for i in side} == {0.03} and run.keywords["lr_source"] == "tuned"
    assert units["acc-budget-adding-lstm-torch-fb0-s0"].run.args[5].lr == 0.01      # both arms at the LSTM's rate
    assert units["acc-budget-adding-lstm-torch-fb1-s0"].run.args[5].lr == 0.01
    assert run.args[2]["init_ulps"] == 1 and run.args[2]["null_of"] == "gru-torch"
    assert run.args[4].budget == cfg.sizing.budget                       # the headline view's sizing
    arms = [e for e in forget_bias_arms(cfg, model_entries(cfg)) if e["arch"] == "lstm" and e["framework"] == "torch"]
    assert [(e["name"], e["forget_bias"], e["headline_arm"]) for e in arms] == \
        [("lstm-torch-fb1", 1.0, True), ("lstm-torch-fb0", 0.0, False)]
    plain = validate_config({"models": ["gru-torch", "lstm-torch"], "seeds": [0],
                             "training": {"lstm_forget_bias": None}})
    assert "acc-budget-adding-lstm-torch-s0" in {u.id for u in plan(plain, ["accuracy"])}
    assert all("fb" not in e["name"] for e in model_entries(cfg))       # speed, params, edge: the config's names


def test_shared_initial_weights_are_identical_across_the_three_grus_and_the_null_moves_one_ulp():
    from suite.run.units_accuracy import model_spec_for_task, moved_ulps, shared_initial_weights
    from suite.tasks import get_task
    cfg = validate_config({})
    seed = int(np.random.default_rng(11).integers(100))
    data = get_task("adding", T=6, n_train=64, n_val=8, n_test=8).load(seed)
    entries = {e["name"]: e for e in model_entries(cfg)}
    weights, outputs = {}, {}
    for name in ("gru-numpy", "gru-torch", "gru-keras"):
        spec = model_spec_for_task(entries[name], data, cfg.sizing, seed)
        model = build_model(spec)
        model.set_weights(shared_initial_weights(cfg, entries[name], spec))
        weights[name], outputs[name] = model.get_weights(), model.forward(data.val.x)
    ref = weights["gru-numpy"]
    assert {"head.W", "head.b"} <= set(ref)
    for name in ("gru-torch", "gru-keras"):
        assert set(weights[name]) == set(ref)
        for key in ref:
            assert weights[name][key].dtype == np.float32 and np.array_equal(weights[name][key], ref[key]), (name, key)
        assert np.abs(outputs[name] - outputs["gru-numpy"]).max() < 1e-5
    moved = moved_ulps(ref, 1)
    torch_model = build_model(model_spec_for_task(entries["gru-torch"], data, cfg.sizing, seed))
    torch_model.set_weights(moved)
    for key, w in ref.items():
        assert np.array_equal(moved[key], np.nextafter(w, np.float32(np.inf))) and (moved[key] > w).all()
        assert np.array_equal(torch_model.get_weights()[key], moved[key])


def test_side_by_side_and_arm_rows_carry_their_marks():
    from suite.bench.fp_mode import current_mode
    from suite.config import side_by_side_plan
    from suite.run.units_accuracy import SIDE_BY_SIDE, SIDE_BY_SIDE_DENORMALS, accuracy_rows
    cfg = validate_config({"models": ["gru-numpy", "gru-torch", "lstm-torch"], "seeds": [0],
                           "tasks": {"adding": {"T": 5, "n_train": 64, "n_val": 16, "n_test": 16}},
                           "training": {"epochs": 1, "batch_size": 32},
                           "sizing": {"budget": 600, "side_by_side_models": ["gru-numpy", "gru-torch"],
                                      "side_by_side_null": "gru-torch"}})
    sizing, entries, tasks = side_by_side_plan(cfg)
    assert [e["name"] for e in entries] == ["gru-numpy", "gru-torch", "gru-torch-ulp1"] and tasks == ["adding"]
    training = cfg.training.model_copy(update={"init": "shared"})
    before = current_mode()
    out = {e["name"]: accuracy_rows(cfg, "adding", e, 0, sizing, training, kind=SIDE_BY_SIDE, view="budget",
                                    denormals=SIDE_BY_SIDE_DENORMALS) for e in entries}
    assert current_mode() == before                      # the thread's FTZ/DAZ bits restored after each run
    # the mode observed: ftz+daz, or 'mixed' where a BLAS pool started before the policy (pytest's numpy) keeps
    # its bits; the training workers limit BLAS to their one thread and read ftz+daz
    assert {r["fp_policy"] for e in out.values() for r in e["rows"]} == {"flush"}
    modes = {r["fp_mode"] for e in out.values() for r in e["rows"]}
    assert all(m == "ftz+daz" or m.startswith("mixed") for m in modes), modes
    null = out["gru-torch-ulp1"]
    assert {r["model"] for r in null["rows"]} == {"gru-torch-ulp1"}
    assert {r["kind"] for r in null["rows"]} == {SIDE_BY_SIDE}
    assert all(r["null_of"] == "gru-torch" and r["init"] == "shared" for r in null["rows"])
    assert {c["model"] for c in null["curves"]} == {"gru-torch-ulp1"} and null["curves"][0]["kind"] == SIDE_BY_SIDE
    assert all("null_of" not in r for r in out["gru-torch"]["rows"])
    lstm = next(e for e in forget_bias_arms(cfg, model_entries(cfg)) if e["name"] == "lstm-torch-fb0")
    rows = accuracy_rows(cfg, "adding", lstm, 0, sizing, cfg.training, view="budget")["rows"]
    assert {(r["model"], r["forget_bias"], r["headline_arm"]) for r in rows} == {("lstm-torch-fb0", 0.0, False)}


# --- report: divergence against the null -----------------------------------------------------------------
def side_frame(scores: dict, baseline: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows and curves of kind side_by_side: scores[model] = per-seed test MSE; the curves read 3 points whose
    validation MSE is the test MSE times (2, 1.5, 1)."""
    rows, curves = [], []
    for model, values in scores.items():
        fw = model.split("-")[1]
        for seed, v in enumerate(values):
            common = dict(kind="side_by_side", status="ok", task="adding", model=model, arch="gru", framework=fw,
                          convention="reset_after", seed=seed, view="budget", work_unit=f"side-adding-{model}-s{seed}",
                          null_of="gru-torch" if model.endswith("-ulp1") else None)
            rows += [dict(common, metric="mse", value=v, split="test"),
                     dict(common, metric="baseline_mse", value=baseline, split="test", unit="predict 1")]
            curves += [dict(kind="side_by_side", task="adding", model=model, arch="gru", framework=fw, seed=seed,
                            updates=u, epoch=i + 1, val_metric=v * f, view="budget",
                            null_of=common["null_of"]) for i, (u, f) in enumerate(((10, 2.0), (20, 1.5), (30, 1.0)))]
    return pd.DataFrame(rows), pd.DataFrame(curves)


def test_divergence_is_judged_against_the_one_ulp_null():
    from suite.report import side_by_side as sbs
    rng = np.random.default_rng(3)
    torch_ = 0.02 + 0.002 * rng.random(5)
    scores = {"gru-numpy": torch_ + 1e-4 * rng.random(5),            # as close as the null: within
              "gru-torch": torch_,
              "gru-keras": torch_ + 0.05 + 0.01 * rng.random(5),     # far: beyond the null
              "gru-torch-ulp1": torch_ + 1e-4 * rng.random(5)}
    frame, curves = side_frame(scores)
    assert sbs.normalised_score(0.05, 0.2, "mse") == pytest.approx(0.75)
    assert sbs.normalised_score(0.5, 0.125, "accuracy") == pytest.approx((0.5 - 0.125) / 0.875)
    div = sbs.divergences(frame, curves)
    assert list(dict.fromkeys(div["pair"])) == ["numpy-torch", "numpy-keras", "torch-keras", "null"]
    one = div[(div["pair"] == "torch-keras") & (div["seed"] == 2)].iloc[0]
    gap = abs(scores["gru-keras"][2] - torch_[2]) / 0.2
    assert one["test_divergence"] == pytest.approx(gap) and one["curve_divergence"] == pytest.approx(2 * gap)
    assert one["points"] == 3
    summary = sbs.divergence_summary(div)
    verdict = {(r["pair"], r["measure"]): r["verdict"] for _, r in summary.iterrows()}
    assert verdict[("torch-keras", "validation curve")] == "beyond the null"
    assert verdict[("null", "test metric")] == "null"
    assert summary[summary["pair"] == "torch-keras"]["p_mann_whitney"].max() == pytest.approx(1 / 252)
    assert verdict[("numpy-torch", "test metric")] == "within the null"
    agree = dict(zip(sbs.agreement(summary)["pair"], sbs.agreement(summary)["agreement"]))
    assert agree["numpy-torch"] == "within the null" and agree["numpy-keras"].startswith("beyond the null on")
    eq = sbs.seed_equivalence(frame).set_index("pair")
    assert "null" not in eq.index and eq.loc["torch-keras", "outcome"] == "different"


def test_side_by_side_section_and_figures_draw():
    import matplotlib
    matplotlib.use("Agg")
    from suite.report import figures
    from suite.report.details import side_by_side
    rng = np.random.default_rng(5)
    base = 0.02 + 0.01 * rng.random(5)
    frame, curves = side_frame({m: base + 1e-3 * rng.random(5)
                                for m in ("gru-numpy", "gru-torch", "gru-keras", "gru-torch-ulp1")})
    sec = side_by_side(frame, curves)
    assert sec.title == "Three reference GRUs trained side by side"
    from suite.report.document import Figure, Table
    csvs = {t.csv for t in sec.blocks(Table)}
    assert {"side_by_side_accuracy", "side_by_side_divergence", "side_by_side_equivalence"} <= csvs
    assert [f.name for f in sec.blocks(Figure)] == ["side_by_side_adding"]
    assert figures.side_by_side_curves(curves, "adding", "mse") is not None
    assert figures.side_by_side_curves(curves.assign(kind="accuracy"), "adding", "mse") is None


# --- report: the forget-bias arms in the claims ----------------------------------------------------------
def arm_rows(values: dict, task="adding", metric="mse", baseline=0.17) -> pd.DataFrame:
    rows = []
    for model, vals in values.items():
        arch, fw = model.split("-")[:2]
        fb = float(model.split("-fb")[1]) if "-fb" in model else None
        for seed, v in enumerate(vals):
            common = dict(kind="accuracy", status="ok", task=task, model=model, arch=arch, framework=fw,
                          convention="reset_after", seed=seed, view="budget", hidden=40, params=9000,
                          work_unit=f"acc-budget-{task}-{model}-s{seed}")
            if arch == "lstm":
                common.update(forget_bias=fb, headline_arm=fb == 1.0)
            rows += [dict(common, metric=metric, value=v, split="test"),
                     dict(common, metric="baseline_" + metric, value=baseline, unit="predict 1", split="test")]
    return pd.DataFrame(rows)


def judge(claim_id, frame):
    from suite.report.claims import CLAIMS
    from suite.report.claims_engine import Context, evaluate
    return evaluate(next(c for c in CLAIMS if c.id == claim_id), Context(frame)).as_row()


def test_forget_bias_claim_follows_the_arms():
    rng = np.random.default_rng(9)
    gru = 1e-3 * (1 + 0.01 * rng.standard_normal(5))       # 1% spreads: TOST at the 5% margin can show equivalence
    close = 1e-3 * (1 + 0.01 * rng.standard_normal(5))
    stalled = 0.15 * (1 + 0.01 * rng.standard_normal(5))
    holds = judge("forget-bias-closes-gap", arm_rows({"gru-torch": gru, "lstm-torch-fb1": close,
                                                      "lstm-torch-fb0": stalled}))
    assert holds["word"] == "holds" and holds["cells"] == {"adding/torch": "closes (comparable at bias 1)"}
    narrows = judge("forget-bias-closes-gap", arm_rows({"gru-torch": gru, "lstm-torch-fb1": stalled / 10,
                                                        "lstm-torch-fb0": stalled}))
    assert narrows["word"] == "holds" and narrows["cells"]["adding/torch"].startswith("narrows")
    no = judge("forget-bias-closes-gap", arm_rows({"gru-torch": gru, "lstm-torch-fb1": stalled * 1.001,
                                                   "lstm-torch-fb0": stalled}))
    assert no["word"] == "does not hold" and no["cells"]["adding/torch"] == "no closer"
    no_gap = judge("forget-bias-closes-gap", arm_rows({"gru-torch": gru, "lstm-torch-fb1": stalled,
                                                       "lstm-torch-fb0": gru * 1.0001}))
    assert no_gap["word"] == "inconclusive" and "no gap" in no_gap["cells"]["adding/torch"]
    assert judge("forget-bias-closes-gap", arm_rows({"gru-torch": gru, "lstm-torch": close}))["word"] == \
        "not measured"


def test_other_claims_and_tables_read_the_headline_arm_only():
    from suite.report.tables import accuracy_table, gru_vs_lstm, solved_table, transformer_vs_recurrent
    rng = np.random.default_rng(13)
    frame = arm_rows({"gru-torch": 0.02 + 1e-3 * rng.random(5), "lstm-torch-fb1": 0.1 + 1e-3 * rng.random(5),
                      "lstm-torch-fb0": 1e-4 + 1e-5 * rng.random(5),      # the other arm is the best: never read
                      "transformer-torch": 0.05 + 1e-3 * rng.random(5)})
    t = gru_vs_lstm(frame)
    assert len(t) == 1 and t["b"].iloc[0] == "lstm-torch-fb1" and t["n_b"].iloc[0] == 5
    assert transformer_vs_recurrent(frame, "adding", "budget")["b"].iloc[0] == "gru-torch"
    assert solved_table(frame)["best model"].iloc[0] == "gru-torch"
    table = accuracy_table(frame).set_index("model")
    assert table.loc["lstm-torch-fb0", "forget_bias"] == 0.0 and table.loc["lstm-torch-fb0", "headline_arm"] is False
    assert table.loc["lstm-torch-fb1", "headline_arm"] is True and pd.isna(table.loc["gru-torch", "forget_bias"])
    comparable = judge("gru-comparable-accuracy", frame)
    assert "vs LSTM 0.1" in comparable["evidence"] and "n=5/5" in comparable["evidence"]   # the headline arm
