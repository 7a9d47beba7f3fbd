"""Choosing and checking a run directory before anything is written.

New run: ``--out DIR`` or ``results/<name>-<YYYYmmdd-HHMMSS>``; it must not exist yet (or be empty),
and its nearest existing parent must be writable. Resume: the directory must hold a config.yaml
from an earlier run. Nothing is created until every check has passed.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from suite.errors import UserError

# The repository's results/, or $SUITE_RESULTS_DIR when set (tests, or results kept elsewhere).
RESULTS_ROOT = Path(os.environ.get("SUITE_RESULTS_DIR") or Path(__file__).resolve().parents[2] / "results")


def new_run_dir(name: str, out: str | None) -> Path:
    if out is None:
        path = RESULTS_ROOT / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        if RESULTS_ROOT.resolve() not in path.resolve().parents:
            raise UserError(f"run name {name!r} leaves the results directory")
        flag = "run name"
    else:
        path, flag = Path(out), "--out"
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UserError(f"{flag} {path}: already exists and is not empty; choose another or use --resume {path}")
    check_writable(path, flag)
    return path


def check_writable(path: Path, flag: str) -> None:
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: cannot write there ({parent} is not a writable directory)")


def resume_run_dir(path: str) -> Path:
    p = Path(path)
    if not (p / "config.yaml").is_file():
        raise UserError(f"--resume {p}: not a run directory (expected {p / 'config.yaml'} from an earlier run)")
    check_writable(p, "--resume")
    return p
