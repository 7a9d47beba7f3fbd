"""Explicit converters between the canonical weight layout and each framework's own.

The canonical layout is defined in ``suite.models.base`` (row vectors, ``y = x @ W + b``; GRU gates
r|z|n, LSTM gates i|f|g|o; separate input and recurrent biases b_i, b_h). Every function here is pure
NumPy, returns new arrays, and works the same for weights and for their gradients (a gradient has the
layout of its parameter); the only asymmetry is a folded bias, see ``grad`` below.

Framework layouts (H hidden width, X_k input width of layer k, D model width, F feed-forward width):

PyTorch ``nn.GRU`` layer k  -- rows stacked r|z|n, matrices act on column vectors (W x):
    weight_ih_l{k} (3H, X_k)   weight_hh_l{k} (3H, H)   bias_ih_l{k} (3H,)   bias_hh_l{k} (3H,)
    canonical W_i = weight_ih.T, W_h = weight_hh.T, b_i = bias_ih, b_h = bias_hh (same gate order).
Keras ``GRU`` cell          -- columns stacked z|r|h (Keras calls the candidate n "h"):
    kernel (X_k, 3H)   recurrent_kernel (H, 3H)
    bias (2, 3H): row 0 input bias, row 1 recurrent bias          (reset_after=True)
    bias (3H,):   one bias, holds b_i + b_h                        (reset_after=False)
    Canonical columns r|z|n come from Keras columns z|r|h by swapping the first two H-blocks.
PyTorch ``nn.LSTM`` layer k -- rows i|f|g|o: weight_ih (4H, X_k), weight_hh (4H, H), bias_ih, bias_hh (4H,)
Keras ``LSTM`` cell         -- columns i|f|c|o (c = canonical g): kernel (X_k, 4H), recurrent_kernel (H, 4H),
    bias (4H,) = b_i + b_h.
minGRU / minLSTM layer k (one input projection, no recurrent weights; G = 2 blocks z|h for minGRU,
G = 3 blocks f|i|h for minLSTM; canonical l{k}.W (X_k, G H), l{k}.b (G H,)):
    PyTorch ``nn.Linear(X_k, G H)``  weight (G H, X_k) rows in the canonical block order, bias (G H,)
    Keras ``MinRNN`` layer            kernel (X_k, G H) columns in the canonical block order, bias (G H,)
PyTorch ``nn.TransformerEncoderLayer`` -- self_attn.in_proj_weight (3D, D) rows q|k|v, in_proj_bias (3D,),
    self_attn.out_proj.weight (D, D), linear1.weight (F, D), linear2.weight (D, F), norm1/norm2 weight+bias.
Keras ``MultiHeadAttention`` -- query/key/value kernel (D, heads, D/heads), bias (heads, D/heads);
    output kernel (heads, D/heads, D), bias (D,). Head-major flattening (column = head * d_head + j)
    matches PyTorch's split of q|k|v into heads.

Folded biases (Keras LSTM; Keras GRU reset_after=False). Weights back to canonical: b_i = bias, b_h = 0
(outputs unchanged). Gradients (``grad=True``): d loss/d b_i = d loss/d b_h = d loss/d bias, because
bias = b_i + b_h; except the GRU reset_before convention, whose canonical b_h is not a parameter
(its gradient is reported as zeros).
"""
from __future__ import annotations

import numpy as np

from suite.errors import UserError, WeightShapeError


# --- shape checks ---------------------------------------------------------------------------
def check_weight_shapes(weights: dict, expected: dict[str, tuple], where: str) -> None:
    """Raise unless ``weights`` has exactly the keys of ``expected`` with the same shapes.

    Unknown or missing names raise UserError; a shape mismatch raises WeightShapeError naming the
    tensor and both shapes.
    """
    missing = sorted(set(expected) - set(weights))
    unknown = sorted(set(weights) - set(expected))
    if missing:
        raise UserError(f"{where}: weight {missing[0]!r} missing ({len(missing)} missing in all)")
    if unknown:
        raise UserError(f"{where}: unknown weight {unknown[0]!r}; expected names like {sorted(expected)[0]!r}")
    for name, shape in expected.items():
        got = tuple(np.shape(weights[name]))
        if got != tuple(shape):
            raise WeightShapeError(f"{where}: weight {name!r} has shape {got}, expected {tuple(shape)}")


