"""The one interface every model implements, whatever its framework.

Canonical weight layout (shared by all implementations; converters live in ``suite.models.layouts``).
Row-vector convention, ``y = x @ W + b``:

GRU, layer k (gate order r|z|n, like PyTorch; G = 3):
    l{k}.W_i (X_k, 3H)   l{k}.W_h (H, 3H)   l{k}.b_i (3H,)   l{k}.b_h (3H,)
LSTM, layer k (gate order i|f|g|o, like both frameworks; G = 4):
    l{k}.W_i (X_k, 4H)   l{k}.W_h (H, 4H)   l{k}.b_i (4H,)   l{k}.b_h (4H,)
    (X_0 = X, X_k = H for k > 0.) Where a framework has one bias, it holds b_i + b_h; read back
    into canonical form it lands in b_i with b_h = 0 (outputs are unchanged).
minGRU, layer k (blocks z|h; G = 2) and minLSTM, layer k (blocks f|i|h; G = 3), no recurrent weights:
    l{k}.W (X_k, G H)   l{k}.b (G H,)
Transformer (pre-LN, causal, sinusoidal positions, ReLU feed-forward, LayerNorm eps 1e-5), D = H, F = ff:
    in.W (X, D) in.b (D,)
    l{k}.ln1.g l{k}.ln1.b (D,)   l{k}.attn.W_q|W_k|W_v|W_o (D, D)   l{k}.attn.b_q|b_k|b_v|b_o (D,)
    l{k}.ln2.g l{k}.ln2.b (D,)   l{k}.ff.W_1 (D, F) l{k}.ff.b_1 (F,) l{k}.ff.W_2 (F, D) l{k}.ff.b_2 (D,)
    ln_f.g ln_f.b (D,)
Head (all archs): head.W (H, O)  head.b (O,)

Losses: the same in every framework, stated with their math in ``suite.losses`` (MSE, cross-entropy
that skips IGNORE_INDEX labels, BCE from logits), which the tasks score with too.
Training: Adam(beta1=0.9, beta2=0.999, eps=1e-8), global-norm gradient clipping at ``clip_norm``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from suite.spec import ModelSpec

ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


class SequenceModel(ABC):
    """Encoder (L layers, width H) + task head, built from a ModelSpec.

    Every method taking arrays accepts NumPy arrays (and, for speed, the framework's own tensors,
    passed through unchanged). Inputs x: (B, T, X) float. Targets y: regression (B, O) or (B, T, O)
    float; classes (B,) or (B, T) int; multilabel (B, T, O) or (B, O) in {0, 1}.
    Outputs of ``forward``: (B, O) for output='last', (B, T, O) for output='sequence' -- regression
    values or logits.
    """

    spec: ModelSpec

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    # --- inference -------------------------------------------------------------------------
    @abstractmethod
    def forward(self, x) -> np.ndarray:
        """Head outputs as NumPy: (B, O) or (B, T, O)."""

    @abstractmethod
    def encode(self, x) -> np.ndarray:
        """Top-layer encoder states as NumPy, (B, T, H) (before the head)."""

    @abstractmethod
    def predict_native(self, x) -> Any:
        """Head outputs in the framework's own tensor type (no host copy): what inference timing calls."""

    # --- training --------------------------------------------------------------------------
    @abstractmethod
    def loss(self, x, y) -> float:
        """The task loss (see module docstring) without updating anything."""

    @abstractmethod
    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """d loss / d parameter in the canonical layout (same keys as get_weights); no update."""

    @abstractmethod
    def configure_training(self, lr: float, clip_norm: float | None) -> None:
        """Create the Adam optimizer (constants above) with global-norm clipping (None = off)."""

    @abstractmethod
    def train_step(self, x, y) -> float:
        """One forward + backward + Adam update on a batch, the way the framework's users train
        (PyTorch: optimizer.step; Keras: compiled train function). Returns the batch loss."""

    # --- weights ---------------------------------------------------------------------------
    @abstractmethod
    def num_params(self) -> int:
        """Trainable parameter count reported by the framework itself (numel / count_params)."""

    @abstractmethod
    def get_weights(self) -> dict[str, np.ndarray]:
        """All parameters in the canonical layout (copies)."""

    @abstractmethod
    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load canonical weights; raises WeightShapeError naming the tensor and both shapes."""

    # --- streaming -------------------------------------------------------------------------
    @abstractmethod
    def init_state(self, batch_size: int) -> Any:
        """Empty streaming state (zeros for GRU/LSTM, an empty key/value cache for the Transformer)."""

    @abstractmethod
    def step(self, x_t, state) -> tuple[np.ndarray | Any, Any]:
        """One time step: x_t (B, X) -> (head output (B, O), new state). Feeding a sequence step by
        step gives the same outputs as ``forward`` with output='sequence'."""

    # --- reporting -------------------------------------------------------------------------
    @abstractmethod
    def execution_path(self) -> dict[str, Any]:
        """How it runs: e.g. {'mode': 'eager'|'graph'|'xla'|'numpy', 'onednn': bool,
        'cudnn_eligible': bool, 'device': 'cpu'}."""

    def __repr__(self) -> str:
        s = self.spec
        return f"<{type(self).__name__} {s.name} X={s.input_size} H={s.hidden} L={s.layers} O={s.output_size}>"
