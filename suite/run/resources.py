"""Resource guard: estimate a work unit's peak memory before running it, refuse what cannot fit.

Estimate (bytes, item size 4 for float32, 8 for float64; training keeps activations for the backward pass, x3
for gradients and temporaries):
    itemsize * (3 * activations + 4 * parameters + B * T * (X + O))
where activations are the arch's own (``suite.models.memory_estimate``: its descriptor's ``activations`` in
``suite.models.registry``) and parameters x 4 holds weights, gradients and two Adam moments (the formula's count,
else the framework's). A rough upper bound, documented as such. An arch that declares no activation estimate (a
plugin) has no estimate: ``check_fits`` returns None and refuses nothing.
"""
from __future__ import annotations

import os

from suite.errors import UserError
from suite.models.params import counted_params, formula_params
from suite.models.registry import arch
from suite.spec import ModelSpec


def machine_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_limit_bytes(max_memory_gb: float | None) -> int:
    """The configured limit, or 80% of this machine's RAM."""
    return int(max_memory_gb * 2**30) if max_memory_gb else int(0.8 * machine_memory_bytes())


def estimate_training_bytes(spec: ModelSpec, batch: int, seq_len: int) -> int | None:
    """The estimate (module docstring); None for an arch without an activation estimate."""
    activations = arch(spec.arch).activations
    if activations is None:
        return None
    itemsize = 8 if spec.dtype == "float64" else 4
    params = formula_params(spec)
    params = counted_params(spec) if params is None else params
    acts = int(activations(spec, batch, seq_len))
    return itemsize * (3 * acts + 4 * params + batch * seq_len * (spec.input_size + spec.output_size))


def check_fits(spec: ModelSpec, batch: int, seq_len: int, limit_bytes: int) -> int | None:
    """Return the estimate; raise UserError naming the model, shape and both figures if it exceeds the limit.
    None (nothing refused) for an arch without an estimate."""
    need = estimate_training_bytes(spec, batch, seq_len)
    if need is not None and need > limit_bytes:
        raise UserError(f"{spec.name} at B={batch} T={seq_len} H={spec.hidden}: estimated memory "
                        f"{need / 2**30:.1f} GiB exceeds the limit {limit_bytes / 2**30:.1f} GiB "
                        f"(resources.max_memory_gb)")
    return need
