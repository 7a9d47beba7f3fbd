"""Training work units on Dask distributed.

Where: by default a ``LocalCluster`` of ``workers`` worker processes (one per core divided by ``threads``),
each running one unit at a time; with ``scheduler: tcp://HOST:PORT`` (config key, or ``--scheduler`` on
``run`` and ``batch``) the units go to that running Dask scheduler and its workers instead.

Worker set-up: before its first unit every worker runs ``ProcessSetup`` (a WorkerPlugin; workers that join
or restart later run it too): BLAS/OpenMP pools, torch and TensorFlow intra-op threads fixed to ``threads``
and TensorFlow op determinism on, then the run's plugin modules imported (the config's ``plugins``, every plugin
this process loaded, entry points included, and every importable module that registered a model or task here:
``suite.plugins``). TensorFlow refuses to change its threads
after its first op, so this comes first; every unit then checks its worker and fails with a one-line error if
the worker runs other settings.
One kind of worker serves every training unit (they share the thread count).

Submission: at most as many units in flight as the cluster has worker threads, so the running ones are
known (and named on the progress bar); each result comes back to the main process as it completes and is
written there. A worker that dies (SIGKILL, out of memory) makes the scheduler run its unit again on
another worker; after ``distributed.scheduler.allowed-failures`` such deaths the unit comes back as
KilledWorker and is recorded failed and ``lost`` (``--resume`` runs it again), and the run goes on.

CPU time of the stage: C = Σ_workers (CPU_end - CPU_start) + CPU of this process over the stage, where
CPU_x is a worker process's user + system seconds (``resource.getrusage``) when the stage starts (after the
cluster is up) and ends; a worker that joined during the stage counts from 0, one that died is missing.
CPU/wall = C / W with W the stage's wall-clock seconds: near the number of workers when every core is busy.
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from distributed import WorkerPlugin

from suite.errors import UserError

PLUGIN_NAME = "suite-process-setup"
# Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536 (to fight fragmentation in long-lived data
# workers); with it glibc returns freed memory at once and our training loops spend ~20% of their CPU in
# the kernel (mmap/munmap, page faults: 3.8 s system time of 20 s for two Keras units, 0.55 s without).
# The LocalCluster's workers keep glibc's default instead.
PRE_SPAWN_ENV = "distributed.nanny.pre-spawn-environ"
WORKER_WAIT_S = 120
_CONFIGURED: dict = {}


@dataclass(frozen=True)
class ClusterSettings:
    scheduler: str | None            # tcp://HOST:PORT of a running scheduler; None: a LocalCluster
    workers: int                     # LocalCluster worker processes (one unit at a time each)
    threads: int                     # intra-op threads per framework in every worker
    frameworks: tuple[str, ...]      # frameworks the units build (configured before the first op)
    plugins: tuple[str, ...] = ()    # plugin modules every worker imports first (suite.plugins)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def settings_for(cfg) -> ClusterSettings:
    """The cluster of a config (``suite.config.Config``): its scheduler, or a LocalCluster of cfg.workers."""
    from suite.run.plan import frameworks_of
    from suite.models.registry import registered_plugins as plugin_models
    from suite.plugins import loaded_modules
    from suite.tasks.registry import registered_plugins as plugin_tasks
    workers = cfg.workers or max(1, cores() // cfg.threads)
    registered = [p.source.module for p in [*plugin_models(), *plugin_tasks()] if p.source.importable]
    plugins = tuple(dict.fromkeys([*cfg.plugins, *loaded_modules(), *registered]))
    return ClusterSettings(cfg.scheduler, workers, cfg.threads, tuple(sorted(frameworks_of(cfg))), plugins)


def check_reachable(address: str, where: str = "scheduler", timeout_s: float = 5.0) -> None:
    """One-line UserError unless a TCP connection to the scheduler's host:port opens (checked before a run
    directory is created)."""
    parts = urlsplit(address)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s):
            pass
    except (OSError, ValueError) as e:
        raise UserError(f"{where}: cannot reach the Dask scheduler at {address} ({getattr(e, 'strerror', None) or e}); "
                        f"start one with `dask scheduler` or leave the key out for a LocalCluster") from None


# --- in the worker ---------------------------------------------------------------------------------
def configure_worker(threads: int, frameworks, plugins=()) -> None:
    """Fix BLAS/OpenMP, torch and TensorFlow threads to ``threads``, TensorFlow op determinism on; then import the
    run's plugin modules (``suite.plugins``), so the units can build their models."""
    from suite.bench.threads import configure_process, thread_env
    from suite.plugins import load_worker_plugins
    os.environ.update(thread_env(threads))
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=threads)
    configure_process(threads, set(frameworks), deterministic=True)
    load_worker_plugins(plugins)
    _CONFIGURED.update(threads=threads, frameworks=set(frameworks), plugins=tuple(plugins))


