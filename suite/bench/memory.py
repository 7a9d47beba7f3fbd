"""Training-step memory per model and sequence length, each measured in its own fresh worker process.

``measure_memory(jobs, threads=1)`` -> tidy rows, one per job and metric:
    train_step_peak_mb   the extra resident memory one train step needs at its peak (forward activations kept
                         for backward, gradients, temporaries), above the process's size just before it
    infer_peak_mb        the same for one inference pass over the whole (B, T) batch
(``suite.bench.memory_worker`` says how: the Linux high-water mark is reset right before the call.) A fresh
process per model (its T in increasing order) keeps one model's allocations out of another's figure. A worker
that fails, crashes or runs past ``timeout_s`` gives failed rows for the points it did not measure; the rest
goes on.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from suite.bench.threads import thread_env
from suite.spec import ModelSpec

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
METRICS = ("train_step_peak_mb", "infer_peak_mb")


def run_memory_worker(spec: ModelSpec, batch: int, seq_lens: list[int], threads: int, timeout_s: float) -> dict:
    """The worker's result dict ({'ok': True, 'points': [...], 'params'} or {'ok': False, 'error', 'points'})."""
    with tempfile.TemporaryDirectory(prefix="suite-memory-") as tmp:
        job, out = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job.write_text(json.dumps({"spec": spec.to_dict(), "batch": batch, "seq_lens": list(seq_lens),
                                   "threads": threads}))
        env = {**os.environ, **thread_env(threads), "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow",
               "PYTHONPATH": os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)}
        try:
            proc = subprocess.run([sys.executable, "-m", "suite.bench.memory_worker", str(job), str(out)], env=env,
                                  capture_output=True, text=True, timeout=timeout_s, cwd=PACKAGE_ROOT)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"memory worker timed out after {timeout_s:.0f} s", "points": []}
        if not out.is_file():
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            return {"ok": False, "error": f"memory worker exited with status {proc.returncode}: "
                                          f"{lines[-1] if lines else ''}"[:500], "points": []}
        return json.loads(out.read_text())


def measure_memory(jobs: list[tuple[ModelSpec, int, int]], threads: int = 1, timeout_s: float = 600.0,
                   progress=None) -> list[dict]:
    """Rows for every (spec, B, T) job, one worker per (spec, B); ``progress(i, n, (spec, B, [T...]))`` is
    called before each worker."""
    groups: dict[tuple, list[int]] = {}
    for spec, batch, seq_len in jobs:
        groups.setdefault((spec, batch), []).append(seq_len)
    rows = []
    for i, ((spec, batch), seq_lens) in enumerate(groups.items()):
        if progress:
            progress(i, len(groups), (spec, batch, seq_lens))
        result = run_memory_worker(spec, batch, seq_lens, threads, timeout_s)
        points = {p["seq_len"]: p for p in result.get("points", [])}
        for seq_len in seq_lens:
            point = points.get(seq_len)
            base = {"kind": "memory", "model": spec.name, "arch": spec.arch, "framework": spec.framework,
                    "convention": spec.convention, "hidden": spec.hidden, "layers": spec.layers, "B": batch,
                    "T": seq_len, "threads": threads, "params": result.get("params"), "unit": "MB"}
            for metric in METRICS:
                rows.append({**base, "metric": metric, "value": point[metric] if point else None,
                             "status": "ok" if point else "failed",
                             "error": None if point else result.get("error", "not measured")})
    return rows
