"""What a notebook calls: run one stage of the harness into a run directory and return the results.

In a batch, every notebook writes into the batch's run directory; opened by hand in Jupyter with
``run_dir = ""``, a notebook makes its own directory under results/.
"""
from __future__ import annotations

import time
from pathlib import Path

import yaml

from suite.results.store import RunStore
from suite.results.run_dir import RESULTS_ROOT


def open_store(run_dir: str, cfg: dict, name: str) -> RunStore:
    """The run directory's store, created (with config and environment) if it has none yet."""
    path = Path(run_dir) if run_dir else RESULTS_ROOT / f"notebook-{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    store = RunStore(path)
    if not (path / "config.yaml").is_file():
        store.create(cfg, yaml.safe_dump(cfg, sort_keys=False), cfg["threads"])
    store.units_dir.mkdir(parents=True, exist_ok=True)
    return store


def run_stage(stages, cfg: dict, run_dir: str, name: str, progress: bool = True):
    """Run the missing work units of ``stages`` (a name or a list) and return (store, results frame)."""
    from suite.run.experiment import prepare_process
    from suite.run.execute import run_units
    from suite.run.plan import plan
    stages = [stages] if isinstance(stages, str) else list(stages)
    store = open_store(run_dir, cfg, name)
    prepare_process(cfg)
    run_units(plan(cfg, stages), store, progress=progress)
    frame = store.finalize()
    return store, frame
