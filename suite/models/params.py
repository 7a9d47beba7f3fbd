"""Parameter counts by formula, per framework convention, and the matched-budget sizing helper.

Per layer k with input width X_k (X_0 = X, X_k = H after), width H, gates G (GRU 3, LSTM 4):
    weights   G H (X_k + H)
    biases    2 G H  with two bias vectors (PyTorch; Keras GRU reset_after=True; NumPy GRU reset_after,
                     NumPy LSTM)
              G H    with one (Keras LSTM; Keras GRU reset_after=False; NumPy GRU reset_before)
minGRU / minLSTM, layer k (no recurrent weights; G = 2 for minGRU z|h, G = 3 for minLSTM f|i|h):
    weights   G H X_k      biases   G H        i.e. G H (X_k + 1) per layer
Transformer (D = H, F = ff): input projection X D + D; per layer 4 (D^2 + D) attention,
    2 D F + F + D feed-forward, 4 D for two LayerNorms; final LayerNorm 2 D.
Head: H O + O.
The framework's own count (``model.num_params()``) must equal ``formula_params(spec)``.
"""
from __future__ import annotations

from suite.errors import UserError
from suite.spec import ModelSpec

GATES = {"gru": 3, "lstm": 4}
MIN_GATES = {"mingru": 2, "minlstm": 3}   # input-projection blocks: z|h (minGRU), f|i|h (minLSTM)


def bias_vectors(spec: ModelSpec) -> int:
    """How many bias vectors per recurrent layer this framework/convention keeps (1 or 2)."""
    if spec.arch == "gru":
        return 2 if spec.convention == "reset_after" else 1
    if spec.arch == "lstm":
        return 1 if spec.framework == "keras" else 2
    if spec.arch in MIN_GATES:
        return 1
    return 0


def convention_name(spec: ModelSpec) -> str:
    """Human label of the counting convention, e.g. 'G=3, two biases (r|z|n rows)'."""
    if spec.arch == "transformer":
        return "pre-LN encoder: 4(D^2+D) + 2DF+F+D + 4D per layer"
    if spec.arch in MIN_GATES:
        return f"G={MIN_GATES[spec.arch]}, one bias, no recurrent weights: G H (X_k + 1) per layer"
    nb = bias_vectors(spec)
    return f"G={GATES[spec.arch]}, {'two biases' if nb == 2 else 'one bias'}"


def encoder_params(spec: ModelSpec) -> int:
    H, X, L = spec.hidden, spec.input_size, spec.layers
    if spec.arch in MIN_GATES:
        G = MIN_GATES[spec.arch]
        return sum(G * H * ((X if k == 0 else H) + 1) for k in range(L))
    if spec.arch in GATES:
        G, nb = GATES[spec.arch], bias_vectors(spec)
        return sum(G * H * ((X if k == 0 else H) + H) + nb * G * H for k in range(L))
    D, F = H, spec.ff_width
    per_layer = 4 * (D * D + D) + (2 * D * F + F + D) + 4 * D
    return X * D + D + L * per_layer + 2 * D


def formula_params(spec: ModelSpec) -> int:
    """Total trainable parameters (encoder + head) by formula."""
    return encoder_params(spec) + spec.hidden * spec.output_size + spec.output_size


def width_for_budget(spec: ModelSpec, budget: int, tolerance: float = 0.10) -> tuple[int, int]:
    """The width H whose parameter count is closest to ``budget`` without exceeding it by more
    than ``tolerance`` (Long Range Arena: <= 10% over). Returns (H, achieved count).
    For the Transformer only widths divisible by its head count are considered."""
    if budget < 1:
        raise UserError(f"budget must be a positive integer, got {budget!r}")
    best = None
    for H in range(1, 4097):
        try:
            candidate = spec.with_(hidden=H)
        except UserError:
            continue  # e.g. a Transformer width not divisible by num_heads
        n = formula_params(candidate)
        if n > budget * (1 + tolerance):
            break
        if best is None or abs(n - budget) < abs(best[1] - budget):
            best = (H, n)
    if best is None:
        raise UserError(f"no width of {spec.arch} fits a budget of {budget} parameters (+{tolerance:.0%})")
    return best
