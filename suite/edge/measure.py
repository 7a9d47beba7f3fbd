"""Edge rows: each torch model's step in ONNX Runtime and each Keras model's step in LiteRT, fp32 and int8,
next to the framework's own step -- file size, per-step latency, peak memory, agreement, accuracy.

``edge_rows(model_names, threads=1, seed=0, train_epochs=5, tmpdir=None)`` -> list of dicts, one per
(model, runtime, precision, graph). For each model:

1. build it (digits/rows sizes: X = 8, O = 10; width ``hidden``, ``layers``), train it ``train_epochs``
   epochs in its own framework (``suite.edge.train``) and score the test split with ``forward``
   (``framework_accuracy``);
2. feed a seed-fixed stream of ``STREAM_STEPS`` = 50 standard-normal tokens through the framework's
   ``step()`` (the reference logits);
3. export (torch -> ONNX, ``export_onnx``; Keras -> LiteRT, ``export_litert``), quantise (ORT:
   ``quantize``; LiteRT: in the converter), run the same stream in the runtime: ``max_abs_diff`` = max
   |runtime logits - framework logits| over the 50 steps; an fp32 export over ``TOLERANCE`` = 1e-5 gets
   status 'mismatch'. Then the test split, one sequence at a time, step by step -> ``accuracy``;
4. time one step (batch 1, ``threads`` threads) and take the peak memory in a fresh worker process
   (``suite.edge.worker``, started by ``suite.bench.launcher`` under the floating-point policy ``denormals``),
   also for the framework's own step (runtime 'torch' | 'keras'); the row is kept with that step, whose
   ``job_id`` is the row's key (``row_key``: model, runtime, precision, graph);
5. then the steps of each runtime x precision (and of each framework) are timed again together, interleaved
   in one process (``interleave_latencies``), and each result is joined back to its row on the job id: those
   are the rows' latencies, comparable across archs.

Row keys: model, runtime ('onnxruntime' | 'litert' | 'torch' | 'keras'), precision ('fp32' | 'int8'),
file_bytes, step_latency_us (median), max_abs_diff, accuracy, status ('ok' | 'mismatch' | 'unsupported' |
'failed'), error (one line, or None), then graph (what the exported graph computes the step with),
primary (the one row per model x runtime x precision for a headline table), latency_iqr_us, latency_n,
latency_samples_us (the interleaved passes' raw samples, pooled), latency_rounds_us (per pass: the rounds of the
claim's paired bootstrap CIs),
peak_mb (worker VmHWM - VmRSS after imports), framework_accuracy, ops (op types in the file),
sequence_ops (LiteRT fp32 rows of Keras RNNs: the ops of the whole-sequence model, a WHILE loop),
capacity (Transformer cache slots), params, hidden, layers, threads, train_epochs, file, notes. Absent
values are None: a framework row is the reference (no file, no max_abs_diff); an 'unsupported' row has
no file. Latencies on a shared machine are noisy: latency_iqr_us and latency_n say how much.

Choices (docstrings of the exporters say more): the Transformer's state is its key/value cache in
buffers of fixed capacity ``capacity`` (64; static shapes for both runtimes; every step costs a full
cache); the int8 GRU in ONNX Runtime is the 'matmul cell' graph (ORT's dynamic quantiser has no GRU op),
so gru-torch also has a non-primary fp32 'matmul cell' row and an 'unsupported' int8 'ONNX GRU op' row.
Latency is timed at context ``LATENCY_CONTEXT`` = 8 (a digits sequence), from Python, so per-call binding
overhead is included. A failure in one export or measurement becomes that row's 'failed'; the rest goes on.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from suite.bench.fp_mode import DEFAULT_POLICY, check_policy
from suite.bench.launcher import TimerOptions, run_worker
from suite.edge.runtime import ExportedStep, max_abs_diff, open_runner
from suite.edge.worker import EDGE_WORKER, EdgeStep, EdgeStepResult, EdgeWorkerJob
from suite.errors import UserError, one_line_error
from suite.schema import validate
from suite.spec import ModelSpec

EDGE_MODELS = ("gru-torch", "lstm-torch", "transformer-torch", "gru-keras", "lstm-keras", "transformer-keras")
ROW_KEYS = ("model", "runtime", "precision", "file_bytes", "step_latency_us", "max_abs_diff", "accuracy",
            "status", "error")
EXTRA_KEYS = ("graph", "primary", "latency_iqr_us", "latency_n", "latency_samples_us", "latency_rounds_us", "peak_mb", "framework_accuracy", "ops",
              "sequence_ops", "capacity", "params", "hidden", "layers", "threads", "train_epochs", "file", "notes")
STATUSES = ("ok", "mismatch", "unsupported", "failed")

TOLERANCE = 1e-5            # fp32 export vs framework step, max abs diff of the logits
STREAM_STEPS = 50
LATENCY_CONTEXT = 8
DEFAULT_HIDDEN = 64
DEFAULT_LAYERS = 1
DEFAULT_EPOCHS = 5
DEFAULT_CAPACITY = 64
DEFAULT_TIMER = {"n_samples": 20, "min_sample_s": 0.02, "max_time_s": 3.0, "min_samples": 5}
# The interleaved passes, whose samples decide the edge claim, take 4x as many samples in all: with 20 two runs of
# one commit put the GRU/LSTM geometric mean at 0.86x [0.78, 0.96] and 0.87x [0.82, 0.91], one CI across the
# 0.95 line.
INTERLEAVED_SAMPLES = 40
INTERLEAVED_SAMPLE_S = 0.01     # 250-1000 calls of a 10-40 us step per sample
# ... in three passes, each a process of its own (rounds): a slow spell in one pass widened that cell's CI to
# [0.83, 1.05] in one run; the rounds are drawn paired by the claim's bootstrap.
INTERLEAVED_PASSES = 3
WORKER_TIMEOUT_S = 300.0


# --- names ------------------------------------------------------------------------------------
def edge_models() -> list[str]:
    """Every model name the edge stage takes, from the registry: the torch and Keras implementations whose
    streaming step exports (``Implementation.edge_export``: the built-in GRU, LSTM and Transformer, the GRU in each
    convention its framework has; every plugin model in torch or Keras, whose export may still be refused: its rows
    then say why, status 'unsupported')."""
    from suite.models.registry import arch, implementations
    from suite.spec import GRU_CONVENTIONS
    out = []
    for (a, f), impl in implementations().items():
        if f not in ("torch", "keras") or not impl.edge_export:
            continue
        out.append(f"{a}-{f}")
        for convention in GRU_CONVENTIONS[1:] if arch(a).uses("convention") else ():
            try:
                ModelSpec(a, f, 1, 1, 1, convention=convention)
            except UserError:
                continue
            out.append(f"{a}-{f}-{convention}")
    return out


def is_edge_model(name: str) -> bool:
    """Whether ``edge_models()`` holds ``name``, looked up without listing every model (so no entry point is
    loaded for a built-in name)."""
    from suite.errors import UnknownNameError
    from suite.models.registry import implementation
    parts = str(name).split("-")
    if len(parts) not in (2, 3) or parts[1] not in ("torch", "keras"):
        return False
    try:
        impl = implementation(parts[0], parts[1])      # a plugin that cannot be loaded: its own UserError
    except UnknownNameError:
        return False
    try:
        ModelSpec(parts[0], parts[1], 1, 1, 1, convention=parts[2] if len(parts) == 3 else "reset_after")
    except UserError:                                 # e.g. a convention the implementation lacks
        return False
    return impl.edge_export


def check_models(names) -> list[str]:
    """Validated model names (order kept, duplicates dropped); UserError naming the first bad one."""
    names = list(EDGE_MODELS if names is None else names)
    if not names:
        raise UserError(f"edge: no models given; expected some of: {', '.join(edge_models())}")
    for name in names:
        if not is_edge_model(name):
            raise UserError(f"edge: unknown model {name!r}; expected one of: {', '.join(edge_models())}")
    return list(dict.fromkeys(names))


def edge_spec(name: str, hidden: int = DEFAULT_HIDDEN, layers: int = DEFAULT_LAYERS, seed: int = 0,
              input_size: int = 8, output_size: int = 10) -> ModelSpec:
    """'gru-keras-reset_before' -> ModelSpec for digits/rows (classes head on the last step), float32."""
    arch, framework, *rest = name.split("-")
    return ModelSpec(arch, framework, input_size, hidden, output_size, layers=layers, output="last",
                     head="classes", convention=rest[0] if rest else "reset_after", seed=seed)


# --- reference and runtime streams -------------------------------------------------------------
def stream_inputs(spec: ModelSpec, steps: int = STREAM_STEPS, seed: int = 0) -> np.ndarray:
    """(steps, X) float32 standard-normal tokens, fixed by ``seed``."""
    return np.random.default_rng([seed, 50]).standard_normal((steps, spec.input_size)).astype(np.float32)


def framework_stream(model, xs: np.ndarray) -> np.ndarray:
    """The framework's own ``step()`` over xs (T, X), batch 1 -> logits (T, O)."""
    state, out = model.init_state(1), []
    for x_t in xs:
        logits, state = model.step(x_t[None, :], state)
        out.append(np.asarray(logits)[0])
    return np.stack(out)


