"""The one worker launcher (suite.bench.launcher): one environment, typed payloads validated on both sides, one
failure text for a crash, a timeout or a bad result line, results written before a crash kept; the one /proc
reader (suite.bench.proc_memory) and the one one-line error (suite.errors.one_line_error)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from suite.bench import launcher
from suite.bench.fp_mode import POLICY_ENV
from suite.bench.launcher import PACKAGE_ROOT, Worker, WorkerFailed, run_worker, worker_environment
from suite.bench.memory_worker import MemoryWorkerJob
from suite.bench.proc_memory import parse_status_kb, peak_rss_mb, status_mb
from suite.bench.speed_worker import SpeedJobSpec, SpeedWorkerJob
from suite.errors import UserError, one_line_error

ROOT = Path(__file__).resolve().parent.parent


# --- the environment ---------------------------------------------------------------------------------
def test_every_worker_gets_one_environment(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = worker_environment(3, "keep")
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["TF_NUM_INTRAOP_THREADS"] == "3" and env["TF_NUM_INTEROP_THREADS"] == "1"
    assert env[POLICY_ENV] == "keep" and env["KERAS_BACKEND"] == "tensorflow" and env["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert env["PYTHONPATH"].split(os.pathsep) == [PACKAGE_ROOT, "/elsewhere"]
    assert Path(PACKAGE_ROOT, "suite", "bench", "launcher.py").is_file()
    with pytest.raises(UserError, match="flush, keep"):
        worker_environment(1, "ftz")


# --- payloads ------------------------------------------------------------------------------------------
def test_a_job_round_trips_through_json_and_a_bad_one_names_its_key():
    job = SpeedWorkerJob(framework="numpy", threads=2, timer=launcher.TimerOptions(n_samples=4),
                         jobs=[SpeedJobSpec(job_id=0, spec={"arch": "gru"}, batch=2, seq_len=5, contexts=[1])])
    assert SpeedWorkerJob.from_json(job.to_json(), "job.json") == job
    raw = json.loads(job.to_json())
    raw["jobs"][0]["batch"] = 0
    with pytest.raises(UserError, match=r"job.json: key 'jobs\[0\].batch'.*greater than or equal to 1"):
        SpeedWorkerJob.from_json(json.dumps(raw), "job.json")
    raw["jobs"][0]["batch"], raw["jobs"][0]["btach"] = 2, 2
    with pytest.raises(UserError, match=r"unknown key 'jobs\[0\].btach'"):
        SpeedWorkerJob.from_json(json.dumps(raw), "job.json")
    with pytest.raises(UserError, match="job.json: not JSON"):
        SpeedWorkerJob.from_json("{", "job.json")


def test_a_worker_given_a_malformed_job_fails_with_one_line_naming_the_field(tmp_path):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"threads": 1, "spec": {}, "batch": 0, "seq_lens": [8]}))
    r = subprocess.run([sys.executable, "-m", "suite.bench.memory_worker", str(job), str(tmp_path / "out.jsonl")],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: memory worker job {job}: key 'batch'") and not (tmp_path / "out.jsonl").exists()


# --- the parent side, with a worker of the test's own -------------------------------------------------
FAKE_WORKER = '''
    import sys, time
    from suite.bench.launcher import Payload, Worker, WorkerJob, worker_main

    class Job(WorkerJob):
        what: str

    class Line(Payload):
        k: int

    WORKER = Worker("fake", "fake_worker", Job, Line)

    def work(job, write):
        write(Line(k=1))
        if job.what == "crash":
            raise RuntimeError("it broke\\nsecond line")
        if job.what == "hang":
            time.sleep(60)
        if job.what == "bad":
            with open(sys.argv[2], "a") as f:
                f.write('{"k": "two"}\\n')
        if job.what == "exit":
            print("first words", file=sys.stderr)
            print("last words", file=sys.stderr)
            sys.stderr.flush()
            import os
            os._exit(3)
        write(Line(k=2))

    if __name__ == "__main__":
        raise SystemExit(worker_main(WORKER, work))
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    (tmp_path / "fake_worker.py").write_text(textwrap.dedent(FAKE_WORKER))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    import fake_worker
    yield fake_worker
    sys.modules.pop("fake_worker", None)


@pytest.mark.parametrize("what,problem,kept", [
    ("fine", None, [1, 2]),
    ("crash", "fake worker exited with status 1: RuntimeError: it broke", [1]),
    ("exit", "fake worker exited with status 3: last words", [1]),
    ("hang", "fake worker timed out after 5 s (killed)", [1]),
    ("bad", "fake worker wrote a bad result: ", [1]),
])
def test_one_failure_text_for_a_crash_a_timeout_and_a_bad_line(fake, tmp_path, what, problem, kept):
    seen = []
    run = run_worker(fake.WORKER, fake.Job(threads=1, what=what), timeout_s=5 if what == "hang" else 120,
                     workdir=tmp_path, on_record=seen.append)
    assert [r.k for r in run.records] == kept and [r.k for r in seen] == kept   # what came before stays
    if problem is None:
        assert run.problem is None
    else:
        assert run.problem.startswith(problem) and "\n" not in run.problem
    if what == "bad":
        assert "line 2: key 'k'" in run.problem
        with pytest.raises(WorkerFailed, match="bad result"):
            run.only()


def test_a_job_of_another_worker_is_refused_before_anything_starts(fake, tmp_path):
    with pytest.raises(TypeError, match="expected a Job"):
        run_worker(fake.WORKER, MemoryWorkerJob(threads=1, spec={}, batch=1, seq_lens=[1]), timeout_s=1,
                   workdir=tmp_path)
    assert isinstance(fake.WORKER, Worker) and not list(tmp_path.glob("fake-*"))    # no files written


# --- /proc and one line ----------------------------------------------------------------------------------
STATUS = """Name:\tpython
Umask:\t0022
State:\tR (running)
VmPeak:\t 1234560 kB
VmHWM:\t  204800 kB
VmRSS:\t  102400 kB
Threads:\t3
"""


def test_the_proc_reader_on_a_sample_status_text():
    assert parse_status_kb(STATUS, "VmRSS") == 102400 and parse_status_kb(STATUS, "VmHWM") == 204800
    assert parse_status_kb(STATUS, "VmSwap") is None and parse_status_kb(STATUS, "Vm") is None
    if sys.platform.startswith("linux"):        # and on this very process
        assert 0 < status_mb("VmRSS") <= status_mb("VmHWM") == peak_rss_mb()


def test_one_line_error_for_an_exception_and_for_a_text():
    assert one_line_error(RuntimeError("exporter exploded\nsecond line")) == "RuntimeError: exporter exploded"
    assert one_line_error(KeyError()) == "KeyError"
    assert one_line_error("\n  Traceback...\nValueError: x") == "Traceback..."
    assert one_line_error(ValueError("x" * 900)) == "ValueError: " + "x" * 488
    assert len(one_line_error("y" * 900, 300)) == 300
