"""GRU from scratch in NumPy: forward and hand-written backpropagation through time (no autograd).

Follows Cho et al. 2014 ("Learning Phrase Representations using RNN Encoder-Decoder") and
Chung et al. 2014 for the cell, the cuDNN / ``torch.nn.GRU`` form for the default convention, and
Karpathy's ``lstm.py`` / min-char-rnn for the code's shape: ``gru_forward(...) -> (hs, cache)``,
``gru_backward(dhs, cache) -> grads``, each backward line undoing one forward step.

Equations, one layer, one time step (row vectors, σ the logistic sigmoid, ⊙ elementwise):

  convention='reset_after' (cuDNN, PyTorch, Keras reset_after=True; the default):
    r  = σ(x W_ir + b_ir + h W_hr + b_hr)                 reset gate
    z  = σ(x W_iz + b_iz + h W_hz + b_hz)                 update gate
    n  = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))        candidate state
    h' = (1 - z) ⊙ n + z ⊙ h
  convention='reset_before' (Cho et al. 2014 as written; Keras reset_after=False):
    r, z as above with one bias per gate (b_i; b_h is identically zero)
    n  = tanh(x W_in + b_in + (r ⊙ h) W_hn)

Note on the reset placement: the paper resets h before the recurrent matmul, (r ⊙ h) W_hn, so the
matmul for n must wait for r. cuDNN moves r after it, r ⊙ (h W_hn + b_hn), so one matmul h W_h
serves all three gates; it needs the second bias b_hn inside the reset. The two are different
functions (weights do not carry over); both are implemented here.

Symbols: x input at step t (row), h the previous state h_{t-1}, h' the new state h_t;
r reset gate, z update gate, n candidate; W_i input weights, W_h recurrent weights, b_i, b_h biases.
Shapes: B batch, T time, X input features (X_k for layer k: X, then H), H hidden width, O outputs.
Canonical layout (suite.models.base), gate order r|z|n along the 3H axis:
    l{k}.W_i (X_k, 3H)   l{k}.W_h (H, 3H)   l{k}.b_i (3H,)   l{k}.b_h (3H,)   head.W (H, O)   head.b (O,)
In reset_before, b_h is not a parameter: it reads back as zeros, its gradient is zeros, and
set_weights folds a nonzero b_h into b_i (x W_i + b_i + b_h: the outputs are unchanged).
"""
from __future__ import annotations

import numpy as np

from suite.models.numpy.common import NumpyRecurrentModel, sigmoid


def gru_cell(gi: np.ndarray, h: np.ndarray, W_h: np.ndarray, b_h: np.ndarray, reset_after: bool):
    """One step. gi (B, 3H) = x W_i + b_i (r|z|n), h (B, H) -> (h' (B, H), rzn (B, 3H), hn (B, H)).
    hn is what the backward pass needs of the recurrent n term: h W_hn + b_hn (reset_after) or
    r ⊙ h, the input of W_hn (reset_before). b_h is unused in reset_before."""
    H = h.shape[1]
    rzn = np.empty_like(gi)                                       # activations r|z|n
    if reset_after:
        gh = h @ W_h + b_h                                        # (B, 3H) h W_h + b_h, r|z|n
        rzn[:, :2 * H] = sigmoid(gi[:, :2 * H] + gh[:, :2 * H])   # r|z
        hn = gh[:, 2 * H:]                                        # h W_hn + b_hn
        rzn[:, 2 * H:] = np.tanh(gi[:, 2 * H:] + rzn[:, :H] * hn)  # n = tanh(x W_in + b_in + r ⊙ hn)
    else:
        rzn[:, :2 * H] = sigmoid(gi[:, :2 * H] + h @ W_h[:, :2 * H])  # r|z
        hn = rzn[:, :H] * h                                       # r ⊙ h
        rzn[:, 2 * H:] = np.tanh(gi[:, 2 * H:] + hn @ W_h[:, 2 * H:])  # n = tanh(x W_in + b_in + hn W_hn)
    z, n = rzn[:, H:2 * H], rzn[:, 2 * H:]
    return n + z * (h - n), rzn, hn                               # h' = (1 - z) ⊙ n + z ⊙ h


def gru_forward(x, W_i, W_h, b_i, b_h, reset_after: bool = True, h0=None):
    """One GRU layer over a whole sequence. x (T, B, X) time-major -> (hs (T, B, H), cache).
    h0 (B, H) defaults to zeros."""
    T, B, X = x.shape
    H = W_h.shape[0]
    gi = (x.reshape(T * B, X) @ W_i + b_i).reshape(T, B, 3 * H)  # x W_i + b_i for all steps, r|z|n
    hs = np.empty((T + 1, B, H), dtype=x.dtype)                  # hs[0] = h0, hs[t+1] = h_t
    hs[0] = 0 if h0 is None else h0
    rzn = np.empty((T, B, 3 * H), dtype=x.dtype)
    hn = np.empty((T, B, H), dtype=x.dtype)
    for t in range(T):
        hs[t + 1], rzn[t], hn[t] = gru_cell(gi[t], hs[t], W_h, b_h, reset_after)
    return hs[1:], (x, hs, rzn, hn, W_i, W_h, reset_after)


