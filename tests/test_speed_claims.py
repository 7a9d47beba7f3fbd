"""Speed claims decided by bootstrap CIs from raw samples: the same point ratio is 'faster' with tight samples
and 'within noise' with loose ones; the Transformer's crossover T over the sweep; thread scaling."""
import numpy as np
import pytest
import pandas as pd

from suite.report.claims import CLAIMS, claims_table
from suite.report.claims_engine import Context, evaluate
from suite.report.speed_evidence import crossover_T, crossover_table, thread_scaling_table
from suite.results.samples import sample_key

BY_ID = {c.id: c for c in CLAIMS}


def judge(claim_id: str, frame: pd.DataFrame, samples: dict | None = None, H: int = 128) -> dict:
    """The verdict row of one declared claim on ``frame`` (speed base shape T=100, H=128)."""
    return evaluate(BY_ID[claim_id], Context(frame, 100, H, samples)).as_row()

def timed(arch, fw, value, rng, T=100, H=128, metric="train_step_ms", threads=1, kind="speed", spread=0.01,
          samples=None, rounds=2, n=10):
    """A speed row and its samples: ``rounds`` rounds of ``n`` samples around ``value`` with relative sd
    ``spread``, drawn from the calling test's own generator ``rng``."""
    row = dict(kind=kind, status="ok", model=f"{arch}-{fw}", arch=arch, framework=fw, convention="reset_after",
               T=T, hidden=H, layers=1, B=32, context=None, threads=threads, metric=metric, value=value,
               load_avg=1.0)
    taken = [list(value * (1 + spread * rng.standard_normal(n))) for _ in range(rounds)]
    row["value"] = float(np.median([np.median(r) for r in taken]))
    if samples is not None:
        samples[sample_key(row)] = {"rounds": taken, "stable": [True] * rounds}
    return row


def test_the_ci_not_the_point_ratio_decides():
    rng = np.random.default_rng(0)
    samples = {}
    tight = pd.DataFrame([timed("gru", "torch", 8.0, rng, samples=samples),
                          timed("lstm", "torch", 10.0, rng, samples=samples)])
    out = judge("gru-trains-faster", tight, samples=samples)
    assert out["verdict"] == "holds" and "faster" in out["evidence"] and "[0.7" in out["evidence"]
    loose_samples = {}
    loose = pd.DataFrame([timed("gru", "torch", 8.0, rng, spread=0.5, samples=loose_samples),
                          timed("lstm", "torch", 10.0, rng, spread=0.5, samples=loose_samples)])
    out = judge("gru-trains-faster", loose, samples=loose_samples)
    assert out["verdict"].startswith("not shown (within noise in torch")
    assert judge("gru-trains-faster", tight)["verdict"] == "holds"     # without samples: the point ratio
    assert "no CI: no raw samples" in judge("gru-trains-faster", tight)["evidence"]


def sweep(ratios: dict, rng, fw="torch", samples=None):
    """Rows over T: GRU and LSTM at 10 ms x T/100, the Transformer at ratio x the better of them."""
    rows = []
    for T, ratio in ratios.items():
        rec = 10.0 * T / 100
        rows += [timed("gru", fw, rec, rng, T=T, samples=samples),
                 timed("lstm", fw, rec * 1.2, rng, T=T, samples=samples),
                 timed("transformer", fw, rec * ratio, rng, T=T, samples=samples)]
    return rows


