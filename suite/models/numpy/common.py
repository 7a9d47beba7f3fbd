"""Shared pieces of the from-scratch NumPy models (GRU, LSTM, minGRU, minLSTM): head, losses,
clipping, Adam, and the base class that turns a per-layer forward/backward pair into a ``SequenceModel``.

Everything here works in the model's dtype (float32 or float64); Python scalars do not upcast
NumPy arrays (NEP 50), so a float32 model stays float32 end to end.

Shape legend: B batch, T time, X input features, H hidden width, O head outputs, L layers.
Internally the encoders run time-major: sequences are (T, B, .) so that step t is one contiguous
(B, .) block; the public methods take and return batch-major (B, T, .) arrays.

Head (row-vector convention, canonical ``head.W`` (H, O), ``head.b`` (O,)):
    output='last'      y_hat = h_T W + b                (B, O)
    output='sequence'  y_hat_t = h_t W + b for every t  (B, T, O)
Losses (means over every element, as in suite.losses), with the gradient d loss / d y_hat:
    regression  MSE = mean((y_hat - y)^2)               d = 2 (y_hat - y) / N,   N = y_hat.size
    classes     CE  = sum_kept(-log softmax(y_hat)[y]) / N   d = (softmax(y_hat) - onehot(y)) / N at kept
                positions, 0 at ignored ones (y = IGNORE_INDEX, -100); N = kept positions (all, if none ignored)
    multilabel  BCE = mean(-(y log s + (1-y) log(1-s))), s = sigmoid(y_hat)   d = (s - y) / N, N = y_hat.size
Training: global-norm clipping, then Adam (torch.optim.Adam's update, bias-corrected).
"""
from __future__ import annotations

import numbers
from abc import abstractmethod
from functools import lru_cache
from typing import Any

import numpy as np

from suite.errors import UserError, WeightShapeError
from suite.losses import IGNORE_INDEX, bce_each, check_target_shape, log_softmax
from suite.models.base import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, SequenceModel
from suite.models.params import GATES, MIN_GATES
from suite.spec import ModelSpec


# --- elementwise -----------------------------------------------------------------------------
def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^-a), written as (1 + tanh(a/2)) / 2: no overflow warning, dtype kept."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


# --- head ------------------------------------------------------------------------------------
def head_forward(hs: np.ndarray, W: np.ndarray, b: np.ndarray, output: str):
    """hs (T, B, H) time-major top-layer states -> (y_hat, cache).
    y_hat: (B, O) for output='last', (B, T, O) for output='sequence'."""
    if output == "last":
        return hs[-1] @ W + b, (hs, W, output)                       # (B, O)
    return hs.transpose(1, 0, 2) @ W + b, (hs, W, output)            # (B, T, O)


def head_backward(dy: np.ndarray, cache):
    """d loss / d y_hat -> (dhs (T, B, H), dW (H, O), db (O,))."""
    hs, W, output = cache
    T, B, H = hs.shape
    if output == "last":
        dW = hs[-1].T @ dy                                            # y_hat = h_T W + b -> W
        db = dy.sum(axis=0)                                           #                   -> b
        dhs = np.zeros_like(hs)
        dhs[-1] = dy @ W.T                                            #                   -> h_T
        return dhs, dW, db
    dy_tm = dy.transpose(1, 0, 2)                                     # (T, B, O)
    dW = hs.reshape(T * B, H).T @ dy_tm.reshape(T * B, -1)            # y_hat_t = h_t W + b -> W
    db = dy.sum(axis=(0, 1))                                          #                     -> b
    dhs = dy_tm @ W.T                                                 #                     -> h_t
    return dhs, dW, db


# --- losses ----------------------------------------------------------------------------------
def check_targets(head: str, y_hat: np.ndarray, y) -> np.ndarray:
    """Cast ``y`` for ``head`` and check its shape against y_hat; raise UserError otherwise."""
    y = np.asarray(y)
    check_target_shape(y.shape, y_hat.shape, head)
    if head == "classes":
        if not np.issubdtype(y.dtype, np.integer):
            raise UserError(f"targets y: head 'classes' expects integer class ids, got dtype {y.dtype}")
        n_classes = y_hat.shape[-1]
        if y.size and (((y < 0) & (y != IGNORE_INDEX)).any() or y.max() >= n_classes):
            raise UserError(f"targets y: class ids must lie in [0, {n_classes}) or be {IGNORE_INDEX} (ignored), "
                            f"got {y.min()}..{y.max()}")
        return y
    return y.astype(y_hat.dtype, copy=False)


