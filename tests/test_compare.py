"""Raw samples kept per run, bootstrap CIs of speed ratios, and ``python -m suite compare``.

One tiny speed run (two NumPy models, tiny shapes) is made once per module; run B of the comparisons is
a copy of it whose samples or rows are changed in a known way."""
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from suite.bench.ratios import mark, ratio_ci
from suite.report.compare import compare_runs, failing
from suite.results.samples import SAMPLES_FILE, load_samples, pooled, sample_key, split_samples
from suite.results.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
TINY = """name: tiny
seeds: [0]
threads: 1
models: [gru-numpy, lstm-numpy]
tasks: {adding: {T: 5, n_train: 16, n_val: 8, n_test: 8}}
speed: {batch: 2, input_size: 3, hidden: 4, seq_len: 6, seq_lens: [6, 12], hiddens: [4], contexts: [2],
        thread_counts: [1], repeats: 2, sweep_repeats: null, min_samples: 10, min_sample_s: 0.002, max_time_s: 0.05}
paper_check: {enabled: false}
"""


def suite_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "suite", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runs")
    cfg = tmp / "tiny.yaml"
    cfg.write_text(TINY)
    r = suite_cli("run", cfg, "--out", tmp / "a", "--stages", "speed")
    assert r.returncode == 0, r.stderr[-2000:]
    return tmp / "a"


# --- samples -------------------------------------------------------------------------------------------
def test_split_samples_moves_them_out_of_the_table(tmp_path):
    row = {"kind": "speed", "model": "gru-torch", "metric": "train_step_ms", "B": 32, "T": 100, "hidden": 128,
           "layers": 1, "context": None, "threads": 1, "value": 2.0, "unit": "ms",
           "samples": {"rounds": [[1.0, 2.0], [3.0]], "stable": [True, False]}}
    rows, records = split_samples([row, {"kind": "params", "value": 3}])
    assert "samples" not in rows[0] and len(records) == 1
    assert records[0]["key"] == "speed|gru-torch|train_step_ms|B=32|T=100|H=128|L=1|ctx=|thr=1"
    assert sample_key(pd.Series({**row, "B": 32.0, "context": float("nan")})) == records[0]["key"]  # CSV types
    assert pooled(records[0]) == [1.0, 2.0]                        # the unstable round is left out


@pytest.mark.timing   # a real speed run: its noise floor is measured, so alone
def test_a_run_keeps_its_raw_samples_in_one_compressed_file(tiny_run):
    frame = pd.read_csv(tiny_run / "results.csv")
    assert "samples" not in frame.columns
    samples = load_samples(tiny_run)
    train = frame[(frame["kind"] == "speed") & (frame["metric"] == "train_step_ms") & (frame["status"] == "ok")]
    assert len(train) == 4                                          # 2 models x T in {6, 12}
    for _, row in train.iterrows():
        record = samples[sample_key(row)]
        assert len(record["rounds"]) == 2 and all(len(r) >= 10 for r in record["rounds"])
        assert row["fp_policy"] == "flush" and row["fp_mode"] == "ftz+daz"
    data = json.loads(gzip.decompress((tiny_run / SAMPLES_FILE).read_bytes()))
    assert data["schema"] == 1 and len(data["records"]) == len(samples)
    assert not list(tiny_run.glob(".*.tmp"))                         # written through a temp file + rename


# --- ratios ----------------------------------------------------------------------------------------------
def test_bootstrap_ratio_ci_brackets_and_marks():
    import numpy as np
    rng = np.random.default_rng(0)
    a = [list(rng.normal(10, 0.2, 12)), list(rng.normal(10.1, 0.2, 12))]
    b = [list(rng.normal(20, 0.4, 12)), list(rng.normal(20.2, 0.4, 12))]
    rho, lo, hi = ratio_ci([a], [b])
    assert lo < rho < hi and 0.45 < lo and hi < 0.55 and mark(rho, lo, hi) == "faster"
    assert mark(*ratio_ci([b], [a])) == "slower"
    rho, lo, hi = ratio_ci([a], [a])
    assert rho == 1.0 and lo == hi == 1.0 and mark(rho, lo, hi) == "within noise"   # paired with itself: exactly 1
    apart = [[10.0] * 5, [13.0] * 5]                                # two rounds that disagree by 30%
    _, lo, hi = ratio_ci([apart], [[[11.5] * 5]])
    assert lo <= 10 / 11.5 + 1e-9 and hi >= 13 / 11.5 - 1e-9        # the interval spans the rounds' gap
    assert mark(0.5, float("nan"), float("nan")) == "faster"       # no samples: the point ratio decides


