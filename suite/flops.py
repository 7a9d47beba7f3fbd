"""Analytic FLOPs of the suite's models, and the machine's measured matmul peak.

Convention: matrix products only, one multiply-add = 2 FLOPs (``x @ W`` with x (B, K), W (K, N)
costs 2 B K N). Elementwise work (gate nonlinearities, Hadamard products, softmax, LayerNorm,
biases, the loss) is not counted: it is O(B T H) against the O(B T H^2) matmuls, and
``torch.utils.flop_counter.FlopCounterMode`` counts the same way, so the two agree exactly where
torch counts at all (it counts nothing inside the fused oneDNN LSTM kernel or CPU SDPA).

Shape legend: B batch, T time, X input, H hidden (= D for the Transformer), O head outputs,
L layers, G gates (GRU 3, LSTM 4), F feed-forward width, c streaming context length.

Forward, recurrent layer k with input width X_k (X_0 = X, else H):
    input projection   2 B T X_k G H        (x_t W_i for every t)
    recurrent matmul   2 B T H G H          (h_{t-1} W_h; step 0 counted though h_0 = 0, like torch)
Forward, Transformer (causal, pre-LN), per layer:
    Q, K, V, output    4 x 2 B T D^2
    scores Q K^T       2 B T^2 D            (the full T x T product; the causal mask discards half,
    weights @ V        2 B T^2 D             but implementations compute it all)
    feed-forward       2 x 2 B T D F
  plus the input projection 2 B T X D.
Head: 2 B H O for output='last', 2 B T H O for output='sequence'.
Training step ~= 3 x forward: backward costs ~2 x forward (per matmul one product for the weight
gradient, one for the input gradient; the first layer needs no input gradient, so this slightly
overestimates); the Adam update is elementwise and not counted.
Streaming step at context c (batch B, usually 1): one time step. GRU/LSTM: the forward at T = 1.
Transformer: the new token's Q, K, V, output and FF products at T = 1, and attention over the
c cached positions plus itself: 2 x 2 B (c + 1) D.
"""
from __future__ import annotations

from functools import lru_cache

from suite.errors import UserError
from suite.spec import ModelSpec

GATES = {"gru": 3, "lstm": 4}
TRAIN_OVER_FORWARD = 3.0      # training step FLOPs / forward FLOPs (see module docstring)


def _check_sizes(**sizes) -> None:
    for key, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UserError(f"flops: {key} must be a non-negative integer, got {value!r}")


def head_flops(spec: ModelSpec, batch: int, seq_len: int) -> int:
    """2 B H O per position the head reads (the last one, or all T)."""
    positions = seq_len if spec.output == "sequence" else 1
    return 2 * batch * positions * spec.hidden * spec.output_size


def recurrent_encoder_flops(spec: ModelSpec, batch: int, seq_len: int) -> int:
    """Sum over layers of 2 B T (X_k + H) G H."""
    G, H = GATES[spec.arch], spec.hidden
    return sum(2 * batch * seq_len * ((spec.input_size if k == 0 else H) + H) * G * H
               for k in range(spec.layers))


def transformer_layer_flops(spec: ModelSpec, batch: int, queries: int, keys: int) -> int:
    """One pre-LN layer: ``queries`` new positions attending to ``keys`` positions.

    8 B q D^2 (Q, K, V, out) + 4 B q k D (scores, weights @ V) + 4 B q D F (feed-forward).
    """
    D, F = spec.hidden, spec.ff_width
    return 8 * batch * queries * D * D + 4 * batch * queries * keys * D + 4 * batch * queries * D * F


def transformer_encoder_flops(spec: ModelSpec, batch: int, seq_len: int) -> int:
    inp = 2 * batch * seq_len * spec.input_size * spec.hidden
    return inp + spec.layers * transformer_layer_flops(spec, batch, seq_len, seq_len)


