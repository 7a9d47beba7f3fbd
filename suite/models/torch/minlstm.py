"""minLSTM in PyTorch: nn.Linear projection + a log-space parallel scan (or a loop), autograd.

Follows Feng et al. 2024 ("Were RNNs All We Needed?"), minLSTM. Per layer k, row-vector form,
x_t (B, X_k), σ the logistic sigmoid, ⊙ elementwise, softplus(u) = log(1 + e^u):

    u_t = x_t W_f + b_f,  v_t = x_t W_i + b_i,  p_t = x_t W_h + b_h     pre-activations (B, H)
    f_t = σ(u_t),  i_t = σ(v_t)                   forget and input gates
    h̃_t = g(p_t)                                  candidate, g(u) = u + 0.5 (u ≥ 0), σ(u) (u < 0)
    f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)   normalised gates
    h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t              h_0 = 0
  scan='sequential':  a_t = f'_t,  b_t = i'_t ⊙ h̃_t,  h_t = a_t ⊙ h_{t−1} + b_t in a loop
  scan='parallel':    d_t = softplus(−u_t) − softplus(−v_t)  (= log i_t − log f_t),
                      log a_t = −softplus(d_t),  log b_t = −softplus(−d_t) + log g(p_t),
                      h_t = exp(A_t + logcumsumexp_{s≤t}(log b_s − A_s)),  A_t = cumsum_{s≤t} log a_s

Glossary: W_f, W_i, W_h (X_k, H), b_f, b_i, b_h (H,) the three blocks of the layer's projection
(order f|i|h); shared scan and layout in ``suite.models.torch.minrnn``.
Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
PyTorch layout: layers.{k}.proj.weight (3H, X_k) rows f|i|h, proj.bias (3H,); canonical l{k}.W (X_k, 3H).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from suite.models.torch.minrnn import MinRNNLayer, MinRNNTorch, g, log_g


class MinLSTMLayer(MinRNNLayer):
    """proj = nn.Linear(X_k, 3H), blocks f|i|h."""

    G = 3

    def coefficients(self, proj):
        u, v, p = proj.chunk(3, dim=-1)
        f, i = torch.sigmoid(u), torch.sigmoid(v)
        return f / (f + i), i / (f + i) * g(p)                     # a = f', b = i' ⊙ h̃

    def log_coefficients(self, proj):
        u, v, p = proj.chunk(3, dim=-1)
        d = F.softplus(-u) - F.softplus(-v)                        # log i − log f
        return -F.softplus(d), -F.softplus(-d) + log_g(p)          # log f', log i' + log h̃


class MinLSTMTorch(MinRNNTorch):
    """L minLSTM layers + nn.Linear(H, O)."""

    LAYER = MinLSTMLayer
