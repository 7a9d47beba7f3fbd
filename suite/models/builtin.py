"""The built-in architectures and implementations, registered like any plugin's (``suite.models.registry``).

Their formulas live where they are stated with their math: parameters in ``suite.models.params``, FLOPs in
``suite.models.flops``, the memory estimate in ``suite.models.memory_estimate``; the canonical weight layout in
``suite.models.base`` and its converters in ``suite.models.layouts``. The equivalence pairs are the weight
transplants ``suite.models.equivalence`` runs by default.
"""
from __future__ import annotations

from suite.errors import UserError
from suite.models import flops, memory_estimate as mem, params
from suite.models.registry import ArchDescriptor, register_builtin, register_builtin_arch


def _transformer_heads(spec) -> None:
    if spec.hidden % spec.attention_heads:
        raise UserError(f"model spec: hidden={spec.hidden} is not divisible by num_heads={spec.num_heads}")


def _torch_gru_convention(spec) -> None:
    if spec.convention != "reset_after":
        raise UserError("torch.nn.GRU implements only convention 'reset_after'; use numpy or keras for 'reset_before'")


MIN_RNN_PAIRS = (("numpy", "torch", {}), ("numpy", "keras", {}), ("torch", "keras", {}),
                 ("numpy", "torch", {"scan_b": "sequential"}),
                 ("numpy", "keras", {"scan_a": "sequential", "scan_b": "sequential"}))
RECURRENT = dict(params=params.recurrent_params, params_label=params.recurrent_label,
                 forward_flops=flops.recurrent_encoder_flops, step_flops=flops.recurrent_step_flops,
                 activations=mem.recurrent_activations)
MIN_RNN = dict(params=params.min_rnn_params, params_label=params.min_rnn_label,
               forward_flops=flops.min_rnn_encoder_flops, step_flops=flops.min_rnn_step_flops,
               activations=mem.min_rnn_activations, variants=("scan",), equivalence=MIN_RNN_PAIRS)

ARCHS = (
    ArchDescriptor("gru", "gated recurrent unit (Cho et al. 2014): reset and update gates, G = 3", **RECURRENT,
                   canonical_layout="l{k}.W_i (X_k, 3H), l{k}.W_h (H, 3H), l{k}.b_i, l{k}.b_h (3H,); gates r|z|n",
                   variants=("convention",),
                   equivalence=(("numpy", "torch", {}), ("numpy", "keras", {}), ("torch", "keras", {}),
                                ("numpy", "keras", {"convention": "reset_before"}))),
    ArchDescriptor("lstm", "long short-term memory (Hochreiter & Schmidhuber 1997, forget gate of Gers et al. "
                   "2000), G = 4", **RECURRENT,
                   canonical_layout="l{k}.W_i (X_k, 4H), l{k}.W_h (H, 4H), l{k}.b_i, l{k}.b_h (4H,); gates i|f|g|o",
                   equivalence=(("torch", "keras", {}), ("numpy", "torch", {}))),
    ArchDescriptor("transformer", "causal pre-LN Transformer encoder, sinusoidal positions",
                   params=params.transformer_params, params_label=params.transformer_label,
                   forward_flops=flops.transformer_encoder_flops, step_flops=flops.transformer_step_flops,
                   activations=mem.transformer_activations, check=_transformer_heads,
                   canonical_layout="in.W/b, l{k}.ln1/attn.W_q|W_k|W_v|W_o/ln2/ff.W_1|W_2, ln_f",
                   equivalence=(("torch", "keras", {}),), tolerances=(1e-4, 1e-4)),
    ArchDescriptor("mingru", "minGRU (Feng et al. 2024): no hidden state in its gate, a linear recurrence "
                   "(parallel scan or loop), G = 2", **MIN_RNN,
                   canonical_layout="l{k}.W (X_k, 2H), l{k}.b (2H,); blocks z|h"),
    ArchDescriptor("minlstm", "minLSTM (Feng et al. 2024): no hidden state in its gates, a linear recurrence "
                   "(parallel scan or loop), G = 3", **MIN_RNN,
                   canonical_layout="l{k}.W (X_k, 3H), l{k}.b (3H,); blocks f|i|h"),
)

# (arch, framework): ("module:Class", description, implementation check, whose streaming step exports to an edge
# runtime)
IMPLEMENTATIONS = {
    ("gru", "numpy"): ("suite.models.numpy.gru:GRUNumpy",
                       "GRU from scratch: NumPy forward + hand-written BPTT, both reset conventions", None, False),
    ("lstm", "numpy"): ("suite.models.numpy.lstm:LSTMNumpy", "LSTM from scratch: NumPy forward + hand-written BPTT",
                        None, False),
    ("gru", "torch"): ("suite.models.torch.gru:GRUTorch", "torch.nn.GRU (reset_after)", _torch_gru_convention, True),
    ("lstm", "torch"): ("suite.models.torch.lstm:LSTMTorch", "torch.nn.LSTM", None, True),
    ("transformer", "torch"): ("suite.models.torch.transformer:TransformerTorch",
                               "causal pre-LN Transformer encoder in PyTorch, sinusoidal positions", None, True),
    ("gru", "keras"): ("suite.models.keras.gru:GRUKeras",
                       "keras.layers.GRU (reset_after=True or False), TensorFlow backend", None, True),
    ("lstm", "keras"): ("suite.models.keras.lstm:LSTMKeras", "keras.layers.LSTM, TensorFlow backend", None, True),
    ("transformer", "keras"): ("suite.models.keras.transformer:TransformerKeras",
                               "causal pre-LN Transformer from keras.layers.MultiHeadAttention", None, True),
    ("mingru", "numpy"): ("suite.models.numpy.mingru:MinGRUNumpy",
                          "minGRU from scratch: NumPy forward + hand-written backward, log-space parallel scan "
                          "or sequential loop", None, False),
    ("minlstm", "numpy"): ("suite.models.numpy.minlstm:MinLSTMNumpy",
                           "minLSTM from scratch: NumPy forward + hand-written backward, log-space parallel scan "
                           "or sequential loop", None, False),
    ("mingru", "torch"): ("suite.models.torch.mingru:MinGRUTorch",
                          "minGRU in PyTorch: nn.Linear + torch.logcumsumexp scan (or a loop), autograd",
                          None, False),
    ("minlstm", "torch"): ("suite.models.torch.minlstm:MinLSTMTorch",
                           "minLSTM in PyTorch: nn.Linear + torch.logcumsumexp scan (or a loop), autograd",
                           None, False),
    ("mingru", "keras"): ("suite.models.keras.mingru:MinGRUKeras",
                          "minGRU as a custom Keras layer: tf.math.cumulative_logsumexp scan (or tf.scan)", None,
                          False),
    ("minlstm", "keras"): ("suite.models.keras.minlstm:MinLSTMKeras",
                           "minLSTM as a custom Keras layer: tf.math.cumulative_logsumexp scan (or tf.scan)", None,
                           False),
}

for _descriptor in ARCHS:
    register_builtin_arch(_descriptor)
for (_arch, _framework), (_target, _description, _check, _edge) in IMPLEMENTATIONS.items():
    register_builtin(_arch, _framework, _target, _description, check=_check, edge_export=_edge)
