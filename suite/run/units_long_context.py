"""Long-context work units: recall and long copy at a matched parameter budget, and the T sweep to 4096.

    long-mqar-p{N}-{model}-s{seed}   train on mqar with N key-value pairs (a sweep over N), score the test split
    long-copy-T{T}-{model}-s{seed}   train on copy with delay T
    long-speed                       train step and inference of every model at each T of the sweep
    long-memory                      the peak memory of one train step / one inference pass at each T
                                     (a fresh process per point, ``suite.bench.memory``)
Every model gets the width that matches ``long_context.budget`` parameters (``width_for_budget``; at most 10%
over) at the task's own shapes, so recurrent models, minGRU and the Transformer carry the same number of
parameters. Rows are kind 'long_context' (accuracy), 'speed' with sweep 'long_context', and 'memory'.
"""
from __future__ import annotations

from suite.config import Config, SizingSection, parse_model_name
from suite.errors import UserError
from suite.run.rows import base_row
from suite.spec import ModelSpec


def _entries(cfg: Config) -> list[dict]:
    return [{"name": n, **parse_model_name(n)} for n in cfg.long_context.models]


def task_options(cfg: Config, task: str, size: int) -> dict:
    """Options of one point of the sweep: mqar with ``size`` pairs, or copy with delay ``size``."""
    lc = cfg.long_context
    n = {"n_train": lc.n_train, "n_val": max(lc.n_train // 4, 64), "n_test": max(lc.n_train // 2, 128)}
    if task == "mqar":
        return {"vocab": lc.mqar_vocab, "seq_len": lc.mqar_seq_len, "num_pairs": size, **n}
    return {"T": size, **n}


def long_accuracy_rows(cfg: Config, task: str, size: int, entry: dict, seed: int) -> dict:
    """Train one model at the matched budget on one point of the sweep; rows carry 'sweep_size'."""
    from suite.run.units_accuracy import accuracy_rows
    lc = cfg.long_context
    local = cfg.model_copy(update={"tasks": {task: task_options(cfg, task, size)}})
    training = cfg.training.model_copy(update={"lr": lc.lr, "batch_size": lc.batch_size, "epochs": lc.epochs,
                                               "task_epochs": {}, "patience": None})
    out = accuracy_rows(local, task, entry, seed, SizingSection(hidden=1, layers=lc.layers, budget=lc.budget),
                        training, kind="long_context", view="budget")
    for row in out["rows"]:
        row["sweep_size"] = size
    for curve in out.get("curves", []):
        curve["sweep_size"] = size
    return out


def sweep_specs(cfg: Config) -> list[ModelSpec]:
    """One spec per model at the T sweep's shapes (X = speed_input_size, O = 1), width matched to the budget."""
    from suite.models.params import width_for_budget
    lc = cfg.long_context
    specs = []
    for e in _entries(cfg):
        spec = ModelSpec(e["arch"], e["framework"], lc.speed_input_size, 1, 1, layers=lc.layers,
                         convention=e["convention"], scan=e["scan"])
        specs.append(spec.with_(hidden=width_for_budget(spec, lc.budget)[0]))
    return specs


def _fitting_jobs(cfg: Config) -> tuple[list[tuple[ModelSpec, int, int]], list[dict]]:
    """(spec, B, T) jobs that fit the memory limit, and 'skipped' rows for those that do not."""
    from suite.run.resources import check_fits, memory_limit_bytes
    lc = cfg.long_context
    limit = memory_limit_bytes(cfg.resources.max_memory_gb)
    jobs, skipped = [], []
    for T in lc.sweep_seq_lens:
        for spec in sweep_specs(cfg):
            try:
                check_fits(spec, lc.speed_batch, T, limit)
                jobs.append((spec, lc.speed_batch, T))
            except UserError as e:
                skipped.append(base_row(spec, kind="memory", B=lc.speed_batch, T=T, metric="train_step_peak_mb",
                                        value=None, status="skipped", error=str(e)))
    return jobs, skipped


def long_speed_rows(cfg: Config) -> list[dict]:
    from suite.bench.speed import measure_speed
    jobs, skipped = _fitting_jobs(cfg)
    rows = measure_speed([(s, b, t) for s, b, t in jobs], threads=cfg.threads, repeats=1,
                         max_time_s=cfg.long_context.speed_max_time_s, min_samples=cfg.speed.min_samples,
                         isolate="framework", progress=False)   # a ratio needs bench.ratios.MIN_SAMPLES a row
    return [{**r, "kind": "speed", "sweep": "long_context"} for r in rows] + \
        [{**r, "kind": "speed", "sweep": "long_context", "metric": "train_step_ms"} for r in skipped]


def long_memory_rows(cfg: Config) -> list[dict]:
    from suite.bench.memory import measure_memory
    jobs, skipped = _fitting_jobs(cfg)
    return measure_memory(jobs, threads=cfg.threads) + skipped


def long_speed_unit(cfg: Config) -> dict:
    return {"rows": long_speed_rows(cfg)}


def long_memory_unit(cfg: Config) -> dict:
    return {"rows": long_memory_rows(cfg)}


def long_context_units(cfg: Config, make_unit) -> list:
    """The stage's work units (``make_unit(id, stage, run, describe, parallel=...)``): training units may run in
    Dask workers (picklable partials); the T sweep and the memory points run in the main process, alone."""
    from functools import partial
    lc = cfg.long_context
    units = []
    sweeps = [("mqar", n, f"p{n}") for n in lc.mqar_pairs] + [("copy", T, f"T{T}") for T in lc.copy_delays]
    for task, size, tag in sweeps:
        for entry in _entries(cfg):
            for seed in lc.seeds:
                units.append(make_unit(f"long-{task}-{tag}-{entry['name']}-s{seed}", "long_context",
                                       partial(long_accuracy_rows, cfg, task, size, entry, seed),
                                       f"{entry['name']} {task} {tag} s{seed}", parallel=True))
    units.append(make_unit("long-speed", "long_context", partial(long_speed_unit, cfg),
                           f"train step and inference to T={max(lc.sweep_seq_lens)}", frameworks=frozenset()))
    units.append(make_unit("long-memory", "long_context", partial(long_memory_unit, cfg),
                           f"step memory to T={max(lc.sweep_seq_lens)}", frameworks=frozenset()))
    return units
