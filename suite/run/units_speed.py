"""The speed work units: every model timed at the base shape (with streaming) and over the sweeps.

The timing itself happens in fresh worker processes (``suite.bench.speed``); this module only turns a
config into jobs and refuses shapes whose estimated memory exceeds the limit (recorded ``skipped``).
"""
from __future__ import annotations

from suite.config import model_entries
from suite.errors import UserError
from suite.run.rows import base_row
from suite.spec import ModelSpec


def speed_points(cfg: dict) -> list[tuple[int, int]]:
    """(T, H) points of the sweeps: over T at the base width, over H at the base length (base excluded)."""
    s = cfg["speed"]
    base = (s["seq_len"], s["hidden"])
    points = [(T, s["hidden"]) for T in s["seq_lens"]] + [(s["seq_len"], H) for H in s["hiddens"]]
    return [p for i, p in enumerate(points) if p != base and p not in points[:i]]


def speed_rows(cfg: dict, points: list[tuple[int, int]], streaming: bool) -> list[dict]:
    """Time every model at each (T, H). At the base shape (streaming=True) each job gets its own worker
    process, so peak memory is per model; the sweep shares one worker per framework and round."""
    from suite.run.resources import check_fits, memory_limit_bytes
    from suite.bench.speed import measure_speed
    s, jobs, rows = cfg["speed"], [], []
    limit = memory_limit_bytes(cfg["resources"]["max_memory_gb"])
    for T, H in points:
        for entry in model_entries(cfg):
            spec = ModelSpec(entry["arch"], entry["framework"], s["input_size"], H, 1,
                             convention=entry["convention"], scan=entry["scan"], layers=cfg["model"]["layers"])
            try:
                check_fits(spec, s["batch"], T, limit)
            except UserError as e:
                rows.append(base_row(spec, kind="speed", B=s["batch"], T=T, metric="train_step_ms", value=None,
                                     status="skipped", error=str(e)))
                continue
            jobs.append((spec, s["batch"], T, s["contexts"] if streaming else []))
    if jobs:
        rows += measure_speed(jobs, threads=cfg["threads"], repeats=s["repeats"], max_time_s=s["max_time_s"],
                              isolate="job" if streaming else "framework")
    return [{**r, "kind": "speed"} for r in rows]
