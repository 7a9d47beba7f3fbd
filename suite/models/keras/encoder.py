"""The easy path in Keras 3: a plugin's encoder layer becomes a full SequenceModel.

``suite.models.register_encoder(arch, "keras", factory)`` registers this class for ``<arch>-keras``; building a
spec calls ``factory(input_size, hidden, layers)``, which returns a ``keras.layers.Layer`` mapping x (B, T, X) to
states (B, T, H) (it should pass ``dtype`` through if it creates weights of its own: the layer is called on a
``keras.Input`` of the spec's dtype). Everything else is the suite's, shared with the built-in Keras models
(``suite.models.keras.common``): the Dense head, the losses, Adam with global-norm clipping, compile +
train_on_batch, seeding (``seeded(spec.seed)`` around the factory and the build), the parameter count (the
trainable weights' sizes, as Keras counts them) and the execution path.

Weights: no canonical layout; ``get_weights`` names the layer's variables by their Keras path, prefixed:
``encoder.<path>`` for every trainable variable and every floating-point non-trainable one (e.g. batch-norm moving
statistics), ``head.W`` (H, O) and ``head.b``. ``gradients`` covers the trainable ones.

Streaming: when the layer has ``init_state(batch_size)`` and ``step(x_t, state) -> (h_t, state)`` (x_t (B, X), h_t
(B, H)) the compiled step runs it; otherwise the state is the prefix of inputs (B, t, X) and each step runs the
layer over it, reading the last position. ``execution_path()['streaming']`` says which.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from suite.errors import UserError
from suite.models import layouts
from suite.models.keras.common import KerasSequenceModel, keras, ops, tf
from suite.models.registry import implementation

STEP = "encoder step(x_t, state)"
PREFIX = "recomputes the prefix (the encoder has no step)"


def has_step(layer) -> bool:
    return callable(getattr(layer, "step", None)) and callable(getattr(layer, "init_state", None))


class KerasEncoderModel(KerasSequenceModel):
    """A registered Keras encoder layer (module docstring) + the suite's head, losses, training and streaming."""

    def build_encoder(self, inputs):
        s = self.spec
        impl = implementation(s.arch, s.framework)
        layer = impl.factory(s.input_size, s.hidden, s.layers)
        if not isinstance(layer, keras.layers.Layer):
            raise UserError(f"plugin model {s.name} ({impl.source.text()}): factory({s.input_size}, {s.hidden}, "
                            f"{s.layers}) returned {type(layer).__name__}; expected a keras.layers.Layer")
        self.layer = layer
        return layer(inputs)

    def encoder_variables(self) -> dict[str, Any]:
        return {f"encoder.{v.path}": v for v in self.layer.trainable_weights}

    def _state_variables(self) -> dict[str, Any]:
        return {f"encoder.{v.path}": v for v in self.layer.non_trainable_weights
                if np.issubdtype(np.dtype(v.dtype), np.floating)}

    def encoder_to_canonical(self, p: dict[str, np.ndarray], grad: bool) -> dict[str, np.ndarray]:
        return {k: np.array(v) for k, v in p.items() if k.startswith("encoder.")}

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v for k, v in w.items() if k.startswith("encoder.")}

    def get_weights(self) -> dict[str, np.ndarray]:
        out = super().get_weights()
        out.update({n: np.array(v.numpy()) for n, v in self._state_variables().items()})
        return out

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        expected = {k: v.shape for k, v in self.get_weights().items()}
        layouts.check_weight_shapes(weights, expected, where=self.spec.name)
        variables = {**self.variables(), **self._state_variables()}
        for name, value in self.canonical_to_native(weights).items():
            variables[name].assign(np.asarray(value, dtype=variables[name].dtype))

    def num_params(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.model.trainable_weights))

    # --- streaming ------------------------------------------------------------------------------------------
    def init_state(self, batch_size: int):
        if has_step(self.layer):
            return self.layer.init_state(batch_size)
        return tf.zeros((batch_size, 0, self.spec.input_size), dtype=self.spec.dtype)   # the prefix (B, 0, X)

    def streaming_step(self, x_t, state):
        if has_step(self.layer):
            h, state = self.layer.step(x_t, state)                                 # (B, H)
        else:
            state = ops.concatenate([state, x_t[:, None, :]], axis=1)              # (B, t, X)
            h = self.layer(state, training=False)[:, -1]
        return self.head(h), state

    def execution_path(self) -> dict[str, Any]:
        impl = implementation(self.spec.arch, self.spec.framework)
        return {**super().execution_path(), "streaming": STEP if has_step(self.layer) else PREFIX,
                "plugin": impl.source.module}