def _blocks(a: np.ndarray, n: int) -> list[np.ndarray]:
    """Split the last axis of ``a`` into n equal gate blocks."""
    width = a.shape[-1]
    if width % n:
        raise WeightShapeError(f"last axis of size {width} does not split into {n} gate blocks")
    H = width // n
    return [a[..., j * H:(j + 1) * H] for j in range(n)]


# --- GRU gate order ---------------------------------------------------------------------------
def gru_gates_keras_to_canonical(a: np.ndarray) -> np.ndarray:
    """Last axis Keras z|r|h  ->  canonical r|z|n."""
    z, r, h = _blocks(a, 3)  # Keras order: z | r | h
    return np.concatenate([r, z, h], axis=-1)  # canonical order: r | z | n (n = Keras h)


def gru_gates_canonical_to_keras(a: np.ndarray) -> np.ndarray:
    """Last axis canonical r|z|n  ->  Keras z|r|h."""
    r, z, n = _blocks(a, 3)  # canonical order: r | z | n
    return np.concatenate([z, r, n], axis=-1)  # Keras order: z | r | h (h = canonical n)


# --- GRU ------------------------------------------------------------------------------------
def gru_torch_to_canonical(weight_ih, weight_hh, bias_ih, bias_hh) -> dict[str, np.ndarray]:
    """PyTorch rows r|z|n (3H, X), (3H, H)  ->  canonical columns r|z|n (X, 3H), (H, 3H)."""
    return {"W_i": np.array(weight_ih).T.copy(),   # (X, 3H) r|z|n
            "W_h": np.array(weight_hh).T.copy(),   # (H, 3H) r|z|n
            "b_i": np.array(bias_ih).copy(),        # (3H,)
            "b_h": np.array(bias_hh).copy()}        # (3H,)


def gru_canonical_to_torch(W_i, W_h, b_i, b_h) -> dict[str, np.ndarray]:
    """Canonical columns r|z|n  ->  PyTorch rows r|z|n."""
    return {"weight_ih": np.array(W_i).T.copy(),   # (3H, X) rows r|z|n
            "weight_hh": np.array(W_h).T.copy(),   # (3H, H) rows r|z|n
            "bias_ih": np.array(b_i).copy(),
            "bias_hh": np.array(b_h).copy()}


def gru_keras_to_canonical(kernel, recurrent_kernel, bias, reset_after: bool,
                           grad: bool = False) -> dict[str, np.ndarray]:
    """Keras columns z|r|h  ->  canonical columns r|z|n.

    reset_after=True: bias (2, 3H) -> b_i = bias[0], b_h = bias[1] (reordered).
    reset_after=False: bias (3H,) = b_i + b_h -> b_i = bias, b_h = 0 (weights and gradients alike:
    in the reset_before convention b_h is not a parameter).
    """
    bias = np.asarray(bias)
    expected_ndim = 2 if reset_after else 1
    if bias.ndim != expected_ndim:
        raise WeightShapeError(f"Keras GRU bias has shape {bias.shape}; reset_after={reset_after} "
                               f"needs {'(2, 3H)' if reset_after else '(3H,)'}")
    W_i = gru_gates_keras_to_canonical(np.asarray(kernel))             # (X, 3H) z|r|h -> r|z|n
    W_h = gru_gates_keras_to_canonical(np.asarray(recurrent_kernel))   # (H, 3H) z|r|h -> r|z|n
    if reset_after:
        b_i = gru_gates_keras_to_canonical(bias[0])   # input bias row, z|r|h -> r|z|n
        b_h = gru_gates_keras_to_canonical(bias[1])   # recurrent bias row, z|r|h -> r|z|n
    else:
        b_i = gru_gates_keras_to_canonical(bias)      # folded b_i + b_h, z|r|h -> r|z|n
        b_h = np.zeros_like(b_i)                      # not a parameter here (weights and grads)
    return {"W_i": W_i, "W_h": W_h, "b_i": b_i, "b_h": b_h}