def loss_and_grad(head: str, y_hat: np.ndarray, y) -> tuple[float, np.ndarray]:
    """The task loss (module docstring) and d loss / d y_hat (same shape and dtype as y_hat)."""
    y = check_targets(head, y_hat, y)
    if head == "regression":
        diff = y_hat - y
        return float(np.mean(diff * diff)), (2.0 / diff.size) * diff
    if head == "classes":
        logits = y_hat.reshape(-1, y_hat.shape[-1])                  # (N, O), N positions
        log_p = log_softmax(logits)
        labels = y.reshape(-1)
        rows = np.flatnonzero(labels != IGNORE_INDEX)                 # kept positions
        labels = labels[rows]
        loss = -float(np.sum(log_p[rows, labels])) / len(rows) if len(rows) else float("nan")
        if len(rows) == len(logits):                                  # nothing ignored
            d = np.exp(log_p)                                         # softmax
        else:
            d = np.zeros_like(log_p)
            d[rows] = np.exp(log_p[rows])                             # softmax at kept positions only
        d[rows, labels] -= 1.0                                        # - onehot(y)
        return loss, (d / max(len(rows), 1)).reshape(y_hat.shape)
    # multilabel: -(y log s + (1-y) log(1-s)) = max(a, 0) - a y + log(1 + e^-|a|), stable for any a
    return float(np.mean(bce_each(y_hat, y))), (sigmoid(y_hat) - y) / y_hat.size


# --- optimisation ----------------------------------------------------------------------------
def global_norm(grads: dict[str, np.ndarray]) -> float:
    """sqrt(sum of squares of every entry of every gradient)."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))


def clip_by_global_norm(grads: dict[str, np.ndarray], clip_norm: float | None) -> float:
    """Scale all gradients in place by clip_norm / norm when norm > clip_norm; return the norm
    before clipping. (tf.clip_by_global_norm's rule, which Keras uses; torch's clip_grad_norm_
    divides by norm + 1e-6 instead, a relative difference below 1e-6 for norms near 1.)"""
    norm = global_norm(grads)
    if clip_norm is not None and norm > clip_norm:
        scale = clip_norm / norm
        for g in grads.values():
            g *= scale
    return norm


class Adam:
    """Adam (Kingma & Ba 2015) exactly as torch.optim.Adam (no weight decay, no amsgrad):
        m <- β1 m + (1-β1) g;   v <- β2 v + (1-β2) g²
        p <- p - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε)
    Updates a dict of arrays in place; state arrays have the parameters' dtype."""

    def __init__(self, params: dict[str, np.ndarray], lr: float,
                 beta1: float = ADAM_BETA1, beta2: float = ADAM_BETA2, eps: float = ADAM_EPS):
        if not (isinstance(lr, numbers.Real) and lr > 0):
            raise UserError(f"training: lr must be a positive number, got {lr!r}")
        self.lr, self.beta1, self.beta2, self.eps = float(lr), beta1, beta2, eps
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        step_size = self.lr / (1.0 - self.beta1 ** self.t)
        bias_correction2_sqrt = float(np.sqrt(1.0 - self.beta2 ** self.t))
        for k, g in grads.items():
            m, v = self.m[k], self.v[k]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            params[k] -= step_size * m / (np.sqrt(v) / bias_correction2_sqrt + self.eps)


