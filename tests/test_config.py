"""Config validation: one line naming the file, the key and what was expected; defaults filled in; every key
documented in config-help."""
import pytest
from pydantic import BaseModel, Field

from suite.config import Config, flat_keys, load_config, schema_help, validate_config
from suite.errors import UserError
from suite.schema import section_of, undocumented_keys

BAD = [
    ({"bogus": 1}, "unknown key 'bogus'"),
    ({"training": {"lr": "fast"}}, "key 'training.lr': expected a positive number"),
    ({"training": {"lr": -1}}, "key 'training.lr': expected a positive number"),
    ({"training": {"batch_size": 0}}, "key 'training.batch_size': expected a positive integer"),
    ({"training": {"epochs": 2.5}}, "key 'training.epochs': expected a positive integer"),
    ({"training": {"init": "random"}}, "key 'training.init': expected one of framework, shared"),
    ({"training": {"optimizer": "sgd"}}, "unknown key 'training.optimizer'"),
    ({"sizing": {"hidden": -4}}, "key 'sizing.hidden': expected a positive integer"),
    ({"sizing": {"hidden": True}}, "key 'sizing.hidden': expected a positive integer"),
    ({"model": {"hidden": -4}}, "key 'model.hidden': expected a positive integer"),     # the former name, as given
    ({"models": ["gru-jax"]}, "key 'models[0]': expected a model name"),
    ({"models": ["rnn-torch"]}, "key 'models[0]': expected a model name"),
    ({"models": ["gru-torch-reset_before"]}, "torch.nn.GRU implements only"),
    ({"models": ["lstm-torch-reset_before"]}, "a reset convention only on GRU"),
    ({"models": []}, "key 'models': expected a non-empty list"),
    ({"tasks": {"mnist": {}}}, "key 'tasks.mnist': expected a task among"),
    ({"seeds": []}, "key 'seeds': expected a non-empty list of ints"),
    ({"seeds": ["a"]}, "key 'seeds[0]': expected an integer"),
    ({"speed": {"sweep_seq_lens": [0, 10]}}, "key 'speed.sweep_seq_lens[0]': expected a positive integer"),
    ({"speed": {"seq_lens": [0, 10]}}, "key 'speed.seq_lens[0]': expected a positive integer"),
    ({"speed": {"rounds": 1, "sweep_rounds": 2}}, "key 'speed.sweep_rounds': expected at most speed.rounds (1)"),
    ({"speed": "fast"}, "key 'speed': expected a mapping"),
    ({"name": "../../etc"}, "key 'name': expected a run name"),
    ({"name": "a/b"}, "key 'name': expected a run name"),
    ({"batch": {"notebooks": ["secret"]}}, "key 'batch.notebooks[0]': expected a notebook among"),
    ({"paper_check": {"frameworks": ["jax"]}}, "key 'paper_check.frameworks[0]': expected one of"),
    ([1, 2], "expected a YAML mapping"),
]


@pytest.mark.parametrize("raw,message", BAD, ids=[m for _, m in BAD])
def test_bad_config_values(raw, message):
    with pytest.raises(UserError) as e:
        validate_config(raw, "c.yaml")
    text = str(e.value)
    assert message in text
    assert text.startswith("c.yaml")
    assert "\n" not in text


def test_a_partial_config_gets_the_documented_defaults():
    """Given keys stay; each omitted key takes its documented default (literal values: the main job's, as
    `config-help` prints them), also inside a section that is given in part."""
    cfg = validate_config({"training": {"lr": 0.01}, "speed": {"base_seq_len": 50}})
    assert isinstance(cfg, Config)
    assert cfg.training.lr == 0.01 and cfg.speed.base_seq_len == 50
    assert cfg.training.batch_size == 64 and cfg.training.epochs == 10 and cfg.training.task_epochs == {}
    assert cfg.speed.base_hidden == 128 and cfg.speed.sweep_seq_lens == [100, 200, 400]
    assert cfg.speed.rounds == 2 and cfg.speed.sweep_rounds == 1 and cfg.speed.max_time_s == 0.3
    assert cfg.seeds == [0, 1, 2, 3, 4] and cfg.threads == 1 and cfg.scheduler is None
    assert cfg.sizing.budget == 10000 and cfg.sizing.hidden == 48 and cfg.sizing.accuracy_models is None
    assert list(cfg.tasks) == ["digits", "adding"] and cfg.tasks["adding"]["T"] == 30
    assert cfg.paper_check.enabled is False and cfg.edge.models == ["gru-torch", "lstm-torch", "transformer-torch"]
    assert cfg.long_context.sweep_seq_lens == [256, 2048] and cfg.long_context.mqar_pairs == []


def test_the_config_is_typed_and_frozen():
    cfg = validate_config({})
    with pytest.raises(TypeError):
        cfg["speed"]                                                    # attributes, not keys
    with pytest.raises(ValueError, match="frozen"):
        cfg.speed.rounds = 5
    other = cfg.model_copy(update={"speed": cfg.speed.model_copy(update={"rounds": 5})})
    assert other.speed.rounds == 5 and cfg.speed.rounds == 2


def test_a_mutable_default_is_not_shared_between_configs():
    a, b = validate_config({}), validate_config({})
    a.tasks["adding"]["T"] = 99
    a.models.append("gru-torch-reset_after")
    assert b.tasks["adding"]["T"] == 30 and len(b.models) == 8


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: {lr: [1,\n")
    with pytest.raises(UserError, match=r"bad.yaml: invalid YAML at line"):
        load_config(bad)


def test_yaml_is_safe_loaded(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(UserError, match="invalid YAML"):
        load_config(evil)


def test_shipped_configs_are_valid():
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "configs"
    names = sorted(p.name for p in root.glob("*.yaml"))
    assert {"smoke.yaml", "default.yaml", "full.yaml"} <= set(names)
    for p in root.glob("*.yaml"):
        load_config(p)


def test_every_key_has_a_description():
    assert undocumented_keys(Config) == []


def test_the_description_check_finds_an_undocumented_key():
    class Inner(BaseModel):
        a: int = Field(1, description="documented")
        b: int = 2

    class Outer(BaseModel):
        inner: Inner = Field(default_factory=Inner, description="a section")
        c: int = Field(3, description=" ")

    assert undocumented_keys(Outer) == ["inner.b", "c"]


def _leaf_keys(schema, prefix=""):
    for name, field in schema.model_fields.items():
        nested = section_of(field)
        yield from (_leaf_keys(nested, f"{prefix}{name}.") if nested else [(prefix + name, field)])


def test_config_help_gives_every_key_its_type_default_meaning_and_notebook_parameter():
    lines = {line.split(":")[0]: line for line in schema_help()}
    flat = {dotted: name for name, dotted in flat_keys().items()}
    leaves = list(_leaf_keys(Config))
    assert len(leaves) == len(flat) > 60
    for key, field in leaves:
        line = lines.pop(key)
        default = field.get_default(call_default_factory=True)
        assert f" = {default!r}  # {field.description}  (notebook parameter: {flat[key]})" in line, line
    assert sorted(lines) == sorted(name for name, f in Config.model_fields.items() if section_of(f))   # sections
    assert lines["sizing"].startswith("sizing: section  # ") and "formerly `model`" in lines["sizing"]
    assert "training.lr: float = 0.003  # Adam learning rate" in "\n".join(schema_help())