def test_crossover_is_the_T_from_which_the_transformer_stays_faster():
    rng = np.random.default_rng(1)
    samples = {}
    frame = pd.DataFrame(sweep({25: 1.5, 100: 1.1, 200: 0.8, 400: 0.6}, rng, samples=samples))
    table = crossover_table(frame, 128, samples)
    assert list(table["mark"]) == ["slower", "slower", "faster", "faster"] and crossover_T(table, "torch") == 200
    out = judge("transformer-long-sequences", frame, samples=samples)
    assert out["verdict"] == "holds (from T=200 in torch)" and "crossover at T=200" in out["evidence"]
    samples = {}
    back = pd.DataFrame(sweep({25: 0.8, 100: 0.7, 200: 0.9, 400: 1.3}, rng, samples=samples))   # faster, then not
    assert crossover_T(crossover_table(back, 128, samples), "torch") is None
    assert judge("transformer-long-sequences", back, samples=samples)["verdict"] == \
        "does not hold: no crossover up to T=400"
    samples = {}
    mixed = pd.DataFrame(sweep({100: 1.2, 400: 0.5}, rng, samples=samples) +
                         sweep({100: 1.2, 400: 1.5}, rng, fw="keras", samples=samples))
    v = judge("transformer-long-sequences", mixed, samples=samples)["verdict"]
    assert v == "depends on the framework: from T=400 in torch; no crossover up to T=400 in keras"


def scaling(speedups: dict, samples, rng) -> list:
    rows = []
    for (arch, fw), s in speedups.items():
        for metric in ("train_step_ms", "infer_ms"):
            rows += [timed(arch, fw, 20.0, rng, metric=metric, threads=1, kind="speed_threads", samples=samples),
                     timed(arch, fw, 20.0 / s, rng, metric=metric, threads=2, kind="speed_threads", samples=samples)]
    return rows


def test_thread_scaling_table_and_claim():
    rng = np.random.default_rng(2)
    samples = {}
    frame = pd.DataFrame(scaling({("gru", "torch"): 1.0, ("lstm", "torch"): 1.1, ("transformer", "torch"): 1.8},
                                 samples, rng))
    table = thread_scaling_table(frame, samples)
    assert len(table) == 6 and set(table["threads"]) == {"1→2"}
    tr = table[(table["model"] == "transformer-torch") & (table["metric"] == "train_step_ms")].iloc[0]
    assert abs(tr["speedup"] - 1.8) < 0.05 and tr["ci_lo"] < tr["speedup"] < tr["ci_hi"]
    assert abs(tr["efficiency"] - 0.9) < 0.03
    out = judge("transformer-parallelises", frame, samples)
    assert out["verdict"] == "holds" and "transformer-torch 1.8" in out["evidence"] and "lstm-torch" in out["evidence"]
    samples = {}
    flat = pd.DataFrame(scaling({("gru", "keras"): 1.0, ("transformer", "keras"): 1.0}, samples, rng))
    assert judge("transformer-parallelises", flat, samples)["verdict"].startswith("not shown")
    samples = {}
    worse = pd.DataFrame(scaling({("gru", "keras"): 1.6, ("transformer", "keras"): 1.0}, samples, rng))
    assert judge("transformer-parallelises", worse, samples)["verdict"] == "does not hold (less in keras)"
    busy = worse.assign(load_avg=3.6)          # one core held by another process during the study (seen: 3.6)
    out = judge("transformer-parallelises", busy, samples)
    assert out["verdict"].startswith("not measured (other processes held the cores") and "load average" in out["evidence"]
    assert judge("transformer-parallelises", worse.assign(load_avg=1.4), samples)["verdict"].startswith("does not hold")


def test_unstable_rows_enter_no_claim():
    rng = np.random.default_rng(3)
    samples = {}
    rows = [timed("gru", "torch", 8.0, rng, samples=samples), timed("lstm", "torch", 10.0, rng, samples=samples)]
    rows[0]["status"] = "unstable"
    assert judge("gru-trains-faster", pd.DataFrame(rows), samples=samples)["verdict"] == "not measured"
    table = claims_table(pd.DataFrame(rows), 100, 128, samples)
    assert len(table) == len(CLAIMS)


