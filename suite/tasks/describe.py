"""One summary row per task at its default options, for ``python -m suite list``.

Loading every task takes a few seconds (chorales: ~30 s the first time, while its cache is built).
"""
from __future__ import annotations

from suite.tasks import get_task, task_names


def describe_task(name: str, seed: int = 0, **options) -> dict:
    """Sizes, metric, baseline and solved threshold of task ``name`` loaded with ``seed``."""
    task = get_task(name, **options)
    data = task.load(seed)
    return {"name": name, "description": task.description, "seq_len": data.seq_len,
            "input_size": data.input_size, "output_size": data.output_size, "output": data.output,
            "head": data.head, "n_train": len(data.train), "n_val": len(data.val), "n_test": len(data.test),
            "metric": data.metric, "higher_is_better": data.higher_is_better,
            "baseline_name": data.baseline_name, "baseline": round(data.baseline, 4), "solved": data.solved,
            "options": task.option_defaults()}


def describe_tasks(seed: int = 0) -> list[dict]:
    return [describe_task(name, seed) for name in task_names()]
