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
Each arch's formula is its descriptor's ``params`` (``suite.models.registry``; the built-ins' are below). A plugin
arch without one has no formula (``formula_params`` is None): its count is the framework's, and a budget is matched
against that count (``counted_params``), found by bisection over H (``width_for_budget``).
"""
from __future__ import annotations

from suite.errors import UserError
from suite.models.registry import arch
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


def recurrent_label(spec: ModelSpec) -> str:
    """GRU / LSTM: 'G=3, two biases'."""
    return f"G={GATES[spec.arch]}, {'two biases' if bias_vectors(spec) == 2 else 'one bias'}"


def min_rnn_label(spec: ModelSpec) -> str:
    return f"G={MIN_GATES[spec.arch]}, one bias, no recurrent weights: G H (X_k + 1) per layer"


def transformer_label(spec: ModelSpec) -> str:
    return "pre-LN encoder: 4(D^2+D) + 2DF+F+D + 4D per layer"


def recurrent_params(spec: ModelSpec) -> int:
    """GRU / LSTM: sum over layers of G H (X_k + H) + nb G H."""
    H, X, L = spec.hidden, spec.input_size, spec.layers
    G, nb = GATES[spec.arch], bias_vectors(spec)
    return sum(G * H * ((X if k == 0 else H) + H) + nb * G * H for k in range(L))


def min_rnn_params(spec: ModelSpec) -> int:
    """minGRU / minLSTM: sum over layers of G H (X_k + 1)."""
    H, X, L = spec.hidden, spec.input_size, spec.layers
    G = MIN_GATES[spec.arch]
    return sum(G * H * ((X if k == 0 else H) + 1) for k in range(L))


def transformer_params(spec: ModelSpec) -> int:
    """X D + D + L (4 (D^2 + D) + 2 D F + F + D + 4 D) + 2 D."""
    H, X, L = spec.hidden, spec.input_size, spec.layers
    D, F = H, spec.ff_width
    per_layer = 4 * (D * D + D) + (2 * D * F + F + D) + 4 * D
    return X * D + D + L * per_layer + 2 * D


# --- through the registry: every arch, built-in or plugin ------------------------------------------------------
COUNTED_LABEL = "counted by the framework (no formula declared)"


def convention_name(spec: ModelSpec) -> str:
    """Human label of the counting convention, e.g. 'G=3, two biases (r|z|n rows)'; for an arch without a
    formula, that the count is the framework's."""
    label = arch(spec.arch).params_label
    return label(spec) if label is not None else (COUNTED_LABEL if arch(spec.arch).params is None else "formula")


def encoder_params(spec: ModelSpec) -> int | None:
    """The arch's encoder formula (``suite.models.registry``), None where it declares none."""
    formula = arch(spec.arch).params
    return None if formula is None else int(formula(spec))


def formula_params(spec: ModelSpec) -> int | None:
    """Total trainable parameters (encoder + head) by formula; None for an arch without a formula."""
    encoder = encoder_params(spec)
    return None if encoder is None else encoder + spec.hidden * spec.output_size + spec.output_size


def counted_params(spec: ModelSpec) -> int:
    """The framework's own count of a model built from ``spec`` (``num_params``)."""
    from suite.models import build_model
    return int(build_model(spec).num_params())


def width_for_budget(spec: ModelSpec, budget: int, tolerance: float = 0.10) -> tuple[int, int]:
    """The width H whose parameter count is closest to ``budget`` without exceeding it by more
    than ``tolerance`` (Long Range Arena: <= 10% over). Returns (H, achieved count).
    For the Transformer only widths divisible by its head count are considered.

    With a formula every H from 1 up is tried until the count passes the limit. Without one (a plugin arch)
    each count builds a model, so the count n(H) is taken as non-decreasing in H and the largest H with
    n(H) <= budget is found by bisection over [1, 4096]; the answer is it or H + 1, whichever is closer (the
    same answer the scan gives for a non-decreasing count)."""
    if budget < 1:
        raise UserError(f"budget must be a positive integer, got {budget!r}")
    limit = budget * (1 + tolerance)
    best = None
    if formula_params(spec) is None:
        return _bisect_width(spec, budget, limit)
    for H in range(1, 4097):
        try:
            candidate = spec.with_(hidden=H)
        except UserError:
            continue  # e.g. a Transformer width not divisible by num_heads
        n = formula_params(candidate)
        if n > limit:
            break
        if best is None or abs(n - budget) < abs(best[1] - budget):
            best = (H, n)
    if best is None:
        raise UserError(f"no width of {spec.arch} fits a budget of {budget} parameters (+{tolerance:.0%})")
    return best


def _bisect_width(spec: ModelSpec, budget: int, limit: float, top: int = 4096) -> tuple[int, int]:
    counts: dict[int, int] = {}

    def n(H: int) -> int:
        if H not in counts:
            counts[H] = counted_params(spec.with_(hidden=H))
        return counts[H]

    if n(1) > budget:
        if n(1) > limit:
            raise UserError(f"no width of {spec.arch} fits a budget of {budget} parameters "
                            f"(H=1 already counts {n(1)})")
        return 1, n(1)
    low, high = 1, top                        # n(low) <= budget; find the largest such H
    if n(high) <= budget:
        return high, n(high)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if n(mid) <= budget else (low, mid)
    if n(high) <= limit and abs(n(high) - budget) < abs(n(low) - budget):
        return high, n(high)
    return low, n(low)