def test_trains_faster_is_decided_over_the_whole_T_sweep():
    rng = np.random.default_rng(4)
    samples = {}
    rows = []
    for T, r in {100: 1.0, 200: 0.8, 400: 0.75}.items():           # at T=100 alone: within noise
        rows += [timed("gru", "numpy", 10.0 * r * T / 100, rng, T=T, spread=0.03, samples=samples),
                 timed("lstm", "numpy", 10.0 * T / 100, rng, T=T, spread=0.03, samples=samples)]
    out = judge("gru-trains-faster", pd.DataFrame(rows), samples=samples)
    assert out["verdict"] == "holds" and "geometric mean over T = 100, 200, 400" in out["evidence"]
    assert "GRU/LSTM = 0.84×" in out["evidence"] or "GRU/LSTM = 0.85×" in out["evidence"]   # (0.8 * 0.75)^(1/3)
    assert judge("gru-trains-faster", pd.DataFrame(rows[:2]), samples=samples)["verdict"].startswith("not shown")


def test_rounds_that_move_together_are_paired_in_the_bootstrap():
    from suite.bench.ratios import ratio_ci
    # round 2 ran in a slow spell that hit both models: each row alone spans 10 -> 20, the ratio stays 0.8
    gru = [[8.0, 8.1, 7.9, 8.0, 8.05], [16.0, 16.2, 15.8, 16.0, 16.1]]
    lstm = [[10.0, 10.1, 9.9, 10.0, 10.05], [20.0, 20.2, 19.8, 20.0, 20.1]]
    rho, lo, hi = ratio_ci([gru], [lstm])
    assert rho == pytest.approx(0.8) and 0.78 < lo < hi < 0.82
    rho, lo, hi = ratio_ci([gru], [lstm + [[15.0] * 5]])               # unequal rounds: resampled apart
    assert lo < 0.6 and hi > 1.0


def test_samples_taken_in_the_same_pass_are_paired_in_the_bootstrap():
    from suite.bench.ratios import ratio_ci
    # one interleaved process whose machine flips between a fast (x1) and a slow (x2) state, pass by pass
    state = [1.0, 2.0, 1.0, 1.0, 2.0, 2.0, 1.0, 2.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 1.0, 2.0]
    gru, lstm = [[30.0 * s for s in state]], [[36.0 * s for s in state]]
    rho, lo, hi = ratio_ci([gru], [lstm])
    assert rho == pytest.approx(30 / 36) and hi < 0.9                  # paired: the state cancels
    _, lo, hi = ratio_ci([gru], [[lstm[0][:-1]]])                      # unequal counts: resampled apart
    assert lo < 0.7 and hi > 1.0


def test_interleaved_samples_are_compared_sample_by_sample():
    """Within one interleaved pass the machine flips between a fast and a slow state about half of the time
    (seen in edge latencies: 27 -> 60 us and back within a pass). Each side's median then falls anywhere in the
    gap between the states, and a ratio of medians wanders; the ratio of each pair of samples does not."""
    from suite.bench.ratios import ratio_ci
    width_medians, width_pairs, highest = [], [], []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        state = np.where(np.arange(40) % 4 < 2, 1.0, 2.0) * rng.uniform(0.95, 1.05, 40)
        gru = [list(30 * 0.88 * state * (1 + 0.05 * rng.standard_normal(40)))]
        lstm = [list(30 * state * (1 + 0.05 * rng.standard_normal(40)))]
        _, lo, hi = ratio_ci([gru], [lstm])
        width_medians.append(hi - lo)
        rho, lo, hi = ratio_ci([gru], [lstm], interleaved=True)
        width_pairs.append(hi - lo)
        highest.append(hi)
        assert lo < 0.88 < hi and rho == pytest.approx(0.88, abs=0.03)
    assert np.mean(width_pairs) < 0.6 * np.mean(width_medians)
    assert max(highest) < 0.95                                        # 'faster' in every seed


