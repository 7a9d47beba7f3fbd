"""Raw timing samples of a run: ``<run>/samples.json.gz``, one compact file per run.

Speed rows arrive with a ``samples`` field: {"rounds": [[x, ...], ...], "stable": [bool, ...]}, the
samples of each round (each a worker process) in the row's unit (ms, us, seq/s, ...), and whether that
round's samples passed the timer's drift check. The store keeps them in the work unit files (so a resumed
run still has them) and, when it rebuilds results.csv, moves them out of the table into this file:

    {"schema": 1, "records": [{"key": "...", "kind", "model", "metric", "unit", "B", "T", "hidden",
                               "layers", "context", "threads", "work_unit", "rounds", "stable"}, ...]}

``key`` (``sample_key``) names a row within a run and across runs: kind, model, metric and the shape
(B, T, H, L, context, threads; edge rows also runtime, precision and graph). ``load_samples(run_dir)`` gives {key: record}; ``pooled(record)`` the
samples of its stable rounds (all rounds when none is stable), the input of every bootstrap CI and of
``suite compare``'s Mann-Whitney test. Written atomically (``suite.atomic``), gzip with mtime 0 so the
same samples give the same bytes.
"""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

from suite.atomic import atomic_write_bytes

SAMPLES_FILE = "samples.json.gz"
SCHEMA = 1
KEY_FIELDS = ("kind", "model", "metric", "B", "T", "hidden", "layers", "context", "threads")


def _plain(v):
    """An int for whole numbers (CSV round trips turn 32 into 32.0), '' for missing values."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def sample_key(row) -> str:
    """'speed|gru-torch|train_step_ms|B=32|T=100|H=128|L=1|ctx=|thr=1' for a row (dict or pandas Series)."""
    get = row.get
    kind, model, metric = (_plain(get(k)) for k in ("kind", "model", "metric"))
    shape = [f"{label}={_plain(get(k))}" for label, k in (("B", "B"), ("T", "T"), ("H", "hidden"),
                                                          ("L", "layers"), ("ctx", "context"),
                                                          ("thr", "threads"))]
    if _plain(get("runtime")) != "":          # edge rows: one per runtime x precision x graph of a model
        shape += [f"{label}={_plain(get(k))}" for label, k in (("rt", "runtime"), ("prec", "precision"),
                                                              ("graph", "graph"))]
    return "|".join([str(kind), str(model), str(metric), *shape])


def split_samples(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(rows without their ``samples`` field, one sample record per row that had one)."""
    out, records = [], []
    for row in rows:
        samples = row.get("samples")
        out.append({k: v for k, v in row.items() if k != "samples"})
        if isinstance(samples, dict) and samples.get("rounds"):
            records.append({"key": sample_key(row), "unit": row.get("unit"), "work_unit": row.get("work_unit"),
                            **{k: _plain(row.get(k)) for k in KEY_FIELDS},
                            "rounds": samples["rounds"], "stable": samples.get("stable")})
    return out, records


def write_samples(run_dir, records: list[dict]) -> Path:
    """``<run_dir>/samples.json.gz`` (atomic; deterministic bytes for the same records)."""
    path = Path(run_dir) / SAMPLES_FILE
    text = json.dumps({"schema": SCHEMA, "records": records}, separators=(",", ":"), sort_keys=True)
    atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))
    return path


def load_samples(run_dir) -> dict[str, dict]:
    """{key: record} of a run; empty when the run has no samples file."""
    path = Path(run_dir) / SAMPLES_FILE
    if not path.is_file():
        return {}
    data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    return {r["key"]: r for r in data.get("records", [])}


def pooled(record: dict | None) -> list[float]:
    """The samples of the record's stable rounds pooled (all rounds when none is stable); [] for None."""
    if not record:
        return []
    rounds = record.get("rounds") or []
    stable = record.get("stable") or [True] * len(rounds)
    keep = [r for r, ok in zip(rounds, stable) if ok] or rounds
    return [float(x) for r in keep for x in r]
