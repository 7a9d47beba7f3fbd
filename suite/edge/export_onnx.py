"""PyTorch streaming step -> ONNX, with ``torch.onnx.export(dynamo=True)`` (torch.export + onnxscript).

Three graphs, all with the calling convention of ``suite.edge.runtime`` (x, states -> logits, states),
batch 1, the task head included (the logits of the one step):

    'ONNX GRU op' / 'ONNX LSTM op'   GRU, LSTM: the model's own ``nn.GRU`` / ``nn.LSTM`` on a length-1
        sequence plus its ``nn.Linear`` head -- exactly what ``TorchRecurrentModel.step`` runs. The exporter
        emits ONNX's GRU / LSTM operator. State h (L, 1, H) [and c (L, 1, H)].
    'matmul cell'   GRU, LSTM: the same cell written as matrix products and element-wise ops from the
        canonical weights (MatMul + Add + Sigmoid/Tanh/Mul), state as above. ONNX Runtime's dynamic
        quantisation has no GRU operator (it quantises MatMul, Conv, Attention and LSTM only), so this
        graph is the int8 path for the GRU (``suite.edge.quantize``).
    'encoder step()'   a plugin model (``suite.models.registry``): its encoder's own ``step(x_t, state)`` plus the
        head, the state as the encoder's ``init_state(1)`` gives it (a tensor or a flat tuple of tensors, zeros).
        An encoder without a step (its streaming recomputes the prefix) has nothing of fixed shape to export.
    'KV cache C=<C>'   Transformer: its key/value cache as state, held in preallocated buffers of fixed
        capacity C (static shapes, as edge runtimes want them). State per layer K, V (1, n, C, d), then
        the position t (1,) int64. The new token's k, v are written at slot t through a one-hot mask;
        slots > t are masked out of the softmax (-inf), so the logits equal the framework's growing-cache
        step for every t < C. Cost per step is that of a full cache of C positions, whatever t is.

The GRU trap: onnxscript before 0.7.1 wrote nn.GRU as an ONNX GRU node with linear_before_reset=0
(the reset gate applied before the recurrent matmul, Cho et al.'s form), which is not what PyTorch
computes; numbers came out wrong without any error. ``check_gru_nodes`` refuses such a graph, and every
export is compared with the framework's own step over a stream (``suite.edge.measure``).
"""
from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from suite.edge.runtime import ExportedStep
from suite.models.torch.transformer import LN_EPS, sinusoidal_positions

DEFAULT_CAPACITY = 64   # Transformer cache positions in the exported graph


class ExportError(RuntimeError):
    """The export produced a graph that computes something else (e.g. the GRU trap)."""


# --- graphs (torch modules with flat inputs and outputs) ---------------------------------------
class RecurrentStep(nn.Module):
    """The model's own nn.GRU / nn.LSTM on one token + its head: x (1, X), h [, c] (L, 1, H)."""

    def __init__(self, model):
        super().__init__()
        self.rnn, self.head = model.net.encoder.rnn, model.net.head
        self.lstm = isinstance(self.rnn, nn.LSTM)

    def forward(self, x, *state):
        hx = tuple(state) if self.lstm else state[0]
        out, new = self.rnn(x[:, None, :], hx)                  # out (1, 1, H)
        new = tuple(new) if self.lstm else (new,)
        return (self.head(out[:, 0]), *new)                     # logits (1, O), states


def _param(a: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.as_tensor(np.asarray(a, dtype=np.float32)), requires_grad=False)


class MatmulCellStep(nn.Module):
    """GRU (reset_after) or LSTM cell as MatMul + element-wise ops from canonical weights (row-vector form).

    GRU  gi = x W_i + b_i, gh = h W_h + b_h (1, 3H), gates r|z|n:
         r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h' = (1 − z) ⊙ n + z ⊙ h
    LSTM g = x W_i + b_i + h W_h + b_h (1, 4H), gates i|f|g|o: c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c')
    head logits = h_top W + b.  State: h (L, 1, H) [, c (L, 1, H)], as the 'ONNX GRU/LSTM op' graph.
    """

    def __init__(self, arch: str, weights: dict[str, np.ndarray], layers: int):
        super().__init__()
        self.arch, self.layers = arch, layers
        self.params = nn.ParameterDict({k.replace(".", "_"): _param(v) for k, v in weights.items()})

    def w(self, name: str) -> torch.Tensor:
        return self.params[name.replace(".", "_")]

    def forward(self, x, *state):
        h_all = state[0]                                        # (L, 1, H)
        c_all = state[1] if self.arch == "lstm" else None
        inp, hs, cs = x, [], []
        for k in range(self.layers):
            h = h_all[k]                                        # (1, H)
            gi = inp @ self.w(f"l{k}.W_i") + self.w(f"l{k}.b_i")
            gh = h @ self.w(f"l{k}.W_h") + self.w(f"l{k}.b_h")
            if self.arch == "gru":
                i_r, i_z, i_n = gi.chunk(3, dim=-1)
                h_r, h_z, h_n = gh.chunk(3, dim=-1)
                r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
                n = torch.tanh(i_n + r * h_n)
                h = (1 - z) * n + z * h
            else:
                gi_, gf, gg, go = (gi + gh).chunk(4, dim=-1)
                c = torch.sigmoid(gf) * c_all[k] + torch.sigmoid(gi_) * torch.tanh(gg)
                h = torch.sigmoid(go) * torch.tanh(c)
                cs.append(c)
            hs.append(h)
            inp = h
        logits = inp @ self.w("head.W") + self.w("head.b")      # (1, O)
        new = (torch.stack(hs),) + ((torch.stack(cs),) if self.arch == "lstm" else ())
        return (logits, *new)