def test_rows_of_one_worker_are_interleaved_and_others_are_not():
    from suite.report.speed_evidence import interleaved
    row = dict(kind="speed", metric="train_step_ms", B=16, T=100, hidden=128, layers=1, context="", threads=1)
    gru, lstm = dict(row, model="gru-torch"), dict(row, model="lstm-torch")
    assert interleaved([gru, lstm])
    assert not interleaved([gru, dict(lstm, threads=2)])               # the thread study: two workers
    assert not interleaved([gru, dict(lstm, model="lstm-keras")])      # one worker per framework
    assert not interleaved([gru, dict(lstm, T=200)])                   # one worker per shape
    edge = dict(kind="edge", metric="step_latency_us", B=1, hidden=32, layers=1, threads=1, runtime="onnxruntime",
                precision="fp32")
    assert interleaved([dict(edge, model="gru-torch", graph="ONNX GRU op"),
                        dict(edge, model="lstm-torch", graph="ONNX LSTM op")])
    assert not interleaved([dict(edge, model="gru-torch", graph="ONNX GRU op"),
                            dict(edge, model="lstm-torch", graph="ONNX LSTM op", precision="int8")])


def test_long_context_verdicts_are_words_and_their_figures_are_evidence():
    rng = np.random.default_rng(5)
    samples, rows = {}, []
    for T, scale in ((256, 1.0), (2048, 8.0)):
        for arch, ms in (("gru", 10.0), ("mingru", 4.0 if T == 256 else 2.5), ("transformer", 3.0)):
            row = timed(arch, "torch", ms * scale, rng, T=T, H=32, samples=samples)
            rows.append({**row, "sweep": "long_context"})
    out = judge("gru-sequential-slow", pd.DataFrame(rows), samples)
    assert out["verdict"] == "holds" and "falls from T=256 to T=2048" in out["evidence"]
    assert "minGRU/GRU 0.25×" in out["evidence"]
    tie = [dict(r, value=r["value"] * 4) if r["arch"] == "mingru" and r["T"] == 2048 else r for r in rows]
    tie_samples = {}
    for r in tie:
        timed(r["arch"], "torch", r["value"], rng, T=r["T"], H=32, samples=tie_samples)
    assert judge("gru-sequential-slow", pd.DataFrame(tie), tie_samples)["verdict"].startswith(
        "not shown (minGRU within")
    mem = pd.DataFrame([dict(kind="memory", status="ok", metric="train_step_peak_mb", arch=a, T=T, value=v)
                        for a, vals in (("gru", (10.0, 100.0)), ("transformer", (10.0, 80.0)))
                        for T, v in zip((256, 2048), vals)])
    out = judge("transformer-long-context-memory", mem)
    assert out["verdict"] == "does not hold" and "GRU grows fastest" in out["evidence"] and "b=1.00" in out["evidence"]


def test_the_geometric_mean_keeps_each_ratio_paired_whatever_the_rounds_of_the_others():
    """A sweep whose base point has two rounds and the others one: each GRU/LSTM pair was timed interleaved
    (sample i of both in the same pass), so each ratio is tight; their geometric mean must be too, not
    resampled apart into a wider interval than any of its points."""
    from suite.bench.ratios import geometric_mean_ci, ratio_ci
    rng = np.random.default_rng(0)

    def pair(n_rounds, ratio):
        # a machine that swings by 2x from pass to pass, hitting both models of a pass alike
        rounds_a, rounds_b = [], []
        for _ in range(n_rounds):
            machine = rng.choice([1.0, 2.0], size=10)
            rounds_a.append(list(machine * ratio * (1 + 0.01 * rng.standard_normal(10))))
            rounds_b.append(list(machine * (1 + 0.01 * rng.standard_normal(10))))
        return [rounds_a], [rounds_b]

    pairs = [pair(2, 0.80), pair(1, 0.83), pair(1, 0.85)]
    singles = [ratio_ci(*p) for p in pairs]
    assert all(hi - lo < 0.05 for _, lo, hi in singles)                   # paired within each pair: tight
    g, lo, hi = geometric_mean_ci(pairs)
    assert g == pytest.approx((0.80 * 0.83 * 0.85) ** (1 / 3), rel=0.02)
    assert hi - lo <= max(h - l for _, l, h in singles) and hi < 0.95


