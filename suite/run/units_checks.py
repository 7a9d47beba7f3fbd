"""Work units that check the models rather than time or train them.

    params        counted vs formula parameters per model and size, and matched-budget widths (a plugin arch
                  without a formula: formula None, its width matched to the framework's count)
    equivalence   weight-transplant errors between implementations (outputs and gradients); a configured plugin
                  arch without a pair is a 'skipped' row saying why
"""
from __future__ import annotations

from suite.config import Config, model_entries
from suite.run.rows import base_row
from suite.spec import ModelSpec


def params_rows(cfg: Config) -> list[dict]:
    from suite.models import build_model
    from suite.models.params import convention_name, formula_params, width_for_budget
    p, rows = cfg.params, []
    for entry in model_entries(cfg):
        for layers in p.layers:
            for hidden in p.hiddens:
                spec = _spec(entry, p.input_size, hidden, 1, layers=layers)
                counted = build_model(spec).num_params()
                rows.append(base_row(spec, kind="params", metric="params_counted", value=counted, unit="params",
                                     params=counted, formula=formula_params(spec),
                                     convention_label=convention_name(spec)))
        spec = _spec(entry, 88, 1, 88, output="sequence", head="multilabel")
        width, achieved = width_for_budget(spec, p.budget)
        rows.append(base_row(spec.with_(hidden=width), kind="params", metric="budget_width", value=width,
                             unit="H", params=achieved, budget=p.budget, task="chorales"))
    return rows


def _spec(entry: dict, input_size: int, hidden: int, output_size: int, **kw) -> ModelSpec:
    return ModelSpec(entry["arch"], entry["framework"], input_size, hidden, output_size,
                     convention=entry["convention"], scan=entry["scan"], **kw)


def equivalence_rows(cfg: Config) -> list[dict]:
    """Every registered pair (``suite.models.equivalence.pairs``), then one 'skipped' row per configured plugin
    arch that has no pair, with the reason (no canonical layout, or one implementation)."""
    from suite.models.equivalence import not_compared, run_equivalence
    from suite.models.registry import is_plugin
    rows = []
    for r in run_equivalence():
        for metric, tol in (("max_out_diff", "out_tol"), ("max_grad_diff", "grad_tol")):
            rows.append(base_row(kind="equivalence", model=r["pair"], arch=r["arch"], convention=r["convention"],
                                 hidden=r["H"], layers=r["L"], T=r["T"], B=r["B"], metric=metric,
                                 value=r[metric], unit="abs", tolerance=r.get(tol),
                                 status="ok" if r["ok"] else "failed",
                                 error=None if r["ok"] else f"{metric} {r[metric]:.2e} > {r.get(tol)}"))
    plugin_archs = [e["arch"] for e in model_entries(cfg) if is_plugin(e["arch"], e["framework"])]
    for arch, reason in not_compared(plugin_archs).items():
        rows.append(base_row(kind="equivalence", model=arch, arch=arch, metric="max_out_diff", value=None,
                             status="skipped", error=f"not compared: {reason}"))
    return rows
