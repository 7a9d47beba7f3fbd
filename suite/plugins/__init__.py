"""Loading plugins: modules that register models and tasks when they are imported.

This package sits below the models and tasks (it imports neither; their registries, ``suite.models.registry``
and ``suite.tasks.registry``, call it), like the flat modules.

Two ways, one loader:
- entry points of installed packages, groups ``gru_suite.models`` and ``gru_suite.tasks`` (``[project.entry-points]``
  in the plugin's pyproject.toml); each value names a module (``name = "my_package.models"``), imported once.
  They load lazily: the first time a registry is asked for a name it does not hold, or for the whole list
  (``python -m suite list``, an error message listing the valid names), so a run of built-in models never
  imports an unrelated plugin;
- the config key ``plugins: [module, ...]``, imported by ``suite.config.validate_config`` before anything else is
  validated (in the main process, in every notebook kernel, which validates its run folder's config), and named
  in every worker's payload: Dask workers (``suite.run.cluster``) and speed, memory and edge workers
  (``suite.bench.launcher``) import the modules of the plugins they build before building anything.

A module registers with ``suite.models.register_encoder`` / ``register_model`` and ``suite.tasks.register_task``;
each registration records its source (``Source``: the module, and how it was loaded), which ``python -m suite
list`` and the report show. A plugin that cannot be loaded is a ``UserError`` of one line naming the plugin and
what is wrong (the CLI exits 2 before writing anything):
    plugin 'mod' (config key plugins): import failed: ModuleNotFoundError: No module named 'mod'
    entry point 'x = nowhere' (group gru_suite.models, distribution pkg 0.1): import failed: ...
    plugin 'mod' (...): registered no model or task on import (expected calls of suite.models.register_encoder,
        register_model or suite.tasks.register_task)
"""
from __future__ import annotations

import contextlib
import importlib
import re
import sys
from dataclasses import dataclass

from suite.errors import UserError, one_line_error

GROUPS = {"models": "gru_suite.models", "tasks": "gru_suite.tasks"}
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
BUILTIN_MODULE = "suite"


@dataclass(frozen=True)
class Source:
    """Where a registration came from: ``module`` (the plugin module being loaded, or the module that called
    the register function) and ``via`` ('built-in' | 'entry point ...' | 'config key plugins' | 'in-process')."""

    module: str
    via: str

    @property
    def builtin(self) -> bool:
        return self.via == "built-in"

    @property
    def importable(self) -> bool:
        """Whether a worker process can import ``module`` to register the same (not a script or a notebook)."""
        return not self.builtin and self.module not in ("__main__", "") and MODULE_NAME.match(self.module) is not None

    def text(self) -> str:
        return "built-in" if self.builtin else f"plugin {self.module} ({self.via})"


BUILTIN = Source(BUILTIN_MODULE, "built-in")

_loading: list[Source] = []               # plugins being imported now (innermost last)
_registered: dict[str, int] = {}          # plugin module -> registrations made while it was being imported
_loaded: dict[str, Source] = {}           # plugin modules imported through this loader, in order
_entry_points_done: set[str] = set()      # groups whose entry points were loaded


def current_source(caller_module: str) -> Source:
    """The source of a registration made now: the plugin being loaded, else the calling module, in-process."""
    if _loading:
        source = _loading[-1]
        _registered[source.module] = _registered.get(source.module, 0) + 1
        return source
    return Source(caller_module or "__main__", "in-process")


def loaded_modules() -> list[str]:
    """The plugin modules this process imported through the loader (config key and entry points), in order."""
    return list(_loaded)


