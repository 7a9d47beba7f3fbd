"""LSTM from scratch in NumPy: forward and hand-written backpropagation through time (no autograd).

Follows Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000 (no peepholes), in
the form of ``torch.nn.LSTM`` (two bias vectors) and Karpathy's ``lstm.py`` for the code's shape:
``lstm_forward(...) -> (hs, cache)``, ``lstm_backward(dhs, cache) -> grads``, each backward line
undoing one forward step.

Equations, one layer, one time step (row vectors, σ the logistic sigmoid, ⊙ elementwise):
    i  = σ(x W_ii + b_ii + h W_hi + b_hi)        input gate
    f  = σ(x W_if + b_if + h W_hf + b_hf)        forget gate
    g  = tanh(x W_ig + b_ig + h W_hg + b_hg)     candidate cell
    o  = σ(x W_io + b_io + h W_ho + b_ho)        output gate
    c' = f ⊙ c + i ⊙ g
    h' = o ⊙ tanh(c')

Symbols: x input at step t, h and c the previous hidden and cell states, h' and c' the new ones;
W_i input weights, W_h recurrent weights, b_i, b_h biases (both trainable, as in PyTorch; only their
sum matters, so a one-bias framework's bias maps to b_i with b_h = 0).
Shapes: B batch, T time, X input features (X_k for layer k: X, then H), H hidden width, O outputs.
Canonical layout (suite.models.base), gate order i|f|g|o along the 4H axis:
    l{k}.W_i (X_k, 4H)   l{k}.W_h (H, 4H)   l{k}.b_i (4H,)   l{k}.b_h (4H,)   head.W (H, O)   head.b (O,)
Streaming state: one (h, c) pair of (B, H) arrays per layer.
Init: every tensor from U(-1/sqrt(H), 1/sqrt(H)) as torch does (``NumpyRecurrentModel._init_params``), so the
forget-gate bias b_f = b_i[H:2H] + b_h[H:2H] starts near 0. ``spec.forget_bias`` = v sets, in every layer, the f
slice [H:2H] of b_i to v and of b_h to 0 after the draws (the other weights keep theirs).
"""
from __future__ import annotations

import numpy as np

from suite.models.numpy.common import NumpyRecurrentModel, sigmoid


def lstm_cell(gi: np.ndarray, h: np.ndarray, c: np.ndarray, W_h: np.ndarray):
    """One step. gi (B, 4H) = x W_i + b_i + b_h (i|f|g|o), h, c (B, H) ->
    (h' (B, H), c' (B, H), ifgo (B, 4H) activations, tanh(c') (B, H))."""
    H = h.shape[1]
    a = gi + h @ W_h                                       # (B, 4H) pre-activations i|f|g|o
    ifgo = np.empty_like(a)
    ifgo[:, :2 * H] = sigmoid(a[:, :2 * H])                # i|f
    ifgo[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])      # g
    ifgo[:, 3 * H:] = sigmoid(a[:, 3 * H:])                # o
    i, f, g, o = ifgo[:, :H], ifgo[:, H:2 * H], ifgo[:, 2 * H:3 * H], ifgo[:, 3 * H:]
    c_new = f * c + i * g                                  # c' = f ⊙ c + i ⊙ g
    tanh_c = np.tanh(c_new)
    return o * tanh_c, c_new, ifgo, tanh_c                 # h' = o ⊙ tanh(c')


def lstm_forward(x, W_i, W_h, b_i, b_h, h0=None, c0=None):
    """One LSTM layer over a whole sequence. x (T, B, X) time-major -> (hs (T, B, H), cache).
    h0, c0 (B, H) default to zeros."""
    T, B, X = x.shape
    H = W_h.shape[0]
    gi = (x.reshape(T * B, X) @ W_i + (b_i + b_h)).reshape(T, B, 4 * H)  # x W_i + b_i + b_h, all steps
    hs = np.empty((T + 1, B, H), dtype=x.dtype)            # hs[0] = h0, hs[t+1] = h_t
    cs = np.empty((T + 1, B, H), dtype=x.dtype)            # cs[0] = c0, cs[t+1] = c_t
    hs[0] = 0 if h0 is None else h0
    cs[0] = 0 if c0 is None else c0
    ifgo = np.empty((T, B, 4 * H), dtype=x.dtype)
    tanh_c = np.empty((T, B, H), dtype=x.dtype)
    for t in range(T):
        hs[t + 1], cs[t + 1], ifgo[t], tanh_c[t] = lstm_cell(gi[t], hs[t], cs[t], W_h)
    return hs[1:], (x, hs, cs, ifgo, tanh_c, W_i, W_h)


