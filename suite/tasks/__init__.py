"""Tasks: ``get_task(name, **options)``; ``task_names()`` lists every name (built-in and plugin),
``BUILTIN_TASK_NAMES`` the built-in ones, ``task_class(name)`` the class, ``register_task(name, cls)`` adds one
(``suite.tasks.registry``)."""
from __future__ import annotations

from suite.tasks.registry import (builtin_task_names, has_task, register_task, task_class,  # noqa: F401
                                  task_names)

BUILTIN_TASK_NAMES = builtin_task_names()


def get_task(name: str, **options):
    return task_class(name)(**options)