class TransformerCacheStep(nn.Module):
    """The causal pre-LN Transformer's step with a fixed-capacity key/value cache, from canonical weights.

    x (1, X); per layer K, V (1, n, C, d); t (1,) int64 -> logits (1, O), new K, V per layer, t + 1.
    """

    def __init__(self, spec, weights: dict[str, np.ndarray], capacity: int):
        super().__init__()
        self.L, self.D, self.n, self.C = spec.layers, spec.hidden, spec.attention_heads, capacity
        self.d = self.D // self.n
        self.params = nn.ParameterDict({k.replace(".", "_"): _param(v) for k, v in weights.items()})
        self.register_buffer("pe", sinusoidal_positions(0, capacity, self.D, torch.float32))   # (C, D)
        self.register_buffer("slots", torch.arange(capacity))                                  # (C,)

    def w(self, name: str) -> torch.Tensor:
        return self.params[name.replace(".", "_")]

    def ln(self, h, prefix: str):
        return F.layer_norm(h, (self.D,), self.w(f"{prefix}.g"), self.w(f"{prefix}.b"), LN_EPS)

    def forward(self, x, *state):
        caches, t = state[:-1], state[-1]                       # t (1,) int64
        n, d, C = self.n, self.d, self.C
        h = x @ self.w("in.W") + self.w("in.b") + self.pe[t]    # (1, D)
        write = (self.slots == t).to(x.dtype).view(1, 1, C, 1)  # one-hot slot t
        visible = (self.slots <= t).view(1, 1, 1, C)            # positions 0..t
        new = []
        for k in range(self.L):
            K, V = caches[2 * k], caches[2 * k + 1]             # (1, n, C, d)
            a = self.ln(h, f"l{k}.ln1")
            q, kk, v = (a @ self.w(f"l{k}.attn.W_{p}") + self.w(f"l{k}.attn.b_{p}") for p in "qkv")
            q, kk, v = (u.view(1, n, 1, d) for u in (q, kk, v))   # (1, n, 1, d)
            K = K * (1 - write) + kk * write
            V = V * (1 - write) + v * write
            scores = (q @ K.transpose(-1, -2)) / math.sqrt(d)     # (1, n, 1, C)
            scores = torch.where(visible, scores, torch.full_like(scores, float("-inf")))
            ctx = torch.softmax(scores, dim=-1) @ V                # (1, n, 1, d)
            h = h + ctx.reshape(1, self.D) @ self.w(f"l{k}.attn.W_o") + self.w(f"l{k}.attn.b_o")
            f = torch.relu(self.ln(h, f"l{k}.ln2") @ self.w(f"l{k}.ff.W_1") + self.w(f"l{k}.ff.b_1"))
            h = h + f @ self.w(f"l{k}.ff.W_2") + self.w(f"l{k}.ff.b_2")
            new += [K, V]
        logits = self.ln(h, "ln_f") @ self.w("head.W") + self.w("head.b")
        return (logits, *new, t + 1)


class EncoderStep(nn.Module):
    """A plugin encoder's own ``step(x_t, state)`` and the head: x (1, X), the flat state tensors -> logits (1, O),
    the new state tensors in the same order (``suite.models.torch.encoder``)."""

    def __init__(self, model, tuple_state: bool):
        super().__init__()
        self.encoder, self.head, self.tuple_state = model.net.encoder, model.net.head, tuple_state

    def forward(self, x, *state):
        h, new = self.encoder.step(x, tuple(state) if self.tuple_state else state[0])     # h (1, H)
        return (self.head(h), *(tuple(new) if self.tuple_state else (new,)))


