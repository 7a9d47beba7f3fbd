"""minLSTM from scratch in NumPy: forward and hand-written backward, sequential and log-space parallel.

Follows Feng et al. 2024 ("Were RNNs All We Needed?"), minLSTM: an LSTM without the output gate,
without h_{t−1} in its gates, without the cell/hidden split, and with the forget and input gates
normalised to sum to one. Shared pieces (g, the scan, the base class) in ``suite.models.numpy.minrnn``.

Equations, one layer (row vectors, σ the logistic sigmoid, ⊙ elementwise, softplus(u) = log(1 + e^u)):
    u_t = x_t W_f + b_f,  v_t = x_t W_i + b_i,  p_t = x_t W_h + b_h      pre-activations (B, H)
    f_t = σ(u_t)                                 forget gate
    i_t = σ(v_t)                                 input gate
    h̃_t = g(p_t)                                 candidate, g(u) = u + 0.5 (u ≥ 0), σ(u) (u < 0)
    f'_t = f_t / (f_t + i_t)                     normalised forget gate
    i'_t = i_t / (f_t + i_t)                     normalised input gate
    h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t              h_0 = 0
  scan='sequential': the lines above, one step at a time.
  scan='parallel': h_t = a_t ⊙ h_{t−1} + b_t with, in log space (log f = −softplus(−u)):
    d_t     = softplus(−u_t) − softplus(−v_t)    = log i_t − log f_t
    log a_t = log f'_t = −softplus(d_t)          (f' = 1 / (1 + i/f) = σ(−d))
    log b_t = log i'_t + log h̃_t = −softplus(−d_t) + log g(p_t)
    then A_t = Σ_{s≤t} log a_s,  log h_t = A_t + log Σ_{s≤t} exp(log b_s − A_s),  h_t = exp(log h_t).

Symbols: x_t input at step t (width X_k), h_t state, f_t / i_t forget / input gates, f'_t / i'_t
their normalised forms, h̃_t candidate, d_t the log ratio of the gates; W_f, W_i, W_h (X_k, H) and
b_f, b_i, b_h (H,) the three column blocks of the layer's projection.
Shapes: B batch, T time, X input features (X_k for layer k: X, then H), H hidden width, O outputs.
Canonical layout (suite.models.base), blocks f|i|h along the 3H axis:
    l{k}.W (X_k, 3H)   l{k}.b (3H,)   head.W (H, O)   head.b (O,)
Parameters: 3 H (X_k + 1) per layer; no recurrent weights.
"""
from __future__ import annotations

import numpy as np

from suite.models.numpy.common import sigmoid
from suite.models.numpy.minrnn import (MinRNNNumpy, dg, dlog_g, g, log_g, log_scan_backward,
                                       log_scan_forward, softplus)


def minlstm_parallel_forward(proj: np.ndarray):
    """proj (T, B, 3H) = x W + b (f|i|h) -> (hs (T, B, H), cache), log-space scan."""
    H = proj.shape[-1] // 3
    u, v, p = proj[..., :H], proj[..., H:2 * H], proj[..., 2 * H:]
    d = softplus(-u) - softplus(-v)                           # log i − log f
    log_a = -softplus(d)                                      # log f'
    log_b = -softplus(-d) + log_g(p)                          # log i' + log h̃
    hs, scan_cache = log_scan_forward(log_a, log_b)
    return hs, (u, v, d, p, scan_cache)


def minlstm_parallel_backward(dhs: np.ndarray, cache) -> np.ndarray:
    """δhs (T, B, H) -> δproj (T, B, 3H) (f|i|h)."""
    u, v, d, p, scan_cache = cache
    dlog_a, dlog_b = log_scan_backward(dhs, scan_cache)       # the scan -> log a, log b
    dd = -sigmoid(d) * dlog_a                                 # log a = −softplus(d) -> d
    dd += sigmoid(-d) * dlog_b                                # log b ∋ −softplus(−d) -> d
    dp = dlog_b * dlog_g(p)                                   # log b ∋ log g(p) -> p
    du = -sigmoid(-u) * dd                                    # d ∋ softplus(−u) -> u
    dv = sigmoid(-v) * dd                                     # d ∋ −softplus(−v) -> v
    return np.concatenate([du, dv, dp], axis=-1)


def minlstm_sequential_forward(proj: np.ndarray):
    """proj (T, B, 3H) -> (hs (T, B, H), cache), a loop over t."""
    T, B, GH = proj.shape
    H = GH // 3
    f = sigmoid(proj[..., :H])                                # forget gate, all steps
    i = sigmoid(proj[..., H:2 * H])                           # input gate
    p = proj[..., 2 * H:]
    h_tilde = g(p)                                            # candidate
    s = f + i
    f_n, i_n = f / s, i / s                                   # f', i'
    hs = np.empty((T + 1, B, H), dtype=proj.dtype)            # hs[0] = h_0 = 0, hs[t+1] = h_t
    hs[0] = 0
    for t in range(T):
        hs[t + 1] = f_n[t] * hs[t] + i_n[t] * h_tilde[t]      # f' ⊙ h_{t−1} + i' ⊙ h̃
    return hs[1:], (f, i, s, f_n, i_n, p, h_tilde, hs)


def minlstm_sequential_backward(dhs: np.ndarray, cache) -> np.ndarray:
    """δhs (T, B, H) -> δproj (T, B, 3H) (f|i|h), backpropagation through time."""
    f, i, s, f_n, i_n, p, h_tilde, hs = cache
    T = dhs.shape[0]
    df_n, di_n, dh_tilde = np.empty_like(f), np.empty_like(f), np.empty_like(f)
    dh = np.zeros_like(hs[0])
    for t in reversed(range(T)):
        dh = dh + dhs[t]                                      # h_t feeds the layer above and step t+1
        df_n[t] = dh * hs[t]                                  # h_t = f' ⊙ h_{t−1} + i' ⊙ h̃ -> f'
        di_n[t] = dh * h_tilde[t]                             #                              -> i'
        dh_tilde[t] = dh * i_n[t]                             #                              -> h̃
        dh = dh * f_n[t]                                      #                              -> h_{t−1}
    df = (df_n - di_n) * i / (s * s)                          # f' = f/(f+i), i' = i/(f+i) -> f
    di = (di_n - df_n) * f / (s * s)                          #                            -> i
    du = df * f * (1 - f)                                     # f = σ(u)
    dv = di * i * (1 - i)                                     # i = σ(v)
    dp = dh_tilde * dg(p)                                     # h̃ = g(p)
    return np.concatenate([du, dv, dp], axis=-1)


class MinLSTMNumpy(MinRNNNumpy):
    """L stacked minLSTM layers (module docstring) + linear head, in NumPy float32 or float64."""

    ARCH = "minlstm"

    def _parallel_forward(self, proj):
        return minlstm_parallel_forward(proj)

    def _parallel_backward(self, dhs, cache):
        return minlstm_parallel_backward(dhs, cache)

    def _sequential_forward(self, proj):
        return minlstm_sequential_forward(proj)

    def _sequential_backward(self, dhs, cache):
        return minlstm_sequential_backward(dhs, cache)

    def _coefficients(self, proj_t):
        H = self.spec.hidden
        f, i = sigmoid(proj_t[:, :H]), sigmoid(proj_t[:, H:2 * H])
        return f / (f + i), i / (f + i) * g(proj_t[:, 2 * H:])   # a = f', b = i' ⊙ h̃
