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
"""
from __future__ import annotations

from typing import Any

import numpy as np

from suite import layouts
from suite.models.keras_common import KerasSequenceModel, keras, keras_rnn_cudnn_criteria, tf


class LSTMKeras(KerasSequenceModel):
    """L x keras.layers.LSTM(H, return_sequences=True) + Dense(O)."""

    def build_encoder(self, inputs):
        s = self.spec
        self.rnn_layers = [keras.layers.LSTM(s.hidden, return_sequences=True, dtype=s.dtype, name=f"lstm_{k}")
                           for k in range(s.layers)]
        h = inputs
        for layer in self.rnn_layers:
            h = layer(h)                               # (B, T, H)
        return h

    def encoder_variables(self) -> dict[str, Any]:
        out = {}
        for k, layer in enumerate(self.rnn_layers):
            cell = layer.cell
            out.update({f"l{k}.kernel": cell.kernel, f"l{k}.recurrent_kernel": cell.recurrent_kernel,
                        f"l{k}.bias": cell.bias})
        return out

    def encoder_to_canonical(self, p: dict[str, np.ndarray], grad: bool) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = layouts.lstm_keras_to_canonical(p[f"l{k}.kernel"], p[f"l{k}.recurrent_kernel"], p[f"l{k}.bias"],
                                                    grad=grad)
            out.update({f"l{k}.{n}": v for n, v in layer.items()})
        return out

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = layouts.lstm_canonical_to_keras(w[f"l{k}.W_i"], w[f"l{k}.W_h"], w[f"l{k}.b_i"], w[f"l{k}.b_h"])
            out.update({f"l{k}.{n}": v for n, v in layer.items()})
        return out

    def init_state(self, batch_size: int) -> list:
        zeros = lambda: tf.zeros((batch_size, self.spec.hidden), dtype=self.spec.dtype)  # noqa: E731
        return [[zeros(), zeros()] for _ in self.rnn_layers]   # [h, c] per layer

    def streaming_step(self, x_t, state):
        h, new_state = x_t, []
        for layer, s in zip(self.rnn_layers, state):
            h, s = layer.cell(h, s, training=False)    # (B, H), [h, c]
            new_state.append(s)
        return self.head(h), new_state                 # (B, O)

    def cudnn_eligible(self) -> bool:
        return all(keras_rnn_cudnn_criteria(layer, None) for layer in self.rnn_layers)
