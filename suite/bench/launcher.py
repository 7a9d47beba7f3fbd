"""One way to start a worker process, for the speed, memory and edge workers: a fresh
``python -m <module> JOB.json RESULT.jsonl`` with one environment, a timeout and one set of failure texts.

Parent side, ``run_worker(worker, job, timeout_s=..., workdir=..., on_record=...) -> WorkerRun``:
    1. the job (a ``WorkerJob``: validated when it is made) is written to JOB.json;
    2. the worker starts with ``worker_environment(job.threads, job.denormals)``: the parent's environment plus
       the thread variables of ``suite.bench.threads.thread_env`` (OMP / MKL / OpenBLAS / TF intra-op = threads,
       TF inter-op 1), the floating-point policy (``suite.bench.fp_mode.POLICY_ENV``, applied by the worker
       before its first import), TF_CPP_MIN_LOG_LEVEL=2, KERAS_BACKEND=tensorflow and PYTHONPATH with the
       package root first; its working directory is the package root; stdout and stderr go to a file;
    3. while it runs, each complete line of RESULT.jsonl is read back, validated (``Worker.header`` for the first
       line when the worker writes one, ``Worker.record`` for the others) and handed to ``on_record``; the
       worker is killed (by its pid) after ``timeout_s``.
    WorkerRun: the header, the records in the order written, and ``problem``: None when the worker exited 0 and
    every line was valid, else one line (at most ``suite.errors.ERROR_LINE_CHARS``), one of
        "<name> worker timed out after N s (killed)"
        "<name> worker exited with status N: <the last non-empty line of its stderr>"
        "<name> worker wrote a bad result: <file> line k: key '<key>': <what was expected>"
    Records written before a crash are kept, so the caller loses only what was not measured.

Worker side, ``worker_main(worker, work)`` (a worker module's ``main``): JOB.json validated against
``worker.job`` (a malformed job: exit 2 and one line on stderr naming the key), the job's plugin modules imported
(``WorkerJob.plugins``), then ``work(job, write)``;
``write(record)`` appends one JSON line and flushes it. An exception in ``work`` prints its traceback and then
its one line (``suite.errors.one_line_error``) as the last line of stderr, exit 1.

Payloads are pydantic models (``Payload``: unknown keys refused, JSON in and out, NaN and infinity written as
JSON's NaN / Infinity like ``json.dumps``); each worker module declares its pair (job and result record) and
its ``Worker``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from suite.bench.fp_mode import DEFAULT_POLICY, policy_environment
from suite.bench.threads import thread_env
from suite.bench.timer import (DEFAULT_MAX_TIME_S, DEFAULT_MIN_SAMPLE_S, DEFAULT_MIN_SAMPLES, DEFAULT_RETAKES,
                               DEFAULT_SAMPLES)
from suite.errors import UserError, one_line_error
from suite.schema import validate

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
STDERR_TAIL_BYTES = 16 * 1024      # of a worker's stderr, read back for its last line
POLL_S = 0.25                      # how often a running worker's result file is read


class WorkerFailed(RuntimeError):
    """A worker that crashed, timed out or wrote no (or a bad) result; the message is one line."""


# --- payloads --------------------------------------------------------------------------------------
class Payload(BaseModel):
    """What crosses the process boundary: plain fields, unknown keys refused, JSON in and out."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str, where: str):
        """The payload in ``text``; UserError (one line naming ``where`` and the key) when it is not one."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{where}: not JSON ({err})") from None
        return validate(cls, raw, where)


class WorkerJob(Payload):
    """What every worker is told: its thread count and floating-point policy (both also set in its environment),
    and the plugin modules it imports before building a model (``suite.plugins``; the parent names those whose
    models the job builds: ``suite.models.registry.plugin_modules``)."""

    threads: int = Field(ge=1)
    denormals: Literal["flush", "keep"] = DEFAULT_POLICY
    plugins: list[str] = Field(default_factory=list)


class TimerOptions(Payload):
    """The budget of one measurement (``suite.bench.timer.Timer.measure`` / ``measure_interleaved``)."""

    n_samples: int = Field(DEFAULT_SAMPLES, ge=1)
    min_sample_s: float = Field(DEFAULT_MIN_SAMPLE_S, gt=0)
    max_time_s: float = Field(DEFAULT_MAX_TIME_S, gt=0)
    min_samples: int = Field(DEFAULT_MIN_SAMPLES, ge=1)
    retakes: int = Field(DEFAULT_RETAKES, ge=0)

    def timer_kwargs(self) -> dict:
        return self.model_dump()


@dataclass(frozen=True)
class Worker:
    """One kind of worker: ``name`` (in its failure texts), the module ``python -m`` runs, its job type, the type
    of each result line and, when the worker writes one first, of its header line."""

    name: str
    module: str
    job: type[WorkerJob]
    record: type[Payload]
    header: type[Payload] | None = None


@dataclass
class WorkerRun:
    """What one worker process gave back (module docstring)."""

    worker: Worker
    header: Payload | None = None
    records: list[Payload] = field(default_factory=list)
    problem: str | None = None

    def failure(self) -> str:
        """Why something expected is missing: the problem, or that the worker wrote nothing."""
        return self.problem or f"{self.worker.name} worker gave no result"

    def only(self) -> Payload:
        """The one record of a worker that writes one; WorkerFailed (one line) when it did not."""
        if self.problem is not None or len(self.records) != 1:
            raise WorkerFailed(self.failure())
        return self.records[0]


# --- parent side -----------------------------------------------------------------------------------
def worker_environment(threads: int, denormals: str = DEFAULT_POLICY) -> dict[str, str]:
    """The environment of every worker process (module docstring, step 2)."""
    return {**os.environ, **thread_env(threads), **policy_environment(denormals),
            "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow",
            "PYTHONPATH": os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)}


def run_worker(worker: Worker, job: WorkerJob, *, timeout_s: float, workdir: Path | str | None = None,
               on_record: Callable[[Payload], None] | None = None) -> WorkerRun:
    """Run ``worker`` on ``job`` in a fresh process and read its results back (module docstring). Its files go
    to a new folder under ``workdir`` (None: a temporary folder, removed afterwards)."""
    if not isinstance(job, worker.job):
        raise TypeError(f"{worker.name} worker: expected a {worker.job.__name__}, got {type(job).__name__}")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"suite-{worker.name}-") as tmp:
            return _run(worker, job, Path(tmp), timeout_s, on_record)
    folder = Path(tempfile.mkdtemp(prefix=f"{worker.name}-", dir=workdir))
    return _run(worker, job, folder, timeout_s, on_record)


def _run(worker: Worker, job: WorkerJob, folder: Path, timeout_s: float, on_record) -> WorkerRun:
    job_path, result_path, log_path = folder / "job.json", folder / "result.jsonl", folder / "stderr.log"
    job_path.write_text(job.to_json(), encoding="utf-8")
    run = WorkerRun(worker)
    reader = _ResultReader(worker, result_path, run, on_record or (lambda record: None))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", worker.module, str(job_path), str(result_path)],
                                env=worker_environment(job.threads, job.denormals), cwd=PACKAGE_ROOT,
                                stdout=log, stderr=log)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                proc.wait(timeout=POLL_S)
                finished = True
            except subprocess.TimeoutExpired:
                finished = False
            reader.read_new()
            if finished:
                break
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                reader.read_new()
                run.problem = f"{worker.name} worker timed out after {timeout_s:.0f} s (killed)"
                return run
    if proc.returncode != 0:
        run.problem = f"{worker.name} worker exited with status {proc.returncode}: {stderr_tail(log_path)}"
    elif reader.bad is not None:
        run.problem = f"{worker.name} worker wrote a bad result: {reader.bad}"
    return run


class _ResultReader:
    """Reads the complete lines a worker has appended so far, validates each once, in order."""

    def __init__(self, worker: Worker, path: Path, run: WorkerRun, on_record):
        self.worker, self.path, self.run, self.on_record = worker, path, run, on_record
        self.lines_read, self.bad = 0, None

    def read_new(self) -> None:
        if self.bad is not None or not self.path.exists():
            return
        text = self.path.read_text(encoding="utf-8", errors="replace")
        complete = text.split("\n")[:-1]      # a line without its newline is still being written (or cut off)
        for number, line in enumerate(complete[self.lines_read:], start=self.lines_read + 1):
            self.lines_read = number
            first = number == 1 and self.worker.header is not None
            kind = self.worker.header if first else self.worker.record
            try:
                record = kind.from_json(line, f"{self.path} line {number}")
            except UserError as err:
                self.bad = str(err)
                return
            if first:
                self.run.header = record
            else:
                self.run.records.append(record)
                self.on_record(record)


def stderr_tail(path: Path) -> str:
    """The last non-empty line of a worker's stderr file, as one error line ('(no output)' when it is empty)."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - STDERR_TAIL_BYTES))
        lines = [ln for ln in f.read().decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return one_line_error(lines[-1]) if lines else "(no output)"


# --- worker side -----------------------------------------------------------------------------------
def worker_main(worker: Worker, work: Callable[[WorkerJob, Callable[[Payload], None]], None],
                argv: list[str] | None = None) -> int:
    """A worker module's main (module docstring): read and validate the job, run ``work(job, write)``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(f"usage: python -m {worker.module} JOB.json RESULT.jsonl", file=sys.stderr)
        return 2
    job_path, result_path = argv
    where = f"{worker.name} worker job {job_path}"
    try:
        job = worker.job.from_json(Path(job_path).read_text(encoding="utf-8"), where)
    except OSError as err:
        print(f"error: {where}: cannot read it ({err.strerror or err})", file=sys.stderr)
        return 2
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with open(result_path, "a", encoding="utf-8") as out:
        def write(record: Payload) -> None:
            out.write(record.to_json() + "\n")
            out.flush()
        try:
            from suite.plugins import load_worker_plugins
            load_worker_plugins(job.plugins)          # before any model is built
            work(job, write)
        except Exception as err:  # noqa: BLE001 -- reported to the parent as the last line of stderr
            import traceback
            traceback.print_exc(file=sys.stderr)
            print(one_line_error(err), file=sys.stderr, flush=True)
            return 1
    return 0
