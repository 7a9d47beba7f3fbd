"""Models: ``build_model(spec)`` returns the implementation for (arch, framework), built-in or plugin.

Every architecture and implementation is in the registry (``suite.models.registry``); the built-ins register in
``suite.models.builtin``, plugins with the functions re-exported here:
    register_encoder(arch, framework, factory, description=...)   a torch.nn.Module / Keras layer (B, T, X) -> (B, T, H)
    register_model(arch, framework, cls, description=...)          a full SequenceModel subclass
    register_arch(name, description, params=..., ...)              an architecture descriptor alone
Framework modules are imported lazily so that a NumPy-only run never imports torch or TensorFlow.
"""
from __future__ import annotations

from suite.models.registry import (arch, archs, implementation, implementations, model_class,  # noqa: F401
                                   register_arch, register_encoder, register_model)
from suite.spec import ModelSpec


def build_model(spec: ModelSpec):
    """Build the model described by ``spec`` (validated by ModelSpec itself)."""
    return model_class(spec.arch, spec.framework)(spec)
