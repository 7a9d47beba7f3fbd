"""Edge runtimes (suite.edge): every export computes what the framework's own step() computes (fp32, 1e-5
over a 50-step stream), the GRU linear_before_reset trap is caught, int8 rows are 'ok' or 'unsupported' with
a reason, rows carry the promised keys, a failing export is a failed row while the rest goes on, and bad
model names are one-line errors (exit 2). Tiny sizes throughout."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from suite.bench.launcher import TimerOptions
from suite.edge import measure
from suite.edge.runtime import ExportedStep, max_abs_diff, open_runner
from suite.edge.worker import EdgeStep, EdgeStepResult, StepTiming
from suite.errors import UserError
from suite.models import build_model
from suite.spec import ModelSpec

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(input_size=5, hidden=16, output_size=3, layers=2, head="classes", seed=3)
TINY_TIMER = {"n_samples": 3, "min_samples": 3, "min_sample_s": 0.002, "max_time_s": 0.2}


def tiny_model(arch: str, framework: str, convention: str = "reset_after"):
    return build_model(ModelSpec(arch, framework, convention=convention, **TINY))


def reference(model, steps: int = measure.STREAM_STEPS):
    xs = measure.stream_inputs(model.spec, steps, seed=1)
    return xs, measure.framework_stream(model, xs)


# --- fp32 equivalence, 50 steps, both runtimes -------------------------------------------------
@pytest.mark.parametrize("arch,graph", [("gru", "native"), ("gru", "matmul"), ("lstm", "native"),
                                        ("lstm", "matmul"), ("transformer", "native")])
def test_onnx_fp32_equals_torch_step(tmp_path, arch, graph):
    from suite.edge.export_onnx import export_onnx
    model = tiny_model(arch, "torch")
    xs, ref = reference(model)
    exported = export_onnx(model, str(tmp_path / "step.onnx"), graph)
    out = open_runner(exported).stream(xs)
    assert out.shape == (measure.STREAM_STEPS, 3)
    assert max_abs_diff(out, ref) <= measure.TOLERANCE
    if graph == "matmul":   # the int8-able form: no recurrent op left
        assert "MatMul" in exported.ops and not {"GRU", "LSTM"} & set(exported.ops)
    elif arch != "transformer":
        assert arch.upper() in exported.ops


@pytest.mark.parametrize("arch,convention", [("gru", "reset_after"), ("gru", "reset_before"), ("lstm", "reset_after"),
                                             ("transformer", "reset_after")])
def test_litert_fp32_equals_keras_step(tmp_path, arch, convention):
    from suite.edge.export_litert import export_litert
    model = tiny_model(arch, "keras", convention)
    xs, ref = reference(model)
    exported = export_litert(model, str(tmp_path / "step.tflite"), "fp32")
    assert max_abs_diff(open_runner(exported).stream(xs), ref) <= measure.TOLERANCE
    assert "WHILE" not in exported.ops and "FULLY_CONNECTED" in exported.ops   # one cell call: no loop


def test_keras_rnn_sequence_converts_to_a_while_loop():
    """The trap the cell export avoids: the whole Keras 3 GRU converts to WHILE, not a fused sequence op."""
    from suite.edge.export_litert import sequence_ops
    ops = sequence_ops(tiny_model("gru", "keras"), seq_len=4)
    assert "WHILE" in ops and not any(op.startswith("UNIDIRECTIONAL_SEQUENCE") for op in ops)


def test_nan_never_passes_as_equal():
    """Converted with live variables, LiteRT once returned NaN everywhere: the comparison must not pass it."""
    assert max_abs_diff([np.nan, 0.0], [0.0, 0.0]) == float("inf")
    assert max_abs_diff(np.zeros((2, 3)), np.zeros((3, 2))) == float("inf")


@pytest.mark.slow
def test_transformer_stream_longer_than_its_cache_is_refused(tmp_path):
    from suite.edge.export_onnx import export_onnx
    exported = export_onnx(tiny_model("transformer", "torch"), str(tmp_path / "t.onnx"), capacity=4)
    with pytest.raises(UserError, match="capacity 4"):
        open_runner(exported).stream(np.zeros((5, 5), np.float32))


# --- the GRU trap: linear_before_reset -----------------------------------------------------------
def test_gru_linear_before_reset_is_1_and_0_would_be_caught(tmp_path):
    import onnx

    from suite.edge.export_onnx import ExportError, check_gru_nodes, export_onnx
    model = tiny_model("gru", "torch")
    xs, ref = reference(model)
    exported = export_onnx(model, str(tmp_path / "gru.onnx"), "native")
    proto = onnx.load(exported.path)
    gru_nodes = [n for n in proto.graph.node if n.op_type == "GRU"]
    assert gru_nodes, "expected the exporter to emit an ONNX GRU node"
    for node in gru_nodes:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attrs.get("linear_before_reset") == 1
    # what onnxscript < 0.7.1 wrote: the same graph with linear_before_reset = 0
    for node in gru_nodes:
        for a in node.attribute:
            if a.name == "linear_before_reset":
                a.i = 0
    with pytest.raises(ExportError, match="linear_before_reset=0"):
        check_gru_nodes(proto)
    bad_path = tmp_path / "gru-lbr0.onnx"
    onnx.save(proto, str(bad_path))
    bad = ExportedStep(**{**exported.to_dict(), "path": str(bad_path)})
    assert max_abs_diff(open_runner(bad).stream(xs), ref) > 100 * measure.TOLERANCE   # the 1e-5 check fails it


# --- rows: int8, keys, failures ------------------------------------------------------------------
@pytest.fixture(scope="module")
def rows():
    """gru-torch (trained 1 epoch, scored, latency from tiny worker runs) and lstm-keras (no latency: a
    TensorFlow worker costs seconds of imports; test_litert_worker covers the LiteRT one)."""
    return (measure.edge_rows(["gru-torch"], train_epochs=1, hidden=24, timer=TINY_TIMER)
            + measure.edge_rows(["lstm-keras"], train_epochs=1, hidden=24, latency=False))


@pytest.mark.slow
@pytest.mark.integration      # the edge stage end to end (exports in processes)
def test_rows_have_the_promised_keys_and_values(rows):
    json.loads(json.dumps(rows))   # plain JSON
    for r in rows:
        assert set(measure.ROW_KEYS) <= set(r)
        assert r["runtime"] in ("onnxruntime", "litert", "torch", "keras") and r["precision"] in ("fp32", "int8")
        assert r["status"] in measure.STATUSES
        assert (r["error"] is None) == (r["status"] == "ok")
    timed = [r for r in rows if r["status"] == "ok" and r["model"] == "gru-torch"]
    assert len(timed) == 4 and {r["runtime"] for r in timed} == {"torch", "onnxruntime"}
    assert all(r["step_latency_us"] > 0 and r["latency_n"] >= 3 and r["peak_mb"] >= 0 for r in timed)
    ort_fp32 = [r for r in timed if r["runtime"] == "onnxruntime" and r["precision"] == "fp32"]
    assert len(ort_fp32) == 2                               # the GRU op and the matmul cell: timed side by side
    for r in ort_fp32:
        assert r["notes"]["latency"] == "interleaved with 1 other onnxruntime fp32 step(s), 3 pass(es)"
        assert len(r["latency_rounds_us"]) == 3 and r["latency_n"] == sum(map(len, r["latency_rounds_us"]))
        assert r["notes"]["latency_alone_us"] > 0 and r["step_latency_us"] != r["notes"]["latency_alone_us"]
    alone = [r for r in timed if r["runtime"] != "onnxruntime" or r["precision"] != "fp32"]
    assert all("latency" not in (r["notes"] or {}) for r in alone)   # nothing to interleave with
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(r["file_bytes"] > 0 for r in ok if r["runtime"] in ("onnxruntime", "litert"))
    for model in ("gru-torch", "lstm-keras"):   # one primary row per runtime x precision, plus the framework's
        keys = sorted((r["runtime"], r["precision"]) for r in rows if r["model"] == model and r["primary"])
        runtime = "onnxruntime" if model.endswith("torch") else "litert"
        assert keys == sorted([(model.split("-")[1], "fp32"), (runtime, "fp32"), (runtime, "int8")])


@pytest.mark.slow
@pytest.mark.integration      # the edge stage end to end (exports in processes)
def test_fp32_rows_agree_and_score_like_the_framework(rows):
    fp32 = [r for r in rows if r["precision"] == "fp32" and r["runtime"] in ("onnxruntime", "litert")]
    assert len(fp32) == 3   # gru-torch: GRU op + matmul cell; lstm-keras: keras cell
    for r in fp32:
        assert r["status"] == "ok" and r["max_abs_diff"] <= measure.TOLERANCE
    gru = [r for r in rows if r["model"] == "gru-torch"]
    assert all(r["accuracy"] == gru[0]["framework_accuracy"] for r in gru if r["precision"] == "fp32")


@pytest.mark.slow
@pytest.mark.integration      # the edge stage end to end (exports in processes)
def test_int8_rows_are_ok_or_unsupported_with_a_reason(rows):
    int8 = [r for r in rows if r["precision"] == "int8"]
    assert {(r["model"], r["runtime"]) for r in int8} == {("gru-torch", "onnxruntime"), ("lstm-keras", "litert")}
    for r in int8:
        assert r["status"] in ("ok", "unsupported")
        if r["status"] == "unsupported":
            assert r["error"] and len(r["error"]) > 20
    gru_int8 = {r["graph"]: r for r in int8 if r["model"] == "gru-torch"}
    assert gru_int8["ONNX GRU op"]["status"] == "unsupported" and "GRU" in gru_int8["ONNX GRU op"]["error"]
    cell = gru_int8["matmul cell"]   # the offered int8 path
    assert cell["status"] == "ok" and cell["primary"] and "MatMulInteger" in cell["ops"]
    assert cell["notes"]["fp32_left"] == []   # every MatMul with a weight quantised
    assert 0 < cell["max_abs_diff"] < 0.5 and cell["accuracy"] is not None
    fp32_cell = next(r for r in rows if r["model"] == "gru-torch" and r["graph"] == "matmul cell"
                     and r["precision"] == "fp32")
    assert cell["file_bytes"] < fp32_cell["file_bytes"]
    keras_int8 = next(r for r in int8 if r["model"] == "lstm-keras")
    assert keras_int8["status"] == "ok" and keras_int8["notes"]["int8_tensors"] > 0


def test_ort_int8_lstm_quantises_the_lstm_node_itself(tmp_path):
    """At H = 64 the exporter leaves the LSTM's R behind Transpose/Reshape (its constant folding stops at a
    size limit) and quantize_dynamic alone skipped the LSTM; ORT's pre-processing folds it first."""
    from suite.edge.export_onnx import export_onnx
    from suite.edge.quantize import quantize_onnx
    model = build_model(ModelSpec("lstm", "torch", 8, 64, 10, head="classes"))
    fp32 = export_onnx(model, str(tmp_path / "lstm.onnx"), "native")
    int8 = quantize_onnx(fp32, str(tmp_path / "lstm-int8.onnx"))
    assert "DynamicQuantizeLSTM" in int8.ops and "LSTM" not in int8.ops and int8.notes["fp32_left"] == []
    assert int8.file_bytes < 0.4 * fp32.file_bytes


