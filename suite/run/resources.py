"""Resource guard: estimate a work unit's peak memory before running it, refuse what cannot fit.

Estimate (bytes, float32 = 4 B, training keeps activations for the backward pass, x3 for
gradients and temporaries):
    recurrent  L * B * T * (G + 2) * H            gate pre-activations + states per step
    minGRU/minLSTM  L * B * T * (G + 3) * H       projection (G H) + log a, log b, cumsum / log-cumsum-exp
                                                  terms of the parallel scan; G = 2 (minGRU), 3 (minLSTM)
    transformer L * B * (heads * T^2 * 3 + T * (8 D + 2 F))   attention scores/probs/grad + activations
plus parameters x 4 (weights, grads, two Adam moments). A rough upper bound, documented as such.
"""
from __future__ import annotations

import os

from suite.errors import UserError
from suite.models.params import GATES, MIN_GATES, formula_params
from suite.spec import ModelSpec



def machine_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_limit_bytes(max_memory_gb: float | None) -> int:
    """The configured limit, or 80% of this machine's RAM."""
    return int(max_memory_gb * 2**30) if max_memory_gb else int(0.8 * machine_memory_bytes())


def estimate_training_bytes(spec: ModelSpec, batch: int, seq_len: int) -> int:
    itemsize = 8 if spec.dtype == "float64" else 4
    L, B, T, H = spec.layers, batch, seq_len, spec.hidden
    if spec.arch in GATES:
        acts = L * B * T * (GATES[spec.arch] + 2) * H
    elif spec.arch in MIN_GATES:
        acts = L * B * T * (MIN_GATES[spec.arch] + 3) * H
    else:
        acts = L * B * (spec.attention_heads * T * T * 3 + T * (8 * H + 2 * spec.ff_width))
    return itemsize * (3 * acts + 4 * formula_params(spec) + B * T * (spec.input_size + spec.output_size))


def check_fits(spec: ModelSpec, batch: int, seq_len: int, limit_bytes: int) -> int:
    """Return the estimate; raise UserError naming the model, shape and both figures if it exceeds the limit."""
    need = estimate_training_bytes(spec, batch, seq_len)
    if need > limit_bytes:
        raise UserError(f"{spec.name} at B={batch} T={seq_len} H={spec.hidden}: estimated memory "
                        f"{need / 2**30:.1f} GiB exceeds the limit {limit_bytes / 2**30:.1f} GiB "
                        f"(resources.max_memory_gb)")
    return need
