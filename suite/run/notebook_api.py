"""What a notebook calls: its config from its parameters cell, one run folder, and its stage of the harness.

A notebook declares the config keys it uses in its ``parameters`` cell (flattened names, e.g.
``speed_base_seq_len``; see ``suite.config.flat_keys``), with the main job's values (the schema's defaults and
configs/default.yaml), and nowhere else. ``notebook_run(name, globals())``
reads the declared names from the notebook file itself (``papermill.inspect_notebook``), takes their
values from the kernel's namespace and validates them with the config schema.

One run folder for everything:
- under the batch, ``run_dir`` is the batch's folder; its config.yaml (written by the batch) already holds
  every key, and the parameters the batch passed are the same values;
- opened by hand in Jupyter (``run_dir = ""``), every notebook uses ``results/lab``: run ``speed``, then
  ``accuracy``, then ``report`` with their defaults and the report covers all of it. A notebook whose
  parameters differ from what the folder's config.yaml holds updates it and re-runs its own stages
  (their earlier units were measured under other settings); unchanged parameters reuse finished units.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from suite.config import Config, config_from_flat, config_yaml, validate_config
from suite.results.run_dir import RESULTS_ROOT, open_run_folder
from suite.results.store import RunStore

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
LAB_DIR_NAME = "lab"
# notebook -> the harness stages it runs
NOTEBOOK_STAGES = {"parameters": ["params"], "equivalence": ["equivalence"], "speed": ["speed"],
                   "accuracy": ["tuning", "accuracy", "paper"], "long_context": ["long_context"], "edge": ["edge"],
                   "report": []}


def notebook_path(name: str) -> Path:
    """notebooks/<name>.ipynb, or under $SUITE_NOTEBOOK_DIR when set (custom copies of the notebooks)."""
    return Path(os.environ.get("SUITE_NOTEBOOK_DIR") or NOTEBOOK_DIR) / f"{name}.ipynb"


def declared_parameters(name: str) -> list[str]:
    """The names in the notebook's parameters cell, run_dir excluded."""
    import papermill as pm
    return [p for p in pm.inspect_notebook(str(notebook_path(name))) if p != "run_dir"]


@dataclass
class NotebookRun:
    name: str
    cfg: Config
    store: RunStore

    @property
    def dir(self) -> Path:
        return self.store.dir


def resolve_run_dir(run_dir: str) -> Path:
    return Path(run_dir) if run_dir else RESULTS_ROOT / LAB_DIR_NAME


def stored_config(path: Path, name: str) -> Config | None:
    """The validated config of the run folder ``path``; None for a folder still to be made (absent or empty).
    A damaged or foreign folder is a one-line UserError (``open_run_folder``), before anything is written."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return None
    folder = open_run_folder(path, "report" if name == "report" else "notebook")
    return validate_config(folder.config, str(path / "config.yaml"))


def notebook_run(name: str, namespace: dict) -> NotebookRun:
    """The config and run folder of notebook ``name``, from the parameter values in ``namespace``."""
    path = resolve_run_dir(namespace.get("run_dir", ""))
    before = stored_config(path, name)
    values = {p: namespace[p] for p in declared_parameters(name)}
    where = f"notebook {name} parameters"
    cfg = config_from_flat(values, where, base=before)
    store = RunStore(path)
    if before is None:
        store.create(cfg, config_yaml(cfg), cfg.threads)
    elif cfg != before:
        store.write_config(config_yaml(cfg))
        for stage in NOTEBOOK_STAGES.get(name, []):
            store.forget_stage(stage)
    store.units_dir.mkdir(parents=True, exist_ok=True)
    return NotebookRun(name, cfg, store)


def run_stage(run: NotebookRun, progress: bool = True):
    """Run the missing work units of the notebook's stages, as ``python -m suite run`` does (training units
    on Dask: a LocalCluster, or the configured scheduler; the tuning units before the accuracy units); returns
    the run's results frame."""
    from suite.run.cluster import settings_for
    from suite.run.experiment import prepare_process
    from suite.run.stages import run_stages
    stages = NOTEBOOK_STAGES[run.name]
    if stages:
        run_stages(run.cfg, stages, run.store, progress=progress, cluster=settings_for(run.cfg),
                   setup=lambda fw: prepare_process(run.cfg, fw))
    return run.store.finalize()
