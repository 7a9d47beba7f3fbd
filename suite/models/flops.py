"""Analytic FLOPs of the suite's models (the measured matmul peak is in ``suite.bench.peak``).

Convention: matrix products only, one multiply-add = 2 FLOPs (``x @ W`` with x (B, K), W (K, N)
costs 2 B K N). Elementwise work (gate nonlinearities, Hadamard products, softmax, LayerNorm,
biases, the loss) is not counted: it is O(B T H) against the O(B T H^2) matmuls, and
``torch.utils.flop_counter.FlopCounterMode`` counts the same way, so the two agree exactly where
torch counts at all (it counts nothing inside the fused oneDNN LSTM kernel or CPU SDPA).

Shape legend: B batch, T time, X input, H hidden (= D for the Transformer), O head outputs,
L layers, G gates (GRU 3, LSTM 4; minGRU 2, minLSTM 3 input-projection blocks), F feed-forward
width, c streaming context length.

Forward, recurrent layer k with input width X_k (X_0 = X, else H):
    input projection   2 B T X_k G H        (x_t W_i for every t)
    recurrent matmul   2 B T H G H          (h_{t-1} W_h; step 0 counted though h_0 = 0, like torch)
Forward, minGRU / minLSTM layer k: the input projection only,
    input projection   2 B T X_k G H        (x_t W for every t; G = 2 z|h, or 3 f|i|h)
  there is no recurrent matmul (no h_{t-1} in any gate); the scan over t is elementwise
  (O(B T H), parallel or sequential alike) and not counted.
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
Streaming step at context c (batch B, usually 1): one time step. GRU/LSTM/minGRU/minLSTM: the
forward at T = 1.
Transformer: the new token's Q, K, V, output and FF products at T = 1, and attention over the
c cached positions plus itself: 2 x 2 B (c + 1) D.
Each arch's formulas are its descriptor's ``forward_flops`` and ``step_flops`` (``suite.models.registry``, the
built-ins' below); a plugin arch that declares none has no FLOPs (None), never another arch's.
"""
from __future__ import annotations

from suite.errors import UserError
from suite.models.params import GATES, MIN_GATES
from suite.models.registry import arch
from suite.spec import ModelSpec

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


def min_rnn_encoder_flops(spec: ModelSpec, batch: int, seq_len: int) -> int:
    """Sum over layers of 2 B T X_k G H: the input projection only (no recurrent matmul)."""
    G, H = MIN_GATES[spec.arch], spec.hidden
    return sum(2 * batch * seq_len * (spec.input_size if k == 0 else H) * G * H for k in range(spec.layers))


def transformer_layer_flops(spec: ModelSpec, batch: int, queries: int, keys: int) -> int:
    """One pre-LN layer: ``queries`` new positions attending to ``keys`` positions.

    8 B q D^2 (Q, K, V, out) + 4 B q k D (scores, weights @ V) + 4 B q D F (feed-forward).
    """
    D, F = spec.hidden, spec.ff_width
    return 8 * batch * queries * D * D + 4 * batch * queries * keys * D + 4 * batch * queries * D * F


def transformer_encoder_flops(spec: ModelSpec, batch: int, seq_len: int) -> int:
    inp = 2 * batch * seq_len * spec.input_size * spec.hidden
    return inp + spec.layers * transformer_layer_flops(spec, batch, seq_len, seq_len)


def transformer_step_flops(spec: ModelSpec, context: int, batch: int) -> int:
    """The new token's input projection and one pre-LN layer per layer at T = 1 over ``context`` + 1 keys."""
    inp = 2 * batch * spec.input_size * spec.hidden
    return inp + spec.layers * transformer_layer_flops(spec, batch, 1, context + 1)


def recurrent_step_flops(spec: ModelSpec, context: int, batch: int) -> int:
    """GRU / LSTM: the forward at T = 1 (no dependence on the context)."""
    return recurrent_encoder_flops(spec, batch, 1)


def min_rnn_step_flops(spec: ModelSpec, context: int, batch: int) -> int:
    return min_rnn_encoder_flops(spec, batch, 1)


# --- through the registry: every arch, built-in or plugin ------------------------------------------------------
def forward_flops(spec: ModelSpec, batch: int, seq_len: int) -> int | None:
    """Matmul FLOPs of one forward pass over (B, T, X) inputs, head included: the arch's own formula
    (``suite.models.registry``); None for an arch that declares none (a plugin: the speed rows then carry no
    FLOPs); an unknown arch is a UserError."""
    _check_sizes(batch=batch, seq_len=seq_len)
    formula = arch(spec.arch).forward_flops
    if formula is None:
        return None
    return int(formula(spec, batch, seq_len)) + head_flops(spec, batch, seq_len)


def train_step_flops(spec: ModelSpec, batch: int, seq_len: int) -> int | None:
    """~3 x forward: forward + backward (weight and input gradients); Adam not counted."""
    forward = forward_flops(spec, batch, seq_len)
    return None if forward is None else int(TRAIN_OVER_FORWARD * forward)


def step_flops(spec: ModelSpec, context: int, batch: int = 1) -> int | None:
    """One streaming step after ``context`` earlier steps (head on the one new position); None where the arch
    declares no step formula."""
    _check_sizes(context=context, batch=batch)
    formula = arch(spec.arch).step_flops
    if formula is None:
        return None
    return int(formula(spec, context, batch)) + 2 * batch * spec.hidden * spec.output_size
