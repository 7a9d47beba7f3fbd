"""Light GRU (Ravanelli, Brakel, Omologo & Bengio 2018, "Light Gated Recurrent Units for Speech Recognition",
IEEE TETCI 2(2)) in PyTorch, registered through the suite's easy path as model ``lightgru-torch``.

What Light GRU changes in the GRU: the reset gate is removed, the candidate uses ReLU instead of tanh, and
batch normalisation is applied to the feed-forward (input) projections. Per layer k, row-vector form,
x_t (B, X_k), h_{t-1} (B, H):

    z_t = σ(BN(x_t W_z) + h_{t-1} U_z)                 update gate (no reset gate)
    c_t = ReLU(BN(x_t W_c) + h_{t-1} U_c)              candidate, ReLU
    h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ c_t

What is implemented here: exactly these equations with ``batch_norm=True``; with ``batch_norm=False`` (the
registered model) BN(a) is replaced by a + b, a learned bias per gate block, i.e.
z_t = σ(x_t W_z + b_z + h_{t-1} U_z) and c_t = ReLU(x_t W_c + b_c + h_{t-1} U_c). The registered model leaves batch
normalisation out so that it is compared with the built-in GRU and LSTM (which have none) on the same footing, and
because batch statistics over a minibatch of a few dozen sequences make a step's output depend on the other
sequences in the batch; the batch-normalised form is ``LightGRU(..., batch_norm=True)`` (running statistics in
evaluation and streaming, as torch's BatchNorm1d keeps them). Weights: W (X_k, 2H) with blocks z|c, U (H, 2H)
without bias; initialisation: torch's nn.Linear default (uniform ±1/sqrt(fan_in)) for W, orthogonal U blocks.

Shapes: B batch, T time, X input, H hidden, L layers. ``forward`` (B, T, X) -> (B, T, H) runs the input
projections of all T steps as one matrix product, then the recurrence step by step; ``step`` is one of those steps
for streaming (state h (L, B, H)), so the suite streams without recomputing the prefix and exports the step.
"""
from __future__ import annotations

import torch
from torch import nn

from suite.models import register_encoder


class LightGRU(nn.Module):
    """L stacked Light GRU layers (module docstring); forward (B, T, X) -> top-layer states (B, T, H)."""

    def __init__(self, input_size: int, hidden: int, layers: int = 1, batch_norm: bool = False):
        super().__init__()
        self.hidden, self.layers, self.batch_norm = hidden, layers, batch_norm
        sizes = [input_size] + [hidden] * (layers - 1)
        self.W = nn.ModuleList(nn.Linear(x, 2 * hidden, bias=not batch_norm) for x in sizes)    # x W (+ b): z|c
        self.U = nn.ModuleList(nn.Linear(hidden, 2 * hidden, bias=False) for _ in sizes)      # h U: z|c
        self.bn = nn.ModuleList(nn.BatchNorm1d(2 * hidden) for _ in sizes) if batch_norm else None
        for u in self.U:
            for block in u.weight.data.chunk(2, dim=0):                                       # (H, H) each
                nn.init.orthogonal_(block)

    def project(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """BN(x W) (or x W + b) of layer k for x (..., X_k) -> (..., 2H)."""
        a = self.W[k](x)
        if self.bn is None:
            return a
        shape = a.shape
        return self.bn[k](a.reshape(-1, shape[-1])).reshape(shape)

    def cell(self, k: int, a: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One step of layer k from its input projection a (B, 2H) and h_{t-1} (B, H)."""
        az, ac = a.chunk(2, dim=-1)
        uz, uc = self.U[k](h).chunk(2, dim=-1)
        z = torch.sigmoid(az + uz)
        c = torch.relu(ac + uc)
        return z * h + (1 - z) * c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        out = x
        for k in range(self.layers):
            a = self.project(k, out)                                  # (B, T, 2H): every step's projection at once
            h = a.new_zeros(B, self.hidden)
            states = []
            for t in range(T):
                h = self.cell(k, a[:, t], h)
                states.append(h)
            out = torch.stack(states, dim=1)                          # (B, T, H)
        return out

    def init_state(self, batch_size: int) -> torch.Tensor:
        """h (L, B, H) of zeros, in the parameters' dtype."""
        weight = self.U[0].weight
        return weight.new_zeros(self.layers, batch_size, self.hidden)

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x_t (B, X), h (L, B, H) -> (top-layer h_t (B, H), new h (L, B, H))."""
        inp, new = x_t, []
        for k in range(self.layers):
            inp = self.cell(k, self.project(k, inp), state[k])
            new.append(inp)
        return inp, torch.stack(new)


def light_gru(input_size: int, hidden: int, layers: int) -> LightGRU:
    """The registered factory: Light GRU without batch normalisation (module docstring)."""
    return LightGRU(input_size, hidden, layers, batch_norm=False)


def light_gru_params(spec) -> int:
    """Encoder parameters of the registered form: per layer k, W (X_k, 2H) + b (2H) + U (H, 2H), i.e.
    2 H (X_k + H + 1); the same count as a minGRU layer plus the recurrent weights."""
    return sum(2 * spec.hidden * ((spec.input_size if k == 0 else spec.hidden) + spec.hidden + 1)
               for k in range(spec.layers))


def light_gru_flops(spec, batch: int, seq_len: int) -> int:
    """Matmul FLOPs of a forward (the suite's convention, multiply-add = 2): per layer 2 B T (X_k + H) 2H."""
    return sum(2 * batch * seq_len * ((spec.input_size if k == 0 else spec.hidden) + spec.hidden) * 2 * spec.hidden
               for k in range(spec.layers))


register_encoder("lightgru", "torch", light_gru,
                 description="Light GRU (Ravanelli et al. 2018): no reset gate, ReLU candidate; PyTorch, a Python "
                             "loop over t (batch norm off)",
                 params=light_gru_params,
                 params_label=lambda spec: "2 H (X_k + H + 1) per layer: W z|c with bias, U z|c",
                 forward_flops=light_gru_flops,
                 step_flops=lambda spec, context, batch: light_gru_flops(spec, batch, 1),
                 activations=lambda spec, batch, seq_len: spec.layers * batch * seq_len * 5 * spec.hidden)
