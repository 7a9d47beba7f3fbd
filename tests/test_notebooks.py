"""Notebooks: valid nbformat, committed without outputs, one parameters cell of typed, documented config keys
whose defaults are the main job's values (configs/default.yaml), so a notebook run by hand measures what
`make report` measures; the batch passes exactly those keys."""
import ast
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from suite.config import (NOTEBOOKS, config_dict, config_from_flat, config_value, defaults, flat_key, flat_keys,
                          load_config)
from suite.run.batch import parameters_for

ROOT = Path(__file__).resolve().parent.parent / "notebooks"
MAIN_JOB = load_config(ROOT.parent / "configs/default.yaml")


def declared(name):
    return pm.inspect_notebook(str(ROOT / f"{name}.ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_valid_and_clean(name):
    nb = nbformat.read(str(ROOT / f"{name}.ipynb"), as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert nb.cells.index(tagged[0]) <= 1  # first code cell, after the title
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_are_typed_documented_config_keys(name):
    params = declared(name)
    nb = nbformat.read(str(ROOT / f"{name}.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert len(params) == len([line for line in cell.source.splitlines() if line.strip()])  # papermill parsed all
    assert "run_dir" in params
    keys = flat_keys()
    for p in params.values():
        assert p["inferred_type_name"] != "None", p
        assert p["help"], f"{name}: parameter {p['name']} has no help comment"
        assert p["name"] == "run_dir" or p["name"] in keys, f"{name}: {p['name']} is not a config key"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_defaults_make_a_valid_config_and_the_batch_passes_the_same_names(name):
    params = declared(name)
    values = {k: ast.literal_eval(p["default"]) for k, p in params.items() if k != "run_dir"}
    config_from_flat(values, f"notebook {name}")
    assert set(parameters_for(name, defaults(), ".")) == set(params)


def test_shared_parameters_have_the_same_defaults_in_every_notebook():
    """Run by hand, the notebooks share results/lab: a key two notebooks declare must default alike, or the
    second would re-run the first one's stage."""
    seen = {}
    for name in NOTEBOOKS:
        for key, p in declared(name).items():
            if key != "run_dir":
                seen.setdefault(key, {})[name] = p["default"]
    for key, by_notebook in seen.items():
        assert len(set(by_notebook.values())) == 1, (key, by_notebook)


def parameters_cell(name) -> dict:
    """{name: value} of the notebook's parameters cell, read with nbformat and ast (not papermill)."""
    nb = nbformat.read(str(ROOT / f"{name}.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    for node in ast.parse(cell.source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        values[target.id] = ast.literal_eval(node.value)
    return values


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_parameter_defaults_to_the_main_jobs_value(name):
    main = config_dict(MAIN_JOB)
    values = parameters_cell(name)
    assert values.pop("run_dir") == ""
    for key, value in values.items():
        expected = config_value(main, flat_key(key))
        assert value == expected and type(value) is type(expected), (name, key, value, expected)


def test_the_notebooks_run_by_hand_one_after_another_build_the_main_jobs_config():
    """As in results/lab: each notebook sets its parameters on the folder's config (the first on the schema's
    defaults); after all of them it is configs/default.yaml's config, name aside."""
    cfg = None
    for name in NOTEBOOKS:
        values = {k: v for k, v in parameters_cell(name).items() if k != "run_dir"}
        cfg = config_from_flat(values, f"notebook {name}", base=cfg)
    assert cfg.model_copy(update={"name": MAIN_JOB.name}) == MAIN_JOB


def test_every_key_default_yaml_sets_is_a_notebook_parameter():
    """The keys whose main-job value is not the schema's default: a notebook that did not declare one would run
    with the default instead."""
    import yaml
    given = yaml.safe_load((ROOT.parent / "configs/default.yaml").read_text())
    dotted = {f"{k}.{sub}" for k, v in given.items() if isinstance(v, dict) for sub in v} | \
        {k for k, v in given.items() if not isinstance(v, dict)}
    declared = {flat_key(p) for name in NOTEBOOKS for p in parameters_cell(name) if p != "run_dir"}
    assert dotted - {"name"} <= declared
