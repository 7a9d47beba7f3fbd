"""The task registry: every task the suite knows, built-in or plugin, by name.

Built-ins are "module:Class" paths imported on first use; a plugin adds one with
``suite.tasks.register_task(name, cls)``: ``cls`` a ``suite.tasks.base.Task`` subclass whose ``Options`` is a
``TaskOptions`` schema (pydantic: typed keys with defaults and descriptions; the config's ``tasks.<name>`` keys are
validated against it) and whose ``name`` is ``name`` (set here when the class leaves it out). Names: lower-case
letters, digits, '_' and '-'; a plugin may not reuse a built-in's or another plugin's name. A lookup of an unknown
name loads the entry-point plugins (group ``gru_suite.tasks``, ``suite.plugins``) first, then is a one-line
UserError listing the valid names.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

from suite import plugins
from suite.errors import UnknownNameError, UserError
from suite.plugins import BUILTIN, Source

NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
BUILTIN_TASKS = {
    "adding": "suite.tasks.adding:AddingTask",
    "copy": "suite.tasks.copy_memory:CopyTask",
    "digits": "suite.tasks.digits:DigitsTask",
    "co2": "suite.tasks.co2:CO2Task",
    "chorales": "suite.tasks.chorales:ChoralesTask",
    "folk-lm": "suite.tasks.folk_lm:FolkLMTask",
    "mqar": "suite.tasks.mqar:MQARTask",
    "selective-copy": "suite.tasks.selective_copy:SelectiveCopyTask",
}


@dataclass(frozen=True)
class TaskEntry:
    name: str
    target: object                 # a Task subclass or "module:Class"
    source: Source = BUILTIN

    @property
    def plugin(self) -> bool:
        return not self.source.builtin

    def task_class(self):
        if isinstance(self.target, str):
            module_name, cls_name = self.target.split(":")
            return getattr(importlib.import_module(module_name), cls_name)
        return self.target


_TASKS: dict[str, TaskEntry] = {name: TaskEntry(name, target) for name, target in BUILTIN_TASKS.items()}


def register_task(name: str, cls) -> TaskEntry:
    """Register task ``name`` (module docstring)."""
    from suite.tasks.base import Task, TaskOptions
    source = plugins.current_source(plugins.caller_module())
    call = f"register_task({name!r})"
    if not isinstance(name, str) or not NAME.match(name):
        raise UserError(f"{call}: task name {name!r} is not allowed; expected lower-case letters, digits, '_' "
                        f"and '-'")
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        what = f"the class {cls.__module__}.{cls.__qualname__}" if isinstance(cls, type) else \
            f"{type(cls).__name__} {cls!r}"[:120]
        raise UserError(f"{call}: expected a subclass of suite.tasks.base.Task, got {what}")
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    if abstract:
        raise UserError(f"{call}: {cls.__name__} does not implement {', '.join(abstract)} (abstract in Task)")
    options = getattr(cls, "Options", None)
    if not (isinstance(options, type) and issubclass(options, TaskOptions)):
        raise UserError(f"{call}: {cls.__name__}.Options must be a subclass of suite.tasks.base.TaskOptions "
                        f"(pydantic), got {options!r}")
    own = cls.__dict__.get("name")                  # its own, not one inherited from a task it extends
    if own is not None and own != name:
        raise UserError(f"{call}: {cls.__name__}.name is {own!r}; expected {name!r} (or leave it out)")
    existing = _TASKS.get(name)
    if existing is not None and existing.source.module != source.module:
        owner = "the built-in task" if existing.source.builtin else f"{existing.source.text()}'s task"
        raise UserError(f"{call}: the name {name!r} collides with {owner} {name!r} (choose another name)")
    cls.name = name
    if not cls.__dict__.get("description") and not getattr(cls, "description", None):
        cls.description = (cls.__doc__ or name).strip().splitlines()[0]
    _TASKS[name] = TaskEntry(name, cls, source)
    return _TASKS[name]


def entry(name: str) -> TaskEntry:
    found = _TASKS.get(name)
    if found is None:
        plugins.load_entry_points("tasks")
        found = _TASKS.get(name)
    if found is None:
        raise UnknownNameError(f"unknown task {name!r}; expected one of: {', '.join(task_names())}")
    return found


def has_task(name: str) -> bool:
    try:
        entry(name)
    except UnknownNameError:
        return False
    return True


def task_names() -> tuple[str, ...]:
    """Every task name, built-in first, entry-point plugins loaded."""
    plugins.load_entry_points("tasks")
    return tuple(_TASKS)


def builtin_task_names() -> tuple[str, ...]:
    return tuple(BUILTIN_TASKS)


def entries() -> list[TaskEntry]:
    task_names()
    return list(_TASKS.values())


def registered_plugins() -> list[TaskEntry]:
    """The plugin tasks registered in this process so far (no entry point is loaded for this)."""
    return [e for e in _TASKS.values() if e.plugin]


def task_class(name: str):
    return entry(name).task_class()


def snapshot():
    return dict(_TASKS)


def restore(state) -> None:
    _TASKS.clear()
    _TASKS.update(state)


plugins.register_state(snapshot, restore)