# --- compare ---------------------------------------------------------------------------------------------
@pytest.mark.timing   # a real speed run: its noise floor is measured, so alone
def test_a_run_compared_with_itself_shows_nothing_significant(tiny_run):
    result = compare_runs(tiny_run, tiny_run)
    assert result["rows"] and result["verdict_changes"] == []
    assert all(not r["significant"] and r["change"] == "not significant" for r in result["rows"])
    assert failing(result, ["verdict", "regression"]) == []
    r = suite_cli("compare", tiny_run, tiny_run, "--fail-on", "verdict", "--fail-on", "regression")
    assert r.returncode == 0 and "0 verdict change(s)" in r.stdout, r.stderr


def clear_factor(run: Path, least: float) -> float:
    """A slowdown that must count as a change in ``run``: at least ``least``, and twice beyond the widest
    noise bound compare applies to it (the machine floor measured inside the run, every row's round spread).
    A tiny run on a loaded machine measured its own noise above 200% once: a fixed 3x then read as noise."""
    from suite.report.compare import FACTOR, load_run, machine_floors
    loaded = load_run(run)
    spreads = loaded["frame"].get("repeat_spread", pd.Series(dtype=float)).astype(float).dropna()
    noise = max([FACTOR - 1, *machine_floors([loaded]).values(), *spreads])
    return max(least, 2.0 * (1.0 + noise))


def _copy_with(run: Path, dest: Path, scale_model: str, factor: float) -> Path:
    """A copy of ``run`` whose time samples and values of one model are multiplied by ``factor``."""
    shutil.copytree(run, dest)
    store = RunStore(dest)
    for path in sorted((dest / "units").glob("*.json")):
        unit = json.loads(path.read_text())
        for row in unit["rows"]:
            if row.get("model") == scale_model and row.get("unit") in ("ms", "us") and row.get("value"):
                row["value"] *= factor
                if "samples" in row:        # the training-shape rows (kind speed_training) keep none
                    row["samples"]["rounds"] = [[x * factor for x in r] for r in row["samples"]["rounds"]]
        path.write_text(json.dumps(unit))
    store.finalize()
    return dest


@pytest.mark.timing   # a real speed run: its noise floor is measured, so alone
def test_a_slower_model_is_a_significant_regression(tiny_run, tmp_path):
    factor = clear_factor(tiny_run, 3.0)
    slow = _copy_with(tiny_run, tmp_path / "b", "lstm-numpy", factor)
    result = compare_runs(tiny_run, slow)
    worse = [r for r in result["rows"] if r["change"] == "worse"]
    assert worse and all("lstm-numpy" in r["key"] and r["ratio"] == pytest.approx(factor) for r in worse)
    assert result["rows"][0]["change"] == "worse"                     # changes listed before the rest
    assert not any(r["significant"] for r in result["rows"] if "gru-numpy" in r["key"])
    r = suite_cli("compare", tiny_run, slow, "--fail-on", "regression", "--format", "json")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"verdict_changes", "rows"}
    assert set(data["rows"][0]) >= {"kind", "key", "metric", "a", "b", "ratio", "significant", "change"}
    faster = compare_runs(slow, tiny_run)
    assert {r["change"] for r in faster["rows"] if r["significant"]} == {"better"}


@pytest.mark.timing   # a real speed run: its noise floor is measured, so alone
def test_verdict_changes_come_first_and_fail_on_verdict(tiny_run, tmp_path):
    slow = _copy_with(tiny_run, tmp_path / "b", "gru-numpy", clear_factor(tiny_run, 5.0))   # GRU/LSTM moves
    result = compare_runs(tiny_run, slow)
    changed = [c["claim"] for c in result["verdict_changes"]]
    assert "GRU trains faster than LSTM" in changed
    r = suite_cli("compare", tiny_run, slow, "--fail-on", "verdict")
    assert r.returncode == 1 and r.stdout.index("Verdict changes") < r.stdout.index("\nchange "), r.stdout[:500]


