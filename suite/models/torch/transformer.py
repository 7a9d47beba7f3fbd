"""Causal pre-LN Transformer encoder in PyTorch, built from ``nn.TransformerEncoderLayer``.

GPT-2 style pre-LN blocks (Vaswani et al. 2017; Xiong et al. 2020 for pre-LN), sinusoidal positions,
ReLU feed-forward, no dropout. x (B, T, X), D = H model width, F feed-forward width, n heads, d = D/n:

    h_0   = x W_in + b_in + PE                PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(same)
    per layer k:
    h     = h + Attn(LN1(h))                  causal: position t attends to positions <= t
    h     = h + ReLU(LN2(h) W_1 + b_1) W_2 + b_2
    out   = LN_f(h)                           (B, T, D); the head reads out[:, -1] for output='last'
    Attn(a) = concat_heads(softmax(q k^T / sqrt(d) + mask) v) W_o + b_o,  q|k|v = a W_q|W_k|W_v + b
    LN(a) = g ⊙ (a − mean(a)) / sqrt(var(a) + 1e-5) + b

PyTorch layout per layer (``nn.TransformerEncoderLayer(norm_first=True, batch_first=True, dropout=0)``):
self_attn.in_proj_weight (3D, D) rows q|k|v, in_proj_bias (3D,), self_attn.out_proj (D, D),
linear1 (F, D), linear2 (D, F), norm1, norm2; converters to the canonical names in suite.models.layouts.
Streaming: a key/value cache per layer, (B, n, t, d); the position index of a new token is the cache length.
"""
from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from suite.models import layouts
from suite.models.torch.common import TorchSequenceModel

LN_EPS = 1e-5


def sinusoidal_positions(start: int, length: int, D: int, dtype: torch.dtype) -> torch.Tensor:
    """PE rows for positions start .. start+length-1, (length, D); computed in float64, then cast."""
    t = torch.arange(start, start + length, dtype=torch.float64)[:, None]   # (T, 1)
    j = torch.arange(D)
    inv_freq = torch.pow(10000.0, -(2 * (j // 2)).double() / D)              # (D,) 1/10000^(2i/D)
    angle = t * inv_freq                                                     # (T, D)
    return torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)).to(dtype)


class CausalTransformerEncoder(nn.Module):
    """inp (X -> D) + PE, L pre-LN nn.TransformerEncoderLayer blocks with a causal mask, final LayerNorm."""

    def __init__(self, X: int, D: int, L: int, heads: int, ff: int):
        super().__init__()
        self.D, self.heads = D, heads
        self.inp = nn.Linear(X, D)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(D, heads, ff, dropout=0.0, activation="relu", layer_norm_eps=LN_EPS,
                                       batch_first=True, norm_first=True)
            for _ in range(L))
        self.ln_f = nn.LayerNorm(D, eps=LN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        h = self.inp(x) + sinusoidal_positions(0, T, self.D, x.dtype)                 # (B, T, D)
        mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=x.dtype)       # (T, T), -inf above diag
        for layer in self.layers:
            h = layer(h, src_mask=mask, is_causal=True)
        return self.ln_f(h)

    def step(self, x_t: torch.Tensor, cache: list) -> tuple[torch.Tensor, list]:
        """x_t (B, X), cache [(K, V) (B, n, t, d) per layer] -> (top state (B, D), new cache)."""
        t = cache[0][0].shape[2]
        h = self.inp(x_t) + sinusoidal_positions(t, 1, self.D, x_t.dtype)[0]          # (B, D)
        new_cache = []
        for layer, (K, V) in zip(self.layers, cache):
            h, K, V = self._layer_step(layer, h, K, V)
            new_cache.append((K, V))
        return self.ln_f(h), new_cache

    def _layer_step(self, layer: nn.TransformerEncoderLayer, h, K, V):
        """One block for one new position, attending to the cached keys/values plus its own."""
        B, n = h.shape[0], self.heads
        attn = layer.self_attn
        a = layer.norm1(h)                                                            # (B, D)
        q, k, v = F.linear(a, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)  # rows q|k|v
        q, k, v = (u.view(B, n, 1, self.D // n) for u in (q, k, v))                   # (B, n, 1, d)
        K, V = torch.cat([K, k], dim=2), torch.cat([V, v], dim=2)                      # (B, n, t+1, d)
        ctx = F.scaled_dot_product_attention(q, K, V)                                 # (B, n, 1, d); all past visible
        h = h + attn.out_proj(ctx.reshape(B, self.D))
        h = h + layer.linear2(F.relu(layer.linear1(layer.norm2(h))))
        return h, K, V


class TransformerTorch(TorchSequenceModel):
    """CausalTransformerEncoder + nn.Linear(D, O)."""

    def build_encoder(self) -> nn.Module:
        s = self.spec
        return CausalTransformerEncoder(s.input_size, s.hidden, s.layers, s.attention_heads, s.ff_width)

    def encoder_to_canonical(self, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        inp = layouts.linear_torch_to_canonical(p["inp.weight"], p["inp.bias"])
        out = {"in.W": inp["W"], "in.b": inp["b"], "ln_f.g": p["ln_f.weight"], "ln_f.b": p["ln_f.bias"]}
        for k in range(self.spec.layers):
            prefix = f"layers.{k}."
            layer = {n[len(prefix):]: v for n, v in p.items() if n.startswith(prefix)}
            out.update({f"l{k}.{n}": v for n, v in layouts.transformer_layer_torch_to_canonical(layer).items()})
        return out

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        inp = layouts.linear_canonical_to_torch(w["in.W"], w["in.b"])
        out = {"inp.weight": inp["weight"], "inp.bias": inp["bias"],
               "ln_f.weight": w["ln_f.g"], "ln_f.bias": w["ln_f.b"]}
        for k in range(self.spec.layers):
            layer = {n: w[f"l{k}.{n}"] for n in layouts.TRANSFORMER_LAYER_NAMES}
            out.update({f"layers.{k}.{n}": v for n, v in layouts.transformer_layer_canonical_to_torch(layer).items()})
        return out

    def init_state(self, batch_size: int) -> list:
        s = self.spec
        empty = torch.zeros(batch_size, s.attention_heads, 0, s.hidden // s.attention_heads, dtype=self.dtype)
        return [(empty, empty) for _ in range(s.layers)]   # empty K, V cache per layer

    def step(self, x_t, state):
        self.net.eval()
        with torch.inference_mode():
            h, state = self.net.encoder.step(self.tensor(x_t), state)   # (B, D)
            return self.net.head(h), state                              # (B, O)

    def fused_kernel(self) -> None:
        return None   # not determined: nn.TransformerEncoderLayer may take its fused inference fast path