def worker_threads(frameworks) -> dict[str, int]:
    """The intra-op threads this process actually runs per framework (0: TensorFlow's default, all cores)."""
    out = {}
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_info
        out["numpy"] = max((p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"), default=1)
    if "torch" in frameworks:
        import torch
        out["torch"] = torch.get_num_threads()
    if "keras" in frameworks:
        from suite.models.keras.common import tf
        out["keras"] = tf.config.threading.get_intra_op_parallelism_threads()
    return out


def run_in_worker(run: Callable[[], dict], stage: str, threads: int, frameworks: list[str], plugins=()):
    """A unit in a worker: check the worker's set-up, then run it (exceptions become a failed row)."""
    from suite.plugins import load_worker_plugins
    from suite.run.execute import outcome_of

    def checked():
        if not _CONFIGURED:
            configure_worker(threads, frameworks, plugins)   # a worker that missed the plugin (joined mid-way)
        load_worker_plugins(plugins)                          # imported once; a no-op after the set-up
        actual = worker_threads(frameworks)
        wrong = {k: v for k, v in actual.items() if v != threads}
        if wrong:
            raise RuntimeError(f"worker {socket.gethostname()} pid {os.getpid()} runs {wrong} intra-op threads, "
                               f"this run needs {threads}; restart its workers (TensorFlow fixes its threads at "
                               f"its first op)")
        return run()
    return outcome_of(checked, stage)


def process_cpu_seconds() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class ProcessSetup(WorkerPlugin):
    """Thread counts and determinism of a worker, before any unit runs on it."""

    def __init__(self, threads: int, frameworks, plugins=()):
        self.threads, self.frameworks, self.plugins = threads, sorted(frameworks), tuple(plugins)

    def setup(self, worker):
        configure_worker(self.threads, self.frameworks, self.plugins)


# --- in the main process -----------------------------------------------------------------------------
@contextlib.contextmanager
def connect(settings: ClusterSettings):
    """A Client on the configured scheduler, or on a LocalCluster started (and closed) here."""
    import dask
    from distributed import Client, LocalCluster
    from suite.bench.threads import thread_env
    if settings.scheduler:
        client = Client(settings.scheduler, timeout="20s")
        try:
            if not client.nthreads():
                client.wait_for_workers(1, timeout=WORKER_WAIT_S)
            yield client
        except TimeoutError:
            raise UserError(f"no Dask worker joined the scheduler at {settings.scheduler} within {WORKER_WAIT_S} s; "
                            f"start one with `dask worker {settings.scheduler} --nthreads 1`") from None
        finally:
            client.close()
        return
    with dask.config.set({PRE_SPAWN_ENV: {k: v for k, v in dask.config.get(PRE_SPAWN_ENV, {}).items()
                                          if k.upper() != "MALLOC_TRIM_THRESHOLD_"}}):
        cluster = LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR, env=thread_env(settings.threads))
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _unwrap(future, unit):
    """The unit's Outcome, or a 'lost' failed outcome when the future errs (worker or scheduler gone)."""
    from distributed import KilledWorker
    from suite.run.execute import lost_outcome
    try:
        return future.result()
    except KilledWorker as e:
        return lost_outcome(unit.stage, f"worker lost: its worker died while running it ({e}); --resume runs it again")
    except Exception as e:   # scheduler gone, cancelled, a result that cannot be read back
        return lost_outcome(unit.stage, f"worker lost: {type(e).__name__}: {e}; --resume runs it again")


def run_on_cluster(units: list, settings: ClusterSettings, done: Callable, show_running: Callable,
                   more: Callable[[], list] | None = None) -> dict:
    """Run ``units`` on the cluster; call ``done(unit, outcome)`` as each completes (here, in order of
    completion) and ``show_running(names)`` when the set in flight changes. ``more()``, asked after each
    completion, may return further units to run in the same session (the accuracy units, once the tuning units
    they need have reported). Returns the stage's execution stats: wall_s, cpu_s, cpu_per_wall, workers,
    scheduler, units, and ran (every unit run)."""
    from distributed import as_completed
    wall0, main_cpu0 = time.perf_counter(), time.process_time()
    with connect(settings) as client:
        cpu0 = client.run(process_cpu_seconds)
        client.register_plugin(ProcessSetup(settings.threads, settings.frameworks, settings.plugins),
                               name=PLUGIN_NAME)
        pending, running, seen, ran = list(reversed(units)), {}, set(cpu0), list(units)
        completed = as_completed()

        def fill() -> None:
            capacity = max(1, sum(client.nthreads().values()))
            while pending and len(running) < capacity:
                unit = pending.pop()
                future = client.submit(run_in_worker, unit.run, unit.stage, settings.threads,
                                       list(settings.frameworks), settings.plugins,
                                       key=f"{unit.id}-{uuid.uuid4().hex[:8]}", pure=False)
                running[future.key] = unit
                completed.add(future)
            show_running([u.describe for u in running.values()])

        fill()
        for future in completed:
            unit = running.pop(future.key)
            outcome = _unwrap(future, unit)
            future.release()
            done(unit, outcome)
            seen |= set(client.nthreads())
            extra = more() if more is not None else []
            ran += extra
            pending[:0] = list(reversed(extra))          # after the units already waiting
            fill()
        cpu1 = client.run(process_cpu_seconds)
        workers = len(seen)
    wall = time.perf_counter() - wall0
    cpu = sum(v - cpu0.get(k, 0.0) for k, v in cpu1.items()) + (time.process_time() - main_cpu0)
    return {"wall_s": wall, "cpu_s": cpu, "cpu_per_wall": cpu / wall if wall > 0 else float("nan"),
            "workers": workers, "scheduler": settings.scheduler or f"LocalCluster({settings.workers})",
            "units": len(ran), "ran": ran}
