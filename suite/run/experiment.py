"""`python -m suite run`: validate -> choose the run directory -> run missing work units -> tidy results -> summary.

Every check on the input happens before the run directory is created (including that a configured Dask
scheduler answers), so bad input leaves nothing behind. Training units run on Dask (``suite.run.cluster``),
the others in this process, alone (``suite.run.execute``); the tuning units before the accuracy units that
use their choice (``suite.run.stages``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from suite.config import Config, config_yaml, load_config, measured_part, validate_config, with_scheduler
from suite.errors import UserError
from suite.atomic import atomic_write_json
from suite.results.store import RunStore
from suite.results.run_dir import check_writable, new_run_dir, open_run_folder
from suite.run.plan import STAGES, frameworks_of
from suite.run.stages import run_stages


def open_run(config_path: str | None, out: str | None, resume: str | None, stages=None, scheduler=None):
    """Validate everything, then create (or reopen) the run directory. Returns (cfg, store).
    ``stages`` are remembered in run.json so that --resume completes the same plan. ``scheduler`` (from
    --scheduler) replaces the config's key, also on resume; a configured scheduler must answer."""
    from suite.run.cluster import check_reachable
    if resume:
        folder = open_run_folder(resume, "resume")     # a damaged or foreign directory: one line, exit 2
        run_dir = folder.dir
        check_writable(run_dir, "--resume")
        if out:
            raise UserError("--out and --resume exclude each other: a resumed run keeps its directory")
        cfg = validate_config(folder.config, str(run_dir / "config.yaml"))
        if config_path:
            given = load_config(config_path)
            if measured_part(given) != measured_part(cfg):
                raise UserError(f"{config_path}: differs from the config stored in {run_dir}; "
                                f"resume with the same config (or omit it)")
        cfg = with_scheduler(cfg, scheduler)
        if cfg.scheduler:
            check_reachable(cfg.scheduler, "--scheduler" if scheduler else f"{run_dir / 'config.yaml'}: key 'scheduler'")
        store = RunStore(run_dir)
        store.units_dir.mkdir(exist_ok=True)
        if scheduler:
            store.write_config(config_yaml(cfg))
        return cfg, store
    if not config_path:
        raise UserError("missing CONFIG: give a YAML config (e.g. configs/smoke.yaml) or --resume RUN_DIR")
    cfg = with_scheduler(load_config(config_path), scheduler)
    if cfg.scheduler:
        check_reachable(cfg.scheduler, "--scheduler" if scheduler else f"{config_path}: key 'scheduler'")
    run_dir = new_run_dir(cfg.name, out)
    store = RunStore(run_dir)
    try:
        store.create(cfg, config_yaml(cfg), cfg.threads)
        atomic_write_json(store.dir / "run.json", {"stages": list(stages or STAGES), "command": sys.argv[1:2]})
    except OSError as e:            # e.g. --out /proc/x/run: the checks pass, mkdir does not
        remove_created(run_dir)
        flag = "--out" if out else "run directory"
        raise UserError(f"{flag} {run_dir}: cannot create it ({e.strerror or e})") from None
    return cfg, store


def remove_created(run_dir: Path) -> None:
    """Remove what a failed create left behind (only files this run wrote, then empty folders)."""
    import shutil
    if run_dir.is_dir() and not any(p.name not in ("units", "config.yaml", "environment.json", "run.json")
                                    for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)


def stored_stages(store) -> list[str]:
    path = store.dir / "run.json"
    return json.loads(path.read_text())["stages"] if path.is_file() else list(STAGES)


def prepare_process(cfg: Config, frameworks: set[str] | None = None) -> None:
    """Thread counts and determinism for the units that run in this process, for ``frameworks`` (None: every
    framework of the config)."""
    from suite.bench.threads import configure_process
    configure_process(cfg.threads, frameworks_of(cfg) if frameworks is None else frameworks)


def run_experiment(config_path, out=None, resume=None, stages=STAGES, scheduler=None) -> int:
    from suite.run.cluster import settings_for
    cfg, store = open_run(config_path, out, resume, stages, scheduler)
    if resume:
        stages = stored_stages(store)
    print(f"run directory: {store.dir}", file=sys.stderr)
    counts = run_stages(cfg, stages, store, cluster=settings_for(cfg), setup=lambda fw: prepare_process(cfg, fw))
    frame = store.finalize()
    print_summary(frame, cfg)
    return finish_line(frame, counts, store.dir)


def print_summary(frame, cfg) -> None:
    import pandas as pd
    from suite.report.tables import run_summary
    table = run_summary(frame, cfg.speed.base_seq_len, cfg.speed.base_hidden)
    if not table.empty:
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_columns", None):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def finish_line(frame, counts: dict, run_dir: Path) -> int:
    def units_with(status: str) -> int:
        rows = frame[frame["status"] == status] if "status" in frame else frame.iloc[0:0]
        return rows["work_unit"].nunique() if len(rows) else 0
    units_failed = units_with("failed")
    truncated = units_with("truncated")
    line = (f"{counts['units']} work units ({counts['already_done']} already done), {units_failed} failed, "
            f"{units_with('skipped')} skipped" + (f", {truncated} truncated by the time cap" if truncated else "") +
            f"; results: {run_dir / 'results.csv'}")
    print(line, file=sys.stderr)
    return 1 if units_failed else 0