def runtime_accuracy(runner, split) -> float:
    """Test split through the runtime one sequence at a time, step by step; argmax of the last logits."""
    from suite.edge.train import accuracy
    last = [runner.stream(x)[-1] for x in split.x]
    return accuracy(np.stack(last), split.y)


# --- one export = one row ---------------------------------------------------------------------
@dataclass
class Planned:
    runtime: str
    precision: str
    key: str            # graph key: 'native' | 'matmul' (torch), 'cell' (Keras)
    primary: bool
    make: Callable[[dict], ExportedStep]    # exports made so far (by (precision, key)) -> this export


def plan_exports(model, outdir: Path, capacity: int) -> list[Planned]:
    """What to export for this model, fp32 before the int8 that derives from it."""
    from suite.models.registry import is_plugin
    spec, name = model.spec, model.spec.name
    plugin = is_plugin(spec.arch, spec.framework)
    if spec.framework == "torch":
        from suite.edge.export_onnx import export_onnx
        from suite.edge.quantize import quantize_onnx

        def fp32(key):
            return lambda done: export_onnx(model, str(outdir / f"{name}-{key}.onnx"), key, capacity)

        def int8(key):
            def make(done):
                if ("fp32", key) not in done:
                    raise RuntimeError(f"the fp32 {key!r} export it quantises failed")
                return quantize_onnx(done[("fp32", key)], str(outdir / f"{name}-{key}-int8.onnx"))
            return make

        plans = [Planned("onnxruntime", "fp32", "native", True, fp32("native"))]
        if spec.arch == "gru" and not plugin:   # ORT has no int8 GRU op: the matmul cell is the int8 path
            plans += [Planned("onnxruntime", "fp32", "matmul", False, fp32("matmul")),
                      Planned("onnxruntime", "int8", "native", False, int8("native")),
                      Planned("onnxruntime", "int8", "matmul", True, int8("matmul"))]
        else:
            plans.append(Planned("onnxruntime", "int8", "native", True, int8("native")))
        return plans
    from suite.edge.export_litert import export_litert

    def litert(precision):
        def make(done):
            exported = export_litert(model, str(outdir / f"{name}-{precision}.tflite"), precision, capacity)
            if precision == "int8" and not exported.notes.get("int8_tensors"):
                from suite.edge.quantize import Unsupported
                raise Unsupported("LiteRT's dynamic-range quantisation left every weight in fp32 (it quantises "
                                  "only weights of >= 1024 elements)")
            return exported
        return make

    return [Planned("litert", p, "cell", True, litert(p)) for p in ("fp32", "int8")]


