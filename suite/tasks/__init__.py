"""Task registry: ``get_task(name, **options)``; ``TASK_NAMES`` lists the names, ``task_class(name)`` the class."""
from __future__ import annotations

import importlib

from suite.spec import check_choice

_REGISTRY = {
    "adding": "suite.tasks.adding:AddingTask",
    "copy": "suite.tasks.copy_memory:CopyTask",
    "digits": "suite.tasks.digits:DigitsTask",
    "co2": "suite.tasks.co2:CO2Task",
    "chorales": "suite.tasks.chorales:ChoralesTask",
    "folk-lm": "suite.tasks.folk_lm:FolkLMTask",
    "mqar": "suite.tasks.mqar:MQARTask",
    "selective-copy": "suite.tasks.selective_copy:SelectiveCopyTask",
}
TASK_NAMES = tuple(_REGISTRY)


def task_class(name: str):
    check_choice(name, TASK_NAMES, "task")
    module_name, cls_name = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def get_task(name: str, **options):
    return task_class(name)(**options)
