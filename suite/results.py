"""The results store: a tidy table (one row per run x metric) plus the environment, per run directory.

Layout of ``results/<run-id>/``::

    config.yaml        the validated config the run used
    environment.json   package versions, CPU model, threads, flags, git commit + dirty, schema version
    cells/<id>.json    one finished unit of work (its rows + curves + status); resume skips these
    results.csv        every row of every cell (rebuilt from cells/), load with ``load_results(run_dir)``
    curves.csv         learning curves (per epoch, with wall-clock seconds)

Every file is written atomically (temp file in the same directory + os.replace), so a kill leaves
either the old file or the new one, never a truncated one.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

SCHEMA_VERSION = 1
COLUMNS = ["cell", "kind", "task", "model", "arch", "framework", "convention", "hidden", "layers", "seed",
           "params", "metric", "value", "unit", "n", "iqr", "noisy", "split", "B", "T", "context", "threads",
           "path", "status", "error"]
CURVE_COLUMNS = ["cell", "task", "model", "arch", "framework", "seed", "epoch", "wall_s", "train_loss",
                 "val_loss", "val_metric"]
PACKAGES = ["numpy", "torch", "tensorflow-cpu", "tensorflow", "keras", "pandas", "matplotlib", "papermill",
            "nbformat", "nbconvert", "scikit-learn", "statsmodels", "music21"]


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same directory and os.replace."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=True, default=_json_default) + "\n")


def atomic_write_csv(path, frame) -> None:
    atomic_write_text(path, frame.to_csv(index=False))


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_state(repo: Path | None = None) -> dict:
    repo = repo or Path(__file__).resolve().parent.parent
    def git(*args):
        r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.TimeoutExpired):
        commit, dirty = None, None
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def environment(threads: int | None = None) -> dict:
    """What a reader needs to judge the numbers: machine, versions, threads, flags, commit."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else None
    return {
        "schema_version": SCHEMA_VERSION,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1) if mem else None,
        "threads": threads,
        "packages": package_versions(),
        "flags": {k: os.environ.get(k) for k in ("TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                 "TF_DETERMINISTIC_OPS", "KERAS_BACKEND", "CUDA_VISIBLE_DEVICES")},
        "git": git_state(),
    }


class RunStore:
    """Writes one run directory. Cells are the unit of resume: a cell's JSON exists only once it finished."""

    def __init__(self, run_dir):
        self.dir = Path(run_dir)
        self.cells_dir = self.dir / "cells"

    def create(self, config: dict, config_text: str, threads: int) -> None:
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.dir / "config.yaml", config_text)
        atomic_write_json(self.dir / "environment.json", environment(threads))

    def has_cell(self, cell_id: str) -> bool:
        return (self.cells_dir / f"{cell_id}.json").is_file()

    def write_cell(self, cell_id: str, rows: list[dict], curves: list[dict] | None = None, **extra) -> None:
        record = {"cell": cell_id, "rows": [{**r, "cell": cell_id} for r in rows],
                  "curves": [{**c, "cell": cell_id} for c in (curves or [])], **extra}
        atomic_write_json(self.cells_dir / f"{cell_id}.json", record)

    def read_cell(self, cell_id: str) -> dict:
        return json.loads((self.cells_dir / f"{cell_id}.json").read_text())

    def cells(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.cells_dir.glob("*.json"))]

    def finalize(self):
        """Rebuild results.csv and curves.csv from the finished cells; returns the results frame."""
        import pandas as pd
        cells = self.cells()
        rows = [r for c in cells for r in c["rows"]]
        curves = [r for c in cells for r in c["curves"]]
        frame = pd.DataFrame(rows, columns=_columns(COLUMNS, rows))
        atomic_write_csv(self.dir / "results.csv", frame)
        atomic_write_csv(self.dir / "curves.csv", pd.DataFrame(curves, columns=_columns(CURVE_COLUMNS, curves)))
        return frame


def _columns(base: list[str], rows: Iterable[dict]) -> list[str]:
    extra = []
    for r in rows:
        extra += [k for k in r if k not in base and k not in extra]
    return base + extra


def load_results(run_dir):
    """One line to load a run in pandas: ``load_results('results/<run-id>')``."""
    import pandas as pd
    return pd.read_csv(Path(run_dir) / "results.csv")


def load_curves(run_dir):
    import pandas as pd
    return pd.read_csv(Path(run_dir) / "curves.csv")
