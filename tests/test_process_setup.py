"""The process that runs the non-parallel work units (a notebook kernel, `python -m suite run`) is configured
only for the frameworks those units build in it: the speed stage and the long-context sweep time models in
worker processes of their own, so their kernel must not pay TensorFlow's ~9 s import for nothing. And the batch
runs the notebooks that time nothing side by side, one per core, every other one alone."""
from dataclasses import replace

from suite.config import load_config
from suite.results.store import RunStore
from suite.run.execute import run_units
from suite.run.plan import plan


def _here_units(cfg, stages):
    return [replace(u, run=lambda: {"rows": []}) for u in plan(cfg, stages) if not u.parallel]


def test_units_that_only_start_workers_ask_for_no_framework(tmp_path):
    cfg = load_config("configs/default.yaml")
    frameworks = {u.id: u.frameworks for u in plan(cfg, ["params", "speed", "long_context", "edge"])}
    assert frameworks["speed"] == frozenset()
    assert frameworks["long-speed"] == frozenset() and frameworks["long-memory"] == frozenset()
    assert frameworks["edge"] == frozenset({"torch"})            # the default exports only PyTorch models
    assert frameworks["params"] is None                           # counts every framework's parameters here

    seen = []
    for stages in (["speed", "long_context"], ["edge"], ["params", "speed"]):
        store = RunStore(tmp_path / "-".join(stages))
        store.units_dir.mkdir(parents=True)
        run_units(_here_units(cfg, stages), store, progress=False, setup=seen.append)
    assert seen == [set(), {"torch"}, None]                        # None: every framework of the config


def test_only_notebooks_that_time_nothing_run_side_by_side(monkeypatch):
    import suite.run.cluster as cluster
    from suite.run.batch import notebook_groups
    default = ["parameters", "equivalence", "speed", "accuracy", "long_context", "edge", "report"]
    monkeypatch.setattr(cluster, "cores", lambda: 2)
    assert notebook_groups(default) == [["parameters", "equivalence"], ["speed"], ["accuracy"], ["long_context"],
                                        ["edge"], ["report"]]
    assert notebook_groups(["speed", "parameters", "accuracy", "equivalence"]) == \
        [["speed"], ["parameters"], ["accuracy"], ["equivalence"]]
    monkeypatch.setattr(cluster, "cores", lambda: 1)
    assert notebook_groups(default)[:2] == [["parameters"], ["equivalence"]]
