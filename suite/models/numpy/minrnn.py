"""What the NumPy minGRU and minLSTM share: the positive candidate g, the log-space parallel scan
with its hand-written backward, and the base class (layout, init, streaming).

Feng et al. 2024 ("Were RNNs All We Needed?") drop the hidden state from every gate, so each layer is
a linear recurrence, elementwise over the H units (row vectors, ⊙ elementwise, σ the logistic sigmoid):

    h_t = a_t ⊙ h_{t-1} + b_t,      h_0 = 0

with a_t, b_t computed from x_t alone (minGRU: a = 1 − z, b = z ⊙ h̃; minLSTM: a = f', b = i' ⊙ h̃).
It is computed in one of two ways (``ModelSpec.scan``), the same function:

  'sequential': the recurrence above, one step at a time (a loop over t).
  'parallel': the log-space scan of the paper's listing (h_t > 0 because h̃ > 0 and h_0 = 0):
    A_t     = Σ_{s≤t} log a_s                    cumulative sum over time
    c_t     = log b_t − A_t
    C_t     = log Σ_{s≤t} exp(c_s)                log-cumulative-sum-exp over time (running max)
    log h_t = A_t + C_t                           i.e. h_t = Σ_{s≤t} (Π_{s<r≤t} a_r) b_s
    h_t     = exp(log h_t)

Positive candidate (keeps h̃ > 0 so that log h̃ exists), and its log:
    g(u)     = u + 0.5 for u ≥ 0,   σ(u) for u < 0
    log g(u) = log(u + 0.5) for u ≥ 0,   −softplus(−u) for u < 0,   softplus(u) = log(1 + e^u)
    g'(u)     = 1 for u ≥ 0,   σ(u)(1 − σ(u)) for u < 0
    (log g)'(u) = 1/(u + 0.5) for u ≥ 0,   σ(−u) for u < 0
    g is continuous at 0 (g(0) = 1/2) but not differentiable there: its slope jumps from 1/4 to 1.
    At exactly u = 0 the u ≥ 0 branch is used, as torch.where / keras.ops.where do.

Backward of the scan, each line undoing one forward line (δ = d loss / d ·):
    δlog h_t = δh_t ⊙ h_t
    δA_t    ∋ δlog h_t,   δC_t = δlog h_t
    δc_s    = Σ_{t≥s} δC_t exp(c_s − C_t)        summed in log space, positive and negative δC apart:
              exp(c_s + R⁺_s) − exp(c_s + R⁻_s),  R^±_s = log Σ_{t≥s} exp(log(±δC_t)⁺ − C_t)
              (a reverse log-cumulative-sum-exp; exponents never exceed log Σ|δC|)
    δlog b_t = δc_t,   δA_t −= δc_t
    δlog a_s = Σ_{t≥s} δA_t                        reverse cumulative sum

Float32: log h_t = A_t + C_t adds two numbers of size |A_t| ≈ Σ_{s≤t} |log a_s| that cancel, so the
relative error of h_t grows like |A_t| times the float32 epsilon, i.e. linearly in T. Measured (one layer,
X=8, H=16, max relative error of h against float64): 2e-6 at T=37, 2e-5 at T=256, 1e-4 at T=1024,
4e-4 at T=4096, alike in NumPy, PyTorch and Keras; the sequential form stays at 3e-7 at every length.

Shapes: B batch, T time, X input features (X_k for layer k: X, then H), H hidden width, O outputs,
G projection blocks (minGRU 2: z|h, minLSTM 3: f|i|h). Internally time-major (T, B, .).
Canonical layout (suite.models.base): l{k}.W (X_k, G H), l{k}.b (G H,), head.W (H, O), head.b (O,).
Initialisation: nn.Linear's default, uniform(−1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = X_k for
layer k and H for the head, drawn in canonical order from default_rng(seed).
"""
from __future__ import annotations

from abc import abstractmethod

import numpy as np

from suite.models.numpy.common import NumpyRecurrentModel, sigmoid


# --- elementwise -----------------------------------------------------------------------------
def softplus(u: np.ndarray) -> np.ndarray:
    """log(1 + e^u), stable for any u (np.logaddexp(0, u)); dtype kept."""
    return np.logaddexp(0, u)


