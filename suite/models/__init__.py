"""Model registry: ``build_model(spec)`` returns the implementation for (arch, framework).

Framework modules are imported lazily so that a NumPy-only run never imports torch or TensorFlow.
"""
from __future__ import annotations

import importlib

from suite.spec import IMPLEMENTATIONS, ModelSpec

# (arch, framework) -> "module:Class"
REGISTRY = {
    ("gru", "numpy"): "suite.models.gru_numpy:GRUNumpy",
    ("lstm", "numpy"): "suite.models.lstm_numpy:LSTMNumpy",
    ("gru", "torch"): "suite.models.gru_torch:GRUTorch",
    ("lstm", "torch"): "suite.models.lstm_torch:LSTMTorch",
    ("transformer", "torch"): "suite.models.transformer_torch:TransformerTorch",
    ("gru", "keras"): "suite.models.gru_keras:GRUKeras",
    ("lstm", "keras"): "suite.models.lstm_keras:LSTMKeras",
    ("transformer", "keras"): "suite.models.transformer_keras:TransformerKeras",
}
assert set(REGISTRY) == IMPLEMENTATIONS

DESCRIPTIONS = {
    ("gru", "numpy"): "GRU from scratch: NumPy forward + hand-written BPTT, both reset conventions",
    ("lstm", "numpy"): "LSTM from scratch: NumPy forward + hand-written BPTT",
    ("gru", "torch"): "torch.nn.GRU (reset_after)",
    ("lstm", "torch"): "torch.nn.LSTM",
    ("transformer", "torch"): "causal pre-LN Transformer encoder in PyTorch, sinusoidal positions",
    ("gru", "keras"): "keras.layers.GRU (reset_after=True or False), TensorFlow backend",
    ("lstm", "keras"): "keras.layers.LSTM, TensorFlow backend",
    ("transformer", "keras"): "causal pre-LN Transformer from keras.layers.MultiHeadAttention",
}


def model_class(arch: str, framework: str):
    module_name, cls_name = REGISTRY[(arch, framework)].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def build_model(spec: ModelSpec):
    """Build the model described by ``spec`` (validated by ModelSpec itself)."""
    return model_class(spec.arch, spec.framework)(spec)
