"""Run an exported streaming step in its edge runtime: ONNX Runtime or LiteRT, batch 1, a fixed thread count.

Every exported graph has the same calling convention (set by ``export_onnx`` / ``export_litert``):

    inputs   x (1, X) float32, then the state tensors s_0 .. s_{S-1}
    outputs  logits (1, O) float32, then the new state tensors in the same order as the inputs

State: GRU h per layer; LSTM h and c per layer; Transformer a key/value cache of fixed capacity C per
layer plus the position t (an integer, (1,)). A runner starts from all-zero state (read from the graph's
own input shapes and dtypes), so it needs no knowledge of the architecture.

``ExportedStep`` describes one file: where it is, what graph it holds, its ops, and the input/output names
in calling-convention order (the runtimes' own names differ: LiteRT calls outputs output_0, output_1, ...).
Nothing here imports torch or TensorFlow: a fresh worker process loads only the runtime it measures.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from suite.errors import UserError

RUNTIMES = ("onnxruntime", "litert")
PRECISIONS = ("fp32", "int8")


@dataclass
class ExportedStep:
    """One exported streaming step on disk.

    path: the .onnx / .tflite file (self-contained: weights inside, no external data)
    runtime: 'onnxruntime' | 'litert';  precision: 'fp32' | 'int8'
    graph: what the graph computes the step with, e.g. 'ONNX GRU op', 'matmul cell', 'KV cache C=64'
    inputs / outputs: the runtime's names in calling-convention order (x, states... / logits, states...);
        for LiteRT the names of the file's signature (outputs output_0, output_1, ...)
    ops: sorted op types the file holds (ONNX node op_type; LiteRT builtin op names before delegation)
    capacity: the Transformer's cache capacity (positions a stream may reach), None for RNNs
    notes: anything else worth recording (opset, quantized node count, converter path, ...)
    """

    path: str
    runtime: str
    precision: str
    graph: str
    inputs: list[str]
    outputs: list[str]
    ops: list[str]
    capacity: int | None = None
    notes: dict = field(default_factory=dict)

    @property
    def file_bytes(self) -> int:
        return os.path.getsize(self.path)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ExportedStep":
        return cls(**d)


class StepRunner:
    """Base runner: ``init_state()``, ``run(x, state) -> (logits, new_state)``, ``stream(xs) -> logits``."""

    exported: ExportedStep
    state_specs: list[tuple[tuple[int, ...], np.dtype]]   # shape and dtype of each state input

    def init_state(self) -> list[np.ndarray]:
        """All-zero state: zero hidden/cell states, an empty cache and position 0."""
        return [np.zeros(shape, dtype) for shape, dtype in self.state_specs]

    def run(self, x: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        raise NotImplementedError

    def stream(self, xs: np.ndarray) -> np.ndarray:
        """xs (T, X) one sequence -> logits (T, O), the state carried from step to step."""
        capacity = self.exported.capacity
        if capacity is not None and len(xs) > capacity:
            raise UserError(f"{self.exported.path}: a stream of {len(xs)} steps exceeds the cache capacity {capacity}")
        state, out = self.init_state(), []
        for x_t in xs:
            logits, state = self.run(np.ascontiguousarray(x_t[None, :], dtype=np.float32), state)
            out.append(logits[0])
        return np.stack(out)


class OnnxRunner(StepRunner):
    """onnxruntime.InferenceSession on the CPU provider, intra_op_num_threads = threads, inter_op 1,
    sequential execution, the default graph optimisations (ORT_ENABLE_ALL)."""

    def __init__(self, exported: ExportedStep, threads: int = 1):
        import onnxruntime as ort
        self.exported = exported
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(exported.path, opts, providers=["CPUExecutionProvider"])
        by_name = {i.name: i for i in self.session.get_inputs()}
        self.state_specs = [(tuple(by_name[n].shape), _onnx_dtype(by_name[n].type)) for n in exported.inputs[1:]]
        self.output_names = list(exported.outputs)

    def run(self, x, state):
        feed = dict(zip(self.exported.inputs, [x, *state]))
        logits, *new_state = self.session.run(self.output_names, feed)
        return logits, new_state


class LiteRTRunner(StepRunner):
    """ai_edge_litert.interpreter.Interpreter(num_threads=threads) with its default delegate (XNNPACK on
    the CPU), as an app would run it; ``delegate=False`` runs the builtin kernels only."""

    def __init__(self, exported: ExportedStep, threads: int = 1, delegate: bool = True):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        self.exported = exported
        resolver = OpResolverType.AUTO if delegate else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        with quiet_fd2():   # the 'Created TensorFlow Lite XNNPACK delegate' line
            self.interpreter = Interpreter(model_path=exported.path, num_threads=threads,
                                           experimental_op_resolver_type=resolver)
            self.interpreter.allocate_tensors()
        if self.interpreter.get_signature_list():          # names of the file's one signature
            signature = self.interpreter.get_signature_runner()
            ins, outs = signature.get_input_details(), signature.get_output_details()
        else:                                              # tensor names
            ins = {d["name"]: d for d in self.interpreter.get_input_details()}
            outs = {d["name"]: d for d in self.interpreter.get_output_details()}
        self.in_index = [ins[n]["index"] for n in exported.inputs]
        self.out_index = [outs[n]["index"] for n in exported.outputs]
        self.state_specs = [(tuple(int(s) for s in ins[n]["shape"]), np.dtype(ins[n]["dtype"]))
                            for n in exported.inputs[1:]]

    def run(self, x, state):
        it = self.interpreter
        for index, value in zip(self.in_index, [x, *state]):
            it.set_tensor(index, value)
        it.invoke()
        logits, *new_state = (it.get_tensor(i) for i in self.out_index)   # copies
        return logits, new_state

    def op_names(self) -> list[str]:
        """Op names of the interpreter's execution plan (a delegated partition shows as 'DELEGATE')."""
        return sorted({d["op_name"] for d in self.interpreter._get_ops_details()})


@contextlib.contextmanager
def quiet_fd2():
    """Point file descriptor 2 at /dev/null for the block: LiteRT and TensorFlow's converter print from C++
    there, past Python's sys.stderr. Python exceptions still propagate."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _onnx_dtype(type_name: str) -> np.dtype:
    return np.dtype({"tensor(float)": np.float32, "tensor(int64)": np.int64,
                     "tensor(int32)": np.int32}[type_name])


def open_runner(exported: ExportedStep, threads: int = 1) -> StepRunner:
    """The runner for ``exported.runtime`` with ``threads`` intra-op threads."""
    if exported.runtime == "onnxruntime":
        return OnnxRunner(exported, threads)
    if exported.runtime == "litert":
        return LiteRTRunner(exported, threads)
    raise UserError(f"unknown edge runtime {exported.runtime!r}; expected one of: {', '.join(RUNTIMES)}")


def max_abs_diff(a, b) -> float:
    """max |a - b|; inf when the shapes differ or either side holds a NaN/inf (never hides a NaN)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    d = np.abs(a - b)
    return float(d.max()) if d.size and np.isfinite(d).all() else (0.0 if not d.size else float("inf"))
