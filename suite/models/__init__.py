"""Model registry: ``build_model(spec)`` returns the implementation for (arch, framework).

Framework modules are imported lazily so that a NumPy-only run never imports torch or TensorFlow.
"""
from __future__ import annotations

import importlib

from suite.spec import IMPLEMENTATIONS, ModelSpec

# (arch, framework) -> "module:Class"
REGISTRY = {
    ("gru", "numpy"): "suite.models.numpy.gru:GRUNumpy",
    ("lstm", "numpy"): "suite.models.numpy.lstm:LSTMNumpy",
    ("gru", "torch"): "suite.models.torch.gru:GRUTorch",
    ("lstm", "torch"): "suite.models.torch.lstm:LSTMTorch",
    ("transformer", "torch"): "suite.models.torch.transformer:TransformerTorch",
    ("gru", "keras"): "suite.models.keras.gru:GRUKeras",
    ("lstm", "keras"): "suite.models.keras.lstm:LSTMKeras",
    ("transformer", "keras"): "suite.models.keras.transformer:TransformerKeras",
    ("mingru", "numpy"): "suite.models.numpy.mingru:MinGRUNumpy",
    ("minlstm", "numpy"): "suite.models.numpy.minlstm:MinLSTMNumpy",
    ("mingru", "torch"): "suite.models.torch.mingru:MinGRUTorch",
    ("minlstm", "torch"): "suite.models.torch.minlstm:MinLSTMTorch",
    ("mingru", "keras"): "suite.models.keras.mingru:MinGRUKeras",
    ("minlstm", "keras"): "suite.models.keras.minlstm:MinLSTMKeras",
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
    ("mingru", "numpy"): "minGRU from scratch: NumPy forward + hand-written backward, log-space parallel scan "
                         "or sequential loop",
    ("minlstm", "numpy"): "minLSTM from scratch: NumPy forward + hand-written backward, log-space parallel scan "
                          "or sequential loop",
    ("mingru", "torch"): "minGRU in PyTorch: nn.Linear + torch.logcumsumexp scan (or a loop), autograd",
    ("minlstm", "torch"): "minLSTM in PyTorch: nn.Linear + torch.logcumsumexp scan (or a loop), autograd",
    ("mingru", "keras"): "minGRU as a custom Keras layer: tf.math.cumulative_logsumexp scan (or tf.scan)",
    ("minlstm", "keras"): "minLSTM as a custom Keras layer: tf.math.cumulative_logsumexp scan (or tf.scan)",
}


def model_class(arch: str, framework: str):
    module_name, cls_name = REGISTRY[(arch, framework)].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def build_model(spec: ModelSpec):
    """Build the model described by ``spec`` (validated by ModelSpec itself)."""
    return model_class(spec.arch, spec.framework)(spec)