@lru_cache(maxsize=1)
def blas_name() -> str:
    """Name of the BLAS NumPy was built with (e.g. 'scipy-openblas'), or 'unknown'."""
    try:
        return str(np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"])
    except Exception:  # noqa: BLE001 -- reporting only; older NumPy has no mode='dicts'
        return "unknown"


# --- base model ------------------------------------------------------------------------------
class NumpyRecurrentModel(SequenceModel):
    """What the NumPy GRU and LSTM share: parameters in the canonical layout (suite.models.base),
    init, head, loss, training step, weights in/out and streaming over layers.

    Subclasses implement one layer: ``_layer_forward``, ``_layer_backward``, ``init_state`` and
    ``_layer_step``; and say which canonical tensors are trainable (``_trainable``)."""

    ARCH: str = ""

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        if spec.arch != self.ARCH or spec.framework != "numpy":
            raise UserError(f"{type(self).__name__} builds arch {self.ARCH!r} framework 'numpy', "
                            f"got {spec.arch!r}/{spec.framework!r}")
        self.dtype = np.dtype(spec.dtype)
        self.G = (GATES | MIN_GATES)[self.ARCH]
        self.params = self._init_params()
        self._optimizer: Adam | None = None
        self._clip_norm: float | None = None

    # --- layout ----------------------------------------------------------------------------
    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Canonical name -> shape, in the canonical order."""
        s, GH = self.spec, self.G * self.spec.hidden
        shapes = {}
        for k in range(s.layers):
            X_k = s.input_size if k == 0 else s.hidden
            shapes |= {f"l{k}.W_i": (X_k, GH), f"l{k}.W_h": (s.hidden, GH),
                       f"l{k}.b_i": (GH,), f"l{k}.b_h": (GH,)}
        return shapes | {"head.W": (s.hidden, s.output_size), "head.b": (s.output_size,)}

    def _trainable(self, name: str) -> bool:
        """Whether a canonical tensor is a parameter (GRU reset_before: b_h is not)."""
        return True

    def _init_params(self) -> dict[str, np.ndarray]:
        """uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter, head included (torch's defaults),
        drawn in canonical order from default_rng(seed) in float64, then cast; non-parameters zero."""
        rng = np.random.default_rng(self.spec.seed)
        bound = 1.0 / np.sqrt(self.spec.hidden)
        params = {}
        for name, shape in self.weight_shapes().items():
            if self._trainable(name):
                params[name] = rng.uniform(-bound, bound, size=shape).astype(self.dtype)
            else:
                params[name] = np.zeros(shape, dtype=self.dtype)
        return params

    def layer_params(self, k: int) -> tuple[np.ndarray, ...]:
        """(W_i, W_h, b_i, b_h) of layer k."""
        p = self.params
        return p[f"l{k}.W_i"], p[f"l{k}.W_h"], p[f"l{k}.b_i"], p[f"l{k}.b_h"]

    # --- one layer (subclasses) ------------------------------------------------------------
    @abstractmethod
    def _layer_forward(self, k: int, xs: np.ndarray):
        """xs (T, B, X_k) -> (hs (T, B, H), cache), zero initial state."""

    @abstractmethod
    def _layer_backward(self, k: int, dhs: np.ndarray, cache, need_dx: bool):
        """dhs (T, B, H) -> (dxs (T, B, X_k) or None, {canonical name: gradient})."""

    @abstractmethod
    def _layer_step(self, k: int, x_t: np.ndarray, state_k):
        """x_t (B, X_k) -> (h (B, H), new state of layer k)."""

    # --- whole model -----------------------------------------------------------------------
    def _check_x(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 3 or x.shape[2] != self.spec.input_size or x.shape[1] < 1:
            raise UserError(f"inputs x: expected shape (B, T, {self.spec.input_size}) with T >= 1, "
                            f"got {x.shape}")
        return x

    def _encode(self, x):
        """x (B, T, X) -> (hs (T, B, H) of the top layer, per-layer caches)."""
        hs = np.ascontiguousarray(self._check_x(x).transpose(1, 0, 2))   # (T, B, X) time-major
        caches = []
        for k in range(self.spec.layers):
            hs, cache = self._layer_forward(k, hs)
            caches.append(cache)
        return hs, caches

    def forward_with_cache(self, x):
        """x (B, T, X) -> (y_hat, cache): y_hat (B, O) or (B, T, O)."""
        hs, caches = self._encode(x)
        y_hat, head_cache = head_forward(hs, self.params["head.W"], self.params["head.b"], self.spec.output)
        return y_hat, (caches, head_cache)

    def backward(self, dy: np.ndarray, cache) -> dict[str, np.ndarray]:
        """d loss / d y_hat -> d loss / d every canonical tensor (zeros for non-parameters)."""
        caches, head_cache = cache
        dhs, dW, db = head_backward(dy, head_cache)
        grads = {"head.W": dW, "head.b": db}
        for k in reversed(range(self.spec.layers)):
            dhs, layer_grads = self._layer_backward(k, dhs, caches[k], need_dx=k > 0)
            grads |= layer_grads
        return {name: grads[name] for name in self.params}                # canonical order

    def forward(self, x) -> np.ndarray:
        return self.forward_with_cache(x)[0]

    def predict_native(self, x) -> np.ndarray:
        return self.forward(x)

    def encode(self, x) -> np.ndarray:
        return self._encode(x)[0].transpose(1, 0, 2)                      # (B, T, H)

    # --- training --------------------------------------------------------------------------
    def loss_and_gradients(self, x, y) -> tuple[float, dict[str, np.ndarray]]:
        y_hat, cache = self.forward_with_cache(x)
        loss, dy = loss_and_grad(self.spec.head, y_hat, y)
        return loss, self.backward(dy, cache)

    def loss(self, x, y) -> float:
        return loss_and_grad(self.spec.head, self.forward(x), y)[0]

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        return self.loss_and_gradients(x, y)[1]

    def trainable_params(self) -> dict[str, np.ndarray]:
        """The parameter arrays themselves (not copies), canonical order."""
        return {k: p for k, p in self.params.items() if self._trainable(k)}

    def configure_training(self, lr: float, clip_norm: float | None) -> None:
        if clip_norm is not None and not (isinstance(clip_norm, numbers.Real) and clip_norm > 0):
            raise UserError(f"training: clip_norm must be a positive number or None, got {clip_norm!r}")
        self._optimizer = Adam(self.trainable_params(), lr)
        self._clip_norm = clip_norm

    def train_step(self, x, y) -> float:
        """Forward, backward, global-norm clipping, Adam update. Returns the batch loss."""
        if self._optimizer is None:
            raise UserError("train_step: call configure_training(lr, clip_norm) first")
        loss, grads = self.loss_and_gradients(x, y)
        grads = {k: g for k, g in grads.items() if self._trainable(k)}
        clip_by_global_norm(grads, self._clip_norm)
        self._optimizer.step(self.params, grads)
        return loss

    # --- weights ---------------------------------------------------------------------------
    def num_params(self) -> int:
        return sum(p.size for p in self.trainable_params().values())

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: p.copy() for k, p in self.params.items()}

    def _check_weights(self, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Validate names and shapes of every tensor before anything is written."""
        shapes = self.weight_shapes()
        missing, unknown = sorted(set(shapes) - set(weights)), sorted(set(weights) - set(shapes))
        if missing or unknown:
            raise UserError(f"set_weights: missing tensors {missing}, unknown tensors {unknown}; "
                            f"expected: {', '.join(shapes)}")
        checked = {}
        for name, shape in shapes.items():
            w = np.asarray(weights[name], dtype=self.dtype)
            if w.shape != shape:
                raise WeightShapeError(f"set_weights: tensor {name!r} expects shape {shape}, got {w.shape}")
            checked[name] = w
        return checked

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        for name, w in self._check_weights(weights).items():
            self.params[name][...] = w          # in place: the optimizer keeps pointing at these arrays

    # --- streaming -------------------------------------------------------------------------
    def _check_batch_size(self, batch_size: int) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise UserError(f"init_state: batch_size must be a positive integer, got {batch_size!r}")

    def step(self, x_t, state) -> tuple[np.ndarray, Any]:
        """x_t (B, X) -> (head output of the top state (B, O), new state); ``state`` is not modified."""
        x_t = np.asarray(x_t, dtype=self.dtype)
        if x_t.ndim != 2 or x_t.shape[1] != self.spec.input_size:
            raise UserError(f"step: x_t expected shape (B, {self.spec.input_size}), got {x_t.shape}")
        if len(state) != self.spec.layers:
            raise UserError(f"step: state has {len(state)} layers, expected {self.spec.layers} "
                            "(use init_state)")
        new_state, h = [], x_t
        for k in range(self.spec.layers):
            h, state_k = self._layer_step(k, h, state[k])
            new_state.append(state_k)
        return h @ self.params["head.W"] + self.params["head.b"], new_state

    # --- reporting -------------------------------------------------------------------------
    def execution_path(self) -> dict[str, Any]:
        return {"mode": "numpy", "onednn": False, "cudnn_eligible": False, "device": "cpu",
                "blas": blas_name()}
