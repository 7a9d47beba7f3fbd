"""What the three PyTorch models share: the task head, the losses, Adam + clipping, dtype, seeding,
NumPy <-> tensor conversion and the SequenceModel plumbing (weights, gradients, training).

A concrete model subclasses ``TorchSequenceModel`` and supplies
    build_encoder()            -> nn.Module mapping x (B, T, X) to encoder states (B, T, H)
    encoder_to_canonical(p)    -> canonical encoder weights from the encoder's named tensors
    canonical_to_encoder(w)    -> the encoder's named tensors from canonical weights
    init_state / step          -> streaming
Head: ``head.W`` (H, O) is ``nn.Linear(H, O).weight.T``, ``head.b`` its bias.

Losses (means over every element, as in ``suite.losses``):
    regression  F.mse_loss(y_hat, y)
    classes     F.cross_entropy(logits (N, O), y (N,), ignore_index=-100)   N = B or B T; the mean over
                the positions whose label is not IGNORE_INDEX
    multilabel  F.binary_cross_entropy_with_logits(logits, y)
Training: torch.optim.Adam(betas=(0.9, 0.999), eps=1e-8), torch.nn.utils.clip_grad_norm_ (global norm).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from suite.models import layouts
from suite.errors import UserError
from suite.losses import IGNORE_INDEX, check_target_shape
from suite.models.base import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, SequenceModel
from suite.spec import ModelSpec

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# --- conversion -------------------------------------------------------------------------------
def to_tensor(a, dtype: torch.dtype) -> torch.Tensor:
    """NumPy (or array-like) -> tensor of ``dtype``; a torch.Tensor passes through unchanged."""
    if isinstance(a, torch.Tensor):
        return a
    return torch.as_tensor(np.asarray(a), dtype=dtype)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


# --- losses -----------------------------------------------------------------------------------
def task_loss(out: torch.Tensor, y: torch.Tensor, head: str) -> torch.Tensor:
    """Mean loss over every element (see module docstring). out (B, O) or (B, T, O)."""
    check_target_shape(tuple(y.shape), tuple(out.shape), head)
    if head == "regression":
        return F.mse_loss(out, y)
    if head == "classes":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1),    # (N, O), (N,)
                               ignore_index=IGNORE_INDEX)
    return F.binary_cross_entropy_with_logits(out, y)


# --- network: encoder + head ------------------------------------------------------------------
class TaskNet(nn.Module):
    """encoder (B, T, X) -> (B, T, H); head reads the last position (output='last') or every step."""

    def __init__(self, encoder: nn.Module, hidden: int, output_size: int, output: str):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(hidden, output_size)
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)                 # (B, T, H)
        if self.output == "last":
            h = h[:, -1]                    # (B, H)
        return self.head(h)                 # (B, O) or (B, T, O)


# --- the shared model class -----------------------------------------------------------------
class TorchSequenceModel(SequenceModel):
    """SequenceModel plumbing for a ``TaskNet`` in PyTorch eager mode on the CPU."""

    cudnn_eligible = False   # whether the encoder would dispatch to cuDNN on a CUDA device

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.dtype = TORCH_DTYPES[spec.dtype]
        with torch.random.fork_rng(devices=[]):   # seed from spec.seed, leave the global RNG alone
            torch.manual_seed(spec.seed)
            self.net = TaskNet(self.build_encoder(), spec.hidden, spec.output_size, spec.output)
        self.net.to(self.dtype).eval()
        self.optimizer: torch.optim.Optimizer | None = None
        self.clip_norm: float | None = None

    # --- hooks for subclasses ---------------------------------------------------------------
    def build_encoder(self) -> nn.Module:
        raise NotImplementedError

    def encoder_to_canonical(self, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    # --- conversion ---------------------------------------------------------------------------
    def tensor(self, a) -> torch.Tensor:
        return to_tensor(a, self.dtype)

    def target(self, y) -> torch.Tensor:
        if self.spec.head == "classes":
            return y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y), dtype=torch.long)
        return self.tensor(y)

    def native_to_canonical(self, named: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """{'encoder.<name>': ..., 'head.weight', 'head.bias'} -> canonical names."""
        enc = {k[len("encoder."):]: v for k, v in named.items() if k.startswith("encoder.")}
        out = self.encoder_to_canonical(enc)
        head = layouts.linear_torch_to_canonical(named["head.weight"], named["head.bias"])
        out["head.W"], out["head.b"] = head["W"], head["b"]
        return out

    def canonical_to_native(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {f"encoder.{k}": v for k, v in self.canonical_to_encoder(w).items()}
        head = layouts.linear_canonical_to_torch(w["head.W"], w["head.b"])
        out["head.weight"], out["head.bias"] = head["weight"], head["bias"]
        return out

    # --- inference ----------------------------------------------------------------------------
    def predict_native(self, x) -> torch.Tensor:
        self.net.eval()
        with torch.inference_mode():
            return self.net(self.tensor(x))

    def forward(self, x) -> np.ndarray:
        return to_numpy(self.predict_native(x))

    def encode(self, x) -> np.ndarray:
        self.net.eval()
        with torch.inference_mode():
            return to_numpy(self.net.encoder(self.tensor(x)))

    # --- training -------------------------------------------------------------------------------
    def _loss(self, x, y) -> torch.Tensor:
        return task_loss(self.net(self.tensor(x)), self.target(y), self.spec.head)

    def loss(self, x, y) -> float:
        self.net.eval()
        with torch.inference_mode():
            return float(self._loss(x, y))

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """Canonical gradients via torch.autograd.grad (leaves .grad and the optimizer untouched)."""
        names, params = zip(*self.net.named_parameters())
        grads = torch.autograd.grad(self._loss(x, y), params)
        return self.native_to_canonical({n: to_numpy(g) for n, g in zip(names, grads)})

    def configure_training(self, lr: float, clip_norm: float | None) -> None:
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(ADAM_BETA1, ADAM_BETA2), eps=ADAM_EPS)
        self.clip_norm = clip_norm

    def train_step(self, x, y) -> float:
        if self.optimizer is None:
            raise UserError("train_step: call configure_training(lr, clip_norm) first")
        self.net.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._loss(x, y)
        loss.backward()
        if self.clip_norm is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.clip_norm)
        self.optimizer.step()
        return loss.item()

    # --- weights --------------------------------------------------------------------------------
    def num_params(self) -> int:
        return sum(p.numel() for p in self.net.parameters() if p.requires_grad)

    def get_weights(self) -> dict[str, np.ndarray]:
        return self.native_to_canonical({n: to_numpy(p).copy() for n, p in self.net.named_parameters()})

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        expected = {k: v.shape for k, v in self.get_weights().items()}
        layouts.check_weight_shapes(weights, expected, where=self.spec.name)
        native = self.canonical_to_native(weights)
        params = dict(self.net.named_parameters())
        with torch.no_grad():
            for name, value in native.items():
                params[name].copy_(torch.as_tensor(np.asarray(value), dtype=self.dtype))

    # --- reporting ------------------------------------------------------------------------------
    def execution_path(self) -> dict[str, Any]:
        onednn = torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled
        return {"mode": "eager", "onednn": onednn,
                "cudnn_eligible": self.cudnn_eligible, "device": "cpu",
                "fused_kernel": self.fused_kernel(), "threads": torch.get_num_threads()}

    def fused_kernel(self) -> bool | None:
        """Whether the encoder runs a fused (oneDNN) kernel on the CPU; None where not determined."""
        return None


def autograd_op_names(t: torch.Tensor) -> set[str]:
    """Names of every autograd node behind ``t`` (e.g. 'MkldnnRnnLayerBackward0')."""
    names, seen, stack = set(), set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names.add(fn.name())
        stack.extend(g for g, _ in fn.next_functions)
    return names


# --- recurrent encoders (nn.GRU / nn.LSTM) ------------------------------------------------------
class RecurrentEncoder(nn.Module):
    """Wraps ``nn.GRU`` / ``nn.LSTM`` (batch_first) so that it returns the top-layer states (B, T, H)."""

    def __init__(self, rnn: nn.RNNBase):
        super().__init__()
        self.rnn = rnn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]                # (B, T, H); the final state is dropped


class TorchRecurrentModel(TorchSequenceModel):
    """Streaming for nn.GRU / nn.LSTM: the framework layer on a length-1 sequence, carrying its state
    (h (L, B, H) for GRU, (h, c) for LSTM). ``step`` returns tensors (no host copy)."""

    cudnn_eligible = True   # nn.GRU / nn.LSTM dispatch to cuDNN whenever the input is on a CUDA device

    def layer_to_canonical(self, W_ih, W_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
        """One layer, torch layout -> canonical {W_i, W_h, b_i, b_h} (suite.models.layouts)."""
        raise NotImplementedError

    def layer_to_torch(self, W_i, W_h, b_i, b_h) -> dict[str, np.ndarray]:
        """One layer, canonical -> torch {weight_ih, weight_hh, bias_ih, bias_hh} (suite.models.layouts)."""
        raise NotImplementedError

    def encoder_to_canonical(self, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = self.layer_to_canonical(p[f"rnn.weight_ih_l{k}"], p[f"rnn.weight_hh_l{k}"],
                                            p[f"rnn.bias_ih_l{k}"], p[f"rnn.bias_hh_l{k}"])
            out.update({f"l{k}.{name}": v for name, v in layer.items()})
        return out

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = self.layer_to_torch(w[f"l{k}.W_i"], w[f"l{k}.W_h"], w[f"l{k}.b_i"], w[f"l{k}.b_h"])
            out.update({f"rnn.{name}_l{k}": v for name, v in layer.items()})
        return out

    def step(self, x_t, state):
        self.net.eval()
        with torch.inference_mode():
            out, state = self.net.encoder.rnn(self.tensor(x_t)[:, None, :], state)  # (B, 1, H)
            return self.net.head(out[:, 0]), state                                  # (B, O)

    def fused_kernel(self) -> bool:
        """True when the CPU forward runs oneDNN's fused RNN kernel (seen as MkldnnRnnLayerBackward0
        in the autograd graph of a one-step probe); PyTorch fuses LSTM in float32, not GRU."""
        if not hasattr(self, "_fused"):
            rnn = self.net.encoder.rnn
            probe = torch.zeros(1, 1, rnn.input_size, dtype=self.dtype)
            with torch.enable_grad():
                out, _ = rnn(probe)
            self._fused = any(n.startswith("Mkldnn") for n in autograd_op_names(out))
        return self._fused
