"""LSTM in PyTorch: ``torch.nn.LSTM`` (batch_first) + a linear head.

Follows PyTorch's documented LSTM (Hochreiter & Schmidhuber 1997 with a forget gate, Gers et al. 2000;
no peepholes). Per layer k, row-vector form, x_t (B, X_k), h_{t-1}, c_{t-1} (B, H):

    i_t = σ(x_t W_ii + b_ii + h_{t-1} W_hi + b_hi)        input gate
    f_t = σ(x_t W_if + b_if + h_{t-1} W_hf + b_hf)        forget gate
    g_t = tanh(x_t W_ig + b_ig + h_{t-1} W_hg + b_hg)     cell candidate
    o_t = σ(x_t W_io + b_io + h_{t-1} W_ho + b_ho)        output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

Glossary: σ logistic sigmoid, ⊙ element-wise product, c cell state, h hidden state.
Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
PyTorch layout (column-vector form, rows stacked i|f|g|o): weight_ih_l{k} (4H, X_k), weight_hh_l{k} (4H, H),
bias_ih_l{k} (4H,), bias_hh_l{k} (4H,). Canonical l{k}.W_i = weight_ih.T (X_k, 4H), same gate order.
On the CPU in float32, nn.LSTM runs oneDNN's fused RNN kernel (``execution_path()['fused_kernel']``).
Forget-gate bias: PyTorch draws bias_ih and bias_hh each from U(-1/sqrt(H), 1/sqrt(H)), so b_f = b_if + b_hf
starts near 0. ``spec.forget_bias`` = v sets, in every layer, the f rows [H:2H] (gate order i|f|g|o) of bias_ih
to v and of bias_hh to 0, so the effective b_f is v; the other weights keep their draws.
"""
from __future__ import annotations

import torch
from torch import nn

from suite.models import layouts
from suite.models.torch.common import RecurrentEncoder, TorchRecurrentModel


class LSTMTorch(TorchRecurrentModel):
    """nn.LSTM(X, H, num_layers=L, batch_first=True) + nn.Linear(H, O)."""

    def build_encoder(self) -> nn.Module:
        s = self.spec
        rnn = nn.LSTM(s.input_size, s.hidden, num_layers=s.layers, batch_first=True)
        if s.forget_bias is not None:
            H = s.hidden
            with torch.no_grad():
                for k in range(s.layers):
                    getattr(rnn, f"bias_ih_l{k}")[H:2 * H] = s.forget_bias    # rows i|f|g|o: f is [H:2H]
                    getattr(rnn, f"bias_hh_l{k}")[H:2 * H] = 0.0
        return RecurrentEncoder(rnn)

    layer_to_canonical = staticmethod(layouts.lstm_torch_to_canonical)
    layer_to_torch = staticmethod(layouts.lstm_canonical_to_torch)

    def init_state(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        zeros = torch.zeros(self.spec.layers, batch_size, self.spec.hidden, dtype=self.dtype)
        return zeros, zeros.clone()   # (h, c), each (L, B, H)
