"""What the Keras minGRU and minLSTM share (TensorFlow backend): g, the log-space scan, a custom
layer, the layer stack and streaming.

Feng et al. 2024 ("Were RNNs All We Needed?"). Each layer is the linear recurrence (row vectors,
⊙ elementwise) h_t = a_t ⊙ h_{t−1} + b_t, h_0 = 0, with a_t, b_t from x_t alone (per-arch formulas in
``suite.models.keras.mingru`` / ``minlstm``), computed as ``ModelSpec.scan`` says:

  'parallel' (the paper's log-space scan, over the whole sequence at once):
    A_t     = Σ_{s≤t} log a_s                    keras.ops.cumsum(log_a, axis=1)
    log h_t = A_t + log Σ_{s≤t} exp(log b_s − A_s)  tf.math.cumulative_logsumexp(log_b − A, axis=1)
    h_t     = exp(log h_t)
    (Keras 3 has no keras.ops.logcumsumexp; TensorFlow's op keeps a running max and has a gradient.)
  'sequential': tf.scan over time-major a_t, b_t (a tf.while_loop), h_t = a_t ⊙ h_{t−1} + b_t.
    Not keras.ops.scan: with a sequence length unknown when tracing, its loop has no maximum
    iteration count, which XLA (Keras's jit_compile='auto' where a GPU exists) refuses to
    differentiate ("XLA compilation requires a fixed tensor list size"); tf.scan sets it.
Gradients by tf.GradientTape (Keras's compiled train step) in both cases.
Float32 precision of the parallel form falls linearly with T (log h_t adds A_t to a log-sum-exp of
about −A_t, and |A_t| grows with t): relative error ~2e-5 at T=256, ~4e-4 at T=4096 (figures in suite.models.numpy.minrnn).

Positive candidate: g(u) = u + 0.5 for u ≥ 0, σ(u) otherwise; log g(u) = log(u + 0.5) for u ≥ 0,
−softplus(−u) otherwise (softplus(u) = log(1 + e^u)). g is continuous at 0 but its slope jumps from
1/4 to 1; keras.ops.where gives the u ≥ 0 branch's derivative at exactly 0.

Shapes: B batch, T time, X input (X_k for layer k: X, then H), H hidden, O outputs, L layers,
G projection blocks (minGRU 2: z|h, minLSTM 3: f|i|h).
Keras layout per layer k (custom ``MinRNN`` layer): kernel (X_k, G H) columns in block order, bias (G H,),
already canonical l{k}.W, l{k}.b (suite.models.layouts). Initialisation: Keras Dense's defaults,
glorot_uniform kernel and zero bias.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from suite.models import layouts
from suite.models.keras.common import KerasSequenceModel, keras, ops, tf


def g(u):
    """u + 0.5 for u ≥ 0, σ(u) otherwise (positive)."""
    return ops.where(u >= 0, u + 0.5, ops.sigmoid(u))


def log_g(u):
    """log g(u): log(u + 0.5) for u ≥ 0, −softplus(−u) otherwise (relu keeps the unused branch finite)."""
    return ops.where(u >= 0, ops.log(ops.relu(u) + 0.5), -ops.softplus(-u))


def log_scan(log_a, log_b):
    """(B, T, H) log a_t, log b_t -> h (B, T, H) of h_t = a_t ⊙ h_{t−1} + b_t, h_0 = 0."""
    A = ops.cumsum(log_a, axis=1)                                         # A_t = Σ_{s≤t} log a_s
    return ops.exp(A + tf.math.cumulative_logsumexp(log_b - A, axis=1))   # exp(A_t + LCSE(log b − A)_t)


def sequential_scan(a, b):
    """(B, T, H) a_t, b_t -> h (B, T, H): h_t = a_t ⊙ h_{t−1} + b_t, h_0 = 0, one step at a time."""
    a_tm, b_tm = ops.transpose(a, (1, 0, 2)), ops.transpose(b, (1, 0, 2))   # (T, B, H) time-major
    hs = tf.scan(lambda h, ab: ab[0] * h + ab[1],                             # h_t = a_t ⊙ h_{t−1} + b_t
                 (a_tm, b_tm), initializer=ops.zeros_like(b_tm[0]))            # (T, B, H)
    return ops.transpose(hs, (1, 0, 2))


class MinRNN(keras.layers.Layer):
    """One layer: proj = x kernel + bias (X_k -> G H), then the scan. Subclasses give the coefficients."""

    G = 0

    def __init__(self, units: int, parallel: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.parallel = units, parallel

    def build(self, input_shape):
        GH = self.G * self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], GH), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(GH,), initializer="zeros", name="bias")

    def coefficients(self, proj):
        """proj (..., G H) -> (a, b), each (..., H): the sequential form's coefficients."""
        raise NotImplementedError

    def log_coefficients(self, proj):
        """proj (..., G H) -> (log a, log b), each (..., H), computed in log space."""
        raise NotImplementedError

    def call(self, x):
        """x (B, T, X_k) -> h (B, T, H)."""
        proj = ops.matmul(x, self.kernel) + self.bias                  # (B, T, G H)
        if self.parallel:
            return log_scan(*self.log_coefficients(proj))
        return sequential_scan(*self.coefficients(proj))

    def step(self, x_t, h):
        """x_t (B, X_k), h_{t−1} (B, H) -> h_t (B, H)."""
        a, b = self.coefficients(ops.matmul(x_t, self.kernel) + self.bias)
        return a * h + b

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return super().get_config() | {"units": self.units, "parallel": self.parallel}


class MinRNNKeras(KerasSequenceModel):
    """L stacked LAYER(H) + Dense(O); streaming carries h (B, H) per layer."""

    LAYER: type[MinRNN] = MinRNN

    def build_encoder(self, inputs):
        s = self.spec
        self.rnn_layers = [self.LAYER(s.hidden, parallel=s.scan == "parallel", dtype=s.dtype,
                                      name=f"{s.arch}_{k}") for k in range(s.layers)]
        h = inputs
        for layer in self.rnn_layers:
            h = layer(h)                                                # (B, T, H)
        return h

    def encoder_variables(self) -> dict[str, Any]:
        out = {}
        for k, layer in enumerate(self.rnn_layers):
            out[f"l{k}.kernel"], out[f"l{k}.bias"] = layer.kernel, layer.bias
        return out

    def encoder_to_canonical(self, p: dict[str, np.ndarray], grad: bool) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = layouts.minrnn_keras_to_canonical(p[f"l{k}.kernel"], p[f"l{k}.bias"])
            out[f"l{k}.W"], out[f"l{k}.b"] = layer["W"], layer["b"]
        return out

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = layouts.minrnn_canonical_to_keras(w[f"l{k}.W"], w[f"l{k}.b"])
            out[f"l{k}.kernel"], out[f"l{k}.bias"] = layer["kernel"], layer["bias"]
        return out

    def init_state(self, batch_size: int) -> list:
        return [tf.zeros((batch_size, self.spec.hidden), dtype=self.spec.dtype) for _ in self.rnn_layers]

    def streaming_step(self, x_t, state):
        h, new_state = x_t, []
        for layer, h_k in zip(self.rnn_layers, state):
            h = layer.step(h, h_k)                                      # (B, H)
            new_state.append(h)
        return self.head(h), new_state                                  # (B, O)
