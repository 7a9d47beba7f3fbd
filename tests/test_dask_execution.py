"""Training units on Dask distributed: the same metrics on 1 and 2 workers; the smoke config on a scheduler
and two workers started here as separate processes (127.0.0.1, free ports); a worker killed with SIGKILL
mid-run is recorded lost, the run goes on, and --resume completes it."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DASK = str(Path(sys.executable).with_name("dask"))
KEY = ["work_unit", "metric"]
TIMING = {"train_seconds", "cpu_seconds"}
SMALL = """
name: small
seeds: [0, 1]
models: [gru-numpy, lstm-torch, gru-torch, transformer-torch]   # Keras on Dask: the smoke config test
tasks:
  adding: {T: 10, n_train: 256, n_val: 64, n_test: 64}
model: {hidden: 16, budget: 1500}
training: {lr: 0.01, epochs: 3, batch_size: 32}
speed: {enabled: false}
paper_check: {enabled: false}
"""
pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


class Cluster:
    """`dask scheduler` and `dask worker` processes (no nanny: a killed worker stays dead)."""

    def __init__(self, tmp: Path, workers: int, **scheduler_env):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.log = tmp / "dask.log"
        log = self.log.open("w")
        self.scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                           "--no-dashboard"], cwd=tmp, stdout=log, stderr=log,
                                          env=_env(**scheduler_env))
        self.workers = [subprocess.Popen([DASK, "worker", self.address, "--nthreads", "1", "--no-nanny",
                                          "--no-dashboard", "--name", f"w{i}"], cwd=tmp, stdout=log, stderr=log,
                                         env=_env()) for i in range(workers)]
        self._wait_for(workers)

    def _wait_for(self, n: int, timeout_s: float = 120) -> None:
        from distributed import Client
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            try:
                with Client(self.address, timeout="5s") as client:
                    client.wait_for_workers(n, timeout=max(1, deadline - time.time()))
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"cluster did not come up: {self.log.read_text()[-2000:]}")

    def close(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.terminate()
        for p in [*self.workers, self.scheduler]:
            try:
                p.wait(timeout=5)           # a graceful scheduler shutdown can take 20 s: not needed here
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _run(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "suite", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900, env=_env())


def _metrics(run_dir: Path) -> pd.DataFrame:
    f = pd.read_csv(run_dir / "results.csv")
    f = f[(f["kind"] == "accuracy") & ~f["metric"].isin(TIMING)]
    return f.sort_values(KEY).reset_index(drop=True)


def _execution(run_dir: Path) -> pd.Series:
    f = pd.read_csv(run_dir / "results.csv")
    return f[f["kind"] == "execution"].set_index("metric").iloc[0]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"), workers=2)
    yield c
    c.close()


def test_smoke_config_on_a_separate_scheduler_and_two_workers(cluster, tmp_path):
    out = tmp_path / "smoke"
    r = _run("run", str(ROOT / "configs/smoke.yaml"), "--stages", "accuracy", "--scheduler", cluster.address,
             "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    frame = pd.read_csv(out / "results.csv")
    acc = frame[frame["kind"] == "accuracy"]
    assert set(acc["status"]) == {"ok"} and acc["work_unit"].nunique() > 10
    ex = _execution(out)
    assert ex["scheduler"] == cluster.address and int(ex["workers"]) == 2
    assert "scheduler: " + cluster.address in (out / "config.yaml").read_text()


def test_one_worker_and_two_workers_give_identical_metrics(cluster, tmp_path):
    """A LocalCluster of one worker (each unit after the others, in one process) and the two separate
    workers (units spread and interleaved): the same numbers, bit for bit."""
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text(SMALL + "workers: 1\n")
    two.write_text(SMALL)
    r1 = _run("run", str(one), "--stages", "accuracy", "--out", str(tmp_path / "r1"), cwd=tmp_path)
    r2 = _run("run", str(two), "--stages", "accuracy", "--scheduler", cluster.address, "--out",
              str(tmp_path / "r2"), cwd=tmp_path)
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr[-2000:], r2.stderr[-2000:])
    a, b = _metrics(tmp_path / "r1"), _metrics(tmp_path / "r2")
    assert len(a) and a[KEY].equals(b[KEY])
    same = (a["value"] == b["value"]) | (a["value"].isna() & b["value"].isna())
    assert same.all(), pd.concat([a[KEY + ["value"]], b["value"].rename("two")], axis=1)[~same]
    assert set(a["view"]) == {"budget", "width"}
    assert int(_execution(tmp_path / "r1")["workers"]) == 1


def test_a_worker_killed_mid_run_is_recorded_lost_and_resume_completes_it(tmp_path):
    """allowed-failures 0: the first death of a unit's worker returns the unit as KilledWorker at once."""
    cluster = Cluster(tmp_path, workers=2, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    try:
        cfg = tmp_path / "kill.yaml"
        cfg.write_text(SMALL.replace("epochs: 3", "epochs: 12").replace("[0, 1]", "[0, 1, 2]"))
        out = tmp_path / "run"
        proc = subprocess.Popen([sys.executable, "-m", "suite", "run", str(cfg), "--stages", "accuracy",
                                 "--scheduler", cluster.address, "--out", str(out)], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
        deadline = time.time() + 300
        while time.time() < deadline and len(list((out / "units").glob("acc-*.json"))) < 2:
            time.sleep(0.05)
        time.sleep(0.5)                                   # both workers are inside their next unit
        os.kill(cluster.workers[0].pid, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 1, stderr[-3000:]       # the run went on to the end, one unit failed
        frame = pd.read_csv(out / "results.csv")
        failed = frame[frame["status"] == "failed"]
        assert failed["work_unit"].nunique() == 1 and "worker lost" in failed["error"].iloc[0]
        lost = failed["work_unit"].iloc[0]
        n_units = frame[frame["kind"] == "accuracy"]["work_unit"].nunique()
        assert n_units == 2 * 5 * 3                        # every unit has a file: the others ran on w1 (2 views x
        #                                                    5 models, the LSTM at forget bias 1 and 0, x 3 seeds)

        r = _run("run", "--resume", str(out), cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-3000:]
        assert f"({n_units - 1} already done)" in r.stderr
        frame = pd.read_csv(out / "results.csv")
        assert set(frame[frame["kind"] == "accuracy"]["status"]) == {"ok"}
        assert (frame["work_unit"] == lost).any()
    finally:
        cluster.close()
