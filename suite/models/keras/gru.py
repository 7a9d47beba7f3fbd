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
Canonical r|z|n (suite.models.base) by swapping the first two column blocks (suite.models.layouts).
Streaming: the layer's own GRUCell, one call per token, carrying h per layer.
"""
from __future__ import annotations


import numpy as np

from suite.models import layouts
from suite.models.keras.common import KerasRecurrentModel, keras, keras_rnn_cudnn_criteria, tf


class GRUKeras(KerasRecurrentModel):
    """L x keras.layers.GRU(H, return_sequences=True, reset_after=(convention == 'reset_after')) + Dense(O)."""

    @property
    def reset_after(self) -> bool:
        return self.spec.convention == "reset_after"

    def make_layer(self, k: int):
        return keras.layers.GRU(self.spec.hidden, return_sequences=True, reset_after=self.reset_after,
                                dtype=self.spec.dtype, name=f"gru_{k}")

    def layer_to_canonical(self, kernel, recurrent_kernel, bias, grad: bool) -> dict[str, np.ndarray]:
        return layouts.gru_keras_to_canonical(kernel, recurrent_kernel, bias, reset_after=self.reset_after, grad=grad)

    def layer_to_keras(self, W_i, W_h, b_i, b_h) -> dict[str, np.ndarray]:
        return layouts.gru_canonical_to_keras(W_i, W_h, b_i, b_h, reset_after=self.reset_after)

    def init_state(self, batch_size: int) -> list:
        h = lambda: tf.zeros((batch_size, self.spec.hidden), dtype=self.spec.dtype)  # noqa: E731
        return [[h()] for _ in self.rnn_layers]   # [h] per layer

    def cudnn_eligible(self) -> bool:
        return all(keras_rnn_cudnn_criteria(layer, self.reset_after) for layer in self.rnn_layers)
