"""LSTM in Keras 3 (TensorFlow backend): stacked ``keras.layers.LSTM`` + a Dense head.

Follows Keras's LSTM (``keras/src/layers/rnn/lstm.py``; Hochreiter & Schmidhuber 1997 with a forget
gate, no peepholes). Per layer k, row-vector form, x_t (B, X_k), h_{t-1}, c_{t-1} (B, H):

    i_t = σ(x_t W_i + h_{t-1} U_i + b_i)        input gate
    f_t = σ(x_t W_f + h_{t-1} U_f + b_f)        forget gate (initialised with b_f = 1: unit_forget_bias)
    g_t = tanh(x_t W_c + h_{t-1} U_c + b_c)     cell candidate (Keras "c", canonical "g")
    o_t = σ(x_t W_o + h_{t-1} U_o + b_o)        output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

Glossary: σ logistic sigmoid, ⊙ element-wise product, W kernel, U recurrent_kernel, one bias b.
Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
Keras layout (columns i|f|c|o): kernel (X_k, 4H), recurrent_kernel (H, 4H), bias (4H,) = canonical b_i + b_h.
Streaming: the layer's own LSTMCell, one call per token, carrying [h, c] per layer.
Forget-gate bias: Keras's default (unit_forget_bias=True) starts b_f at 1, the other gates' biases at 0.
``spec.forget_bias`` = 1 keeps that; another value v turns unit_forget_bias off and initialises the bias (columns
i|f|c|o) to v on the f slice [H:2H] and 0 elsewhere (``forget_bias_initializer``).
"""
from __future__ import annotations


import numpy as np

from suite.models import layouts
from suite.models.keras.common import KerasRecurrentModel, keras, keras_rnn_cudnn_criteria, tf


def forget_bias_initializer(value: float):
    """A Keras bias initializer for an LSTM bias of shape (4H,), columns i|f|c|o: ``value`` on f, 0 elsewhere."""
    def init(shape, dtype=None):
        H = shape[0] // 4
        b = np.zeros(shape, dtype="float64")
        b[H:2 * H] = value
        return tf.constant(b, dtype=dtype or "float32")
    return init


class LSTMKeras(KerasRecurrentModel):
    """L x keras.layers.LSTM(H, return_sequences=True) + Dense(O)."""

    def make_layer(self, k: int):
        fb = self.spec.forget_bias
        bias = {} if fb is None or fb == 1.0 else dict(unit_forget_bias=False,
                                                        bias_initializer=forget_bias_initializer(fb))
        return keras.layers.LSTM(self.spec.hidden, return_sequences=True, dtype=self.spec.dtype, name=f"lstm_{k}",
                                 **bias)

    def layer_to_canonical(self, kernel, recurrent_kernel, bias, grad: bool) -> dict[str, np.ndarray]:
        return layouts.lstm_keras_to_canonical(kernel, recurrent_kernel, bias, grad=grad)

    def layer_to_keras(self, W_i, W_h, b_i, b_h) -> dict[str, np.ndarray]:
        return layouts.lstm_canonical_to_keras(W_i, W_h, b_i, b_h)

    def init_state(self, batch_size: int) -> list:
        zeros = lambda: tf.zeros((batch_size, self.spec.hidden), dtype=self.spec.dtype)  # noqa: E731
        return [[zeros(), zeros()] for _ in self.rnn_layers]   # [h, c] per layer

    def cudnn_eligible(self) -> bool:
        return all(keras_rnn_cudnn_criteria(layer, None) for layer in self.rnn_layers)