@pytest.mark.timing   # a real speed run: its noise floor is measured, so alone
def test_new_failures_and_fixes_are_marked(tiny_run, tmp_path):
    broken = tmp_path / "b"
    shutil.copytree(tiny_run, broken)
    frame = pd.read_csv(broken / "results.csv")
    hit = (frame["model"] == "gru-numpy") & (frame["metric"] == "train_step_ms") & (frame["T"] == 12)
    frame.loc[hit, ["status", "value"]] = ["failed", None]
    frame.to_csv(broken / "results.csv", index=False)
    marks = {r["key"]: r["change"] for r in compare_runs(tiny_run, broken)["rows"]}
    assert marks["speed|gru-numpy|train_step_ms|B=2|T=12|H=4|L=1|ctx=|thr=1"] == "new failure"
    back = {r["key"]: r["change"] for r in compare_runs(broken, tiny_run)["rows"]}
    assert back["speed|gru-numpy|train_step_ms|B=2|T=12|H=4|L=1|ctx=|thr=1"] == "fixed"


@pytest.mark.timing
@pytest.mark.parametrize("make, fragment", [
    (lambda tmp: tmp / "missing", "not a directory"),
    (lambda tmp: tmp, "no results.csv"),
])
def test_bad_run_directories_are_one_line_errors(tiny_run, tmp_path, make, fragment):
    r = suite_cli("compare", tiny_run, make(tmp_path))
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode == 2 and len(lines) == 1 and fragment in lines[0], r.stderr


def test_a_training_time_must_move_beyond_the_machine_floor_an_accuracy_need_not():
    from suite.report.compare import compare_rows

    def seeds(metric, values):
        return pd.DataFrame([{"kind": "accuracy", "metric": metric, "value": v, "status": "ok"} for v in values])

    slow_a, slow_b = seeds("train_seconds", [1.0, 1.01, 0.99, 1.0, 1.02]), seeds("train_seconds", [1.2, 1.21, 1.19, 1.2, 1.22])
    key = "accuracy|adding|gru-torch|train_seconds|"
    assert compare_rows(key, slow_a, slow_b, {}, {}, {"speed": 0.05})["change"] == "worse"      # 1.2 > 1.1
    quiet = compare_rows(key, slow_a, slow_b, {}, {}, {"speed": 0.5})                         # floor 50%
    assert quiet["change"] == "not significant" and quiet["p"] < 0.05
    acc_a, acc_b = seeds("accuracy", [0.80, 0.81, 0.79, 0.80, 0.82]), seeds("accuracy", [0.90, 0.91, 0.89, 0.9, 0.92])
    assert compare_rows("accuracy|adding|gru-torch|accuracy|", acc_a, acc_b, {}, {}, {"speed": 0.5})["change"] == "better"


def test_training_times_share_one_machine_shift_over_tasks_and_models(tmp_path):
    """Run B's machine 0.65x for every training unit (three models on each of two tasks; one 0.62x): no training
    time is significant (relative to the shift, within the 10% floor), the shift is recorded; one unit 0.2x on
    top of the shift stands out."""
    def run(path, factor_of):
        rows = [{"kind": "accuracy", "task": task, "model": model, "metric": metric, "split": "", "seed": seed,
                 "status": "ok", "value": (10.0 * factor_of(task, model) if metric == "train_seconds" else 0.9)
                 * (1 + 0.01 * seed)}
                for task in ("adding", "digits") for model in ("gru-torch", "lstm-torch", "transformer-torch")
                for metric in ("train_seconds", "accuracy") for seed in range(3)]
        path.mkdir()
        pd.DataFrame(rows).to_csv(path / "results.csv", index=False)
        return path
    a = run(tmp_path / "a", lambda t, m: 1.0)
    b = run(tmp_path / "b", lambda t, m: 0.65 if (t, m) != ("digits", "lstm-torch") else 0.62)
    result = compare_runs(a, b)
    assert not any(r["significant"] for r in result["rows"])
    assert result["machine_shift"]["accuracy|*|train_seconds|"]["shift"] == pytest.approx(0.65, rel=0.01)
    c = run(tmp_path / "c", lambda t, m: 0.65 if (t, m) != ("digits", "lstm-torch") else 0.13)
    (better,) = [r for r in compare_runs(a, c)["rows"] if r["significant"]]
    assert "digits|lstm-torch|train_seconds" in better["key"] and better["relative"] == pytest.approx(0.2, rel=0.01)


