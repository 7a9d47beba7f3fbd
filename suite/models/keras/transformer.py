"""Causal pre-LN Transformer encoder in Keras 3, built from ``keras.layers.MultiHeadAttention``.

The same network as ``transformer_torch`` (GPT-2 style pre-LN blocks, sinusoidal positions, ReLU
feed-forward, no dropout). x (B, T, X), D = H model width, F feed-forward width, n heads, d = D/n:

    h_0   = x W_in + b_in + PE                PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(same)
    per layer k:
    h     = h + Attn(LN1(h))                  MultiHeadAttention(n, d)(a, a, use_causal_mask=True)
    h     = h + ReLU(LN2(h) W_1 + b_1) W_2 + b_2
    out   = LN_f(h)                           (B, T, D); the head reads out[:, -1] for output='last'
    Attn(a) = concat_heads(softmax(q k^T / sqrt(d) + mask) v) W_o + b_o,  q|k|v = a W_q|W_k|W_v + b
    LN(a) = g ⊙ (a − mean(a)) / sqrt(var(a) + 1e-5) + b      (LayerNormalization(epsilon=1e-5))

Keras layout per layer: MultiHeadAttention query/key/value kernels (D, n, d) and biases (n, d), output
kernel (n, d, D) and bias (D,); Dense kernels (in, out); LayerNormalization gamma/beta (D,).
Converters to the canonical names in suite.models.layouts (head-major flattening of (n, d)).
Streaming: a key/value cache per layer, (B, t, n, d), through the attention layer's own projections;
the position index of a new token is the cache length.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from suite.models import layouts
from suite.models.keras.common import KerasSequenceModel, keras, ops, tf

LN_EPS = 1e-5


def sinusoidal_positions(start, length, D: int, dtype: str):
    """PE rows for positions start .. start+length-1, (length, D); computed in float64, then cast."""
    t = ops.cast(ops.arange(length), "float64") + ops.cast(start, "float64")   # (T,)
    j = np.arange(D)
    inv_freq = np.power(10000.0, -(2 * (j // 2)) / D)                          # (D,) 1/10000^(2i/D)
    angle = t[:, None] * inv_freq[None, :]                                      # (T, D)
    return ops.cast(ops.where(j % 2 == 0, ops.sin(angle), ops.cos(angle)), dtype)


class SinusoidalPositions(keras.layers.Layer):
    """h (B, T, D) -> h + PE[:T]."""

    def call(self, h):
        return h + sinusoidal_positions(0, ops.shape(h)[1], h.shape[-1], self.compute_dtype)


class CausalBlock(keras.layers.Layer):
    """One pre-LN block: h + Attn(LN1(h)) (causal), then h + FF(LN2(h))."""

    def __init__(self, D: int, heads: int, ff: int, **kwargs):
        super().__init__(**kwargs)
        dtype = kwargs.get("dtype")
        self.heads, self.d_head = heads, D // heads
        self.ln1 = keras.layers.LayerNormalization(epsilon=LN_EPS, dtype=dtype, name="ln1")
        self.attn = keras.layers.MultiHeadAttention(heads, D // heads, dtype=dtype, name="attn")
        self.ln2 = keras.layers.LayerNormalization(epsilon=LN_EPS, dtype=dtype, name="ln2")
        self.ff1 = keras.layers.Dense(ff, activation="relu", dtype=dtype, name="ff1")
        self.ff2 = keras.layers.Dense(D, dtype=dtype, name="ff2")

    def call(self, h):
        a = self.ln1(h)                                            # (B, T, D)
        h = h + self.attn(a, a, use_causal_mask=True)
        return h + self.ff2(self.ff1(self.ln2(h)))

    def step(self, h, K, V):
        """h (B, D), cached K, V (B, t, n, d) -> (h (B, D), K, V with the new position appended)."""
        a = self.ln1(h)[:, None, :]                                # (B, 1, D)
        q = self.attn.query_dense(a)                               # (B, 1, n, d)
        K = ops.concatenate([K, self.attn.key_dense(a)], axis=1)   # (B, t+1, n, d)
        V = ops.concatenate([V, self.attn.value_dense(a)], axis=1)
        scores = ops.einsum("bqnd,bknd->bnqk", q, K) / np.sqrt(self.d_head)   # (B, n, 1, t+1); all past visible
        ctx = ops.einsum("bnqk,bknd->bqnd", tf.nn.softmax(scores, axis=-1), V)  # (B, 1, n, d)
        h = h + self.attn.output_dense(ctx)[:, 0]                 # (B, D)
        return h + self.ff2(self.ff1(self.ln2(h))), K, V


class TransformerKeras(KerasSequenceModel):
    """Dense(D) + positions, L CausalBlocks, LayerNormalization, Dense(O) head."""

    def build_encoder(self, inputs):
        s = self.spec
        self.inp = keras.layers.Dense(s.hidden, dtype=s.dtype, name="in")
        self.positions = SinusoidalPositions(dtype=s.dtype, name="positions")
        self.blocks = [CausalBlock(s.hidden, s.attention_heads, s.ff_width, dtype=s.dtype, name=f"block_{k}")
                       for k in range(s.layers)]
        self.ln_f = keras.layers.LayerNormalization(epsilon=LN_EPS, dtype=s.dtype, name="ln_f")
        h = self.positions(self.inp(inputs))                       # (B, T, D)
        for block in self.blocks:
            h = block(h)
        return self.ln_f(h)

    def encoder_variables(self) -> dict[str, Any]:
        out = {"in.kernel": self.inp.kernel, "in.bias": self.inp.bias,
               "ln_f.gamma": self.ln_f.gamma, "ln_f.beta": self.ln_f.beta}
        for k, b in enumerate(self.blocks):
            a = b.attn
            out.update({
                f"l{k}.ln1.gamma": b.ln1.gamma, f"l{k}.ln1.beta": b.ln1.beta,
                f"l{k}.ln2.gamma": b.ln2.gamma, f"l{k}.ln2.beta": b.ln2.beta,
                f"l{k}.q_kernel": a.query_dense.kernel, f"l{k}.q_bias": a.query_dense.bias,
                f"l{k}.k_kernel": a.key_dense.kernel, f"l{k}.k_bias": a.key_dense.bias,
                f"l{k}.v_kernel": a.value_dense.kernel, f"l{k}.v_bias": a.value_dense.bias,
                f"l{k}.o_kernel": a.output_dense.kernel, f"l{k}.o_bias": a.output_dense.bias,
                f"l{k}.ff1.kernel": b.ff1.kernel, f"l{k}.ff1.bias": b.ff1.bias,
                f"l{k}.ff2.kernel": b.ff2.kernel, f"l{k}.ff2.bias": b.ff2.bias})
        return out

    def encoder_to_canonical(self, p: dict[str, np.ndarray], grad: bool) -> dict[str, np.ndarray]:
        out = {"in.W": p["in.kernel"], "in.b": p["in.bias"], "ln_f.g": p["ln_f.gamma"], "ln_f.b": p["ln_f.beta"]}
        for k in range(self.spec.layers):
            attn = layouts.attention_keras_to_canonical(*(p[f"l{k}.{n}"] for n in (
                "q_kernel", "q_bias", "k_kernel", "k_bias", "v_kernel", "v_bias", "o_kernel", "o_bias")))
            layer = {**attn, "ln1.g": p[f"l{k}.ln1.gamma"], "ln1.b": p[f"l{k}.ln1.beta"],
                     "ln2.g": p[f"l{k}.ln2.gamma"], "ln2.b": p[f"l{k}.ln2.beta"],
                     "ff.W_1": p[f"l{k}.ff1.kernel"], "ff.b_1": p[f"l{k}.ff1.bias"],    # (D, F), (F,)
                     "ff.W_2": p[f"l{k}.ff2.kernel"], "ff.b_2": p[f"l{k}.ff2.bias"]}    # (F, D), (D,)
            out.update({f"l{k}.{n}": np.array(v) for n, v in layer.items()})
        return {n: np.array(v) for n, v in out.items()}

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {"in.kernel": w["in.W"], "in.bias": w["in.b"], "ln_f.gamma": w["ln_f.g"], "ln_f.beta": w["ln_f.b"]}
        for k in range(self.spec.layers):
            layer = {n: w[f"l{k}.{n}"] for n in layouts.TRANSFORMER_LAYER_NAMES}
            attn = layouts.attention_canonical_to_keras(layer, self.spec.attention_heads)
            out.update({f"l{k}.{n}": v for n, v in attn.items()})
            out.update({f"l{k}.ln1.gamma": layer["ln1.g"], f"l{k}.ln1.beta": layer["ln1.b"],
                        f"l{k}.ln2.gamma": layer["ln2.g"], f"l{k}.ln2.beta": layer["ln2.b"],
                        f"l{k}.ff1.kernel": layer["ff.W_1"], f"l{k}.ff1.bias": layer["ff.b_1"],
                        f"l{k}.ff2.kernel": layer["ff.W_2"], f"l{k}.ff2.bias": layer["ff.b_2"]})
        return out

    def init_state(self, batch_size: int) -> list:
        s = self.spec
        empty = ops.zeros((batch_size, 0, s.attention_heads, s.hidden // s.attention_heads), dtype=s.dtype)
        return [(empty, empty) for _ in self.blocks]   # empty K, V cache per layer

    def streaming_step(self, x_t, state):
        t = ops.shape(state[0][0])[1]                                          # position index = cache length
        h = self.inp(x_t) + sinusoidal_positions(t, 1, self.spec.hidden, self.spec.dtype)[0]   # (B, D)
        new_state = []
        for block, (K, V) in zip(self.blocks, state):
            h, K, V = block.step(h, K, V)
            new_state.append((K, V))
        return self.head(self.ln_f(h)), new_state                               # (B, O)
