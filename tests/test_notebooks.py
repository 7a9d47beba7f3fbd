"""Notebooks: valid nbformat, committed without outputs, one parameters cell of typed, documented config keys
whose defaults make a valid config; the batch passes exactly those keys."""
import ast
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from suite.config import NOTEBOOKS, config_from_flat, defaults, flat_keys
from suite.run.batch import parameters_for

ROOT = Path(__file__).resolve().parent.parent / "notebooks"


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
