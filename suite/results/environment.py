"""What a reader needs to judge the numbers: machine, versions, threads, flags, git commit (+ dirty).

Stored as environment.json next to every run's results (with the results' schema version).
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

SCHEMA_VERSION = 1
PACKAGES = ["numpy", "torch", "tensorflow-cpu", "tensorflow", "keras", "pandas", "matplotlib", "papermill",
            "nbformat", "nbconvert", "scikit-learn", "statsmodels", "music21"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_state(repo: Path | None = None) -> dict:
    repo = repo or Path(__file__).resolve().parents[2]
    def git(*args):
        r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.TimeoutExpired):
        commit, dirty = None, None
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def plugin_record() -> list[dict]:
    """The plugin models and tasks registered in this process (``suite.plugins``): kind, name, description and
    source, so a report can tell a run's plugin models from the built-in ones."""
    from suite.models.registry import registered_plugins as models
    from suite.tasks.registry import registered_plugins as tasks
    return ([{"kind": "model", "name": m.name, "arch": m.arch, "framework": m.framework, "path": m.kind,
              "description": m.description, "module": m.source.module, "source": m.source.text()} for m in models()]
            + [{"kind": "task", "name": t.name, "description": t.task_class().description, "module": t.source.module,
                "source": t.source.text()} for t in tasks()])


def environment(threads: int | None = None) -> dict:
    """What a reader needs to judge the numbers: machine, versions, threads, flags, commit."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else None
    return {
        "schema_version": SCHEMA_VERSION,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1) if mem else None,
        "threads": threads,
        "packages": package_versions(),
        "flags": {k: os.environ.get(k) for k in ("TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                 "TF_DETERMINISTIC_OPS", "KERAS_BACKEND", "CUDA_VISIBLE_DEVICES")},
        "git": git_state(),
        "plugins": plugin_record(),
    }
