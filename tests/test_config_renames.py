"""Renamed config keys: the former names are read for one release (run folders written before the rename still
load), silently; both names of one key is a one-line error; the shipped configs validate to exactly what they
validated to before the rename (the main job runs the same work); configs/default.yaml restates no default."""
import json
import warnings
from pathlib import Path

import pytest
import yaml

from suite.config import (Config, config_dict, config_from_flat, config_yaml, flat_key, flat_keys, former_flat_keys,
                          load_config, validate_config)
from suite.errors import UserError
from suite.schema import former_name, section_of

ROOT = Path(__file__).resolve().parent.parent
# The rename, written out here on its own so that a change of the schema's aliases cannot also change the test.
RENAMED = {"model": "sizing",
           "speed.hidden": "speed.base_hidden", "speed.seq_len": "speed.base_seq_len",
           "speed.seq_lens": "speed.sweep_seq_lens", "speed.hiddens": "speed.sweep_hiddens",
           "speed.repeats": "speed.rounds", "speed.sweep_repeats": "speed.sweep_rounds",
           "long_context.seq_lens": "long_context.sweep_seq_lens"}
# `config_dict(load_config(p))` of configs/default.yaml, smoke.yaml and full.yaml at b701c53, before the rename
# (the same data as a run folder of that time stores in its config.yaml).
BEFORE = json.loads((ROOT / "tests/fixtures/validated_configs_before_rename.json").read_text())


def renamed(old: dict) -> dict:
    """A config mapping under the former names -> the same mapping under the current names (RENAMED)."""
    out = {}
    for key, value in old.items():
        section = RENAMED.get(key, key)
        if isinstance(value, dict) and key != "tasks":
            out[section] = {RENAMED.get(f"{key}.{k}", f"{section}.{k}").split(".")[1]: v for k, v in value.items()}
        else:
            out[section] = value
    return out


def test_the_schema_renames_exactly_these_keys():
    found = {}
    for name, field in Config.model_fields.items():
        if former_name(field):
            found[former_name(field)] = name
        for sub, subfield in (section_of(field).model_fields.items() if section_of(field) else []):
            if former_name(subfield):
                found[f"{name}.{former_name(subfield)}"] = f"{name}.{sub}"
            assert sub in (subfield.validation_alias.choices if subfield.validation_alias else [sub])
    assert found == RENAMED


@pytest.mark.parametrize("old,new", RENAMED.items())
def test_each_description_names_the_former_name(old, new):
    section, _, key = new.partition(".")
    field = Config.model_fields[section]
    field = section_of(field).model_fields[key] if key else field
    assert f"(formerly `{old.split('.')[-1]}`" in field.description or f"formerly `{old.split('.')[-1]}`)" in \
        field.description, field.description


