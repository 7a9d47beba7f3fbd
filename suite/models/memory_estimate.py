"""Activation elements a training step keeps, per architecture: the arch-dependent part of the resource guard's
memory estimate (``suite.run.resources`` adds parameters, gradients, Adam moments and the batch itself).

Elements (multiply by the item size; a rough upper bound, documented as such):
    recurrent        L * B * T * (G + 2) * H            gate pre-activations + states per step (GRU G=3, LSTM G=4)
    minGRU/minLSTM   L * B * T * (G + 3) * H            projection (G H) + log a, log b, cumsum / log-cumsum-exp
                                                        terms of the parallel scan; G = 2 (minGRU), 3 (minLSTM)
    transformer      L * B * (heads * T^2 * 3 + T * (8 D + 2 F))   attention scores/probs/grad + activations
Each is the ``activations`` field of its arch's descriptor (``suite.models.registry``); a plugin arch declares its
own or none (then the guard has no estimate for it and refuses nothing).
"""
from __future__ import annotations

from suite.models.params import GATES, MIN_GATES
from suite.spec import ModelSpec


def recurrent_activations(spec: ModelSpec, batch: int, seq_len: int) -> int:
    return spec.layers * batch * seq_len * (GATES[spec.arch] + 2) * spec.hidden


def min_rnn_activations(spec: ModelSpec, batch: int, seq_len: int) -> int:
    return spec.layers * batch * seq_len * (MIN_GATES[spec.arch] + 3) * spec.hidden


def transformer_activations(spec: ModelSpec, batch: int, seq_len: int) -> int:
    T, H = seq_len, spec.hidden
    return spec.layers * batch * (spec.attention_heads * T * T * 3 + T * (8 * H + 2 * spec.ff_width))
