"""The model registry: every architecture and every (architecture, framework) implementation the suite knows,
built-in or plugin, in one place that every stage reads.

An **architecture** (``ArchDescriptor``) carries what the stages need to know about it without building it:
name, description, the parameter formula and its label, analytic FLOPs (forward over (B, T) and one streaming
step), the memory estimate (activation elements a training step keeps), whether its implementations share the
canonical weight layout (``suite.models.base``; then weights move between them: equivalence, ``init: shared``),
the variant fields of ModelSpec it uses (GRU ``convention``, minGRU/minLSTM ``scan``) and its own spec checks.
A formula it lacks is None, and the stage that needs it says so (parameters: counted only; FLOPs: none in the
speed rows; memory: the guard cannot refuse it) -- never another arch's numbers.

An **implementation** (``Implementation``) is one model name ``<arch>-<framework>``: the SequenceModel class
(or a "module:Class" path imported on first use, so a NumPy-only run never imports torch or TensorFlow), a
description, its source (``suite.plugins.Source``), its own spec checks, whether its streaming step exports
to an edge runtime, and how it streams.

The public ways to add one (``suite.models`` re-exports them):
    register_encoder(arch, framework, factory, description=..., **arch_fields)   the easy path: ``factory(
        input_size, hidden, layers)`` returns a torch.nn.Module (framework 'torch') or a Keras layer ('keras')
        mapping x (B, T, X) to states (B, T, H); the suite adds the head, the losses, Adam with clipping, dtype,
        seeding, the parameter count, the execution path and streaming (``suite.models.torch.encoder``,
        ``suite.models.keras.encoder``)
    register_model(arch, framework, cls, description=..., **arch_fields)   the full path: a SequenceModel subclass
    register_arch(name, description, ...)   the descriptor alone (register_encoder / register_model make one when
        the arch is new; ``arch_fields`` are its fields: params, params_label, forward_flops, step_flops,
        activations, canonical_layout)
Names: lower-case letters, digits and '_' (no '-': it separates arch, framework and variant), not a framework
or variant word. A plugin may not reuse a built-in architecture's name, nor another plugin's model name.

Lookups (``arch``, ``implementation``) load the entry-point plugins (``suite.plugins``) on a miss, then raise a
one-line UserError listing what exists: an unknown arch anywhere is an error, never a fallthrough.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Callable

from suite import plugins
from suite.errors import UnknownNameError, UserError
from suite.plugins import BUILTIN, Source

FRAMEWORKS = ("numpy", "torch", "keras")
ENCODER_FRAMEWORKS = ("torch", "keras")             # the easy path's frameworks
VARIANT_FIELDS = {"convention": "reset_after", "scan": "parallel"}   # ModelSpec fields an arch may vary, defaults
RESERVED = set(FRAMEWORKS) | {"reset_after", "reset_before", "parallel", "sequential"}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ARCH_FIELDS = ("params", "params_label", "forward_flops", "step_flops", "activations", "canonical_layout")


@dataclass(frozen=True)
class ArchDescriptor:
    """What the stages know about an architecture (module docstring). Callables take a ModelSpec first:
        params(spec) -> encoder parameters (head excluded: H O + O is added by ``suite.models.params``)
        params_label(spec) -> the counting convention, e.g. 'G=3, two biases'
        forward_flops(spec, batch, seq_len) -> encoder matmul FLOPs of a forward over (B, T) (head excluded)
        step_flops(spec, context, batch) -> encoder FLOPs of one streaming step after ``context`` steps
        activations(spec, batch, seq_len) -> elements a training step keeps per (B, T) batch (memory estimate)
    canonical_layout: a one-line statement of the shared weight layout, None when the implementations have
    none (their get_weights names are their own)."""

    name: str
    description: str
    params: Callable | None = None
    params_label: Callable | None = None
    forward_flops: Callable | None = None
    step_flops: Callable | None = None
    activations: Callable | None = None
    canonical_layout: str | None = None
    variants: tuple[str, ...] = ()                  # ModelSpec fields this arch varies (VARIANT_FIELDS)
    check: Callable | None = None                   # check(spec): raise UserError for a spec it cannot build
    equivalence: tuple = ()                         # (a, b, variant dict) framework pairs compared by default
    tolerances: tuple[float, float] = (1e-5, 1e-4)  # equivalence (outputs, gradients), float32
    source: Source = BUILTIN

    def uses(self, variant: str) -> bool:
        return variant in self.variants


@dataclass(frozen=True)
class Implementation:
    """One model name ``arch-framework``: its class (or a 'module:Class' path), description and source.
    kind: 'built-in' | 'encoder' (register_encoder; ``factory`` set) | 'model' (register_model)."""

    arch: str
    framework: str
    target: Any                                     # a SequenceModel subclass or "module:Class"
    description: str
    source: Source = BUILTIN
    kind: str = "built-in"
    factory: Callable | None = None
    check: Callable | None = None                   # check(spec): the implementation's own limits
    edge_export: bool = True                        # its streaming step may be exported (ONNX / LiteRT)

    @property
    def name(self) -> str:
        return f"{self.arch}-{self.framework}"

    @property
    def plugin(self) -> bool:
        return not self.source.builtin

    def model_class(self):
        if isinstance(self.target, str):
            module_name, cls_name = self.target.split(":")
            return getattr(importlib.import_module(module_name), cls_name)
        return self.target


_ARCHS: dict[str, ArchDescriptor] = {}
_IMPLEMENTATIONS: dict[tuple[str, str], Implementation] = {}
_builtins_loaded = False


def _ensure_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from suite.models import builtin  # noqa: F401  (registers the built-in archs and implementations)


# --- registration -------------------------------------------------------------------------------------------
def _check_name(name, what: str, call: str) -> None:
    if not isinstance(name, str) or not NAME.match(name) or name in RESERVED:
        raise UserError(f"{call}: {what} name {name!r} is not allowed; expected lower-case letters, digits and "
                        f"'_' (no '-'), not a framework or variant word")


def _add_arch(descriptor: ArchDescriptor, call: str) -> ArchDescriptor:
    existing = _ARCHS.get(descriptor.name)
    if existing is not None:
        if existing.source.builtin and not descriptor.source.builtin:
            raise UserError(f"{call}: the name {descriptor.name!r} collides with the built-in architecture "
                            f"{descriptor.name!r} (choose another name)")
        if existing.source.module != descriptor.source.module:
            raise UserError(f"{call}: architecture {descriptor.name!r} is already registered by "
                            f"{existing.source.text()}")
    _ARCHS[descriptor.name] = descriptor
    return descriptor


def register_arch(name: str, description: str = "", *, params=None, params_label=None, forward_flops=None,
                  step_flops=None, activations=None, canonical_layout: str | None = None,
                  _source: Source | None = None, _call: str | None = None) -> ArchDescriptor:
    """Register an architecture descriptor (fields: ``ArchDescriptor``; a plugin's arch has no variants)."""
    _ensure_builtins()
    source = _source or plugins.current_source(plugins.caller_module())
    call = _call or f"register_arch({name!r})"
    _check_name(name, "architecture", call)
    for key, value in (("params", params), ("params_label", params_label), ("forward_flops", forward_flops),
                       ("step_flops", step_flops), ("activations", activations)):
        if value is not None and not callable(value):
            raise UserError(f"{call}: {key} must be a function of the spec, got {type(value).__name__}")
    if canonical_layout is not None and not isinstance(canonical_layout, str):
        raise UserError(f"{call}: canonical_layout must be a string stating the layout, got {canonical_layout!r}")
    return _add_arch(ArchDescriptor(name, str(description or ""), params, params_label, forward_flops, step_flops,
                                    activations, canonical_layout, source=source), call)


def _register_implementation(impl: Implementation, call: str) -> Implementation:
    key = (impl.arch, impl.framework)
    existing = _IMPLEMENTATIONS.get(key)
    if existing is not None and existing.source.module != impl.source.module:
        owner = "the built-in model" if existing.source.builtin else f"{existing.source.text()}'s model"
        raise UserError(f"{call}: the name {impl.name!r} collides with {owner} {impl.name!r} (choose another name)")
    _IMPLEMENTATIONS[key] = impl
    return impl


def _plugin_arch(arch: str, description: str, source: Source, call: str, arch_fields: dict) -> None:
    unknown = sorted(set(arch_fields) - set(ARCH_FIELDS))
    if unknown:
        raise UserError(f"{call}: unknown keyword {unknown[0]!r}; expected description or one of "
                        f"{', '.join(ARCH_FIELDS)}")
    existing = _ARCHS.get(arch)
    if existing is not None and existing.source.module == source.module and not arch_fields:
        return                       # a second framework of the same plugin arch
    register_arch(arch, description, _source=source, _call=call, **arch_fields)


def _framework_checked(framework, allowed, call: str) -> None:
    if framework not in allowed:
        raise UserError(f"{call}: unknown framework {framework!r}; expected one of {', '.join(allowed)}")


def register_encoder(arch: str, framework: str, factory: Callable, description: str = "",
                     **arch_fields) -> Implementation:
    """The easy path (module docstring): model ``<arch>-<framework>`` from ``factory(input_size, hidden,
    layers)``, a torch.nn.Module or Keras layer mapping (B, T, X) -> (B, T, H). If the module has
    ``init_state(batch_size)`` and ``step(x_t, state) -> (h_t (B, H), state)`` streaming uses them, else each
    step recomputes the prefix (recorded in the execution path)."""
    _ensure_builtins()
    source = plugins.current_source(plugins.caller_module())
    call = f"register_encoder({arch!r}, {framework!r})"
    _check_name(arch, "architecture", call)
    _framework_checked(framework, ENCODER_FRAMEWORKS, call)
    if not callable(factory):
        raise UserError(f"{call}: factory must be a function (or class) factory(input_size, hidden, layers) "
                        f"returning a {_module_word(framework)}, got {_describe(factory)}")
    _plugin_arch(arch, description, source, call, arch_fields)
    target = ("suite.models.torch.encoder:TorchEncoderModel" if framework == "torch"
              else "suite.models.keras.encoder:KerasEncoderModel")
    return _register_implementation(Implementation(arch, framework, target, str(description or f"{arch} encoder"),
                                                   source, "encoder", factory=factory), call)


def register_model(arch: str, framework: str, cls, description: str = "", **arch_fields) -> Implementation:
    """The full path: ``cls`` a SequenceModel subclass built as ``cls(spec)``."""
    from suite.models.base import SequenceModel
    _ensure_builtins()
    source = plugins.current_source(plugins.caller_module())
    call = f"register_model({arch!r}, {framework!r})"
    _check_name(arch, "architecture", call)
    _framework_checked(framework, FRAMEWORKS, call)
    if not (isinstance(cls, type) and issubclass(cls, SequenceModel)):
        raise UserError(f"{call}: expected a subclass of suite.models.base.SequenceModel, got {_describe(cls)}")
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    if abstract:
        raise UserError(f"{call}: {cls.__name__} does not implement {', '.join(abstract)} (abstract in "
                        f"SequenceModel)")
    _plugin_arch(arch, description, source, call, arch_fields)
    return _register_implementation(Implementation(arch, framework, cls, str(description or cls.__doc__ or arch)
                                                   .strip().splitlines()[0], source, "model"), call)


def register_builtin_arch(descriptor: ArchDescriptor) -> None:
    """A built-in architecture (suite.models.builtin)."""
    _ARCHS[descriptor.name] = descriptor


def register_builtin(arch: str, framework: str, target: str, description: str, check=None,
                     edge_export: bool = True) -> None:
    """A built-in implementation (suite.models.builtin)."""
    _IMPLEMENTATIONS[(arch, framework)] = Implementation(arch, framework, target, description, BUILTIN,
                                                         check=check, edge_export=edge_export)


def _module_word(framework: str) -> str:
    return "torch.nn.Module" if framework == "torch" else "Keras layer"


def _describe(obj) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__module__}.{obj.__qualname__}"
    return f"{type(obj).__name__} {obj!r}"[:120]