@pytest.mark.slow
def test_a_failing_export_is_a_failed_row_and_the_rest_goes_on(monkeypatch):
    from suite.edge import export_onnx as mod
    real = mod.export_onnx

    def broken(model, path, graph="native", capacity=64):
        if model.spec.arch == "gru" and graph == "native":
            raise RuntimeError("exporter exploded\nsecond line")
        return real(model, path, graph, capacity)

    monkeypatch.setattr(mod, "export_onnx", broken)
    rows = measure.edge_rows(["gru-torch", "lstm-torch"], hidden=8, accuracy=False, latency=False)
    by = {(r["model"], r["precision"], r["graph"]): r for r in rows}
    failed = by[("gru-torch", "fp32", "ONNX GRU op")]
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: exporter exploded"
    assert by[("gru-torch", "int8", "ONNX GRU op")]["status"] == "failed"      # it quantises the failed one
    assert by[("gru-torch", "fp32", "matmul cell")]["status"] == "ok"
    assert by[("gru-torch", "int8", "matmul cell")]["status"] == "ok"
    assert by[("lstm-torch", "fp32", "ONNX LSTM op")]["status"] == "ok"
    assert by[("lstm-torch", "int8", "ONNX LSTM op")]["status"] == "ok"


@pytest.mark.slow
def test_litert_worker_times_a_step_in_a_fresh_process(tmp_path):
    from suite.edge.export_litert import export_litert
    model = tiny_model("gru", "keras")
    exported = export_litert(model, str(tmp_path / "gru.tflite"), "fp32")
    xs = measure.stream_inputs(model.spec, measure.LATENCY_CONTEXT + 1)
    np.save(tmp_path / "stream.npy", xs)
    ctx = {"workdir": str(tmp_path), "threads": 1, "denormals": "flush", "timer": TimerOptions(**TINY_TIMER)}
    step = EdgeStep(job_id="gru-keras litert fp32 cell", kind="litert", stream=str(tmp_path / "stream.npy"),
                    exported=exported.to_dict())
    result = measure.time_step(step, ctx)
    assert result.job_id == step.job_id and result.timing.median_s > 0 and result.timing.n >= 3
    assert result.memory.peak_mb >= 0 and result.memory.idle_mb > 0 and result.runtime_ops


