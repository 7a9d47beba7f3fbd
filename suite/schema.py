"""The typed building blocks of every schema in the suite (experiment config, task options, notebook
parameters), on pydantic v2, and the one-line error they all raise.

Each value type carries the phrase a user reads when a value is wrong ("a positive integer"), so a
``ValidationError`` becomes ``<where>: key '<dotted.key>': expected <phrase>, got <value>`` -- one line,
naming the file (or flag, or notebook), the key, what was expected and what was given.
Strict: no silent coercion ("5" is not 5, true is not 1, 2.5 is not an integer); an int is accepted
where a float is expected.

A renamed key keeps its former name as an alias for one release (``renamed(new, old)``, the field's
``validation_alias``): a file that gives the old name loads as if it gave the new one, silently; a file
that gives both is a one-line error naming the key.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from suite.errors import UserError


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def expects(phrase: str, ok):
    """A BeforeValidator that raises our one-phrase error unless ``ok(value)``."""
    def check(value):
        if not ok(value):
            raise PydanticCustomError("expected", phrase)
        return float(value) if phrase.endswith("number") else value
    return BeforeValidator(check)


PositiveInt = Annotated[int, Field(ge=1), expects("a positive integer", lambda v: _is_int(v) and v >= 1)]
Int = Annotated[int, expects("an integer", _is_int)]
NonNegativeInt = Annotated[int, Field(ge=0), expects("a non-negative integer", lambda v: _is_int(v) and v >= 0)]
PositiveFloat = Annotated[float, Field(gt=0), expects("a positive number",
                                                      lambda v: (_is_int(v) or isinstance(v, float)) and v > 0)]
Fraction = Annotated[float, Field(gt=0, lt=1), expects("a number between 0 and 1 (exclusive)",
                                                       lambda v: (_is_int(v) or isinstance(v, float)) and 0 < v < 1)]
Bool = Annotated[bool, expects("true or false", lambda v: isinstance(v, bool))]
Str = Annotated[str, expects("a string", lambda v: isinstance(v, str))]


def choice(*names: str):
    """A string among ``names``."""
    return Annotated[str, Field(json_schema_extra={"enum": list(names)}),
                     expects(f"one of {', '.join(names)}", lambda v: v in names)]


def non_empty_list(item, what: str):
    """A non-empty list whose items are ``item`` (each item's error names its index: key[i])."""
    return Annotated[list[item], Field(min_length=1),
                     expects(f"a non-empty list of {what}", lambda v: isinstance(v, list) and len(v) > 0)]


class Section(BaseModel):
    """A mapping of typed keys: unknown keys and wrong types are errors; defaults fill in the rest."""

    model_config = ConfigDict(extra="forbid", validate_default=False, frozen=False)


def renamed(new: str, old: str) -> AliasChoices:
    """The ``validation_alias`` of a key renamed from ``old`` to ``new``: either name is read (the new one
    first), never both (the second is then an unknown key, which ``one_line`` words as given twice)."""
    return AliasChoices(new, old)


def former_name(field: FieldInfo) -> str | None:
    """The name a renamed key had before (``renamed``), else None."""
    alias = field.validation_alias
    return alias.choices[1] if isinstance(alias, AliasChoices) else None


def field_named(schema: type[BaseModel], name: str) -> tuple[str, FieldInfo] | None:
    """(current name, field) of the key called ``name`` now or before its rename, else None."""
    for current, field in schema.model_fields.items():
        if name in (current, former_name(field)):
            return current, field
    return None


def section_of(field: FieldInfo) -> type[BaseModel] | None:
    """The nested schema of a section field, else None."""
    annotation = field.annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def undocumented_keys(schema: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted keys of ``schema`` (nested sections included) whose field has no description."""
    out = []
    for name, field in schema.model_fields.items():
        if not (field.description or "").strip():
            out.append(prefix + name)
        nested = section_of(field)
        if nested is not None:
            out += undocumented_keys(nested, f"{prefix}{name}.")
    return out


def dotted(loc: tuple) -> str:
    """('speed', 'seq_lens', 0) -> 'speed.seq_lens[0]'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def one_line(error: ValidationError, where: str, schema: type[BaseModel], prefix: str = "") -> UserError:
    """The first error of ``error`` as our one-line UserError."""
    e = error.errors(include_url=False)[0]
    loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = prefix + dotted(loc)
    value = e.get("input")
    if e["type"] == "extra_forbidden":
        parent = loc[:-1]
        twice = renamed_to(schema, loc)
        if twice:      # a former name is extra only when the current one is given too
            return UserError(f"{where}: key '{prefix + dotted(parent + (twice,))}': given twice, also under its "
                             f"former name '{loc[-1]}'; expected one of the two (keep '{twice}')")
        return UserError(f"{where}: unknown key '{key}'; expected one of: {', '.join(field_names(schema, parent))}")
    if e["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return UserError(f"{where}: key '{key}': expected a mapping, got {value!r}")
    if e["type"] == "expected":
        return UserError(f"{where}: key '{key}': expected {e['msg']}, got {value!r}")
    if e["type"] == "value_error":      # a validator's own sentence (ValueError text)
        return UserError(f"{where}: key '{key}': {str(e['ctx']['error'])}")
    return UserError(f"{where}: key '{key}': {e['msg'].lower()}, got {value!r}")


def _schema_at(schema: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The nested schema at ``path`` (keys as given: current or former names), else None."""
    model = schema
    for part in path:
        if isinstance(part, int):
            continue
        found = field_named(model, part)
        model = section_of(found[1]) if found else None
        if model is None:
            return None
    return model


def field_names(schema: type[BaseModel], path: tuple = ()) -> list[str]:
    """The keys allowed at ``path`` inside ``schema`` (for 'unknown key' messages)."""
    model = _schema_at(schema, path)
    return list(model.model_fields) if model is not None else []


def renamed_to(schema: type[BaseModel], loc: tuple) -> str | None:
    """The current name of the key at ``loc`` when its last part is a former name, else None."""
    model = _schema_at(schema, loc[:-1])
    found = field_named(model, loc[-1]) if model is not None and isinstance(loc[-1], str) else None
    return found[0] if found and found[0] != loc[-1] else None


def validate(schema: type[BaseModel], raw: Any, where: str, prefix: str = "") -> BaseModel:
    """``schema.model_validate(raw)`` with errors as one line naming ``where`` and the key."""
    try:
        return schema.model_validate(raw)
    except ValidationError as e:
        raise one_line(e, where, schema, prefix) from None


def help_lines(schema: type[BaseModel], prefix: str = "") -> list[str]:
    """``key: type = default  # description`` for every leaf key, nested sections flattened, each after a
    line ``section: section  # description`` of its own (where a renamed section names its former name)."""
    lines = []
    for name, field in schema.model_fields.items():
        nested = section_of(field)
        if nested is not None:
            lines.append(f"{prefix}{name}: section  # {field.description}")
            lines += help_lines(nested, f"{prefix}{name}.")
            continue
        annotation = field.annotation
        default = field.get_default(call_default_factory=True)
        lines.append(f"{prefix}{name}: {type_name(annotation)} = {default!r}  # {field.description}")
    return lines


def type_name(annotation) -> str:
    """'int', 'float | None', 'list[int]' ... for help text."""
    import typing
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return type_name(typing.get_args(annotation)[0])
    if origin in (list, dict) or origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = [type_name(a) for a in typing.get_args(annotation)]
        if origin is list:
            return f"list[{args[0]}]"
        if origin is dict:
            return f"dict[{', '.join(args)}]"
        return " | ".join(args)
    return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "None")
