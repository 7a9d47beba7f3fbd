"""Config validation: one line naming the file, the key and what was expected."""
import pytest

from suite.config import defaults, load_config, schema_help, validate_config
from suite.errors import UserError

BAD = [
    ({"bogus": 1}, "unknown key 'bogus'"),
    ({"training": {"lr": "fast"}}, "key 'training.lr': expected a positive number"),
    ({"training": {"lr": -1}}, "key 'training.lr': expected a positive number"),
    ({"training": {"batch_size": 0}}, "key 'training.batch_size': expected a positive integer"),
    ({"training": {"epochs": 2.5}}, "key 'training.epochs': expected a positive integer"),
    ({"training": {"init": "random"}}, "key 'training.init': expected one of framework, shared"),
    ({"training": {"optimizer": "sgd"}}, "unknown key 'training.optimizer'"),
    ({"model": {"hidden": -4}}, "key 'model.hidden': expected a positive integer"),
    ({"model": {"hidden": True}}, "key 'model.hidden': expected a positive integer"),
    ({"models": ["gru-jax"]}, "key 'models[0]': expected a model name"),
    ({"models": ["rnn-torch"]}, "key 'models[0]': expected a model name"),
    ({"models": ["gru-torch-reset_before"]}, "torch.nn.GRU implements only"),
    ({"models": ["lstm-torch-reset_before"]}, "a reset convention only on GRU"),
    ({"models": []}, "key 'models': expected a non-empty list"),
    ({"tasks": {"mnist": {}}}, "key 'tasks.mnist': expected a task among"),
    ({"seeds": []}, "key 'seeds': expected a non-empty list of ints"),
    ({"seeds": ["a"]}, "key 'seeds[0]': expected an integer"),
    ({"speed": {"seq_lens": [0, 10]}}, "key 'speed.seq_lens[0]': expected a positive integer"),
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


def test_defaults_fill_in():
    cfg = validate_config({"training": {"lr": 0.01}})
    assert cfg["training"]["lr"] == 0.01
    assert cfg["training"]["batch_size"] == defaults()["training"]["batch_size"]


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


def test_schema_help_documents_every_key():
    lines = schema_help()
    assert any(line.startswith("training.lr: float") for line in lines)
    assert all("#" in line for line in lines)
