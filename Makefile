# The two commands that matter: `make report` (main job) and `make test`.
# Both create .venv on first use. torch is pinned to 2.13.0, whose CPU wheel lies on disk here
# (an unpinned torch would pull a multi-GB CUDA build).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= configs/default.yaml
OUT ?=

.PHONY: setup test report reference smoke clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

test: $(VENV)/.installed
	$(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) .cache
