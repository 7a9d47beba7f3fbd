"""The easy path in PyTorch: a plugin's encoder module becomes a full SequenceModel.

``suite.models.register_encoder(arch, "torch", factory)`` registers this class for ``<arch>-torch``; building a
spec calls ``factory(input_size, hidden, layers)``, which returns a ``torch.nn.Module`` mapping x (B, T, X) to
states (B, T, H). Everything else is the suite's, shared with the built-in torch models
(``suite.models.torch.common``): the head ``nn.Linear(H, O)`` on the last or every position, the losses, Adam with
global-norm clipping, the dtype (the module is cast to it), seeding (the factory runs under ``torch.manual_seed(
spec.seed)`` in a forked RNG), the parameter count (``numel`` of the trainable parameters) and the execution path.

Weights: the module has no canonical layout (``suite.models.base``), so ``get_weights`` names its tensors as
torch does, prefixed: ``encoder.<name>`` for every parameter and every floating-point buffer (batch-norm running
statistics travel with a checkpoint), ``head.W`` (H, O) and ``head.b``. ``gradients`` covers the parameters.

Streaming: when the module has ``init_state(batch_size)`` and ``step(x_t, state) -> (h_t, state)`` with x_t (B, X)
and h_t (B, H) (a state: a tensor or a tuple of tensors), ``step`` runs it; otherwise a step appends x_t to the
inputs seen so far (the state is that prefix, (B, t, X)) and runs the whole module over it, reading the last
position -- the same outputs, at a cost that grows with t. ``execution_path()['streaming']`` says which.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from suite.errors import UserError
from suite.models import layouts
from suite.models.registry import implementation
from suite.models.torch.common import TorchSequenceModel, to_numpy

STEP = "encoder step(x_t, state)"
PREFIX = "recomputes the prefix (the encoder has no step)"


def has_step(module) -> bool:
    return callable(getattr(module, "step", None)) and callable(getattr(module, "init_state", None))


class TorchEncoderModel(TorchSequenceModel):
    """A registered torch encoder (module docstring) + the suite's head, losses, training and streaming."""

    def build_encoder(self) -> nn.Module:
        s = self.spec
        impl = implementation(s.arch, s.framework)
        module = impl.factory(s.input_size, s.hidden, s.layers)
        if not isinstance(module, nn.Module):
            raise UserError(f"plugin model {s.name} ({impl.source.text()}): factory({s.input_size}, {s.hidden}, "
                            f"{s.layers}) returned {type(module).__name__}; expected a torch.nn.Module")
        return module

    # --- weights: the module's own names ------------------------------------------------------------------
    def native_to_canonical(self, named: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {k: v for k, v in named.items() if k.startswith("encoder.")}
        out["head.W"], out["head.b"] = np.asarray(named["head.weight"]).T, np.asarray(named["head.bias"])
        return out

    def canonical_to_native(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {k: v for k, v in w.items() if k.startswith("encoder.")}
        out["head.weight"], out["head.bias"] = np.asarray(w["head.W"]).T, np.asarray(w["head.b"])
        return out

    def _buffers(self) -> dict[str, torch.Tensor]:
        return {f"encoder.{n}": b for n, b in self.net.encoder.named_buffers() if b.is_floating_point()}

    def get_weights(self) -> dict[str, np.ndarray]:
        out = super().get_weights()
        out.update({n: to_numpy(b).copy() for n, b in self._buffers().items()})
        return out

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        expected = {k: v.shape for k, v in self.get_weights().items()}
        layouts.check_weight_shapes(weights, expected, where=self.spec.name)
        targets = {**dict(self.net.named_parameters()), **self._buffers()}
        with torch.no_grad():
            for name, value in self.canonical_to_native(weights).items():
                targets[name].copy_(torch.as_tensor(np.asarray(value), dtype=targets[name].dtype))

    # --- streaming ------------------------------------------------------------------------------------------
    def init_state(self, batch_size: int):
        encoder = self.net.encoder
        if has_step(encoder):
            return encoder.init_state(batch_size)
        return torch.zeros(batch_size, 0, self.spec.input_size, dtype=self.dtype)     # the prefix, (B, 0, X)

    def step(self, x_t, state):
        self.net.eval()
        encoder = self.net.encoder
        with torch.inference_mode():
            x_t = self.tensor(x_t)
            if has_step(encoder):
                h, state = encoder.step(x_t, state)                                # (B, H)
            else:
                state = torch.cat([state, x_t[:, None, :]], dim=1)                 # (B, t, X)
                h = encoder(state)[:, -1]
            return self.net.head(h), state

    def execution_path(self) -> dict[str, Any]:
        impl = implementation(self.spec.arch, self.spec.framework)
        return {**super().execution_path(), "streaming": STEP if has_step(self.net.encoder) else PREFIX,
                "plugin": impl.source.module}
