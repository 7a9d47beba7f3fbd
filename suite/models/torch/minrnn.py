"""What the PyTorch minGRU and minLSTM share: g, the log-space scan, the layer stack, streaming.

Feng et al. 2024 ("Were RNNs All We Needed?"). Each layer is the linear recurrence (row vectors,
⊙ elementwise) h_t = a_t ⊙ h_{t−1} + b_t, h_0 = 0, with a_t, b_t from x_t alone (per-arch formulas in
``suite.models.torch.mingru`` / ``minlstm``), computed as ``ModelSpec.scan`` says:

  'parallel' (the paper's log-space scan, over the whole sequence at once):
    A_t     = Σ_{s≤t} log a_s                    torch.cumsum(log_a, dim=1)
    log h_t = A_t + log Σ_{s≤t} exp(log b_s − A_s)  torch.logcumsumexp(log_b − A, dim=1)
    h_t     = exp(log h_t)
  'sequential': h_t = a_t ⊙ h_{t−1} + b_t in a Python loop over t (a, b computed for all t first).
Gradients by autograd in both cases.
Float32 precision of the parallel form falls linearly with T (log h_t adds A_t to a log-sum-exp of
about −A_t, and |A_t| grows with t): relative error ~2e-5 at T=256, ~4e-4 at T=4096 (figures in suite.models.numpy.minrnn).

Positive candidate: g(u) = u + 0.5 for u ≥ 0, σ(u) otherwise; log g(u) = log(u + 0.5) for u ≥ 0,
−softplus(−u) otherwise (softplus(u) = log(1 + e^u)). g is continuous at 0 but its slope jumps from
1/4 to 1; torch.where gives the u ≥ 0 branch's derivative at exactly 0.

Shapes: B batch, T time, X input (X_k for layer k: X, then H), H hidden, O outputs, L layers,
G projection blocks (minGRU 2: z|h, minLSTM 3: f|i|h).
PyTorch layout per layer k: layers.{k}.proj = nn.Linear(X_k, G H), weight (G H, X_k) rows in block
order, bias (G H,); canonical l{k}.W = weight.T (X_k, G H), l{k}.b = bias (suite.models.layouts).
Initialisation: nn.Linear's default, uniform(±1/sqrt(X_k)).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from suite.models import layouts
from suite.models.torch.common import TorchSequenceModel


def g(u: torch.Tensor) -> torch.Tensor:
    """u + 0.5 for u ≥ 0, σ(u) otherwise (positive)."""
    return torch.where(u >= 0, u + 0.5, torch.sigmoid(u))


def log_g(u: torch.Tensor) -> torch.Tensor:
    """log g(u): log(u + 0.5) for u ≥ 0, −softplus(−u) otherwise (relu keeps the unused branch finite)."""
    return torch.where(u >= 0, torch.log(F.relu(u) + 0.5), -F.softplus(-u))


def log_scan(log_a: torch.Tensor, log_b: torch.Tensor) -> torch.Tensor:
    """(B, T, H) log a_t, log b_t -> h (B, T, H) of h_t = a_t ⊙ h_{t−1} + b_t, h_0 = 0."""
    A = torch.cumsum(log_a, dim=1)                                 # A_t = Σ_{s≤t} log a_s
    return torch.exp(A + torch.logcumsumexp(log_b - A, dim=1))     # exp(A_t + log Σ_{s≤t} exp(log b_s − A_s))


class MinRNNLayer(nn.Module):
    """One layer: proj = nn.Linear(X_k, G H), then the scan. Subclasses give the coefficients."""

    G = 0

    def __init__(self, input_size: int, hidden: int, parallel: bool):
        super().__init__()
        self.hidden, self.parallel = hidden, parallel
        self.proj = nn.Linear(input_size, self.G * hidden)

    def coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """proj (..., G H) -> (a, b), each (..., H): the sequential form's coefficients."""
        raise NotImplementedError

    def log_coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """proj (..., G H) -> (log a, log b), each (..., H), computed in log space."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, X_k) -> h (B, T, H)."""
        proj = self.proj(x)                                        # (B, T, G H)
        if self.parallel:
            return log_scan(*self.log_coefficients(proj))
        a, b = self.coefficients(proj)                             # (B, T, H) each
        h = torch.zeros_like(b[:, 0])                              # h_0 = 0
        hs = []
        for t in range(x.shape[1]):
            h = a[:, t] * h + b[:, t]                              # h_t = a_t ⊙ h_{t−1} + b_t
            hs.append(h)
        return torch.stack(hs, dim=1)

    def step(self, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """x_t (B, X_k), h_{t−1} (B, H) -> h_t (B, H)."""
        a, b = self.coefficients(self.proj(x_t))
        return a * h + b


class MinRNNEncoder(nn.Module):
    """L stacked layers; layer k > 0 reads the states of layer k − 1."""

    def __init__(self, layer_cls, X: int, H: int, L: int, parallel: bool):
        super().__init__()
        self.layers = nn.ModuleList(layer_cls(X if k == 0 else H, H, parallel) for k in range(L))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class MinRNNTorch(TorchSequenceModel):
    """MinRNNEncoder(LAYER) + nn.Linear(H, O); streaming carries h (B, H) per layer."""

    LAYER: type[MinRNNLayer] = MinRNNLayer

    def build_encoder(self) -> nn.Module:
        s = self.spec
        return MinRNNEncoder(self.LAYER, s.input_size, s.hidden, s.layers, parallel=s.scan == "parallel")

    def encoder_to_canonical(self, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = layouts.minrnn_torch_to_canonical(p[f"layers.{k}.proj.weight"], p[f"layers.{k}.proj.bias"])
            out[f"l{k}.W"], out[f"l{k}.b"] = layer["W"], layer["b"]
        return out

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = layouts.minrnn_canonical_to_torch(w[f"l{k}.W"], w[f"l{k}.b"])
            out[f"layers.{k}.proj.weight"], out[f"layers.{k}.proj.bias"] = layer["weight"], layer["bias"]
        return out

    def init_state(self, batch_size: int) -> list[torch.Tensor]:
        return [torch.zeros(batch_size, self.spec.hidden, dtype=self.dtype) for _ in range(self.spec.layers)]

    def step(self, x_t, state):
        """x_t (B, X) -> (head output (B, O) tensor, new state [h (B, H) per layer])."""
        self.net.eval()
        with torch.inference_mode():
            h, new_state = self.tensor(x_t), []
            for layer, h_k in zip(self.net.encoder.layers, state):
                h = layer.step(h, h_k)
                new_state.append(h)
            return self.net.head(h), new_state
