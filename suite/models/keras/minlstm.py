"""minLSTM in Keras 3 (TensorFlow backend): a custom layer, log-space parallel scan (or tf.scan).

Follows Feng et al. 2024 ("Were RNNs All We Needed?"), minLSTM. Per layer k, row-vector form,
x_t (B, X_k), σ the logistic sigmoid, ⊙ elementwise, softplus(u) = log(1 + e^u):

    u_t = x_t W_f + b_f,  v_t = x_t W_i + b_i,  p_t = x_t W_h + b_h     pre-activations (B, H)
    f_t = σ(u_t),  i_t = σ(v_t)                   forget and input gates
    h̃_t = g(p_t)                                  candidate, g(u) = u + 0.5 (u ≥ 0), σ(u) (u < 0)
    f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)   normalised gates
    h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t              h_0 = 0
  scan='sequential':  a_t = f'_t,  b_t = i'_t ⊙ h̃_t,  h_t = a_t ⊙ h_{t−1} + b_t (tf.scan)
  scan='parallel':    d_t = softplus(−u_t) − softplus(−v_t)  (= log i_t − log f_t),
                      log a_t = −softplus(d_t),  log b_t = −softplus(−d_t) + log g(p_t),
                      h_t = exp(A_t + logcumsumexp_{s≤t}(log b_s − A_s)),  A_t = cumsum_{s≤t} log a_s

Glossary: W_f, W_i, W_h (X_k, H), b_f, b_i, b_h (H,) the three blocks of the layer's kernel and bias
(order f|i|h); shared scan and layout in ``suite.models.keras.minrnn``.
Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
Keras layout: kernel (X_k, 3H) columns f|i|h, bias (3H,) = canonical l{k}.W, l{k}.b.
"""
from __future__ import annotations

from suite.models.keras.common import ops
from suite.models.keras.minrnn import MinRNN, MinRNNKeras, g, log_g


class MinLSTM(MinRNN):
    """kernel (X_k, 3H), bias (3H,), blocks f|i|h."""

    G = 3

    def _blocks(self, proj):
        H = self.units
        return proj[..., :H], proj[..., H:2 * H], proj[..., 2 * H:]

    def coefficients(self, proj):
        u, v, p = self._blocks(proj)
        f, i = ops.sigmoid(u), ops.sigmoid(v)
        return f / (f + i), i / (f + i) * g(p)                     # a = f', b = i' ⊙ h̃

    def log_coefficients(self, proj):
        u, v, p = self._blocks(proj)
        d = ops.softplus(-u) - ops.softplus(-v)                    # log i − log f
        return -ops.softplus(d), -ops.softplus(-d) + log_g(p)      # log f', log i' + log h̃


class MinLSTMKeras(MinRNNKeras):
    """L x MinLSTM(H) + Dense(O)."""

    LAYER = MinLSTM
