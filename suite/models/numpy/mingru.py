"""minGRU from scratch in NumPy: forward and hand-written backward, sequential and log-space parallel.

Follows Feng et al. 2024 ("Were RNNs All We Needed?"), minGRU: a GRU without the reset gate and
without h_{t-1} in its gates, so that the recurrence is linear in h. Shared pieces (g, the scan,
the base class) in ``suite.models.numpy.minrnn``.

Equations, one layer (row vectors, σ the logistic sigmoid, ⊙ elementwise):
    k_t = x_t W_z + b_z                          update-gate pre-activation (B, H)
    p_t = x_t W_h + b_h                          candidate pre-activation (B, H)
    z_t = σ(k_t)                                 update gate
    h̃_t = g(p_t)                                 candidate, g(u) = u + 0.5 (u ≥ 0), σ(u) (u < 0)
    h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t         h_0 = 0
  scan='sequential': the last line, one step at a time.
  scan='parallel': h_t = a_t ⊙ h_{t−1} + b_t with, in log space (softplus(u) = log(1 + e^u)),
    log a_t = log(1 − z_t) = −softplus(k_t)
    log b_t = log z_t + log h̃_t = −softplus(−k_t) + log g(p_t)
    then A_t = Σ_{s≤t} log a_s,  log h_t = A_t + log Σ_{s≤t} exp(log b_s − A_s),  h_t = exp(log h_t).

Symbols: x_t input at step t (width X_k), h_t state, z_t update gate, h̃_t candidate; W_z, W_h
(X_k, H) and b_z, b_h (H,) the two column blocks of the layer's projection.
Shapes: B batch, T time, X input features (X_k for layer k: X, then H), H hidden width, O outputs.
Canonical layout (suite.models.base), blocks z|h along the 2H axis:
    l{k}.W (X_k, 2H)   l{k}.b (2H,)   head.W (H, O)   head.b (O,)
Parameters: 2 H (X_k + 1) per layer; no recurrent weights.
"""
from __future__ import annotations

import numpy as np

from suite.models.numpy.common import sigmoid
from suite.models.numpy.minrnn import (MinRNNNumpy, dg, dlog_g, g, log_g, log_scan_backward,
                                       log_scan_forward, softplus)


def mingru_parallel_forward(proj: np.ndarray):
    """proj (T, B, 2H) = x W + b (z|h) -> (hs (T, B, H), cache), log-space scan."""
    H = proj.shape[-1] // 2
    k, p = proj[..., :H], proj[..., H:]
    log_a = -softplus(k)                                      # log(1 − z)
    log_b = -softplus(-k) + log_g(p)                          # log z + log h̃
    hs, scan_cache = log_scan_forward(log_a, log_b)
    return hs, (k, p, scan_cache)


def mingru_parallel_backward(dhs: np.ndarray, cache) -> np.ndarray:
    """δhs (T, B, H) -> δproj (T, B, 2H) (z|h)."""
    k, p, scan_cache = cache
    dlog_a, dlog_b = log_scan_backward(dhs, scan_cache)       # the scan -> log a, log b
    dk = -sigmoid(k) * dlog_a                                 # log a = −softplus(k) -> k
    dk += sigmoid(-k) * dlog_b                                # log b ∋ −softplus(−k) -> k
    dp = dlog_b * dlog_g(p)                                   # log b ∋ log g(p) -> p
    return np.concatenate([dk, dp], axis=-1)


def mingru_sequential_forward(proj: np.ndarray):
    """proj (T, B, 2H) -> (hs (T, B, H), cache), a loop over t."""
    T, B, GH = proj.shape
    H = GH // 2
    k, p = proj[..., :H], proj[..., H:]
    z = sigmoid(k)                                            # update gate, all steps
    h_tilde = g(p)                                            # candidate, all steps
    hs = np.empty((T + 1, B, H), dtype=proj.dtype)            # hs[0] = h_0 = 0, hs[t+1] = h_t
    hs[0] = 0
    for t in range(T):
        hs[t + 1] = hs[t] + z[t] * (h_tilde[t] - hs[t])       # (1 − z) ⊙ h_{t−1} + z ⊙ h̃
    return hs[1:], (p, z, h_tilde, hs)


def mingru_sequential_backward(dhs: np.ndarray, cache) -> np.ndarray:
    """δhs (T, B, H) -> δproj (T, B, 2H) (z|h), backpropagation through time."""
    p, z, h_tilde, hs = cache
    T = dhs.shape[0]
    dz = np.empty_like(z)
    dh_tilde = np.empty_like(h_tilde)
    dh = np.zeros_like(hs[0])
    for t in reversed(range(T)):
        dh = dh + dhs[t]                                      # h_t feeds the layer above and step t+1
        dz[t] = dh * (h_tilde[t] - hs[t])                     # h_t = h_{t−1} + z (h̃ − h_{t−1}) -> z
        dh_tilde[t] = dh * z[t]                               #                                -> h̃
        dh = dh * (1 - z[t])                                  #                                -> h_{t−1}
    dk = dz * z * (1 - z)                                     # z = σ(k)
    dp = dh_tilde * dg(p)                                     # h̃ = g(p)
    return np.concatenate([dk, dp], axis=-1)


class MinGRUNumpy(MinRNNNumpy):
    """L stacked minGRU layers (module docstring) + linear head, in NumPy float32 or float64."""

    ARCH = "mingru"

    def _parallel_forward(self, proj):
        return mingru_parallel_forward(proj)

    def _parallel_backward(self, dhs, cache):
        return mingru_parallel_backward(dhs, cache)

    def _sequential_forward(self, proj):
        return mingru_sequential_forward(proj)

    def _sequential_backward(self, dhs, cache):
        return mingru_sequential_backward(dhs, cache)

    def _coefficients(self, proj_t):
        H = self.spec.hidden
        z = sigmoid(proj_t[:, :H])
        return 1 - z, z * g(proj_t[:, H:])                    # a = 1 − z, b = z ⊙ h̃