def base_row(model, runtime: str, precision: str, ctx: dict) -> dict:
    row = {k: None for k in ROW_KEYS + EXTRA_KEYS}
    spec = model.spec
    row.update(model=spec.name, runtime=runtime, precision=precision, status="ok", primary=True,
               framework_accuracy=ctx.get("framework_accuracy"), params=ctx.get("params"),
               hidden=spec.hidden, layers=spec.layers, threads=ctx["threads"], train_epochs=ctx["train_epochs"])
    return row


def export_row(model, plan: Planned, done: dict, ctx: dict) -> dict:
    """Export (or quantise), check against the framework, score, time: one row; never raises."""
    from suite.edge.quantize import Unsupported
    row = base_row(model, plan.runtime, plan.precision, ctx)
    row["primary"] = plan.primary
    try:
        exported = plan.make(done)
        done[(plan.precision, plan.key)] = exported
        row.update(graph=exported.graph, file_bytes=exported.file_bytes, ops=exported.ops,
                   capacity=exported.capacity, file=exported.path, notes=exported.notes)
        if plan.runtime == "litert" and plan.precision == "fp32" and model.spec.arch != "transformer":
            from suite.edge.export_litert import sequence_ops
            row["sequence_ops"] = sequence_ops(model)
        runner = open_runner(exported, ctx["threads"])
        row["max_abs_diff"] = max_abs_diff(runner.stream(ctx["xs"]), ctx["reference"])
        if plan.precision == "fp32" and not row["max_abs_diff"] <= TOLERANCE:
            row["status"] = "mismatch"
            row["error"] = (f"fp32 {plan.runtime} logits differ from {model.spec.framework}'s step(): max abs diff "
                            f"{row['max_abs_diff']:.3g} > {TOLERANCE:g} over {len(ctx['xs'])} steps")
        if ctx.get("test") is not None:
            row["accuracy"] = runtime_accuracy(runner, ctx["test"])
        if ctx["latency"]:
            step = EdgeStep(job_id=row_key(row, exported.graph), kind=plan.runtime, stream=ctx["stream_path"],
                            exported=exported.to_dict())
            _time_alone(row, step, ctx)
    except Unsupported as err:
        row.update(status="unsupported", error=str(err))
    except Exception as err:  # noqa: BLE001 -- a failed row; the other exports go on
        if _plugin(model):          # a plugin's step that does not export: recorded, not a failure of the suite
            row.update(status="unsupported", error=f"the {plan.runtime} export of the plugin's step failed: "
                                                   f"{one_line_error(err)}")
        else:
            row.update(status="failed", error=one_line_error(err))
    if row["graph"] is None:
        row["graph"] = _graph_label(model.spec, plan.key, ctx["capacity"])
    return row