def encoder_step_module(model) -> tuple[nn.Module, tuple, list[str], str]:
    """(module, example inputs, state names, graph label) of a plugin encoder's step; ``Unsupported`` when the
    encoder has no step (its streaming recomputes the prefix: no fixed-shape state to export) or its state is
    not a tensor or a flat tuple of tensors."""
    from suite.edge.quantize import Unsupported
    from suite.models.torch.encoder import has_step
    spec = model.spec
    if not has_step(model.net.encoder):
        raise Unsupported(f"{spec.name}: its encoder has no step(x_t, state) and init_state(batch_size); its "
                          f"streaming recomputes the prefix, which has no fixed-shape state to export")
    state = model.net.encoder.init_state(1)
    tuple_state = isinstance(state, (tuple, list))
    states = list(state) if tuple_state else [state]
    if not all(isinstance(t, torch.Tensor) for t in states):
        raise Unsupported(f"{spec.name}: its state must be a tensor or a flat tuple of tensors to export, got "
                          f"{type(state).__name__}")
    x = torch.zeros(1, spec.input_size)
    names = [f"s{i}" for i in range(len(states))]
    return EncoderStep(model, tuple_state).eval(), (x, *(t.detach().clone() for t in states)), names, \
        "encoder step()"


# --- export ----------------------------------------------------------------------------------
def step_module(model, graph: str, capacity: int = DEFAULT_CAPACITY) -> tuple[nn.Module, tuple, list[str], str]:
    """(module, example inputs, state names, graph label) for a torch model and 'native' | 'matmul'; a plugin
    model's 'native' graph is its encoder's own step (``encoder_step_module``)."""
    from suite.models.registry import is_plugin
    spec = model.spec
    if spec.framework != "torch" or spec.dtype != "float32":
        raise ExportError(f"{spec.name}: the ONNX export takes float32 torch models")
    if is_plugin(spec.arch, spec.framework):
        if graph != "native":
            raise ExportError(f"{spec.name}: a plugin model exports its 'native' graph only, not {graph!r}")
        return encoder_step_module(model)
    x = torch.zeros(1, spec.input_size)
    if spec.arch == "transformer":
        n = spec.attention_heads
        cache = torch.zeros(1, n, capacity, spec.hidden // n)
        states = [cache.clone() for _ in range(2 * spec.layers)] + [torch.zeros(1, dtype=torch.int64)]
        names = [f"{kv}{k}" for k in range(spec.layers) for kv in ("K", "V")] + ["t"]
        module = TransformerCacheStep(spec, model.get_weights(), capacity)
        return module.eval(), (x, *states), names, f"KV cache C={capacity}"
    h = torch.zeros(spec.layers, 1, spec.hidden)
    states = [h, h.clone()] if spec.arch == "lstm" else [h]
    names = ["h", "c"] if spec.arch == "lstm" else ["h"]
    if graph == "native":
        return RecurrentStep(model).eval(), (x, *states), names, f"ONNX {spec.arch.upper()} op"
    if graph == "matmul":
        return MatmulCellStep(spec.arch, model.get_weights(), spec.layers).eval(), (x, *states), names, "matmul cell"
    raise ExportError(f"unknown graph {graph!r}; expected 'native' or 'matmul'")


def export_onnx(model, path: str, graph: str = "native", capacity: int = DEFAULT_CAPACITY) -> ExportedStep:
    """Export one step of a torch model to ``path`` (one self-contained .onnx file) and check its GRU nodes.

    graph: 'native' (the model's own modules; the only one for the Transformer) | 'matmul' (GRU/LSTM cell
    as matrix products). The exporter's progress lines and warnings are swallowed; errors propagate.
    """
    import onnx
    module, args, state_names, label = step_module(model, graph, capacity)
    inputs = ["x", *state_names]
    outputs = ["logits", *(f"{s}_out" for s in state_names)]
    with torch.no_grad(), _quiet():
        program = torch.onnx.export(module, args, dynamo=True, input_names=inputs, output_names=outputs,
                                    external_data=False, verbose=False)
        program.save(path, external_data=False)
    proto = onnx.load(path)
    check_gru_nodes(proto)
    capacity_ = capacity if model.spec.arch == "transformer" else None
    return ExportedStep(path=str(path), runtime="onnxruntime", precision="fp32", graph=label,
                        inputs=inputs, outputs=outputs, ops=onnx_ops(proto), capacity=capacity_,
                        notes={"exporter": "torch.onnx.export(dynamo=True)", "opset": onnx_opset(proto)})


def onnx_ops(proto) -> list[str]:
    """Sorted op types of the main graph's nodes."""
    return sorted({node.op_type for node in proto.graph.node})


def onnx_opset(proto) -> int | None:
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)


def check_gru_nodes(proto) -> None:
    """Every ONNX GRU node must have linear_before_reset=1 (PyTorch's form: r ⊙ (h W_hn + b_hn)).

    Raises ExportError naming the node otherwise (the attribute defaults to 0 when absent)."""
    import onnx
    for node in proto.graph.node:
        if node.op_type != "GRU":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("linear_before_reset", 0) != 1:
            raise ExportError(f"GRU node {node.name!r} has linear_before_reset={attrs.get('linear_before_reset', 0)}; "
                              "PyTorch's GRU needs 1 (an onnxscript older than 0.7.1 writes 0: upgrade it)")


@contextlib.contextmanager
def _quiet():
    """Silence the exporter's progress prints, Python warnings and torch.onnx/torch.export log lines."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._export", "onnxscript")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
