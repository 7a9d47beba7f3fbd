"""GRU in Keras 3 (TensorFlow backend): stacked ``keras.layers.GRU`` + a Dense head.

Follows Keras's GRU (``keras/src/layers/rnn/gru.py``), both conventions via ``reset_after``.
Per layer k, row-vector form, x_t (B, X_k), h_{t-1} (B, H):

    z_t = σ(x_t W_iz + b_iz + h_{t-1} W_hz + b_hz)                    update gate
    r_t = σ(x_t W_ir + b_ir + h_{t-1} W_hr + b_hr)                    reset gate
    reset_after=True  (suite 'reset_after', cuDNN/PyTorch form):
        n_t = tanh(x_t W_in + b_in + r_t ⊙ (h_{t-1} W_hn + b_hn))
    reset_after=False (suite 'reset_before', Cho et al. 2014):
        n_t = tanh(x_t W_in + (r_t ⊙ h_{t-1}) W_hn + b_n)            one bias, b = b_i + b_h
    h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ n_t

Glossary: σ logistic sigmoid (Keras recurrent_activation), tanh (activation), ⊙ element-wise product;
Keras calls the candidate n "h". Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
Keras layout (columns stacked z|r|h): kernel (X_k, 3H), recurrent_kernel (H, 3H),
bias (2, 3H) [row 0 input, row 1 recurrent] with reset_after=True, (3H,) with reset_after=False.
Canonical r|z|n (suite.models.base) by swapping the first two column blocks (suite.layouts).
Streaming: the layer's own GRUCell, one call per token, carrying h per layer.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from suite import layouts
from suite.models.keras_common import KerasSequenceModel, keras, keras_rnn_cudnn_criteria, tf


class GRUKeras(KerasSequenceModel):
    """L x keras.layers.GRU(H, return_sequences=True, reset_after=(convention == 'reset_after')) + Dense(O)."""

    @property
    def reset_after(self) -> bool:
        return self.spec.convention == "reset_after"

    def build_encoder(self, inputs):
        s = self.spec
        self.rnn_layers = [keras.layers.GRU(s.hidden, return_sequences=True, reset_after=self.reset_after,
                                            dtype=s.dtype, name=f"gru_{k}") for k in range(s.layers)]
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
            layer = layouts.gru_keras_to_canonical(p[f"l{k}.kernel"], p[f"l{k}.recurrent_kernel"], p[f"l{k}.bias"],
                                                   reset_after=self.reset_after, grad=grad)
            out.update({f"l{k}.{n}": v for n, v in layer.items()})
        return out

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = layouts.gru_canonical_to_keras(w[f"l{k}.W_i"], w[f"l{k}.W_h"], w[f"l{k}.b_i"], w[f"l{k}.b_h"],
                                                   reset_after=self.reset_after)
            out.update({f"l{k}.{n}": v for n, v in layer.items()})
        return out

    def init_state(self, batch_size: int) -> list:
        h = lambda: tf.zeros((batch_size, self.spec.hidden), dtype=self.spec.dtype)  # noqa: E731
        return [[h()] for _ in self.rnn_layers]   # [h] per layer

    def streaming_step(self, x_t, state):
        h, new_state = x_t, []
        for layer, s in zip(self.rnn_layers, state):
            h, s = layer.cell(h, s, training=False)    # (B, H), [h]
            new_state.append(s)
        return self.head(h), new_state                 # (B, O)

    def cudnn_eligible(self) -> bool:
        return all(keras_rnn_cudnn_criteria(layer, self.reset_after) for layer in self.rnn_layers)
