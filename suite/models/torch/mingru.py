"""minGRU in PyTorch: nn.Linear projection + a log-space parallel scan (or a loop), autograd.

Follows Feng et al. 2024 ("Were RNNs All We Needed?"), minGRU. Per layer k, row-vector form,
x_t (B, X_k), σ the logistic sigmoid, ⊙ elementwise, softplus(u) = log(1 + e^u):

    k_t = x_t W_z + b_z,  p_t = x_t W_h + b_h     pre-activations (B, H)
    z_t = σ(k_t)                                  update gate
    h̃_t = g(p_t)                                  candidate, g(u) = u + 0.5 (u ≥ 0), σ(u) (u < 0)
    h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t          h_0 = 0
  scan='sequential':  a_t = 1 − z_t,  b_t = z_t ⊙ h̃_t,  h_t = a_t ⊙ h_{t−1} + b_t in a loop
  scan='parallel':    log a_t = −softplus(k_t),  log b_t = −softplus(−k_t) + log g(p_t),
                      h_t = exp(A_t + logcumsumexp_{s≤t}(log b_s − A_s)),  A_t = cumsum_{s≤t} log a_s

Glossary: W_z, W_h (X_k, H), b_z, b_h (H,) the two blocks of the layer's projection (order z|h);
shared scan and layout in ``suite.models.torch.minrnn``.
Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
PyTorch layout: layers.{k}.proj.weight (2H, X_k) rows z|h, proj.bias (2H,); canonical l{k}.W (X_k, 2H).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from suite.models.torch.minrnn import MinRNNLayer, MinRNNTorch, g, log_g


class MinGRULayer(MinRNNLayer):
    """proj = nn.Linear(X_k, 2H), blocks z|h."""

    G = 2

    def coefficients(self, proj):
        k, p = proj.chunk(2, dim=-1)
        z = torch.sigmoid(k)
        return 1 - z, z * g(p)                                     # a = 1 − z, b = z ⊙ h̃

    def log_coefficients(self, proj):
        k, p = proj.chunk(2, dim=-1)
        return -F.softplus(k), -F.softplus(-k) + log_g(p)          # log(1 − z), log z + log h̃


class MinGRUTorch(MinRNNTorch):
    """L minGRU layers + nn.Linear(H, O)."""

    LAYER = MinGRULayer