def _synthetic_run(path: Path, factors: dict[str, float], seed: int) -> Path:
    """A run of five models' train steps (two rounds of 12 samples around 10 ms x factor, 2% noise)."""
    import numpy as np
    from suite.results.samples import split_samples, write_samples
    rng = np.random.default_rng(seed)
    rows = []
    for model, factor in factors.items():
        rounds = [list(rng.normal(10.0 * factor, 0.2 * factor, 12)) for _ in range(2)]
        rows.append({"kind": "speed", "model": model, "metric": "train_step_ms", "unit": "ms", "B": 16, "T": 100,
                     "hidden": 128, "layers": 1, "context": None, "threads": 1, "status": "ok",
                     "value": float(np.median([np.median(r) for r in rounds])), "repeat_spread": 0.02,
                     "samples": {"rounds": rounds, "stable": [True, True]}})
    path.mkdir()
    rows, records = split_samples(rows)
    pd.DataFrame(rows).to_csv(path / "results.csv", index=False)
    write_samples(path, records)
    return path


def test_a_machine_slower_as_a_whole_is_a_shift_and_one_model_beyond_it_a_regression(tmp_path):
    """Run B on a machine 1.5x slower for every model: no row significant, the shift 1.5 printed; one model 3x
    slower on top of it: that row alone is 'worse', relative 3."""
    models = ["gru-torch", "lstm-torch", "transformer-torch", "gru-numpy", "lstm-numpy"]
    a = _synthetic_run(tmp_path / "a", {m: 1.0 for m in models}, seed=0)
    b = _synthetic_run(tmp_path / "b", {m: 1.5 for m in models}, seed=1)
    result = compare_runs(a, b)
    assert [r["change"] for r in result["rows"]] == ["not significant"] * 5
    (shift,) = result["machine_shift"].values()
    assert shift["shift"] == pytest.approx(1.5, rel=0.03) and shift["models"] == 5
    c = _synthetic_run(tmp_path / "c", {**{m: 1.5 for m in models}, "lstm-numpy": 4.5}, seed=2)
    result = compare_runs(a, c)
    worse = [r for r in result["rows"] if r["significant"]]
    assert len(worse) == 1 and worse[0]["change"] == "worse" and "lstm-numpy" in worse[0]["key"]
    assert worse[0]["relative"] == pytest.approx(3.0, rel=0.05) and worse[0]["ratio"] == pytest.approx(4.5, rel=0.05)
    from suite.report.compare import format_table
    assert "Machine shift" in format_table(result)


def test_the_models_of_one_worker_moving_together_are_a_worker_move_not_a_change(tmp_path):
    """Both NumPy models 2x faster in B while the other six stay (one worker met a faster moment of the
    machine): no row significant, the move listed; one PyTorch model 3x slower: that row alone is 'worse'."""
    models = ["gru-torch", "lstm-torch", "transformer-torch", "gru-keras", "lstm-keras", "transformer-keras",
              "gru-numpy", "lstm-numpy"]
    a = _synthetic_run(tmp_path / "a", {m: 1.0 for m in models}, seed=0)
    b = _synthetic_run(tmp_path / "b", {**{m: 1.0 for m in models}, "gru-numpy": 0.5, "lstm-numpy": 0.5}, seed=1)
    result = compare_runs(a, b)
    assert not any(r["significant"] for r in result["rows"])
    numpy_rows = [r for r in result["rows"] if "numpy" in r["key"]]
    assert all(r["worker_move"] == pytest.approx(0.5, rel=0.03) for r in numpy_rows)
    (move,) = result["worker_moves"].values()
    assert move["models"] == 2 and move["together"]
    from suite.report.compare import format_table
    assert "Worker moves" in format_table(result) and "fw=numpy" in format_table(result)
    c = _synthetic_run(tmp_path / "c", {**{m: 1.0 for m in models}, "gru-torch": 3.0}, seed=2)
    result = compare_runs(a, c)
    worse = [r for r in result["rows"] if r["significant"]]
    assert len(worse) == 1 and worse[0]["change"] == "worse" and "gru-torch" in worse[0]["key"]
    assert result["worker_moves"] == {}


# --- verdicts matched by id, judged by their words ---------------------------------------------------------
NOISE = [0.02, -0.03, 0.01, -0.01, 0.03]
GRU_DIGITS = [0.90, 0.95, 0.92, 0.97, 0.93]


