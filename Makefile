# The two commands that matter: `make report` (main job) and `make test`.
# Both create .venv on first use. torch is pinned to 2.13.0, whose CPU wheel lies on disk here
# (an unpinned torch would pull a multi-GB CUDA build).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= configs/default.yaml
OUT ?=

.PHONY: setup test test-integration test-fast report reference smoke lab docs clean

# The install runs through uv (pip took 2:50 of the CI's 16 min; uv ~55 s, most of it compiling the bytecode up
# front as pip does: with PYTHONDONTWRITEBYTECODE set, as on these machines, every process would otherwise compile
# TensorFlow and torch again on import, and the tests took twice as long). It is pointed at the same sources pip is
# configured with here (find-links, extra indexes); the best match across them wins, so the local torch CPU build
# beats PyPI's CUDA one. If uv cannot be installed or fails, pip does the same job.
PIP_SOURCES = $(foreach u,$(or $(PIP_INDEX_URL),$(shell $(PYTHON) -m pip config get global.index-url 2>/dev/null)),--index-url $(u)) \
	$(foreach l,$(sort $(PIP_FIND_LINKS) $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)),--find-links $(l)) \
	$(foreach u,$(sort $(PIP_EXTRA_INDEX_URL) $(shell $(PYTHON) -m pip config get global.extra-index-url 2>/dev/null)),--extra-index-url $(u))
UV_INSTALL = $(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) --index-strategy unsafe-best-match $(PIP_SOURCES)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q uv || true
	$(UV_INSTALL) -e '.[test]' || $(PY) -m pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# Two tiers; the CI (.ci/run) runs both, in this order.
# `make test`: every test that neither times the wall clock nor runs a whole batch, on both cores (pytest-xdist, one
# worker per core; a test file stays on one worker, so its module fixtures run once); the 10 slowest are listed.
# `make test-integration`: the whole-batch tests (marker `integration`: the smoke batch, kill and resume, Dask
# clusters, notebooks by hand) on both cores, then the wall-clock tests (marker `timing`) alone, since beside
# another worker they would measure their neighbour.
test: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not timing and not integration" --durations=10

test-integration: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 --dist loadfile -m "integration and not timing" --durations=10
	$(PY) -m pytest -q -m timing --durations=10

# The fast loop while editing: everything not marked slow (< 1 min).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not slow" -n 2

# Writes results/<name>-<timestamp>/ (or OUT=dir) and points results/latest at it.
report: $(VENV)/.installed
	$(PY) -m suite batch $(CONFIG) $(if $(OUT),--out $(OUT))

smoke: $(VENV)/.installed
	$(PY) -m suite batch configs/smoke.yaml

# Regenerates the committed reference report from the default config.
reference: $(VENV)/.installed
	rm -rf results/reference-run
	$(PY) -m suite batch configs/default.yaml --out results/reference-run
	$(PY) -m suite publish-reference results/reference-run results/reference

# Rewrites the generated pages of docs/ (config.md; the generated blocks of cli.md and layout.md) from the code.
docs: $(VENV)/.installed
	$(PY) -m suite.reference_docs

# JupyterLab on the notebooks with the project's kernel (installs the `lab` extra on first use).
lab: $(VENV)/.installed
	$(UV_INSTALL) -e '.[test,lab]' || $(PY) -m pip install -q -e '.[test,lab]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gru-suite)"
	$(PY) -m jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) .cache