# --- the fewest samples a speed verdict needs ----------------------------------------------------------------
def test_a_ratio_of_rows_below_ten_samples_is_too_few():
    from suite.bench.ratios import MIN_SAMPLES, mark
    assert MIN_SAMPLES == 10
    assert mark(0.5, 0.4, 0.6, n=9) == "too few samples" and mark(0.5, 0.4, 0.6, n=10) == "faster"
    assert mark(0.5, float("nan"), float("nan"), n=None) == "faster"            # no samples: no count, point ratio


def smoke_like(rng, gru_ms: float = 8.0, **kw) -> tuple[pd.DataFrame, dict]:
    """GRU and LSTM in NumPy and PyTorch at T=16, 32 as the smoke config times them: one round of 3 samples,
    5% noise (``kw`` overrides rounds and n)."""
    samples, rows = {}, []
    for fw in ("numpy", "torch"):
        for T in (16, 32):
            rows += [timed("gru", fw, gru_ms * T / 16, rng, T=T, spread=0.05, samples=samples,
                           **{"rounds": 1, "n": 3, **kw}),
                     timed("lstm", fw, 8.5 * T / 16, rng, T=T, spread=0.05, samples=samples,
                           **{"rounds": 1, "n": 3, **kw})]
    return pd.DataFrame(rows), samples


def test_the_smoke_configs_samples_read_too_few_whatever_they_draw():
    """The smoke config (one round, 3 samples a measurement) run twice gave "GRU trains faster" two verdicts
    ("does not hold (... within noise in numpy)", then "depends on the framework: faster in numpy; ..."): a
    bootstrap of 3 samples. Below MIN_SAMPLES the cells read 'too few samples', and so does the claim, each time."""
    verdicts = set()
    for seed in range(5):
        frame, samples = smoke_like(np.random.default_rng(seed))
        out = judge("gru-trains-faster", frame, samples=samples, H=128)
        assert out["word"] == "too few samples" and out["cells"] == {"numpy": "too few samples",
                                                                     "torch": "too few samples"}
        verdicts.add(out["verdict"])
    assert verdicts == {"too few samples (fewer than 10 raw samples in a row of every ratio: numpy, torch)"}
    frame, samples = smoke_like(np.random.default_rng(0), gru_ms=6.0, rounds=2, n=10)    # the default's counts
    assert judge("gru-trains-faster", frame, samples=samples)["verdict"] == "holds"


def test_a_framework_with_too_few_samples_is_named_beside_the_others():
    rng = np.random.default_rng(7)
    frame, samples = smoke_like(rng, gru_ms=6.0)
    enough, more = smoke_like(rng, gru_ms=6.0, rounds=2, n=10)
    numpy = enough[enough["framework"] == "numpy"]
    frame = pd.concat([numpy, frame[frame["framework"] == "torch"]])
    few = {k: v for k, v in samples.items() if "-torch|" in k}               # PyTorch's rows: 3 samples each
    out = judge("gru-trains-faster", frame, samples={**more, **few})
    assert out["cells"] == {"numpy": "faster", "torch": "too few samples"}
    assert out["verdict"] == "depends on the framework: faster in numpy; too few samples in torch"


def test_the_default_job_takes_enough_samples_and_the_smoke_job_does_not():
    """configs/default.yaml's verdicts must not read 'too few samples' (the committed reference's verdicts stay):
    every measurement takes at least speed.min_samples, the long-context T sweep included."""
    from pathlib import Path
    from suite.bench.ratios import MIN_SAMPLES
    from suite.config import load_config
    root = Path(__file__).resolve().parent.parent
    assert load_config(root / "configs" / "default.yaml").speed.min_samples >= MIN_SAMPLES
    assert load_config(root / "configs" / "smoke.yaml").speed.min_samples < MIN_SAMPLES
    assert "min_samples=cfg.speed.min_samples" in (root / "suite" / "run" / "units_long_context.py").read_text()
