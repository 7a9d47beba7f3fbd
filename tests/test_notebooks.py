"""Notebooks: valid nbformat, committed without outputs, exactly one parameters cell whose names are
exactly what the batch passes."""
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from suite.config import NOTEBOOKS, validate_config
from suite.notebook_params import NOTEBOOK_KEYS, config_from_parameters, parameters_for

ROOT = Path(__file__).resolve().parent.parent / "notebooks"


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
def test_parameters_are_typed_documented_and_match_the_batch(name):
    declared = pm.inspect_notebook(str(ROOT / f"{name}.ipynb"))
    nb = nbformat.read(str(ROOT / f"{name}.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert len(declared) == len([line for line in cell.source.splitlines() if line.strip()])  # papermill parsed all
    assert "run_dir" in declared
    for p in declared.values():
        assert p["inferred_type_name"] != "None", p
        assert p["help"], f"{name}: parameter {p['name']} has no help comment"
    passed = set(parameters_for(name, validate_config({}), "x"))
    assert passed <= set(declared)


@pytest.mark.parametrize("name", [n for n in NOTEBOOKS if NOTEBOOK_KEYS[n]])
def test_notebook_defaults_make_a_valid_config(name):
    declared = pm.inspect_notebook(str(ROOT / f"{name}.ipynb"))
    values = {k: eval(p["default"], {}) for k, p in declared.items() if k != "run_dir" and k in NOTEBOOK_KEYS[name]}
    config_from_parameters(name, **values)