# --- bad input -------------------------------------------------------------------------------------
def test_unknown_model_is_a_user_error():
    with pytest.raises(UserError, match="unknown model 'gru-numpy'"):
        measure.edge_rows(["gru-torch", "gru-numpy"])


def test_cli_bad_model_is_one_line_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "suite", "edge", "--models", "gru-torch", "nope", "--out", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: edge: unknown model 'nope'")
    assert r.stdout == "" and not list(tmp_path.iterdir())


# --- rows and their latency jobs ------------------------------------------------------------------
def _timing(samples_us):
    samples_s = [x * 1e-6 for x in samples_us]
    return StepTiming(median_s=float(np.median(samples_s)), iqr_s=0.0, n=len(samples_s), number=1, noisy=False,
                      samples_s=samples_s)


def test_interleaved_results_are_joined_to_their_rows_by_job_id():
    """Each pass's results come back keyed by the job id the row's step carries; a pass that lists them in
    another order (or leaves one out) must still give every row its own samples."""
    rng = np.random.default_rng(11)
    names = ("gru-torch", "lstm-torch", "transformer-torch")
    members, own = [], {}
    for name in names:
        row = {"model": name, "runtime": "onnxruntime", "precision": "fp32", "notes": None, "step_latency_us": 99.0}
        step = EdgeStep(job_id=measure.row_key(row, "native"), kind="onnxruntime", stream="s.npy", exported={})
        members.append((row, step))
        own[step.job_id] = [rng.uniform(10, 90, size=4).round(3).tolist() for _ in range(3)]   # per pass
    passes = []
    for k, order in enumerate([(2, 0, 1), (1, 2, 0), (0, 2)]):           # the third pass lost a result
        ids = [members[i][1].job_id for i in order]
        passes.append([EdgeStepResult(job_id=i, timing=_timing(own[i][k])) for i in ids])
    measure.apply_interleaved(members, passes, "interleaved with 2 other onnxruntime fp32 step(s)")
    for (row, step), lost_in_third in zip(members, (False, True, False)):
        expected = [own[step.job_id][k] for k in range(3) if not (k == 2 and lost_in_third)]
        got = row["latency_rounds_us"]
        assert len(got) == len(expected) and all(np.allclose(g, e, rtol=1e-12) for g, e in zip(got, expected))
        assert row["step_latency_us"] == pytest.approx(float(np.median([np.median(r) for r in expected])))
        assert row["notes"]["latency_alone_us"] == 99.0
        assert row["notes"]["latency"].endswith(f"{len(expected)} pass(es)")


def test_an_edge_step_says_what_its_kind_needs():
    with pytest.raises(ValueError, match="needs 'exported'"):
        EdgeStep(job_id="a", kind="litert", stream="s.npy")
    with pytest.raises(ValueError, match="needs 'spec' and 'weights'"):
        EdgeStep(job_id="a", kind="torch", stream="s.npy", spec={})