def _plugin(model) -> bool:
    from suite.models.registry import is_plugin
    return is_plugin(model.spec.arch, model.spec.framework)


def _graph_label(spec: ModelSpec, key: str, capacity: int) -> str:
    from suite.models.registry import is_plugin
    if is_plugin(spec.arch, spec.framework):
        return "encoder step()"
    if spec.arch == "transformer":
        return f"KV cache C={capacity}"
    return {"native": f"ONNX {spec.arch.upper()} op", "matmul": "matmul cell", "cell": "keras cell"}[key]


def framework_row(model, ctx: dict) -> dict:
    """The framework's own step() as a row of its own (runtime 'torch' | 'keras')."""
    spec = model.spec
    row = base_row(model, spec.framework, "fp32", ctx)
    row.update(graph="eager step()" if spec.framework == "torch" else "step() (tf.function)",
               accuracy=ctx.get("framework_accuracy"))
    if ctx["latency"]:
        try:
            weights = Path(ctx["workdir"]) / f"{spec.name}.weights.npz"
            np.savez(weights, **model.get_weights())
            step = EdgeStep(job_id=row_key(row, row["graph"]), kind=spec.framework, stream=ctx["stream_path"],
                            spec=spec.to_dict(), weights=str(weights))
            _time_alone(row, step, ctx)
        except Exception as err:  # noqa: BLE001
            row.update(status="failed", error=one_line_error(err))
    return row


