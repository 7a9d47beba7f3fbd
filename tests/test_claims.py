"""The claims table follows the numbers: synthetic results with known answers flip each verdict."""
import pandas as pd

from suite.report.claims import (claim_comparable_accuracy, claim_fewer_params, claim_gru_streaming,
                          claim_gru_trains_faster, claim_transformer_long_sequences, claim_transformer_memory,
                          claims_table)


def speed_rows(times: dict, T=100, H=128, metric="train_step_ms", context=None):
    rows = []
    for (arch, fw), v in times.items():
        rows.append(dict(kind="speed", status="ok", model=f"{arch}-{fw}", arch=arch, framework=fw,
                         convention="reset_after", T=T, hidden=H, metric=metric, value=v, context=context))
    return rows


def acc_rows(task, metric, values: dict, baseline=0.1):
    rows = []
    for (arch, fw), vals in values.items():
        for seed, v in enumerate(vals):
            common = dict(kind="accuracy", status="ok", task=task, model=f"{arch}-{fw}", arch=arch, framework=fw,
                          convention="reset_after", seed=seed, hidden=64, params=1000)
            rows.append({**common, "metric": metric, "value": v})
            rows.append({**common, "metric": "baseline_" + metric, "value": baseline, "unit": "chance"})
            rows.append({**common, "metric": "train_seconds", "value": 1.0})
    return rows


def test_gru_faster_verdict_follows_the_ratio():
    slow = pd.DataFrame(speed_rows({("gru", "torch"): 22.7, ("lstm", "torch"): 7.8}))
    assert claim_gru_trains_faster(slow, 100, 128)["verdict"].startswith("does not hold")
    assert "2.91×" in claim_gru_trains_faster(slow, 100, 128)["evidence"]
    fast = pd.DataFrame(speed_rows({("gru", "keras"): 6.0, ("lstm", "keras"): 8.0}))
    assert claim_gru_trains_faster(fast, 100, 128)["verdict"] == "holds"
    mixed = pd.DataFrame(speed_rows({("gru", "torch"): 22.7, ("lstm", "torch"): 7.8,
                                     ("gru", "keras"): 6.0, ("lstm", "keras"): 8.0}))
    v = claim_gru_trains_faster(mixed, 100, 128)["verdict"]
    assert v.startswith("depends on the framework") and "keras" in v and "torch" in v


def test_fewer_params():
    rows = [dict(kind="params", status="ok", metric="params_counted", framework="torch", convention="reset_after",
                 arch=a, model=f"{a}-torch", hidden=h, layers=1, value=v)
            for a, h, v in (("gru", 32, 3 * 32 * 64 + 6 * 32), ("lstm", 32, 4 * 32 * 64 + 8 * 32))]
    out = claim_fewer_params(pd.DataFrame(rows))
    assert out["verdict"].startswith("holds") and "0.750" in out["evidence"]
    rows[0]["value"] = 10 ** 6
    assert claim_fewer_params(pd.DataFrame(rows))["verdict"] == "does not hold everywhere"


def test_comparable_accuracy_uses_the_test():
    same = pd.DataFrame(acc_rows("digits", "accuracy", {("gru", "torch"): [0.95, 0.96, 0.955],
                                                       ("lstm", "torch"): [0.952, 0.958, 0.956]}))
    assert claim_comparable_accuracy(same)["verdict"] == "holds"
    apart = pd.DataFrame(acc_rows("digits", "accuracy", {("gru", "torch"): [0.95, 0.951, 0.949],
                                                        ("lstm", "torch"): [0.70, 0.71, 0.69]}))
    assert claim_comparable_accuracy(apart)["verdict"] == "does not hold: GRU better on digits/torch"


def test_transformer_claims():
    rows = speed_rows({("gru", "torch"): 20, ("lstm", "torch"): 10, ("transformer", "torch"): 5}, T=400)
    rows += speed_rows({("gru", "torch"): 5, ("lstm", "torch"): 3, ("transformer", "torch"): 4}, T=25)
    out = claim_transformer_long_sequences(pd.DataFrame(rows), 128)
    assert out["verdict"] == "holds (from T=400 in torch)"           # slower at T=25, faster at T=400
    assert "T=25: 1.33× slower" in out["evidence"] and "crossover at T=400" in out["evidence"]
    mem = pd.DataFrame(acc_rows("copy", "accuracy", {("gru", "torch"): [0.3, 0.31, 0.29],
                                                     ("transformer", "torch"): [0.9, 0.95, 0.92]}, baseline=0.125))
    out = claim_transformer_memory(mem)
    assert out["verdict"] == "holds" and "copy task" in out["evidence"]


def test_streaming_claim_and_missing_data():
    rows = speed_rows({("gru", "torch"): 50, ("lstm", "torch"): 40, ("transformer", "torch"): 300},
                      metric="step_latency_us", context=1024)
    assert claim_gru_streaming(pd.DataFrame(rows))["verdict"] == "does not hold"
    empty = pd.DataFrame(columns=["kind", "status", "metric", "value", "arch", "framework", "convention", "T",
                                  "hidden", "context", "task", "model", "seed"])
    table = claims_table(empty, 100, 128)
    assert len(table) == 7 and set(table["verdict"]) == {"not measured"}


def test_overlapping_cis_are_not_shown_rather_than_refuted():
    mem = pd.DataFrame(acc_rows("copy", "accuracy", {("gru", "torch"): [0.2, 0.25, 0.15],
                                                     ("transformer", "torch"): [0.13, 1.0, 0.2]}, baseline=0.125))
    assert claim_transformer_memory(mem)["verdict"] == "not shown: the 95% CIs overlap at 3 seeds"


def test_streaming_within_five_percent_is_a_tie():
    rows = speed_rows({("gru", "keras"): 219, ("lstm", "keras"): 227, ("transformer", "keras"): 414},
                      metric="step_latency_us", context=1024)
    rows += speed_rows({("gru", "torch"): 38, ("lstm", "torch"): 91, ("transformer", "torch"): 172},
                       metric="step_latency_us", context=1024)
    v = claim_gru_streaming(pd.DataFrame(rows))["verdict"]
    assert v == "depends on the framework: holds in torch (GRU ≈ LSTM in keras, within noise)"
