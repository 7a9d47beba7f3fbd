"""The check a plugin model passes before a config that names it is accepted: build it small, run it once.

``probe(arch, framework)`` builds ``<arch>-<framework>`` at X = 3, H = 5, L = 1, O = 2 (seed 0, float32, output
'sequence', regression head) and checks, in this order, each failure a one-line UserError naming the model and
its plugin: the build (the factory or class raised, or returned the wrong kind of object); ``encode`` of x (2, 4, 3)
gives states (2, 4, 5), i.e. (B, T, H); ``forward`` gives (2, 4, 2); one streaming ``step`` from ``init_state(2)``
gives (2, 2); ``num_params`` is a positive integer. Built-in models are not probed (their tests hold them); a model
passes once per process.
"""
from __future__ import annotations

import numpy as np

from suite.errors import UserError, one_line_error

B, T, X, H, O = 2, 4, 3, 5, 2
_passed: set = set()                     # implementations that passed, in this process


def probe(arch: str, framework: str) -> None:
    from suite.models import build_model
    from suite.models.registry import implementation
    from suite.spec import ModelSpec
    impl = implementation(arch, framework)
    if not impl.plugin or impl in _passed:
        return
    who = f"plugin model {impl.name} ({impl.source.text()})"
    spec = ModelSpec(arch, framework, X, H, O, output="sequence", head="regression")
    x = np.random.default_rng(0).standard_normal((B, T, X)).astype(np.float32)
    try:
        model = build_model(spec)
    except UserError as err:
        raise UserError(str(err)) from None
    except Exception as err:  # noqa: BLE001 -- whatever the plugin raised, one line
        raise UserError(f"{who}: building it at input_size={X}, hidden={H}, layers=1 failed: "
                        f"{one_line_error(err)}") from None
    checks = (("encode", lambda: model.encode(x), (B, T, H), "(B, T, H)"),
              ("forward", lambda: model.forward(x), (B, T, O), "(B, T, O)"),
              ("step", lambda: model.step(x[:, 0], model.init_state(B))[0], (B, O), "(B, O)"))
    for what, call, expected, letters in checks:
        try:
            got = tuple(np.shape(np.asarray(call())))
        except Exception as err:  # noqa: BLE001
            raise UserError(f"{who}: {what} of x {x.shape if what != 'step' else (B, X)} failed: "
                            f"{one_line_error(err)}") from None
        if got != expected:
            source = "forward" if what == "encode" else what
            raise UserError(f"{who}: {source} maps x {(B, T, X) if what != 'step' else (B, X)} to {got}; expected "
                            f"{letters} = {expected} (factory(input_size={X}, hidden={H}, layers=1))")
    n = model.num_params()
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise UserError(f"{who}: num_params() gave {n!r}; expected a positive integer")
    _passed.add(impl)