def _accuracy_run(path: Path, lstm_shift: float, config: bool = True) -> Path:
    """A run of GRU vs LSTM on digits, 5 seeds each: the LSTM's seeds are the GRU's minus ``lstm_shift`` plus
    fixed noise, so the comparison stays inconclusive and only the seeds it would need move with the shift."""
    rows = []
    for arch, values in (("gru", GRU_DIGITS), ("lstm", [g - lstm_shift + d for g, d in zip(GRU_DIGITS, NOISE)])):
        for seed, v in enumerate(values):
            common = dict(kind="accuracy", status="ok", task="digits", model=f"{arch}-torch", arch=arch,
                          framework="torch", convention="reset_after", seed=seed, hidden=48, params=10000,
                          view="budget", work_unit=f"acc-{arch}-s{seed}", split="test")
            rows += [{**common, "metric": "accuracy", "value": v},
                     {**common, "metric": "baseline_accuracy", "value": 0.1, "unit": "chance"}]
    path.mkdir()
    pd.DataFrame(rows).to_csv(path / "results.csv", index=False)
    if config:
        (path / "config.yaml").write_text(TINY)
    return path


def _write_claims_csv(run: Path) -> pd.DataFrame:
    """tables/claims.csv as the report writes it (the claims table through DataFrame.to_csv)."""
    from suite.atomic import atomic_write_csv
    from suite.report.claims import claims_table
    table = claims_table(pd.read_csv(run / "results.csv"), 6, 4)
    (run / "tables").mkdir()
    atomic_write_csv(run / "tables" / "claims.csv", table)
    return table


def test_evidence_numbers_alone_are_no_verdict_change(tmp_path):
    """The default run and the same run with doubled budgets differed only in "needs ~14 seeds" vs "~97 seeds":
    the verdicts' words are the same, so compare lists no verdict change, whether it computes the verdicts from
    the results or reads them from tables/claims.csv."""
    a, b = _accuracy_run(tmp_path / "a", 0.03), _accuracy_run(tmp_path / "b", 0.01)
    result = compare_runs(a, b)
    assert result["verdict_changes"] == [] and result["sources"]["a"].startswith("computed")
    table_a, table_b = _write_claims_csv(a), _write_claims_csv(b)
    va, vb = (t.set_index("id").loc["gru-comparable-accuracy", "verdict"] for t in (table_a, table_b))
    assert "~15 seeds" in va and "~252 seeds" in vb                      # the phrases differ ...
    result = compare_runs(a, b)
    assert result["verdict_changes"] == [] and result["sources"] == {"a": "tables/claims.csv",
                                                                     "b": "tables/claims.csv"}   # ... the words not
    assert failing(result, ["verdict"]) == []


def test_a_changed_word_is_a_verdict_change_named_by_id_and_cell(tmp_path):
    a = _accuracy_run(tmp_path / "a", 0.03)
    b = _accuracy_run(tmp_path / "b", 0.03)
    frame = pd.read_csv(b / "results.csv")
    lstm = (frame["arch"] == "lstm") & (frame["metric"] == "accuracy")
    frame.loc[lstm, "value"] = frame.loc[lstm, "value"] - 0.3             # GRU now clearly better
    frame.to_csv(b / "results.csv", index=False)
    (change,) = compare_runs(a, b)["verdict_changes"]
    assert change["id"] == "gru-comparable-accuracy" and (change["word_a"], change["word_b"]) == \
        ("inconclusive", "does not hold")
    assert change["cells"] == {"digits/torch": ["inconclusive", "GRU better"]}
    from suite.report.compare import format_table
    assert "[gru-comparable-accuracy]: inconclusive -> does not hold (digits/torch inconclusive -> GRU better)" \
        in format_table(compare_runs(a, b))


def test_a_claims_table_without_ids_is_recomputed_from_the_results(tmp_path):
    """A report written before verdicts carried ids and words: its claims.csv is not read (the words would have
    to be guessed from phrases); the verdicts are computed from the run's results as for a run without one."""
    a, b = _accuracy_run(tmp_path / "a", 0.03), _accuracy_run(tmp_path / "b", 0.03)
    (a / "tables").mkdir()
    pd.DataFrame([{"claim": "GRU reaches accuracy comparable to LSTM", "evidence": "", "verdict": "holds",
                   "rule": "", "figure": "", "table": ""}]).to_csv(a / "tables" / "claims.csv", index=False)
    result = compare_runs(a, b)
    assert result["verdict_changes"] == [] and result["sources"]["a"].startswith("computed")
    (a / "config.yaml").unlink()                       # no readable config: the old table, matched by title
    changes = {c["id"]: c for c in compare_runs(a, b)["verdict_changes"]}
    assert (changes["gru-comparable-accuracy"]["word_a"], changes["gru-comparable-accuracy"]["word_b"]) == \
        ("holds", "inconclusive")
    assert changes["gru-trains-faster"]["word_a"] is None         # a claim the old table does not have


