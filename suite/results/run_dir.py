"""Choosing a new run directory, and opening an existing one, before anything is written.

New run: ``--out DIR`` or ``results/<name>-<YYYYmmdd-HHMMSS>``; it must not exist yet (or be empty),
and its nearest existing parent must be writable. Nothing is created until every check has passed.

Existing run (``open_run_folder``): every command that reads a run directory -- ``run --resume``,
``batch --resume``, ``compare``, ``publish-reference``, the report, a notebook's ``run_dir`` -- opens it
here first. The directory must exist, hold the file that makes it a run of that purpose (``PURPOSES``:
config.yaml for a resume, a report or a notebook, results.csv for compare, report.md for
publish-reference), and every stored file that is present must read back as what the store wrote:
    config.yaml        YAML whose top level is a mapping (the schema check stays with the caller,
                       which knows whether an older schema is acceptable)
    environment.json   a JSON object          run.json   a JSON object
    results.csv        a CSV table with the columns kind, metric, value, status
    curves.csv         a CSV table
    samples.json.gz    gzip holding a JSON object with a list of records
    units/*.json       each a JSON object with a list of rows
The first that does not is a one-line UserError naming the directory, the file and what was expected
(the CLI exits with status 2); nothing has been written by then.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from suite.errors import UserError
from suite.results.samples import SAMPLES_FILE

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


@dataclass(frozen=True)
class Purpose:
    label: str                  # how the message names the directory's role: '--resume', 'compare', ...
    requires: tuple[str, ...]   # the files that make a directory a run for this purpose
    expected: str               # what the user should have given


PURPOSES = {
    "resume": Purpose("--resume", ("config.yaml",), "a run directory of an earlier run or batch"),
    "compare": Purpose("compare", ("results.csv",), "a finished run directory (python -m suite run/batch)"),
    "publish": Purpose("publish-reference", ("report.md",), "a finished batch run directory"),
    "report": Purpose("report", ("config.yaml",), "a run directory written by the run, batch or notebooks"),
    "notebook": Purpose("run_dir", ("config.yaml",), "a run directory written by the run, batch or notebooks, or "
                                                     "an empty or new one"),
}
RESULTS_COLUMNS = ("kind", "metric", "value", "status")


@dataclass(frozen=True)
class RunFolder:
    """An opened run directory: its path and its config.yaml as parsed (a mapping, not yet validated)."""
    dir: Path
    config: dict | None


def open_run_folder(path, purpose: str) -> RunFolder:
    """Check that ``path`` is a readable run directory for ``purpose`` (a key of PURPOSES); see the module
    docstring for what is checked. Raises UserError with one line; reads only, writes nothing."""
    role = PURPOSES[purpose]
    run = Path(path)

    def fail(where: Path, problem: str) -> UserError:    # where: the directory, or the file inside it
        return UserError(f"{role.label} {where}: {problem}")

    if not run.is_dir():
        there = "nothing exists there" if not run.exists() else "a file"
        raise fail(run, f"not a directory: {there} (expected {role.expected})")
    missing = [name for name in role.requires if not (run / name).is_file()]
    if missing:
        raise fail(run, f"not a run directory: no {missing[0]} (expected {role.expected})")
    config = None
    if (run / "config.yaml").exists():
        config = _read_config(run / "config.yaml", fail)
    for name in ("environment.json", "run.json"):
        if (run / name).exists():
            _read_json_object(run / name, fail)
    if (run / "results.csv").exists():
        _read_table(run / "results.csv", RESULTS_COLUMNS, fail)
    if (run / "curves.csv").exists():
        _read_table(run / "curves.csv", (), fail)
    if (run / SAMPLES_FILE).exists():
        _read_samples(run / SAMPLES_FILE, fail)
    units = run / "units"
    if units.exists():
        if not units.is_dir():
            raise fail(units, "not a directory (expected the folder of finished work units, one JSON each)")
        for unit in sorted(units.glob("*.json")):
            try:
                record = _read_json_object(unit, fail)
            except FileNotFoundError:     # forgotten by a notebook that re-runs its stage, between glob and read
                continue
            if not isinstance(record.get("rows"), list):
                raise fail(unit, "no list of rows (expected a finished work unit written by the run)")
    return RunFolder(run, config)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _read_config(path: Path, fail) -> dict:
    import yaml
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise fail(path, f"invalid YAML{at}: {getattr(e, 'problem', None) or _first_line(e)} "
                         f"(expected the config the run was started with)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise fail(path, f"unreadable ({_first_line(e)}; expected the YAML config the run was started with)") from None
    if not isinstance(raw, dict):
        raise fail(path, f"expected a YAML mapping of config keys (the config the run was started with), "
                         f"got {type(raw).__name__}")
    return raw


def _read_json_object(path: Path, fail) -> dict:
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(path, f"not JSON ({_first_line(e)}; expected the JSON object the run wrote)") from None
    if not isinstance(record, dict):
        raise fail(path, f"expected a JSON object (as the run wrote it), got {type(record).__name__}")
    return record


def _read_table(path: Path, columns: tuple[str, ...], fail) -> None:
    import pandas as pd
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise fail(path, f"not a CSV table ({_first_line(e)}; expected the table the run wrote)") from None
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise fail(path, f"missing columns {', '.join(absent)} (expected the results table the run wrote)")


def _read_samples(path: Path, fail) -> None:
    import gzip
    import zlib
    try:
        data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(path, f"unreadable ({_first_line(e)}; expected the gzip JSON of raw timing samples the run "
                         f"wrote)") from None
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise fail(path, "no list of records (expected the raw timing samples the run wrote)")