def row_key(row: dict, graph: str) -> str:
    """The id a row's latency job carries to its worker and back: model, runtime, precision and graph."""
    return f"{row['model']} {row['runtime']} {row['precision']} {graph}"


def edge_job(steps: list[EdgeStep], ctx: dict, interleaved: bool = False, timer: TimerOptions | None = None
             ) -> EdgeWorkerJob:
    """The payload of one edge worker: ``steps`` at the run's threads, policy and timer, at LATENCY_CONTEXT."""
    from suite.models.registry import plugin_modules
    specs = [s.spec for s in steps if s.spec is not None]
    return EdgeWorkerJob(threads=ctx["threads"], denormals=ctx["denormals"], plugins=plugin_modules(specs),
                         timer=timer or ctx["timer"], context=LATENCY_CONTEXT, interleaved=interleaved, steps=steps)


def time_step(step: EdgeStep, ctx: dict) -> EdgeStepResult:
    """``step`` timed alone in a fresh ``suite.edge.worker`` process, with its memory figures; WorkerFailed (one
    line) when the worker fails."""
    return run_worker(EDGE_WORKER, edge_job([step], ctx), timeout_s=WORKER_TIMEOUT_S, workdir=ctx["workdir"]).only()


def _time_alone(row: dict, step: EdgeStep, ctx: dict) -> None:
    """Time the row's step alone and put its latency and peak memory in the row; the row is then kept with
    its step (``ctx['timed']``) for the interleaved passes (``interleave_latencies``)."""
    result = time_step(step, ctx)
    row.update(step_latency_us=result.timing.median_s * 1e6, latency_iqr_us=result.timing.iqr_s * 1e6,
               latency_n=result.timing.n, peak_mb=result.memory.peak_mb if result.memory else None)
    if result.runtime_ops:
        row["notes"] = {**(row["notes"] or {}), "runtime_ops": result.runtime_ops}
    ctx["timed"].append((row, step))


def interleave_latencies(timed: list[tuple[dict, EdgeStep]], ctx: dict) -> None:
    """Re-time the steps of each runtime x precision (and each framework) together in ONE process, interleaved
    (``suite.edge.worker``), and make those the rows' step_latency_us, latency_iqr_us and latency_n.

    Measured on these 2-core VMs, one fresh process per export gave latencies that moved 2x between runs
    for the same file (ONNX Runtime fp32 GRU 53.6, 48.1, 26.5 us; LiteRT int8 LSTM 12.6, 12.3, 6.7 us), enough
    to turn 'GRU faster' into 'GRU slower'; steps timed side by side see the same machine. The latency of
    the single-export process stays in notes['latency_alone_us']; a group that fails keeps it as the figure.
    ``timed``: each row with the step its latency was taken from; the passes' results are joined to the rows by
    the steps' job ids."""
    groups: dict[tuple, list[tuple[dict, EdgeStep]]] = {}
    for row, step in timed:
        if row.get("step_latency_us") is not None:
            groups.setdefault((row["runtime"], row["precision"]), []).append((row, step))
    base = ctx["timer"]
    timer = base.model_copy(update={"n_samples": max(base.n_samples, INTERLEAVED_SAMPLES),
                                    "min_sample_s": min(base.min_sample_s, INTERLEAVED_SAMPLE_S)})
    for (runtime, precision), members in groups.items():
        if len(members) < 2:
            continue
        job = edge_job([step for _, step in members], ctx, interleaved=True, timer=timer)
        passes = []
        for _ in range(INTERLEAVED_PASSES):
            run = run_worker(EDGE_WORKER, job, timeout_s=WORKER_TIMEOUT_S, workdir=ctx["workdir"])
            if run.problem is None:
                passes.append(run.records)
        apply_interleaved(members, passes, f"interleaved with {len(members) - 1} other {runtime} {precision} step(s)")


