"""GRU in PyTorch: ``torch.nn.GRU`` (batch_first) + a linear head.

Follows PyTorch's documented GRU (``torch/nn/modules/rnn.py``), the cuDNN form, i.e. the suite's
'reset_after' convention (Keras ``reset_after=True``); Cho et al. 2014's reset_before form is not
available in PyTorch. Per layer k, row-vector form, x_t (B, X_k), h_{t-1} (B, H):

    r_t = σ(x_t W_ir + b_ir + h_{t-1} W_hr + b_hr)            reset gate
    z_t = σ(x_t W_iz + b_iz + h_{t-1} W_hz + b_hz)            update gate
    n_t = tanh(x_t W_in + b_in + r_t ⊙ (h_{t-1} W_hn + b_hn))  candidate (r applied after the matmul)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

Glossary: σ logistic sigmoid, ⊙ element-wise product, W_i* input weights, W_h* recurrent weights,
b_i* / b_h* input / recurrent biases. Shapes: B batch, T time, X input, H hidden, O outputs, L layers.
PyTorch layout (column-vector form, rows stacked r|z|n): weight_ih_l{k} (3H, X_k), weight_hh_l{k} (3H, H),
bias_ih_l{k} (3H,), bias_hh_l{k} (3H,). Canonical: l{k}.W_i = weight_ih.T (X_k, 3H) etc. (suite.models.layouts).
On the CPU, nn.GRU runs an unfused per-step loop (no oneDNN kernel), unlike nn.LSTM.
"""
from __future__ import annotations

import torch
from torch import nn

from suite.models import layouts
from suite.models.torch.common import RecurrentEncoder, TorchRecurrentModel


class GRUTorch(TorchRecurrentModel):
    """nn.GRU(X, H, num_layers=L, batch_first=True) + nn.Linear(H, O)."""

    def build_encoder(self) -> nn.Module:
        s = self.spec
        return RecurrentEncoder(nn.GRU(s.input_size, s.hidden, num_layers=s.layers, batch_first=True))

    layer_to_canonical = staticmethod(layouts.gru_torch_to_canonical)
    layer_to_torch = staticmethod(layouts.gru_canonical_to_torch)

    def init_state(self, batch_size: int) -> torch.Tensor:
        return torch.zeros(self.spec.layers, batch_size, self.spec.hidden, dtype=self.dtype)  # h (L, B, H)