def g(u: np.ndarray) -> np.ndarray:
    """u + 0.5 for u ≥ 0, σ(u) otherwise: positive, continuous, g(0) = 0.5."""
    return np.where(u >= 0, u + 0.5, sigmoid(u))


def log_g(u: np.ndarray) -> np.ndarray:
    """log g(u): log(u + 0.5) for u ≥ 0, −softplus(−u) otherwise (no log of a non-positive number)."""
    return np.where(u >= 0, np.log(np.maximum(u, 0) + 0.5), -softplus(-u))


def dg(u: np.ndarray) -> np.ndarray:
    """g'(u): 1 for u ≥ 0, σ(u)(1 − σ(u)) otherwise."""
    s = sigmoid(u)
    return np.where(u >= 0, 1, s * (1 - s))


def dlog_g(u: np.ndarray) -> np.ndarray:
    """(log g)'(u): 1/(u + 0.5) for u ≥ 0, σ(−u) otherwise."""
    return np.where(u >= 0, 1 / (np.maximum(u, 0) + 0.5), sigmoid(-u))


# --- scans over time (axis 0) ----------------------------------------------------------------
def logcumsumexp(c: np.ndarray) -> np.ndarray:
    """C_t = log Σ_{s≤t} exp(c_s) along axis 0; np.logaddexp.accumulate keeps a running max (stable)."""
    return np.logaddexp.accumulate(c, axis=0)


def reverse_logcumsumexp(u: np.ndarray) -> np.ndarray:
    """R_s = log Σ_{t≥s} exp(u_t) along axis 0 (−inf where every u_t is −inf)."""
    return np.logaddexp.accumulate(u[::-1], axis=0)[::-1]


def logcumsumexp_backward(dC: np.ndarray, c: np.ndarray, C: np.ndarray) -> np.ndarray:
    """d loss / d c of C = logcumsumexp(c): δc_s = Σ_{t≥s} δC_t exp(c_s − C_t), positive and negative
    δC summed apart in log space (module docstring)."""
    with np.errstate(divide="ignore"):                       # log 0 = −inf marks 'no term'
        log_pos = np.log(np.maximum(dC, 0))                  # log δC⁺
        log_neg = np.log(np.maximum(-dC, 0))                 # log δC⁻
    pos = np.exp(c + reverse_logcumsumexp(log_pos - C))      # Σ_{t≥s} δC⁺_t exp(c_s − C_t)
    neg = np.exp(c + reverse_logcumsumexp(log_neg - C))      # Σ_{t≥s} δC⁻_t exp(c_s − C_t)
    return pos - neg


def log_scan_forward(log_a: np.ndarray, log_b: np.ndarray):
    """log a_t, log b_t (T, B, H) -> (h (T, B, H), cache): h_t = a_t ⊙ h_{t-1} + b_t, h_0 = 0, in log space."""
    A = np.cumsum(log_a, axis=0)                              # A_t = Σ_{s≤t} log a_s
    c = log_b - A                                             # c_t = log b_t − A_t
    C = logcumsumexp(c)                                       # C_t = log Σ_{s≤t} exp(c_s)
    h = np.exp(A + C)                                         # h_t = exp(A_t + C_t)
    return h, (c, C, h)


def log_scan_backward(dh: np.ndarray, cache):
    """δh (T, B, H) -> (δlog a, δlog b), each (T, B, H)."""
    c, C, h = cache
    dlog_h = dh * h                                           # h = exp(log h)
    dA = dlog_h.copy()                                        # log h = A + C -> A
    dC = dlog_h                                               #               -> C
    dc = logcumsumexp_backward(dC, c, C)                      # C = logcumsumexp(c) -> c
    dlog_b = dc                                               # c = log b − A -> log b
    dA -= dc                                                  #               -> A
    dlog_a = np.cumsum(dA[::-1], axis=0)[::-1]                # A = cumsum(log a) -> log a (reverse cumsum)
    return dlog_a, dlog_b