def apply_interleaved(members: list[tuple[dict, EdgeStep]], passes: list[list[EdgeStepResult]], how: str) -> None:
    """Put the interleaved passes' latencies in the rows: each row takes the results whose job id is its step's
    (in whatever order a pass wrote them); its latency is the median of the passes' medians, its IQR and n over
    the pooled samples (microseconds). A row no pass timed keeps its latency alone."""
    by_id = [{r.job_id: r for r in results} for results in passes]
    for row, step in members:
        found = [p.get(step.job_id) for p in by_id]
        rounds = [[x * 1e6 for x in r.timing.samples_s] for r in found if r is not None and r.timing is not None]
        if not rounds:
            continue
        pooled = sorted(x for r in rounds for x in r)
        q1, q3 = np.percentile(pooled, [25, 75])
        row["notes"] = {**(row["notes"] or {}), "latency_alone_us": row["step_latency_us"],
                        "latency": f"{how}, {len(rounds)} pass(es)"}
        row.update(step_latency_us=float(np.median([np.median(r) for r in rounds])),
                   latency_iqr_us=float(q3 - q1), latency_n=len(pooled), latency_samples_us=pooled,
                   latency_rounds_us=rounds)


# --- the whole table --------------------------------------------------------------------------
def edge_rows(model_names=None, threads: int = 1, seed: int = 0, train_epochs: int = DEFAULT_EPOCHS,
              tmpdir=None, *, hidden: int = DEFAULT_HIDDEN, layers: int = DEFAULT_LAYERS,
              capacity: int = DEFAULT_CAPACITY, latency: bool = True, timer: dict | None = None,
              accuracy: bool = True, denormals: str = DEFAULT_POLICY) -> list[dict]:
    """Rows (module docstring) for ``model_names`` (default: the six of EDGE_MODELS; any of ``edge_models()``).

    tmpdir: where the exported files go (kept); None = a temporary directory removed afterwards (the
    rows' 'file' then names a deleted file). latency=False skips the worker processes (no latency,
    no peak memory); accuracy=False skips training and the test-split scoring (train_epochs ignored).
    timer: keys of ``suite.bench.launcher.TimerOptions`` over DEFAULT_TIMER; denormals: the floating-point
    policy of the latency workers (``suite.bench.fp_mode``).
    """
    names = check_models(model_names)
    check_policy(denormals, "edge: denormals")
    timer_options = validate(TimerOptions, {**DEFAULT_TIMER, **(timer or {})}, "edge: timer")
    for key, value in (("threads", threads), ("hidden", hidden), ("layers", layers), ("capacity", capacity)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserError(f"edge: {key} must be a positive integer, got {value!r}")
    if not isinstance(train_epochs, int) or isinstance(train_epochs, bool) or train_epochs < 0:
        raise UserError(f"edge: train_epochs must be a non-negative integer, got {train_epochs!r}")
    if capacity < STREAM_STEPS:
        raise UserError(f"edge: capacity must be >= {STREAM_STEPS} (the checked stream's length), got {capacity}")
    if tmpdir is None:
        with tempfile.TemporaryDirectory(prefix="suite-edge-") as tmp:
            rows = _edge_rows(names, threads, seed, train_epochs, Path(tmp), hidden, layers, capacity,
                              latency, timer_options, accuracy, denormals)
        for row in rows:   # the files are gone: keep their names only
            row["file"] = row["file"] and os.path.basename(row["file"])
        return rows
    outdir = Path(tmpdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        probe = outdir / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise UserError(f"edge: cannot write to --out {str(outdir)!r}: {err.strerror or err}") from None
    return _edge_rows(names, threads, seed, train_epochs, outdir, hidden, layers, capacity, latency, timer_options,
                      accuracy, denormals)


def _edge_rows(names, threads, seed, train_epochs, outdir: Path, hidden, layers, capacity, latency,
               timer: TimerOptions, accuracy, denormals) -> list[dict]:
    from suite.edge import train as training
    data = training.digits_data(seed) if accuracy else None
    rows: list[dict] = []
    timed: list[tuple[dict, EdgeStep]] = []       # each timed row with the step it was timed from
    with tempfile.TemporaryDirectory(prefix="suite-edge-work-") as workdir:
        for name in names:
            spec = edge_spec(name, hidden, layers, seed)
            xs = stream_inputs(spec, max(STREAM_STEPS, LATENCY_CONTEXT + 1), seed)
            stream_path = Path(workdir) / f"{name}.stream.npy"
            np.save(stream_path, xs)
            ctx = {"threads": threads, "train_epochs": train_epochs if accuracy else 0, "latency": latency,
                   "timer": timer, "denormals": denormals, "workdir": workdir, "capacity": capacity,
                   "stream_path": str(stream_path), "xs": xs[:STREAM_STEPS], "test": None, "timed": timed}
            try:
                with _torch_threads(spec.framework, threads):
                    from suite.models import build_model
                    model = build_model(spec)
                    ctx["params"] = int(model.num_params())
                    if accuracy:
                        training.train(model, data, train_epochs, seed)
                        ctx["framework_accuracy"] = training.accuracy(model.forward(data.test.x), data.test.y)
                        ctx["test"] = data.test
                    ctx["reference"] = framework_stream(model, ctx["xs"])
                    rows.append(framework_row(model, ctx))
                    done: dict = {}
                    for plan in plan_exports(model, outdir, capacity):
                        rows.append(export_row(model, plan, done, ctx))
            except Exception as err:  # noqa: BLE001 -- the model could not be built/trained: its rows fail
                rows.extend(_failed_rows(spec, ctx, one_line_error(err)))
        if latency and timed:
            interleave_latencies(timed, {"threads": threads, "denormals": denormals, "workdir": workdir,
                                         "timer": timer})
    return rows


def _failed_rows(spec: ModelSpec, ctx: dict, error: str) -> list[dict]:
    runtime = "onnxruntime" if spec.framework == "torch" else "litert"
    out = []
    for rt, precision in ((spec.framework, "fp32"), (runtime, "fp32"), (runtime, "int8")):
        row = {k: None for k in ROW_KEYS + EXTRA_KEYS}
        row.update(model=spec.name, runtime=rt, precision=precision, status="failed", error=error, primary=True,
                   hidden=spec.hidden, layers=spec.layers, threads=ctx["threads"], train_epochs=ctx["train_epochs"])
        out.append(row)
    return out


@contextlib.contextmanager
def _torch_threads(framework: str, threads: int):
    """PyTorch's intra-op threads set to ``threads`` for the block and restored after. TensorFlow's are left
    alone: they are fixed once per process (the harness's choice); the timed steps run in fresh workers."""
    if framework != "torch":
        yield
        return
    import torch
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


# --- presentation -------------------------------------------------------------------------------
def format_table(rows: list[dict]) -> str:
    """Fixed-width text table: model, runtime, precision, graph, bytes, µs/step (median, IQR, n), peak MiB,
    max diff, accuracy (framework / this row), status, error."""
    header = ("model", "runtime", "prec", "graph", "bytes", "us/step (IQR, n)", "peak MiB", "max diff",
              "acc fw / row", "status")
    lines = [header]
    for r in rows:
        lat = "-" if r["step_latency_us"] is None else \
            f"{r['step_latency_us']:.1f} ({r['latency_iqr_us']:.1f}, {r['latency_n']})"
        acc = "-" if r["accuracy"] is None else f"{_fmt(r['framework_accuracy'], '.3f')} / {r['accuracy']:.3f}"
        status = r["status"] + ("" if r["primary"] else "*") + (f": {r['error']}" if r["error"] else "")
        lines.append((r["model"], r["runtime"], r["precision"], r["graph"] or "-", _fmt(r["file_bytes"], "d"), lat,
                      _fmt(r["peak_mb"], ".1f"), _fmt(r["max_abs_diff"], ".2e"), acc, status))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    text = [" ".join(str(c).ljust(w) for c, w in zip(line[:-1], widths)) + " " + str(line[-1]) for line in lines]
    return "\n".join(text + ["* not the primary row of its model x runtime x precision (see 'graph')"])


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)
