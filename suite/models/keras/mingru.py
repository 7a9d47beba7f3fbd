"""minGRU in Keras 3 (TensorFlow backend): a custom layer, log-space parallel scan (or tf.scan).

Follows Feng et al. 2024 ("Were RNNs All We Needed?"), minGRU. Per layer k, row-vector form,
x_t (B, X_k), σ the logistic sigmoid, ⊙ elementwise, softplus(u) = log(1 + e^u):

    k_t = x_t W_z + b_z,  p_t = x_t W_h + b_h     pre-activations (B, H)
    z_t = σ(k_t)                                  update gate
    h̃_t = g(p_t)                                  candidate, g(u) = u + 0.5 (u ≥ 0), σ(u) (u < 0)
    h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t          h_0 = 0
  scan='sequential':  a_t = 1 − z_t,  b_t = z_t ⊙ h̃_t,  h_t = a_t ⊙ h_{t−1} + b_t (tf.scan)
  scan='parallel':    log a_t = −softplus(k_t),  log b_t = −softplus(−k_t) + log g(p_t),
                      h_t = exp(A_t + logcumsumexp_{s≤t}(log b_s − A_s)),  A_t = cumsum_{s≤t} log a_s

Glossary: W_z, W_h (X_k, H), b_z, b_h (H,) the two blocks of the layer's kernel and bias (order z|h);
shared scan and layout in ``suite.models.keras.minrnn``.
Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
Keras layout: kernel (X_k, 2H) columns z|h, bias (2H,) = canonical l{k}.W, l{k}.b.
"""
from __future__ import annotations

from suite.models.keras.common import ops
from suite.models.keras.minrnn import MinRNN, MinRNNKeras, g, log_g


class MinGRU(MinRNN):
    """kernel (X_k, 2H), bias (2H,), blocks z|h."""

    G = 2

    def coefficients(self, proj):
        k, p = proj[..., :self.units], proj[..., self.units:]
        z = ops.sigmoid(k)
        return 1 - z, z * g(p)                                     # a = 1 − z, b = z ⊙ h̃

    def log_coefficients(self, proj):
        k, p = proj[..., :self.units], proj[..., self.units:]
        return -ops.softplus(k), -ops.softplus(-k) + log_g(p)      # log(1 − z), log z + log h̃


class MinGRUKeras(MinRNNKeras):
    """L x MinGRU(H) + Dense(O)."""

    LAYER = MinGRU