def _equivalence_run(path: Path, out_diff: float, status: str = "ok") -> Path:
    rows = [{"kind": "equivalence", "model": "numpy-gru vs torch-gru", "arch": "gru", "metric": metric,
             "hidden": 13, "layers": 1, "T": 37, "B": 5, "value": value, "tolerance": tol, "unit": "abs",
             "status": status}
            for metric, value, tol in (("max_out_diff", out_diff, 1e-5), ("max_grad_diff", 3e-8, 1e-4))]
    rows.append({**rows[0], "model": "torch-transformer vs keras-transformer", "arch": "transformer",
                 "tolerance": None, "value": 2e-8, "status": "ok"})            # an older row: no tolerance column
    path.mkdir()
    pd.DataFrame(rows).to_csv(path / "results.csv", index=False)
    return path


def test_equivalence_residuals_change_only_from_pass_to_fail(tmp_path):
    """Float32 residuals differ between machines (1.5e-8 here, 6e-8 there): both within tolerance, unchanged.
    A residual past its tolerance is a new failure (and a regression for --fail-on), the way back 'fixed'."""
    from suite.report.compare import equivalence_tolerance
    from suite.models.registry import arch
    a = _equivalence_run(tmp_path / "a", 1.5e-8)
    b = _equivalence_run(tmp_path / "b", 6e-8)
    result = compare_runs(a, b)
    assert [r["change"] for r in result["rows"]] == ["not significant"] * 3
    c = _equivalence_run(tmp_path / "c", 2e-5, status="failed")
    changes = {r["key"].split("|")[2]: r["change"] for r in compare_runs(a, c)["rows"] if "gru" in r["key"]}
    assert changes == {"max_out_diff": "new failure", "max_grad_diff": "not significant"}
    assert failing(compare_runs(a, c), ["regression"]) == ["1 regression(s)"]
    assert {r["change"] for r in compare_runs(c, a)["rows"]} == {"fixed", "not significant"}
    assert equivalence_tolerance({"arch": "transformer", "metric": "max_grad_diff"}) == arch("transformer").tolerances[1]


def test_identical_and_constant_runs_compare_without_warnings(tmp_path, capfd):
    """Two runs with identical values, and accuracies constant over seeds (zero variance): scipy's t-test would
    warn (and return NaN); compare applies the stated zero-variance rule and prints nothing on stderr."""
    import warnings
    a, b = _accuracy_run(tmp_path / "a", 0.0), _accuracy_run(tmp_path / "b", 0.0)
    c = _accuracy_run(tmp_path / "c", 0.0)
    frame = pd.read_csv(c / "results.csv")
    frame.loc[frame["metric"] == "accuracy", "value"] = 1.0                    # every seed solves the task
    frame.to_csv(c / "results.csv", index=False)
    models = ["gru-torch", "lstm-torch", "transformer-torch", "gru-numpy", "lstm-numpy"]
    for run in (a, b):
        same = _synthetic_run(tmp_path / f"speed-{run.name}", {m: 1.0 for m in models}, seed=0)
        for name in ("results.csv", "samples.json.gz"):
            if name == "results.csv":
                both = pd.concat([pd.read_csv(run / name), pd.read_csv(same / name)])
                both.to_csv(run / name, index=False)
            else:
                shutil.copy(same / name, run / name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = compare_runs(a, b)
        constant = compare_runs(c, c)
        apart = compare_runs(a, c)
    assert not any(r["significant"] for r in same["rows"]) and same["verdict_changes"] == []
    assert all(r["p"] == 1.0 for r in constant["rows"] if r["kind"] == "accuracy")          # equal constants: p = 1
    assert [r["change"] for r in apart["rows"] if "gru-torch|accuracy" in r["key"]] == ["better"]
    assert capfd.readouterr().err == ""
    r = suite_cli("compare", a, b)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_results_import_nothing_of_report():
    """compare reads the verdicts the claims engine writes, so it lives in report/; results/ stays below it."""
    import ast
    results = ROOT / "suite" / "results"
    bad = []
    for path in sorted(results.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            bad += [f"{path.name} imports {n}" for n in names if n.startswith(("suite.report", "suite.run"))]
    assert bad == [] and not (results / "compare.py").exists()
