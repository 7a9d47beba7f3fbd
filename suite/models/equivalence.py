"""Cross-framework equivalence: the same weights and inputs give the same outputs and gradients.

For each pair (A, B) of implementations of one architecture: build A from a spec, copy
``A.get_weights()`` into ``B.set_weights`` (the canonical layout, via suite.models.layouts), feed both the
same random batch and compare
    max_out_diff  = max |A.forward(x) − B.forward(x)|
    max_grad_diff = max over canonical tensors of max |A.gradients(x, y) − B.gradients(x, y)|
in float32 against out_tol / grad_tol (the arch descriptor's ``tolerances``: recurrent pairs 1e-5 / 1e-4,
minGRU / minLSTM included; Transformer 1e-4 / 1e-4). The pairs come from the registry (``pairs``); an arch without
a canonical weight layout, or with one implementation, has none (``not_compared`` says why). For minGRU / minLSTM
each side also names its scan ('parallel' log-space scan or 'sequential' loop), so a pair can check one form
against the other across frameworks.
Like minGPT's tests/test_huggingface_import.py, this is what makes the cross-framework timings
comparable: the frameworks compute the same function.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from suite.errors import UserError
from suite.models import build_model
from suite.spec import ModelSpec


class Pair(NamedTuple):
    """Implementations ``a`` -> ``b`` of ``arch`` (weights flow a -> b); ``convention`` for GRU,
    ``scan_a`` / ``scan_b`` for minGRU / minLSTM (so one pair can compare the parallel and the
    sequential form across frameworks)."""

    arch: str
    a: str
    b: str
    convention: str = "reset_after"
    scan_a: str = "parallel"
    scan_b: str = "parallel"


def pairs() -> tuple[Pair, ...]:
    """The pairs compared by default, from the registry: each built-in arch's own list (its descriptor's
    ``equivalence``: GRU numpy/torch/keras in both conventions, LSTM, the Transformer, minGRU/minLSTM in both
    scans), and for a plugin arch with a canonical layout and two or more implementations every framework pair."""
    from suite.models.registry import FRAMEWORKS, archs, implementations
    have = implementations()
    out = []
    for d in archs():
        listed = d.equivalence
        if not listed and d.canonical_layout is not None:
            fws = [f for f in FRAMEWORKS if (d.name, f) in have]
            listed = tuple((a, b, {}) for i, a in enumerate(fws) for b in fws[i + 1:])
        out += [Pair(d.name, a, b, **variants) for a, b, variants in listed]
    return tuple(out)


def not_compared(archs_: list[str]) -> dict[str, str]:
    """Why each of these archs has no equivalence pair: {arch: reason} (archs that have one are left out)."""
    from suite.models.registry import arch, implementations
    compared = {p.arch for p in pairs()}
    out = {}
    for name in dict.fromkeys(archs_):
        if name in compared:
            continue
        d = arch(name)
        frameworks = sorted(f for a, f in implementations() if a == name)
        out[name] = (f"{name} declares no canonical weight layout (canonical_layout), so weights cannot move "
                     f"between implementations" if d.canonical_layout is None else
                     f"{name} has one implementation ({', '.join(frameworks)}): nothing to compare it with")
    return out


# (L, T, B, head, output) per case: covers L in {1, 2}, T in {1, 37}, B in {1, 5} and every head.
SHAPES = (
    (1, 37, 1, "regression", "last"),
    (2, 1, 5, "multilabel", "sequence"),
    (2, 37, 5, "classes", "sequence"),
)


@dataclass(frozen=True)
class EquivalenceCase:
    """One comparison: implementations ``a`` -> ``b`` of ``arch`` at one size (float32)."""

    arch: str
    a: str
    b: str
    convention: str = "reset_after"
    X: int = 7
    H: int = 13
    L: int = 1
    T: int = 1
    B: int = 1
    head: str = "regression"
    output: str = "last"
    O: int = 3
    seed: int = 0
    scan_a: str = "parallel"      # minGRU / minLSTM only: the form each side runs
    scan_b: str = "parallel"

    @property
    def pair(self) -> str:
        """e.g. 'numpy-gru vs torch-gru', 'numpy-mingru-parallel vs torch-mingru-sequential'."""
        from suite.models.registry import arch
        if arch(self.arch).uses("scan"):
            return f"{self.a}-{self.arch}-{self.scan_a} vs {self.b}-{self.arch}-{self.scan_b}"
        return f"{self.a}-{self.arch} vs {self.b}-{self.arch}"

    def spec(self, framework: str, scan: str = "parallel") -> ModelSpec:
        return ModelSpec(self.arch, framework, self.X, self.H, self.O, layers=self.L, output=self.output,
                         head=self.head, convention=self.convention, dtype="float32", seed=self.seed,
                         scan=scan)

    @classmethod
    def from_dict(cls, d: dict) -> "EquivalenceCase":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise UserError(f"equivalence case: unknown key {unknown[0]!r}; "
                            f"expected one of: {', '.join(sorted(names))}")
        return cls(**d)


def default_cases() -> list[EquivalenceCase]:
    return [EquivalenceCase(p.arch, p.a, p.b, p.convention, L=L, T=T, B=B, head=head, output=output,
                            scan_a=p.scan_a, scan_b=p.scan_b)
            for p in pairs() for L, T, B, head, output in SHAPES]


def random_batch(case: EquivalenceCase) -> tuple[np.ndarray, np.ndarray]:
    """x (B, T, X) standard normal; y matching the head: (B, O) / (B, T, O) floats, or class ids."""
    rng = np.random.default_rng(case.seed + 1)
    x = rng.standard_normal((case.B, case.T, case.X)).astype(np.float32)
    out_shape = (case.B, case.O) if case.output == "last" else (case.B, case.T, case.O)
    if case.head == "regression":
        y = rng.standard_normal(out_shape).astype(np.float32)
    elif case.head == "classes":
        y = rng.integers(0, case.O, out_shape[:-1])
    else:
        y = (rng.random(out_shape) < 0.5).astype(np.float32)
    return x, y


def max_grad_diff(ga: dict[str, np.ndarray], gb: dict[str, np.ndarray]) -> float:
    if set(ga) != set(gb):
        raise UserError(f"gradient names differ: {sorted(set(ga) ^ set(gb))}")
    return max(float(np.max(np.abs(ga[k] - gb[k]))) for k in ga)


def compare(case: EquivalenceCase) -> dict:
    """Build both models, share A's weights, compare outputs and canonical gradients."""
    from suite.models.registry import arch
    out_tol, grad_tol = arch(case.arch).tolerances
    row = {"pair": case.pair, "arch": case.arch, "convention": case.convention,
           "scan_a": case.scan_a, "scan_b": case.scan_b, "X": case.X, "H": case.H,
           "L": case.L, "T": case.T, "B": case.B, "head": case.head, "output": case.output,
           "max_out_diff": float("nan"), "max_grad_diff": float("nan"), "max_abs_grad": float("nan"),
           "out_tol": out_tol, "grad_tol": grad_tol, "ok": False, "error": "", "seconds": 0.0}
    start = time.perf_counter()
    try:
        model_a = build_model(case.spec(case.a, case.scan_a))
        model_b = build_model(case.spec(case.b, case.scan_b))
        model_b.set_weights(model_a.get_weights())
        x, y = random_batch(case)
        row["max_out_diff"] = float(np.max(np.abs(model_a.forward(x) - model_b.forward(x))))
        grads_a = model_a.gradients(x, y)
        row["max_grad_diff"] = max_grad_diff(grads_a, model_b.gradients(x, y))
        row["max_abs_grad"] = max(float(np.max(np.abs(g))) for g in grads_a.values())   # scale of the gradients
        row["ok"] = row["max_out_diff"] <= out_tol and row["max_grad_diff"] <= grad_tol
    except Exception as e:  # noqa: BLE001 -- a failing pair is a row of the table, not a crash
        row["error"] = f"{type(e).__name__}: {e}"
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def run_equivalence(cases=None) -> list[dict]:
    """One row per case (default: every pair of ``pairs()`` at every size in SHAPES).

    ``cases``: EquivalenceCase objects or dicts of their fields. Row keys: pair, arch, convention,
    scan_a, scan_b, X, H, L, T, B, head, output, max_out_diff, max_grad_diff, max_abs_grad, out_tol,
    grad_tol, ok, error, seconds."""
    cases = default_cases() if cases is None else [
        c if isinstance(c, EquivalenceCase) else EquivalenceCase.from_dict(c) for c in cases]
    return [compare(c) for c in cases]


def format_table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    cols = ["pair", "convention", "L", "T", "B", "head", "output",
            "max_out_diff", "max_grad_diff", "max_abs_grad", "ok"]
    fmt = lambda v: f"{v:.2e}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