def lstm_backward(dhs: np.ndarray, cache, need_dx: bool = True):
    """dhs (T, B, H) = d loss / d h_t from above -> (dx (T, B, X) or None, dW_i, dW_h, db_i, db_h)."""
    x, hs, cs, ifgo, tanh_c, W_i, W_h = cache
    T, B, H = dhs.shape
    da = np.empty_like(ifgo)                               # d pre-activations i|f|g|o
    dh = np.zeros_like(hs[0])
    dc = np.zeros_like(cs[0])
    for t in reversed(range(T)):
        dh = dh + dhs[t]                                   # h_t feeds the layer above and step t+1
        i, f, g, o = ifgo[t, :, :H], ifgo[t, :, H:2 * H], ifgo[t, :, 2 * H:3 * H], ifgo[t, :, 3 * H:]
        tc = tanh_c[t]
        do = dh * tc                                       # h' = o ⊙ tanh(c') -> o
        dc = dc + dh * o * (1 - tc * tc)                   #                   -> c' (plus c' -> step t+1)
        di = dc * g                                        # c' = f ⊙ c + i ⊙ g -> i
        dg = dc * i                                        #                    -> g
        df = dc * cs[t]                                    #                    -> f
        dc = dc * f                                        #                    -> c
        da[t, :, :H] = di * i * (1 - i)                    # i = σ(a_i)
        da[t, :, H:2 * H] = df * f * (1 - f)               # f = σ(a_f)
        da[t, :, 2 * H:3 * H] = dg * (1 - g * g)           # g = tanh(a_g)
        da[t, :, 3 * H:] = do * o * (1 - o)                # o = σ(a_o)
        dh = da[t] @ W_h.T                                 # a = x W_i + b_i + h W_h + b_h -> h
    da2 = da.reshape(T * B, 4 * H)
    dW_i = x.reshape(T * B, -1).T @ da2                    # x W_i -> W_i
    dW_h = hs[:-1].reshape(T * B, H).T @ da2               # h W_h -> W_h
    db_i = da2.sum(axis=0)                                 # + b_i -> b_i
    db_h = db_i.copy()                                     # + b_h -> b_h (same gradient)
    dx = (da2 @ W_i.T).reshape(T, B, -1) if need_dx else None  # x W_i -> x
    return dx, dW_i, dW_h, db_i, db_h


class LSTMNumpy(NumpyRecurrentModel):
    """L stacked LSTM layers (module docstring) + linear head, in NumPy float32 or float64."""

    ARCH = "lstm"

    def _init_params(self) -> dict[str, np.ndarray]:
        params = super()._init_params()
        if self.spec.forget_bias is not None:
            H = self.spec.hidden
            for k in range(self.spec.layers):
                params[f"l{k}.b_i"][H:2 * H] = self.spec.forget_bias     # gate order i|f|g|o: f is [H:2H]
                params[f"l{k}.b_h"][H:2 * H] = 0.0
        return params

    def _layer_forward(self, k, xs):
        return lstm_forward(xs, *self.layer_params(k))

    def _layer_backward(self, k, dhs, cache, need_dx):
        dx, dW_i, dW_h, db_i, db_h = lstm_backward(dhs, cache, need_dx)
        return dx, {f"l{k}.W_i": dW_i, f"l{k}.W_h": dW_h, f"l{k}.b_i": db_i, f"l{k}.b_h": db_h}

    # --- streaming -------------------------------------------------------------------------
    def init_state(self, batch_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """One zero (h, c) pair, each (B, H), per layer."""
        self._check_batch_size(batch_size)
        shape = (batch_size, self.spec.hidden)
        return [(np.zeros(shape, self.dtype), np.zeros(shape, self.dtype)) for _ in range(self.spec.layers)]

    def _layer_step(self, k, x_t, state_k):
        W_i, W_h, b_i, b_h = self.layer_params(k)
        h, c = state_k
        h_new, c_new, _, _ = lstm_cell(x_t @ W_i + (b_i + b_h), h, c, W_h)
        return h_new, (h_new, c_new)