# --- base model ------------------------------------------------------------------------------
class MinRNNNumpy(NumpyRecurrentModel):
    """L stacked minGRU / minLSTM layers + linear head (canonical layout in the module docstring).

    Subclasses give the gate maps of one layer: ``_parallel_forward/_backward`` (log a, log b of the
    scan), ``_sequential_forward/_backward`` (the loop) and ``_coefficients`` (a_t, b_t for one step)."""

    @property
    def parallel(self) -> bool:
        return self.spec.scan == "parallel"

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        s, GH = self.spec, self.G * self.spec.hidden
        shapes = {}
        for k in range(s.layers):
            X_k = s.input_size if k == 0 else s.hidden
            shapes |= {f"l{k}.W": (X_k, GH), f"l{k}.b": (GH,)}
        return shapes | {"head.W": (s.hidden, s.output_size), "head.b": (s.output_size,)}

    def _init_params(self) -> dict[str, np.ndarray]:
        """uniform(−1/sqrt(fan_in), 1/sqrt(fan_in)) (nn.Linear's default), fan_in = X_k or H (head)."""
        rng = np.random.default_rng(self.spec.seed)
        params = {}
        for name, shape in self.weight_shapes().items():
            fan_in = self.spec.hidden if name.startswith("head.") else self._fan_in(name)
            bound = 1.0 / np.sqrt(fan_in)
            params[name] = rng.uniform(-bound, bound, size=shape).astype(self.dtype)
        return params

    def _fan_in(self, name: str) -> int:
        k = int(name.split(".")[0][1:])                      # 'l{k}.W' -> k
        return self.spec.input_size if k == 0 else self.spec.hidden

    def layer_params(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) of layer k."""
        return self.params[f"l{k}.W"], self.params[f"l{k}.b"]

    # --- one layer -------------------------------------------------------------------------
    @abstractmethod
    def _parallel_forward(self, proj: np.ndarray):
        """proj (T, B, G H) = x W + b -> (hs (T, B, H), cache) by the log-space scan."""

    @abstractmethod
    def _parallel_backward(self, dhs: np.ndarray, cache) -> np.ndarray:
        """δhs (T, B, H) -> δproj (T, B, G H)."""

    @abstractmethod
    def _sequential_forward(self, proj: np.ndarray):
        """proj (T, B, G H) -> (hs (T, B, H), cache) by a loop over t."""

    @abstractmethod
    def _sequential_backward(self, dhs: np.ndarray, cache) -> np.ndarray:
        """δhs (T, B, H) -> δproj (T, B, G H)."""

    @abstractmethod
    def _coefficients(self, proj_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """proj_t (B, G H) of one step -> (a_t, b_t), each (B, H)."""

    def _layer_forward(self, k, xs):
        W, b = self.layer_params(k)
        T, B, X_k = xs.shape
        proj = (xs.reshape(T * B, X_k) @ W + b).reshape(T, B, -1)   # x W + b for every step
        hs, cache = (self._parallel_forward if self.parallel else self._sequential_forward)(proj)
        return hs, (xs, cache)

    def _layer_backward(self, k, dhs, cache, need_dx):
        xs, inner = cache
        W, _ = self.layer_params(k)
        dproj = (self._parallel_backward if self.parallel else self._sequential_backward)(dhs, inner)
        T, B, X_k = xs.shape
        dproj2 = dproj.reshape(T * B, -1)
        dW = xs.reshape(T * B, X_k).T @ dproj2                         # x W -> W
        db = dproj2.sum(axis=0)                                        # + b -> b
        dx = (dproj2 @ W.T).reshape(T, B, X_k) if need_dx else None     # x W -> x
        return dx, {f"l{k}.W": dW, f"l{k}.b": db}

    # --- streaming -------------------------------------------------------------------------
    def init_state(self, batch_size: int) -> list[np.ndarray]:
        """One zero state h (B, H) per layer."""
        self._check_batch_size(batch_size)
        return [np.zeros((batch_size, self.spec.hidden), dtype=self.dtype) for _ in range(self.spec.layers)]

    def _layer_step(self, k, x_t, h):
        """h_t = a_t ⊙ h_{t-1} + b_t (the sequential form, whatever ``scan`` says)."""
        W, b = self.layer_params(k)
        a_t, b_t = self._coefficients(x_t @ W + b)
        h_new = a_t * h + b_t
        return h_new, h_new