def forward_flops(spec: ModelSpec, batch: int, seq_len: int) -> int:
    """Matmul FLOPs of one forward pass over (B, T, X) inputs, head included."""
    _check_sizes(batch=batch, seq_len=seq_len)
    if spec.arch in GATES:
        encoder = recurrent_encoder_flops(spec, batch, seq_len)
    else:
        encoder = transformer_encoder_flops(spec, batch, seq_len)
    return encoder + head_flops(spec, batch, seq_len)


def train_step_flops(spec: ModelSpec, batch: int, seq_len: int) -> int:
    """~3 x forward: forward + backward (weight and input gradients); Adam not counted."""
    return int(TRAIN_OVER_FORWARD * forward_flops(spec, batch, seq_len))


def step_flops(spec: ModelSpec, context: int, batch: int = 1) -> int:
    """One streaming step after ``context`` earlier steps (head on the one new position)."""
    _check_sizes(context=context, batch=batch)
    head = 2 * batch * spec.hidden * spec.output_size
    if spec.arch in GATES:
        return recurrent_encoder_flops(spec, batch, 1) + head
    inp = 2 * batch * spec.input_size * spec.hidden
    return inp + spec.layers * transformer_layer_flops(spec, batch, 1, context + 1) + head


# --- the machine's peak --------------------------------------------------------------------
def matmul_peak_gflops(threads: int, framework: str, size: int = 1024, max_time_s: float = 2.0) -> float:
    """Measured float32 GFLOP/s of the best (size x size) @ (size x size) matmul in ``framework``.

    The best over the framework's matmul paths (``matmul_gflops_by_path``): on this machine torch's
    ``torch.mm`` goes through MKL (~105 GFLOP/s on one AMD EPYC core) while its oneDNN path reaches
    ~240, as TensorFlow's does; a fused oneDNN kernel (nn.LSTM) would otherwise exceed "the peak".
    """
    return max(matmul_gflops_by_path(threads, framework, size, max_time_s).values())


def matmul_gflops_by_path(threads: int, framework: str, size: int = 1024,
                          max_time_s: float = 2.0) -> dict[str, float]:
    """GFLOP/s per matmul path: 2 size^3 FLOPs per call over the median time of
    ``suite.timing.Timer``. The thread count must be the one the measured models use: torch and
    numpy are set here; TensorFlow must already run with it (``suite.timing.set_threads`` in a
    fresh process) or this raises."""
    _check_sizes(threads=threads, size=size)
    return dict(_peaks_cached(threads, framework, size, max_time_s))


@lru_cache(maxsize=None)
def _peaks_cached(threads: int, framework: str, size: int, max_time_s: float) -> tuple:
    from suite.timing import Timer, set_threads
    set_threads(threads, framework)
    out = []
    for path, matmul in _matmul_fns(framework, size).items():
        m = Timer(matmul, label=f"matmul {size} {path}", threads=threads).measure(
            n_samples=7, min_sample_s=0.02, max_time_s=max_time_s)
        out.append((path, 2 * size ** 3 / m.median / 1e9))
    return tuple(out)


def _matmul_fns(framework: str, size: int) -> dict:
    """Zero-argument callables, one float32 square matmul each, per available path."""
    if framework == "numpy":
        import numpy as np
        a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
        return {"numpy matmul": lambda: a @ a}
    if framework == "torch":
        import torch
        a = torch.randn(size, size, generator=torch.Generator().manual_seed(0))
        fns = {"torch.mm": lambda: torch.mm(a, a)}
        if torch.backends.mkldnn.is_available():
            a_onednn = a.to_mkldnn()
            fns["onednn linear"] = lambda: torch._C._nn.mkldnn_linear(a_onednn, a_onednn)
        return fns
    if framework == "keras":
        import tensorflow as tf
        a = tf.random.stateless_normal((size, size), seed=(0, 0), dtype=tf.float32)
        return {"tf.linalg.matmul": lambda: tf.linalg.matmul(a, a)}   # eager CPU ops run synchronously
    raise UserError(f"matmul_peak_gflops: unknown framework {framework!r}; expected numpy, torch or keras")