def _import(module: str, source: Source, what: str) -> None:
    """Import plugin ``module`` once; one-line UserError naming ``what`` if it fails or registers nothing."""
    if module in _loaded:
        return
    fresh = module not in sys.modules
    _loading.append(source)
    try:
        importlib.import_module(module)
    except UserError as err:          # a register_* call refused something: already one line
        raise UserError(f"{what}: {err}") from None
    except BaseException as err:      # noqa: BLE001 -- any import failure of a plugin is the user's to fix
        if isinstance(err, KeyboardInterrupt):
            raise
        raise UserError(f"{what}: import failed: {one_line_error(err)}") from None
    finally:
        _loading.pop()
    if fresh and not _registered.get(module):
        raise UserError(f"{what}: registered no model or task on import (expected calls of "
                        f"suite.models.register_encoder, register_model or suite.tasks.register_task)")
    _loaded[module] = source


def load_modules(modules, where: str, key: str = "plugins") -> None:
    """Import the plugin modules named by config key ``key`` (a list of module names) of ``where``."""
    if modules is None:
        return
    if not isinstance(modules, (list, tuple)) or not all(isinstance(m, str) and MODULE_NAME.match(m)
                                                         for m in modules):
        raise UserError(f"{where}: key '{key}': expected a list of module names (e.g. [my_package.models]), "
                        f"got {modules!r}")
    for module in modules:
        _import(module, Source(module, "config key plugins"), f"{where}: key '{key}': plugin {module!r}")


def load_worker_plugins(modules) -> None:
    """In a worker process: import the plugin modules its payload names (already validated by the parent)."""
    for module in modules or ():
        _import(module, Source(module, "worker payload"), f"plugin {module!r} (named by the parent process)")


def load_entry_points(kind: str | None = None) -> None:
    """Import the modules of every installed entry point of group ``gru_suite.<kind>`` (both groups for None),
    once per process."""
    from importlib.metadata import entry_points
    for k in ([kind] if kind else list(GROUPS)):
        group = GROUPS[k]
        if group in _entry_points_done:
            continue
        _entry_points_done.add(group)
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            owner = f", distribution {dist.metadata['Name']} {dist.version}" if dist is not None else ""
            what = f"entry point '{ep.name} = {ep.value}' (group {group}{owner})"
            module, _, attr = ep.value.partition(":")
            module = module.strip()
            if not MODULE_NAME.match(module):
                raise UserError(f"{what}: expected a module name as its value, got {ep.value!r}")
            _import(module, Source(module, f"entry point {group}: {ep.name}{owner}"), what)
            if attr and not _has_attr(sys.modules[module], attr.strip()):
                raise UserError(f"{what}: module {module!r} has no attribute {attr.strip()!r}")


def _has_attr(obj, dotted: str) -> bool:
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


_state_hooks: list[tuple] = []            # (snapshot, restore) of each registry (they register at import)
_isolations: list[list] = []             # the active isolated() blocks: [(restore, saved state), ...] each


def register_state(snapshot, restore) -> None:
    """A registry's way to take part in ``isolated``: ``snapshot()`` returns its state, ``restore(state)`` puts it
    back. A registry imported inside an isolated block is restored to its state at import."""
    _state_hooks.append((snapshot, restore))
    for frame in _isolations:
        frame.append((restore, snapshot()))


@contextlib.contextmanager
def isolated():
    """Registries and loader state as they are now, restored on exit: for a test or a notebook that registers
    something for a moment (``with suite.plugins.isolated(): register_encoder(...)``). Inside, entry points are
    looked up afresh on the next miss (a distribution put on sys.path meanwhile is found)."""
    frame = [(restore, snapshot()) for snapshot, restore in _state_hooks]
    saved = (dict(_registered), dict(_loaded), set(_entry_points_done))
    _isolations.append(frame)
    _entry_points_done.clear()
    try:
        yield
    finally:
        _isolations.remove(frame)
        for restore, state in frame:
            restore(state)
        for store, value in ((_registered, saved[0]), (_loaded, saved[1])):
            store.clear()
            store.update(value)
        _entry_points_done.clear()
        _entry_points_done.update(saved[2])


def caller_module(depth: int = 2) -> str:
    """``__name__`` of the module ``depth`` frames up (the one that called a register function)."""
    frame = sys._getframe(depth)
    return frame.f_globals.get("__name__", "__main__")
