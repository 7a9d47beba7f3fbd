"""The fields every result row starts with (the tidy table's model columns, status and error)."""
from __future__ import annotations

from suite.spec import ModelSpec


def base_row(spec: ModelSpec | None = None, **fields) -> dict:
    row = {"status": "ok", "error": None}
    if spec is not None:
        row.update(model=spec.name, arch=spec.arch, framework=spec.framework, convention=spec.convention,
                   hidden=spec.hidden, layers=spec.layers)
    row.update(fields)
    return row
