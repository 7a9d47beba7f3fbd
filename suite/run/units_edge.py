"""The edge work unit: every configured model's streaming step in its edge runtime, as tidy rows.

``suite.edge.measure.edge_rows`` gives one wide row per (model, runtime, precision, graph); here each becomes
one tidy row per metric (file_bytes, step_latency_us, peak_mb, max_abs_diff, accuracy), kind 'edge',
keeping runtime, precision, graph and status. Batch 1, one thread, as on a device.
"""
from __future__ import annotations

from suite.config import Config
from suite.run.rows import base_row

METRICS = {"file_bytes": "bytes", "step_latency_us": "us", "peak_mb": "MB", "max_abs_diff": "abs",
           "accuracy": "fraction"}


def edge_unit_rows(cfg: Config) -> list[dict]:
    from suite.config import parse_model_name
    from suite.edge.measure import edge_rows
    e = cfg.edge
    wide = edge_rows(e.models, threads=1, seed=cfg.seeds[0], train_epochs=e.epochs, hidden=e.hidden)
    rows = []
    for r in wide:
        parsed = parse_model_name(r["model"])
        status = "ok" if r["status"] == "ok" else ("skipped" if r["status"] == "unsupported" else "failed")
        common = dict(kind="edge", model=r["model"], arch=parsed["arch"], framework=parsed["framework"],
                      convention=parsed["convention"], hidden=r.get("hidden"), layers=r.get("layers"),
                      params=r.get("params"), threads=1, B=1, runtime=r["runtime"], precision=r["precision"],
                      graph=r.get("graph"), primary=r.get("primary"), edge_status=r["status"],
                      framework_accuracy=r.get("framework_accuracy"), status=status, error=r.get("error"))
        for metric, unit in METRICS.items():
            extra = {}
            if metric == "step_latency_us":
                extra = {"iqr": r.get("latency_iqr_us"), "n": r.get("latency_n")}
                rounds = r.get("latency_rounds_us") or ([r["latency_samples_us"]] if r.get("latency_samples_us") else [])
                if rounds:                            # the interleaved passes (suite.edge.measure)
                    extra["samples"] = {"rounds": rounds, "stable": [True] * len(rounds)}
            rows.append(base_row(**common, metric=metric, value=r.get(metric), unit=unit, **extra))
    return rows


def edge_unit(cfg: Config) -> dict:
    return {"rows": edge_unit_rows(cfg)}