def gru_canonical_to_keras(W_i, W_h, b_i, b_h, reset_after: bool) -> dict[str, np.ndarray]:
    """Canonical columns r|z|n  ->  Keras columns z|r|h; reset_after=False folds b_i + b_h."""
    kernel = gru_gates_canonical_to_keras(np.asarray(W_i))             # (X, 3H) r|z|n -> z|r|h
    recurrent_kernel = gru_gates_canonical_to_keras(np.asarray(W_h))   # (H, 3H) r|z|n -> z|r|h
    if reset_after:
        bias = np.stack([gru_gates_canonical_to_keras(np.asarray(b_i)),    # row 0: input bias
                         gru_gates_canonical_to_keras(np.asarray(b_h))])   # row 1: recurrent bias
    else:
        bias = gru_gates_canonical_to_keras(np.asarray(b_i) + np.asarray(b_h))  # (3H,) folded
    return {"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias}


# --- LSTM (gate order i|f|g|o everywhere; Keras calls g "c") -----------------------------------
def lstm_torch_to_canonical(weight_ih, weight_hh, bias_ih, bias_hh) -> dict[str, np.ndarray]:
    """PyTorch rows i|f|g|o (4H, X), (4H, H)  ->  canonical columns i|f|g|o (X, 4H), (H, 4H)."""
    return {"W_i": np.array(weight_ih).T.copy(), "W_h": np.array(weight_hh).T.copy(),
            "b_i": np.array(bias_ih).copy(), "b_h": np.array(bias_hh).copy()}


def lstm_canonical_to_torch(W_i, W_h, b_i, b_h) -> dict[str, np.ndarray]:
    """Canonical columns i|f|g|o  ->  PyTorch rows i|f|g|o."""
    return {"weight_ih": np.array(W_i).T.copy(), "weight_hh": np.array(W_h).T.copy(),
            "bias_ih": np.array(b_i).copy(), "bias_hh": np.array(b_h).copy()}


def lstm_keras_to_canonical(kernel, recurrent_kernel, bias, grad: bool = False) -> dict[str, np.ndarray]:
    """Keras columns i|f|c|o  ->  canonical i|f|g|o (same order). One bias = b_i + b_h:
    weights -> b_i = bias, b_h = 0; gradients (grad=True) -> b_i = b_h = bias."""
    bias = np.array(bias)
    return {"W_i": np.array(kernel).copy(), "W_h": np.array(recurrent_kernel).copy(),
            "b_i": bias.copy(), "b_h": bias.copy() if grad else np.zeros_like(bias)}


def lstm_canonical_to_keras(W_i, W_h, b_i, b_h) -> dict[str, np.ndarray]:
    """Canonical i|f|g|o  ->  Keras i|f|c|o, bias folded to b_i + b_h."""
    return {"kernel": np.array(W_i).copy(), "recurrent_kernel": np.array(W_h).copy(),
            "bias": np.asarray(b_i) + np.asarray(b_h)}


# --- minGRU / minLSTM (blocks z|h or f|i|h, the same order in every framework) ----------------
def minrnn_torch_to_canonical(weight, bias) -> dict[str, np.ndarray]:
    """nn.Linear rows z|h (f|i|h): weight (G H, X_k) -> W (X_k, G H) columns z|h (f|i|h); bias unchanged."""
    return {"W": np.array(weight).T.copy(), "b": np.array(bias).copy()}


def minrnn_canonical_to_torch(W, b) -> dict[str, np.ndarray]:
    """W (X_k, G H) -> nn.Linear weight (G H, X_k), same block order; bias unchanged."""
    return {"weight": np.array(W).T.copy(), "bias": np.array(b).copy()}


def minrnn_keras_to_canonical(kernel, bias) -> dict[str, np.ndarray]:
    """Keras MinRNN kernel (X_k, G H), bias (G H,): already canonical (copies)."""
    return {"W": np.array(kernel).copy(), "b": np.array(bias).copy()}


def minrnn_canonical_to_keras(W, b) -> dict[str, np.ndarray]:
    """Canonical W (X_k, G H), b (G H,) -> Keras MinRNN kernel, bias (copies)."""
    return {"kernel": np.array(W).copy(), "bias": np.array(b).copy()}


# --- dense / linear ---------------------------------------------------------------------------
def linear_torch_to_canonical(weight, bias) -> dict[str, np.ndarray]:
    """nn.Linear weight (out, in) -> W (in, out); bias unchanged."""
    return {"W": np.array(weight).T.copy(), "b": np.array(bias).copy()}


def linear_canonical_to_torch(W, b) -> dict[str, np.ndarray]:
    """W (in, out) -> nn.Linear weight (out, in)."""
    return {"weight": np.array(W).T.copy(), "bias": np.array(b).copy()}


# --- Transformer layer --------------------------------------------------------------------------
# Canonical names within one layer (prefix l{k}. is added by the model).
TRANSFORMER_LAYER_NAMES = ("ln1.g", "ln1.b", "attn.W_q", "attn.W_k", "attn.W_v", "attn.W_o",
                           "attn.b_q", "attn.b_k", "attn.b_v", "attn.b_o", "ln2.g", "ln2.b",
                           "ff.W_1", "ff.b_1", "ff.W_2", "ff.b_2")


def transformer_layer_torch_to_canonical(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One nn.TransformerEncoderLayer's state (names as in its state_dict) -> canonical layer names."""
    in_w = np.asarray(p["self_attn.in_proj_weight"])   # (3D, D) rows q|k|v
    in_b = np.asarray(p["self_attn.in_proj_bias"])     # (3D,)   q|k|v
    D = in_w.shape[1]
    out = {"ln1.g": np.array(p["norm1.weight"]), "ln1.b": np.array(p["norm1.bias"]),
           "ln2.g": np.array(p["norm2.weight"]), "ln2.b": np.array(p["norm2.bias"])}
    for j, name in enumerate("qkv"):
        out[f"attn.W_{name}"] = in_w[j * D:(j + 1) * D].T.copy()   # rows [jD, (j+1)D) = {q,k,v}
        out[f"attn.b_{name}"] = in_b[j * D:(j + 1) * D].copy()
    out["attn.W_o"] = np.array(p["self_attn.out_proj.weight"]).T.copy()   # (D, D)
    out["attn.b_o"] = np.array(p["self_attn.out_proj.bias"])
    out["ff.W_1"] = np.array(p["linear1.weight"]).T.copy()   # (D, F)
    out["ff.b_1"] = np.array(p["linear1.bias"])
    out["ff.W_2"] = np.array(p["linear2.weight"]).T.copy()   # (F, D)
    out["ff.b_2"] = np.array(p["linear2.bias"])
    return out


def transformer_layer_canonical_to_torch(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Canonical layer names -> nn.TransformerEncoderLayer state_dict names."""
    return {
        "self_attn.in_proj_weight": np.concatenate([c["attn.W_q"].T, c["attn.W_k"].T, c["attn.W_v"].T]),  # q|k|v rows
        "self_attn.in_proj_bias": np.concatenate([c["attn.b_q"], c["attn.b_k"], c["attn.b_v"]]),
        "self_attn.out_proj.weight": np.array(c["attn.W_o"]).T.copy(),
        "self_attn.out_proj.bias": np.array(c["attn.b_o"]),
        "linear1.weight": np.array(c["ff.W_1"]).T.copy(), "linear1.bias": np.array(c["ff.b_1"]),
        "linear2.weight": np.array(c["ff.W_2"]).T.copy(), "linear2.bias": np.array(c["ff.b_2"]),
        "norm1.weight": np.array(c["ln1.g"]), "norm1.bias": np.array(c["ln1.b"]),
        "norm2.weight": np.array(c["ln2.g"]), "norm2.bias": np.array(c["ln2.b"]),
    }


def attention_keras_to_canonical(q_kernel, q_bias, k_kernel, k_bias, v_kernel, v_bias,
                                 o_kernel, o_bias) -> dict[str, np.ndarray]:
    """Keras MultiHeadAttention (D, heads, d_head) kernels -> canonical (D, D), head-major columns."""
    D = np.shape(q_kernel)[0]
    return {"attn.W_q": np.reshape(q_kernel, (D, D)).copy(), "attn.b_q": np.reshape(q_bias, (D,)).copy(),
            "attn.W_k": np.reshape(k_kernel, (D, D)).copy(), "attn.b_k": np.reshape(k_bias, (D,)).copy(),
            "attn.W_v": np.reshape(v_kernel, (D, D)).copy(), "attn.b_v": np.reshape(v_bias, (D,)).copy(),
            "attn.W_o": np.reshape(o_kernel, (D, D)).copy(),   # (heads, d_head, D) -> rows head*d_head + j
            "attn.b_o": np.array(o_bias)}


def attention_canonical_to_keras(c: dict[str, np.ndarray], heads: int) -> dict[str, np.ndarray]:
    """Canonical (D, D) projections -> Keras MultiHeadAttention shapes for ``heads`` heads."""
    D = np.shape(c["attn.W_q"])[0]
    d_head = D // heads
    out = {}
    for name in "qkv":
        out[f"{name}_kernel"] = np.reshape(c[f"attn.W_{name}"], (D, heads, d_head)).copy()
        out[f"{name}_bias"] = np.reshape(c[f"attn.b_{name}"], (heads, d_head)).copy()
    out["o_kernel"] = np.reshape(c["attn.W_o"], (heads, d_head, D)).copy()
    out["o_bias"] = np.array(c["attn.b_o"])
    return out