# Keys a shipped config changed on purpose after the rename, and why (every other key must read as before).
CHANGED_SINCE = {"default.yaml": {"training.task_epochs": "budgets sized past the stall for the tuned learning rates",
                                  "tasks": "copy moved to configs/full.yaml: its budget past the stall does not fit"}}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_a_shipped_config_validates_as_before_the_rename(name):
    """The main job (and smoke, full) run exactly the same work: key by key, the validated config equals the one
    of b701c53 under the new names (a key added since may only add to it; CHANGED_SINCE lists the deliberate
    changes)."""
    now = config_dict(load_config(ROOT / "configs" / name))
    changed = CHANGED_SINCE.get(name, {})
    for section, values in renamed(BEFORE[name]).items():
        if isinstance(values, dict) and section != "tasks":
            for key, value in values.items():
                if f"{section}.{key}" not in changed:
                    assert now[section][key] == value, (name, f"{section}.{key}", value, now[section][key])
        elif section not in changed:
            assert now[section] == values, (name, section)


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_a_run_folder_written_before_the_rename_still_loads(name, tmp_path, capfd):
    """Its config.yaml has the former names: it loads, silently, to the same config; written back it has the
    current names and loads again to the same config."""
    old = tmp_path / "config.yaml"
    old.write_text(yaml.safe_dump(BEFORE[name], sort_keys=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = load_config(old)
    assert capfd.readouterr() == ("", "")
    assert cfg == validate_config(renamed(BEFORE[name]))
    assert "speed" in BEFORE[name] and "repeats" in BEFORE[name]["speed"] and "model" in BEFORE[name]
    text = config_yaml(cfg)
    assert "base_seq_len:" in text and "sizing:" in text and "repeats" not in text and "\nmodel:" not in text
    new = tmp_path / "new.yaml"
    new.write_text(text)
    assert load_config(new) == cfg


def test_the_reference_run_folder_loads():
    cfg = load_config(ROOT / "results/reference/config.yaml")
    assert cfg.name == "default" and cfg.speed.base_seq_len == 100 and cfg.speed.rounds >= 1


BOTH = [({"model": {}, "sizing": {}}, "key 'sizing': given twice, also under its former name 'model'"),
        ({"speed": {"seq_len": 50, "base_seq_len": 50}},
         "key 'speed.base_seq_len': given twice, also under its former name 'seq_len'"),
        ({"speed": {"repeats": 2, "rounds": 2}},
         "key 'speed.rounds': given twice, also under its former name 'repeats'"),
        ({"long_context": {"seq_lens": [8], "sweep_seq_lens": [8]}},
         "key 'long_context.sweep_seq_lens': given twice, also under its former name 'seq_lens'")]


@pytest.mark.parametrize("raw,message", BOTH, ids=[m.split("'")[1] for _, m in BOTH])
def test_both_names_of_one_key_is_a_one_line_error(raw, message):
    with pytest.raises(UserError) as e:
        validate_config(raw, "c.yaml")
    assert str(e.value).startswith(f"c.yaml: {message}") and "\n" not in str(e.value)


UNKNOWN = [({"speed": {"repeat": 2}}, "unknown key 'speed.repeat'; expected one of: enabled,"),
           ({"speed": {"sweep_hidden": 64}}, "unknown key 'speed.sweep_hidden'"),
           ({"sizing": {"seq_len": 5}}, "unknown key 'sizing.seq_len'; expected one of: hidden, layers, budget"),
           ({"model": {"seq_len": 5}}, "unknown key 'model.seq_len'; expected one of: hidden, layers, budget"),
           ({"models_": ["gru-torch"]}, "unknown key 'models_'"),
           ({"params": {"seq_lens": [4]}}, "unknown key 'params.seq_lens'")]


@pytest.mark.parametrize("raw,message", UNKNOWN, ids=[m.split("'")[1] for _, m in UNKNOWN])
def test_a_key_that_is_neither_current_nor_former_is_unknown(raw, message):
    with pytest.raises(UserError) as e:
        validate_config(raw, "c.yaml")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_former_name_reads_as_the_current_one():
    old = validate_config({"model": {"hidden": 16, "budget": None}, "speed": {"hidden": 8, "seq_len": 12,
                           "seq_lens": [12, 24], "hiddens": [8], "repeats": 3, "sweep_repeats": 2},
                           "long_context": {"seq_lens": [64]}})
    assert old.sizing.hidden == 16 and old.sizing.budget is None
    assert (old.speed.base_hidden, old.speed.base_seq_len, old.speed.sweep_seq_lens, old.speed.sweep_hiddens,
            old.speed.rounds, old.speed.sweep_rounds) == (8, 12, [12, 24], [8], 3, 2)
    assert old.long_context.sweep_seq_lens == [64]


def test_former_notebook_parameter_names_are_read_and_collide_with_no_current_one():
    former = former_flat_keys()
    assert not set(former) & set(flat_keys())
    assert former["speed_seq_len"] == "speed.base_seq_len" and former["model_budget"] == "sizing.budget"
    assert flat_key("speed_repeats") == "speed.rounds" and flat_key("speed_rounds") == "speed.rounds"
    cfg = config_from_flat({"model_hidden": 20, "speed_seq_lens": [10]}, "notebook x")
    assert cfg.sizing.hidden == 20 and cfg.speed.sweep_seq_lens == [10]
    with pytest.raises(UserError, match="parameter 'speed_repeat' is not a config key"):
        config_from_flat({"speed_repeat": 2}, "notebook x")


def test_default_yaml_sets_only_what_differs_from_the_schema():
    """One source for the main job's values: configs/default.yaml restates no default of the schema."""
    given = yaml.safe_load((ROOT / "configs/default.yaml").read_text())
    schema = config_dict(validate_config({}))
    for key, value in given.items():
        if isinstance(value, dict) and key != "tasks":
            for sub, v in value.items():
                assert v != schema[key][sub], f"{key}.{sub} restates the default {v!r}"
        else:
            assert value != schema[key], f"{key} restates the default {value!r}"
    assert sorted(given) == ["name", "sizing", "training"]