# --- lookups ------------------------------------------------------------------------------------------------
def arch(name: str) -> ArchDescriptor:
    """The descriptor of ``name``; entry-point plugins are loaded on a miss; UserError naming the valid ones."""
    _ensure_builtins()
    found = _ARCHS.get(name)
    if found is None:
        plugins.load_entry_points("models")
        found = _ARCHS.get(name)
    if found is None:
        raise UnknownNameError(f"unknown arch {name!r}; expected one of: {', '.join(arch_names())}")
    return found


def implementation(arch_name: str, framework: str) -> Implementation:
    """The implementation ``arch_name-framework``; UserError listing the available ones."""
    arch(arch_name)
    found = _IMPLEMENTATIONS.get((arch_name, framework))
    if found is None:
        plugins.load_entry_points("models")
        found = _IMPLEMENTATIONS.get((arch_name, framework))
    if found is None:
        have = sorted(f"{a}/{f}" for a, f in implementations())
        raise UnknownNameError(f"no implementation of {arch_name} in {framework}; available: {', '.join(have)}")
    return found


def archs() -> list[ArchDescriptor]:
    """Every architecture, built-in first (in registration order), entry-point plugins loaded."""
    _ensure_builtins()
    plugins.load_entry_points("models")
    return list(_ARCHS.values())


