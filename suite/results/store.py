"""The results store: a tidy table (one row per run x metric) plus the environment, per run directory.

Layout of ``results/<run-id>/``::

    config.yaml        the validated config the run used
    environment.json   package versions, CPU model, threads, flags, git commit + dirty, schema version
    units/<id>.json    one finished work unit (its rows + curves + status); resume skips these
    results.csv        every row of every unit (rebuilt from units/), load with ``load_results(run_dir)``
    samples.json.gz    the raw timing samples of the speed rows (``suite.results.samples``)
    curves.csv         learning curves: one point per validation evaluation (updates, epoch, wall-clock seconds,
                       validation loss and metric, the metric in normalised units ``val_norm``)

Every file is written atomically (temp file in the same directory + os.replace), so a kill leaves
either the old file or the new one, never a truncated one.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from suite.atomic import atomic_write_csv, atomic_write_json, atomic_write_text
from suite.results.environment import environment
from suite.results.samples import split_samples, write_samples

COLUMNS = ["work_unit", "kind", "task", "model", "arch", "framework", "convention", "hidden", "layers", "seed",
           "params", "metric", "value", "unit", "n", "iqr", "noisy", "split", "B", "T", "context", "threads",
           "exec_path", "status", "error"]
CURVE_COLUMNS = ["work_unit", "task", "model", "arch", "framework", "seed", "epoch", "updates", "wall_s", "train_loss",
                 "val_loss", "val_metric", "val_norm"]


class RunStore:
    """Writes one run directory. Work units are the unit of resume: a unit's JSON exists only once it finished."""

    def __init__(self, run_dir):
        self.dir = Path(run_dir)
        self.units_dir = self.dir / "units"

    def create(self, config: dict, config_text: str, threads: int) -> None:
        self.units_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.dir / "config.yaml", config_text)
        atomic_write_json(self.dir / "environment.json", environment(threads))

    def write_config(self, config_text: str) -> None:
        atomic_write_text(self.dir / "config.yaml", config_text)

    def forget_stage(self, stage: str) -> int:
        """Delete the finished units of ``stage`` (they are re-run); returns how many."""
        gone = 0
        for path in sorted(self.units_dir.glob("*.json")):
            if json.loads(path.read_text()).get("stage") == stage:
                path.unlink()
                gone += 1
        return gone

    def has_unit(self, unit_id: str) -> bool:
        return (self.units_dir / f"{unit_id}.json").is_file()

    def write_unit(self, unit_id: str, rows: list[dict], curves: list[dict] | None = None, **extra) -> None:
        record = {"work_unit": unit_id, "rows": [{**r, "work_unit": unit_id} for r in rows],
                  "curves": [{**c, "work_unit": unit_id} for c in (curves or [])], **extra}
        atomic_write_json(self.units_dir / f"{unit_id}.json", record)

    def read_unit(self, unit_id: str) -> dict:
        return json.loads((self.units_dir / f"{unit_id}.json").read_text())

    def units(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.units_dir.glob("*.json"))]

    def finalize(self):
        """Rebuild results.csv, curves.csv and samples.json.gz from the finished units; returns the results
        frame (raw samples are moved out of the rows into samples.json.gz)."""
        import pandas as pd
        units = self.units()
        rows, samples = split_samples([r for u in units for r in u["rows"]])
        if samples:
            write_samples(self.dir, samples)
        curves = [r for u in units for r in u["curves"]]
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