def gru_backward(dhs: np.ndarray, cache, need_dx: bool = True):
    """dhs (T, B, H) = d loss / d h_t from above -> (dx (T, B, X) or None, dW_i, dW_h, db_i, db_h).
    In reset_before db_h is zeros (b_h is not a parameter)."""
    x, hs, rzn, hn, W_i, W_h, reset_after = cache
    T, B, H = dhs.shape
    dgi = np.empty_like(rzn)    # d(x W_i + b_i), r|z|n
    dgh = np.empty_like(rzn)    # d recurrent terms: h W_h + b_h (reset_after); h W_hr|h W_hz|(r⊙h) W_hn
    dh = np.zeros_like(hs[0])
    for t in reversed(range(T)):
        dh = dh + dhs[t]                                   # h_t feeds the layer above and step t+1
        h = hs[t]
        r, z, n = rzn[t, :, :H], rzn[t, :, H:2 * H], rzn[t, :, 2 * H:]
        dn = dh * (1 - z)                                  # h' = (1-z) ⊙ n + z ⊙ h -> n
        dz = dh * (h - n)                                  #                        -> z
        dh_prev = dh * z                                   #                        -> h
        da_n = dn * (1 - n * n)                            # n = tanh(a_n)
        da_z = dz * z * (1 - z)                            # z = σ(a_z)
        dgi[t, :, 2 * H:] = da_n                           # a_n = x W_in + b_in + ...
        if reset_after:
            dgh[t, :, 2 * H:] = da_n * r                   # a_n ∋ r ⊙ (h W_hn + b_hn) -> h W_hn + b_hn
            dr = da_n * hn[t]                              #                           -> r
        else:
            dgh[t, :, 2 * H:] = da_n                       # a_n ∋ (r ⊙ h) W_hn -> its matmul
            drh = da_n @ W_h[:, 2 * H:].T                  # (r ⊙ h) W_hn -> r ⊙ h
            dr = drh * h                                   # r ⊙ h -> r
            dh_prev += drh * r                             # r ⊙ h -> h
        da_r = dr * r * (1 - r)                            # r = σ(a_r)
        dgi[t, :, :H] = dgh[t, :, :H] = da_r               # a_r = x W_ir + b_ir + h W_hr (+ b_hr)
        dgi[t, :, H:2 * H] = dgh[t, :, H:2 * H] = da_z     # a_z = x W_iz + b_iz + h W_hz (+ b_hz)
        if reset_after:
            dh_prev += dgh[t] @ W_h.T                      # h W_h + b_h -> h
        else:
            dh_prev += dgh[t, :, :2 * H] @ W_h[:, :2 * H].T  # h W_hr|h W_hz -> h
        dh = dh_prev
    dgi2, dgh2 = dgi.reshape(T * B, 3 * H), dgh.reshape(T * B, 3 * H)
    h_prev = hs[:-1].reshape(T * B, H)                     # the h each step read
    dW_i = x.reshape(T * B, -1).T @ dgi2                   # x W_i -> W_i
    db_i = dgi2.sum(axis=0)                                # + b_i -> b_i
    if reset_after:
        dW_h = h_prev.T @ dgh2                             # h W_h -> W_h
        db_h = dgh2.sum(axis=0)                            # + b_h -> b_h
    else:
        dW_h = np.empty_like(W_h)
        dW_h[:, :2 * H] = h_prev.T @ dgh2[:, :2 * H]       # h W_hr|h W_hz -> W_hr|W_hz
        dW_h[:, 2 * H:] = hn.reshape(T * B, H).T @ dgh2[:, 2 * H:]  # (r ⊙ h) W_hn -> W_hn
        db_h = np.zeros(3 * H, dtype=dgh.dtype)            # b_h is not a parameter
    dx = (dgi2 @ W_i.T).reshape(T, B, -1) if need_dx else None  # x W_i -> x
    return dx, dW_i, dW_h, db_i, db_h


class GRUNumpy(NumpyRecurrentModel):
    """L stacked GRU layers (module docstring) + linear head, in NumPy float32 or float64."""

    ARCH = "gru"

    @property
    def reset_after(self) -> bool:
        return self.spec.convention == "reset_after"

    def _trainable(self, name: str) -> bool:
        return self.reset_after or not name.endswith(".b_h")

    def _layer_forward(self, k, xs):
        return gru_forward(xs, *self.layer_params(k), reset_after=self.reset_after)

    def _layer_backward(self, k, dhs, cache, need_dx):
        dx, dW_i, dW_h, db_i, db_h = gru_backward(dhs, cache, need_dx)
        return dx, {f"l{k}.W_i": dW_i, f"l{k}.W_h": dW_h, f"l{k}.b_i": db_i, f"l{k}.b_h": db_h}

    def set_weights(self, weights):
        """Canonical weights in; in reset_before a nonzero b_h is folded into b_i (b_h stays zero)."""
        weights = self._check_weights(weights)
        if not self.reset_after:
            for k in range(self.spec.layers):
                weights[f"l{k}.b_i"] = weights[f"l{k}.b_i"] + weights[f"l{k}.b_h"]
                weights[f"l{k}.b_h"] = np.zeros_like(weights[f"l{k}.b_h"])
        super().set_weights(weights)

    # --- streaming -------------------------------------------------------------------------
    def init_state(self, batch_size: int) -> list[np.ndarray]:
        """One zero state h (B, H) per layer."""
        self._check_batch_size(batch_size)
        return [np.zeros((batch_size, self.spec.hidden), dtype=self.dtype) for _ in range(self.spec.layers)]

    def _layer_step(self, k, x_t, h):
        W_i, W_h, b_i, b_h = self.layer_params(k)
        h_new = gru_cell(x_t @ W_i + b_i, h, W_h, b_h, self.reset_after)[0]
        return h_new, h_new