def arch_names() -> list[str]:
    return [a.name for a in archs()]


def implementations() -> dict[tuple[str, str], Implementation]:
    """Every implementation by (arch, framework), built-in first, entry-point plugins loaded."""
    archs()
    return dict(_IMPLEMENTATIONS)


def registered_plugins() -> list[Implementation]:
    """The plugin implementations registered in this process so far (no entry point is loaded for this)."""
    return [impl for impl in _IMPLEMENTATIONS.values() if impl.plugin]


def model_class(arch_name: str, framework: str):
    return implementation(arch_name, framework).model_class()


def is_plugin(arch_name: str, framework: str) -> bool:
    return implementation(arch_name, framework).plugin


def plugin_modules(specs) -> list[str]:
    """The importable plugin modules a worker needs to build these specs (or (arch, framework) pairs), in order."""
    out: list[str] = []
    for s in specs:
        a, f = (s.arch, s.framework) if hasattr(s, "arch") else (s["arch"], s["framework"]) if isinstance(s, dict) \
            else s
        source = implementation(a, f).source
        if source.importable and source.module not in out:
            out.append(source.module)
    return out


def has_canonical_layout(arch_name: str) -> bool:
    return arch(arch_name).canonical_layout is not None


# --- state, for suite.plugins.isolated ------------------------------------------------------------------------
def snapshot():
    _ensure_builtins()
    return dict(_ARCHS), dict(_IMPLEMENTATIONS)


def restore(state) -> None:
    archs_, impls = state
    _ARCHS.clear()
    _ARCHS.update(archs_)
    _IMPLEMENTATIONS.clear()
    _IMPLEMENTATIONS.update(impls)


plugins.register_state(snapshot, restore)
