"""Plugins: the registry the built-ins use too, the easy path (an encoder module becomes a full model), loading
through the config key and entry points, every stage reading the registry (an unknown arch is an error everywhere,
a plugin's missing formula is None, never another arch's number), workers told the plugin modules, the edge export
of a plugin's step, the report's plugin section, the docs' examples, and one line (exit 2, nothing written) for
each kind of bad plugin."""
from __future__ import annotations

import contextlib
import io
import math
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

from suite import plugins
from suite.errors import UnknownNameError, UserError
from suite.spec import ModelSpec

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parent.parent

# A tiny Elman recurrence h_t = tanh(x_t W + b + h_{t-1} U), with and without a streaming step.
TINY = '''
import torch
from torch import nn
from suite.models import register_encoder

class Tiny(nn.Module):
    def __init__(self, input_size, hidden, layers):
        super().__init__()
        self.hidden = hidden
        self.inp = nn.Linear(input_size, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)

    def cell(self, x_t, h):
        return torch.tanh(self.inp(x_t) + self.rec(h))

    def forward(self, x):
        h, out = x.new_zeros(x.shape[0], self.hidden), []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            out.append(h)
        return torch.stack(out, dim=1)

class TinyStep(Tiny):
    def init_state(self, batch_size):
        return self.rec.weight.new_zeros(batch_size, self.hidden)

    def step(self, x_t, h):
        h = self.cell(x_t, h)
        return h, h
'''


def plugin_module(tmp_path: Path, monkeypatch, body: str, prefix: str = "plug") -> str:
    """A module of its own name in tmp_path, importable (sys.path); removed from sys.modules afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


@pytest.fixture
def isolated(monkeypatch):
    """The registries as they were before the test, whatever it registers."""
    before = set(sys.modules)
    with plugins.isolated():
        yield
    for name in set(sys.modules) - before:
        if name.startswith(("plug_", "my_plugin", "my_task", "dist_")):
            del sys.modules[name]


def distribution(tmp_path: Path, monkeypatch, name: str, entry_points: str) -> None:
    """An installed distribution as pip leaves one (a dist-info folder with entry_points.txt) on sys.path."""
    info = tmp_path / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    monkeypatch.syspath_prepend(str(tmp_path))


def main_in_process(*args, cwd):
    """``suite.cli.main(args)`` run from ``cwd``: (returncode, stdout, stderr) like a finished process."""
    from suite.cli import main
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = main(list(args))
            except SystemExit as e:
                code = e.code
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def tiny_data(spec: ModelSpec, B: int = 4, T: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, spec.input_size)).astype(np.float32)
    y = rng.standard_normal((B, T, spec.output_size) if spec.output == "sequence" else (B, spec.output_size))
    return x, y.astype(np.float32)


# --- the registry ------------------------------------------------------------------------------------------
def test_the_builtins_are_in_the_registry_with_their_formulas():
    from suite.models.registry import archs, implementations
    names = {f"{a}-{f}" for a, f in implementations()}
    assert {"gru-numpy", "gru-torch", "gru-keras", "lstm-keras", "transformer-torch", "minlstm-numpy"} <= names
    assert len([i for i in implementations().values() if not i.plugin]) == 14
    for d in archs():
        if d.source.builtin:
            assert None not in (d.params, d.forward_flops, d.step_flops, d.activations, d.canonical_layout), d.name


@pytest.mark.parametrize("cls, streaming", [("TinyStep", "encoder step(x_t, state)"),
                                            ("Tiny", "recomputes the prefix (the encoder has no step)")])
def test_a_torch_encoder_builds_trains_counts_and_streams(tmp_path, monkeypatch, isolated, cls, streaming):
    from suite.models import build_model, register_encoder
    module = __import__(plugin_module(tmp_path, monkeypatch, TINY))
    register_encoder("tiny", "torch", getattr(module, cls), description="a tiny Elman RNN")
    spec = ModelSpec("tiny", "torch", 3, 5, 2, output="sequence", seed=7)
    model = build_model(spec)
    x, y = tiny_data(spec)
    assert model.num_params() == 3 * 5 + 5 + 5 * 5 + 5 * 2 + 2             # W, b, U, head: the framework's count
    model.configure_training(lr=0.05, clip_norm=1.0)
    losses = [model.train_step(x, y) for _ in range(5)]
    assert losses[-1] < losses[0]
    state, steps = model.init_state(4), []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
        steps.append(np.asarray(out))
    assert np.max(np.abs(np.stack(steps, axis=1) - model.forward(x))) < 1e-5
    assert model.execution_path()["streaming"] == streaming
    weights = model.get_weights()
    assert {"head.W", "head.b", "encoder.inp.weight"} <= set(weights) and weights["head.W"].shape == (5, 2)
    other = build_model(spec.with_(seed=8))
    other.set_weights(weights)
    assert np.array_equal(other.forward(x), model.forward(x))
    first, second = (build_model(spec).get_weights()["encoder.rec.weight"] for _ in range(2))
    assert np.array_equal(first, second)                                    # seeded: the same initial weights


def test_a_keras_encoder_builds_trains_counts_and_streams(isolated):
    from suite.models import build_model, register_encoder
    from suite.models.keras.common import keras

    def simple_rnn(input_size, hidden, layers):
        return keras.layers.SimpleRNN(hidden, return_sequences=True)

    register_encoder("krnn", "keras", simple_rnn, description="keras SimpleRNN")
    spec = ModelSpec("krnn", "keras", 3, 5, 2, output="sequence", seed=1)
    model = build_model(spec)
    x, y = tiny_data(spec)
    assert model.num_params() == 3 * 5 + 5 * 5 + 5 + 5 * 2 + 2
    model.configure_training(lr=0.05, clip_norm=1.0)
    losses = [model.train_step(x, y) for _ in range(5)]
    assert losses[-1] < losses[0]
    state, steps = model.init_state(4), []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
        steps.append(np.asarray(out))
    assert np.max(np.abs(np.stack(steps, axis=1) - model.forward(x))) < 1e-5
    assert model.execution_path()["streaming"].startswith("recomputes the prefix")


def test_a_full_sequence_model_and_a_task_register_in_process(isolated):
    from suite.config import validate_config
    from suite.models import build_model, register_model
    from suite.models.registry import implementation
    from suite.models.torch.gru import GRUTorch
    from suite.tasks import get_task, register_task
    from suite.tasks.adding import AddingTask

    class MyGRU(GRUTorch):
        """torch.nn.GRU under another name"""

    class Sums(AddingTask):
        description = "the adding problem under another name"

    register_model("mygru", "torch", MyGRU)
    register_task("sums", Sums)
    impl = implementation("mygru", "torch")
    assert impl.plugin and impl.kind == "model" and impl.source.via == "in-process"
    assert impl.description == "torch.nn.GRU under another name"
    assert build_model(ModelSpec("mygru", "torch", 2, 3, 1)).num_params() == 67
    assert get_task("sums", T=6).load(0).seq_len == 6
    cfg = validate_config({"models": ["mygru-torch"], "tasks": {"sums": {"T": 8}}}, "c.yaml")
    assert list(cfg.tasks) == ["sums"]
    with pytest.raises(UserError, match=r"c.yaml: key 'tasks.sums.T': expected a positive integer, got 'x'"):
        validate_config({"tasks": {"sums": {"T": "x"}}}, "c.yaml")


# --- every place reads the registry ---------------------------------------------------------------------------
def _spec_of_arch(arch: str) -> ModelSpec:
    spec = ModelSpec("gru", "torch", 3, 5, 2)
    object.__setattr__(spec, "arch", arch)          # a spec the registry never saw (bypassing its own check)
    return spec


def test_an_unknown_arch_is_a_one_line_error_everywhere():
    from suite.config import parse_model_name, validate_config
    from suite.edge.measure import check_models
    from suite.models import build_model
    from suite.models.equivalence import EquivalenceCase, compare
    from suite.models.flops import forward_flops, step_flops, train_step_flops
    from suite.models.params import convention_name, formula_params, width_for_budget
    from suite.report.compare import equivalence_tolerance
    from suite.run.resources import check_fits, estimate_training_bytes
    from suite.tasks import get_task
    odd = _spec_of_arch("nope")
    places = {
        "spec": lambda: ModelSpec("nope", "torch", 1, 1, 1),
        "build_model": lambda: build_model(odd),
        "formula_params": lambda: formula_params(odd),
        "convention_name": lambda: convention_name(odd),
        "width_for_budget": lambda: width_for_budget(odd, 1000),
        "forward_flops": lambda: forward_flops(odd, 1, 2),
        "train_step_flops": lambda: train_step_flops(odd, 1, 2),
        "step_flops": lambda: step_flops(odd, 3),
        "estimate_training_bytes": lambda: estimate_training_bytes(odd, 1, 2),
        "check_fits": lambda: check_fits(odd, 1, 2, 2**40),
        "compare_tolerance": lambda: equivalence_tolerance({"arch": "nope", "metric": "max_out_diff"}),
        "equivalence": lambda: compare(EquivalenceCase("nope", "torch", "keras")),
    }
    for where, call in places.items():
        with pytest.raises(UnknownNameError, match=r"^unknown arch 'nope'; expected one of: gru, lstm, transformer"):
            call()
    for call, message in ((lambda: parse_model_name("nope-torch", "c.yaml"), "expected a model name among"),
                          (lambda: validate_config({"models": ["nope-torch"]}, "c.yaml"), "key 'models[0]'"),
                          (lambda: check_models(["nope-torch"]), "edge: unknown model 'nope-torch'"),
                          (lambda: get_task("nope"), "unknown task 'nope'; expected one of: adding")):
        with pytest.raises(UserError, match=re.escape(message)):
            call()


def test_a_plugin_without_formulas_gets_none_never_another_archs_numbers(tmp_path, monkeypatch, isolated):
    from suite.models import register_encoder
    from suite.models.flops import forward_flops, step_flops, train_step_flops
    from suite.models.params import convention_name, counted_params, formula_params, width_for_budget
    from suite.run.resources import check_fits, estimate_training_bytes
    module = __import__(plugin_module(tmp_path, monkeypatch, TINY))
    register_encoder("tiny", "torch", module.TinyStep)
    spec = ModelSpec("tiny", "torch", 4, 6, 3)
    assert forward_flops(spec, 2, 5) is None and train_step_flops(spec, 2, 5) is None and step_flops(spec, 8) is None
    assert estimate_training_bytes(spec, 2, 5) is None and check_fits(spec, 2, 10**6, 1) is None
    assert formula_params(spec) is None and convention_name(spec).startswith("counted by the framework")
    budget = 300
    width, achieved = width_for_budget(spec, budget)
    scan = [(H, counted_params(spec.with_(hidden=H))) for H in range(1, 40)]          # what a scan finds
    best = min(((H, n) for H, n in scan if n <= 1.1 * budget), key=lambda p: abs(p[1] - budget))
    assert (width, achieved) == best


def test_the_params_command_reads_the_registry(tmp_path, monkeypatch, isolated):
    """Every implementation in each convention it has (torch.nn.GRU: reset_after only); a plugin without a formula
    is counted, its formula empty, and does not count as a disagreement."""
    import json
    from suite.models import register_encoder
    module = __import__(plugin_module(tmp_path, monkeypatch, TINY))
    register_encoder("tinyp", "torch", module.TinyStep)
    code, out, err = main_in_process("params", "--framework", "numpy", "torch", "--hidden", "4", "--layers", "1",
                                     "--format", "json", cwd=tmp_path)
    rows = {r["model"]: r for r in json.loads(out)}
    assert code == 0, err
    assert {"gru-numpy", "gru-numpy-reset_before", "gru-torch", "tinyp-torch"} <= set(rows)
    assert "gru-torch-reset_before" not in rows and "transformer-numpy" not in rows
    assert rows["tinyp-torch"]["formula"] is None and rows["tinyp-torch"]["agree"] is None
    assert rows["tinyp-torch"]["counted"] == 32 * 4 + 4 + 4 * 4 + 4 * 10 + 10
    assert all(r["agree"] for name, r in rows.items() if name != "tinyp-torch")


def test_config_plugins_key_imports_the_modules_before_validation(tmp_path, monkeypatch, isolated):
    from suite.config import config_yaml, validate_config
    from suite.run.cluster import settings_for
    name = plugin_module(tmp_path, monkeypatch, TINY + 'register_encoder("tiny", "torch", TinyStep)\n')
    cfg = validate_config({"plugins": [name], "models": ["gru-torch", "tiny-torch"]}, "c.yaml")
    assert cfg.plugins == [name] and f"- {name}" in config_yaml(cfg)
    assert name in settings_for(cfg).plugins                  # every Dask worker imports it first
    assert validate_config({"plugins": [name], "models": ["tiny-torch"]}, "again.yaml").models == ["tiny-torch"]
    with pytest.raises(UserError, match=r"c.yaml: key 'plugins': expected a list of module names"):
        validate_config({"plugins": "not a list"}, "c.yaml")


def test_entry_points_load_on_a_miss_and_list_shows_the_source(tmp_path, monkeypatch, isolated):
    name = plugin_module(tmp_path, monkeypatch, TINY + 'register_encoder("tinyep", "torch", TinyStep, '
                                                       'description="tiny through an entry point")\n')
    distribution(tmp_path, monkeypatch, "dist_tiny", f"[gru_suite.models]\ntiny = {name}\n")
    from suite.config import validate_config
    assert validate_config({"models": ["tinyep-torch"]}, "c.yaml").models == ["tinyep-torch"]
    assert name in plugins.loaded_modules()
    code, out, _ = main_in_process("list", "models", cwd=tmp_path)
    line = next(ln for ln in out.splitlines() if "tinyep-torch" in ln)
    assert code == 0 and f"[plugin {name} (entry point gru_suite.models: tiny, distribution dist_tiny 0.1)]" in line


# --- bad plugins: one line, exit 2, nothing written ----------------------------------------------------------
BAD = {
    "import-fails": ("import torch\nraise NameError('name q is not defined')\n",
                     ["key 'plugins': plugin '{m}'", "import failed: NameError: name q is not defined"]),
    "not-a-factory": ("from suite.models import register_encoder\nregister_encoder('bad', 'torch', 42)\n",
                      ["plugin '{m}'", "register_encoder('bad', 'torch'): factory must be a function (or class)",
                       "got int 42"]),
    "not-a-class": ("from suite.models import register_model\nregister_model('bad', 'torch', 'GRUTorch')\n",
                    ["plugin '{m}'", "register_model('bad', 'torch'): expected a subclass of "
                                     "suite.models.base.SequenceModel, got str 'GRUTorch'"]),
    "task-not-a-class": ("from suite.tasks import register_task\nregister_task('bad', object)\n",
                         ["plugin '{m}'", "register_task('bad'): expected a subclass of suite.tasks.base.Task, "
                                          "got the class builtins.object"]),
    "wrong-shape": (TINY + "class Wide(TinyStep):\n    def forward(self, x):\n"
                           "        return torch.cat([super().forward(x)] * 2, dim=-1)\n"
                           "register_encoder('wide', 'torch', Wide)\n",
                    ["key 'models[0]'", "plugin model wide-torch (plugin {m} (config key plugins))",
                     "forward maps x (2, 4, 3) to (2, 4, 10); expected (B, T, H) = (2, 4, 5)"]),
    "collides": (TINY + "register_encoder('gru', 'torch', TinyStep)\n",
                 ["plugin '{m}'", "register_encoder('gru', 'torch'): the name 'gru' collides with the built-in "
                                  "architecture 'gru'"]),
    "task-collides": ("from suite.tasks import register_task\nfrom suite.tasks.adding import AddingTask\n"
                      "class Mine(AddingTask):\n    pass\nregister_task('adding', Mine)\n",
                      ["plugin '{m}'", "register_task('adding'): the name 'adding' collides with the built-in task"]),
    "registers-nothing": ("x = 1\n", ["plugin '{m}'", "registered no model or task on import"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_plugin_is_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, isolated, case):
    body, fragments = BAD[case]
    module = plugin_module(tmp_path, monkeypatch, body)
    model = "wide-torch" if case == "wrong-shape" else "gru-torch"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"plugins: [{module}]\nmodels: [{model}]\n")
    out = tmp_path / "out"
    code, _, err = main_in_process("run", str(cfg), "--out", str(out), cwd=tmp_path)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"error: {cfg}: ")
    for fragment in fragments:
        assert fragment.format(m=module) in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("value, fragment", [("dist_nowhere_xyz", "import failed: ModuleNotFoundError: No module "
                                                                   "named 'dist_nowhere_xyz'"),
                                             ("{m}:missing", "module '{m}' has no attribute 'missing'")])
def test_an_entry_point_pointing_nowhere_is_one_line_exit_2(tmp_path, monkeypatch, isolated, value, fragment):
    module = plugin_module(tmp_path, monkeypatch, TINY + 'register_encoder("tinyx", "torch", TinyStep)\n')
    distribution(tmp_path, monkeypatch, "dist_broken", f"[gru_suite.models]\nbroken = {value.format(m=module)}\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("models: [gru-torch, someone-torch]\n")
    out = tmp_path / "out"
    code, _, err = main_in_process("batch", str(cfg), "--out", str(out), cwd=tmp_path)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1, err
    assert f"entry point 'broken = {value.format(m=module)}' (group gru_suite.models, distribution dist_broken 0.1)" \
        in lines[0] and fragment.format(m=module) in lines[0], lines[0]
    assert not out.exists()


def test_the_real_cli_exits_2_on_a_plugin_that_fails_to_import(tmp_path):
    (tmp_path / "plug_fails.py").write_text("raise ImportError('needs a package that is not installed')\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("plugins: [plug_fails]\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    r = subprocess.run([sys.executable, "-m", "suite", "run", str(cfg), "--out", str(tmp_path / "out")], cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0, r.stderr
    assert "key 'plugins': plugin 'plug_fails': import failed: ImportError: needs a package" in r.stderr
    assert not (tmp_path / "out").exists()


# --- stages ---------------------------------------------------------------------------------------------------
def test_workers_import_the_plugin_modules_they_build(tmp_path, monkeypatch, isolated):
    """The speed and memory workers' payloads name the plugin module; real workers build and time the model."""
    from suite.bench.memory import measure_memory
    from suite.bench.speed import SpeedJob, measure_speed, worker_job
    from suite.bench.launcher import TimerOptions
    from suite.models.registry import plugin_modules
    name = plugin_module(tmp_path, monkeypatch, TINY + 'register_encoder("tinyw", "torch", TinyStep)\n')
    plugins.load_modules([name], "test")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    spec, gru = ModelSpec("tinyw", "torch", 4, 8, 1), ModelSpec("gru", "torch", 4, 8, 1)
    assert plugin_modules([spec, gru]) == [name] and plugin_modules([gru]) == []
    jobs = [SpeedJob(spec, 2, 5, (3,)), SpeedJob(gru, 2, 5, (3,))]
    assert worker_job("torch", [0, 1], jobs, 1, TimerOptions()).plugins == [name]
    rows = measure_speed(jobs, threads=1, repeats=1, max_time_s=0.05, min_samples=3, isolate="framework",
                         progress=False)
    mine = [r for r in rows if r["model"] == "tinyw-torch"]
    assert {r["metric"] for r in mine} >= {"train_step_ms", "infer_ms", "step_latency_us"}
    assert all(r["status"] == "ok" for r in mine if r["metric"] != "peak_rss_mb"), mine
    assert all(r.get("flops") is None for r in mine if r["metric"] == "train_step_ms")
    memory = measure_memory([(spec, 2, 5)], threads=1)
    assert memory and all(r["status"] == "ok" for r in memory), memory


def test_the_edge_stage_exports_a_plugin_step_or_says_why_not(tmp_path, monkeypatch, isolated):
    from suite.edge.measure import edge_models, edge_rows
    from suite.models import register_encoder
    module = __import__(plugin_module(tmp_path, monkeypatch, TINY))
    register_encoder("tinye", "torch", module.TinyStep)
    register_encoder("tinyn", "torch", module.Tiny)
    assert {"tinye-torch", "tinyn-torch", "gru-keras-reset_before"} <= set(edge_models())
    rows = edge_rows(["tinye-torch", "tinyn-torch"], hidden=8, latency=False, accuracy=False)
    exported = [r for r in rows if r["model"] == "tinye-torch" and r["runtime"] == "onnxruntime"]
    assert {(r["precision"], r["status"], r["graph"]) for r in exported} == {("fp32", "ok", "encoder step()"),
                                                                              ("int8", "ok", "encoder step()")}
    assert next(r for r in exported if r["precision"] == "fp32")["max_abs_diff"] < 1e-5
    refused = {r["precision"]: r for r in rows if r["model"] == "tinyn-torch" and r["runtime"] == "onnxruntime"}
    assert {r["status"] for r in refused.values()} == {"unsupported"}
    assert "has no step(x_t, state)" in refused["fp32"]["error"] and "fp32" in refused["int8"]["error"]


def test_equivalence_and_shared_init_say_why_not(tmp_path, monkeypatch, isolated):
    from suite.config import validate_config
    from suite.models.equivalence import not_compared, pairs
    from suite.run.units_accuracy import shared_init_unavailable
    name = plugin_module(tmp_path, monkeypatch, TINY + 'register_encoder("tinyq", "torch", TinyStep)\n'
                                                       'register_encoder("tinyq", "keras", lambda X, H, L: None)\n')
    cfg = validate_config({"plugins": [name], "models": ["tinyq-torch", "gru-torch"], "training": {"init": "shared"}},
                          "c.yaml")
    assert "tinyq" not in {p.arch for p in pairs()}
    assert not_compared(["tinyq", "gru"]) == {"tinyq": "tinyq declares no canonical weight layout "
                                                       "(canonical_layout), so weights cannot move between "
                                                       "implementations"}
    entry = {"name": "tinyq-keras", "arch": "tinyq", "framework": "keras", "convention": "reset_after",
             "scan": "parallel"}
    assert "arch tinyq declares none" in shared_init_unavailable(cfg, entry)
    assert shared_init_unavailable(cfg, {**entry, "name": "tinyq-torch", "framework": "torch"}) is None


def test_the_report_compares_each_plugin_model_with_gru_and_lstm():
    import pandas as pd
    from suite.report.plugins import plugin_section
    from suite.report.render import to_markdown
    from suite.report.settings import ReportSettings
    from suite.results.samples import sample_key
    rng = np.random.default_rng(3)
    rows, samples = [], {}
    for model, arch, ms, acc in (("lg-torch", "lg", 2.0, 0.95), ("gru-torch", "gru", 1.0, 0.9),
                                 ("lstm-torch", "lstm", 4.0, 0.9)):
        common = dict(model=model, arch=arch, framework="torch", convention="reset_after", hidden=32, layers=1)
        speed = dict(common, kind="speed", metric="train_step_ms", value=ms, T=20, B=4, status="ok", context=None,
                     threads=1)
        rows.append(speed)
        samples[sample_key(speed)] = {"rounds": [list(ms * (1 + 0.01 * rng.standard_normal(12)))], "stable": [True]}
        for seed in range(5):
            base = dict(common, kind="accuracy", task="t", view="budget", seed=seed, status="ok")
            rows += [dict(base, metric="accuracy", value=acc + 0.01 * rng.standard_normal()),
                     dict(base, metric="baseline_accuracy", value=0.5),
                     dict(base, metric="updates_to_target", value=float(100 + 10 * seed) * (2 if arch == "lg" else 1))]
    frame = pd.DataFrame(rows)
    settings = ReportSettings(speed_batch=4, speed_seq_len=20, speed_input_size=3, speed_hidden=32, speed_repeats=1,
                              speed_min_samples=10, denormals="flush", threads=1, lr=3e-3, clip_norm=1.0,
                              batch_size=64, patience=None, max_seconds=None, seeds=(0, 1, 2, 3, 4), budget=3000,
                              width_hidden=32)
    env = {"plugins": [{"kind": "model", "name": "lg-torch", "framework": "torch", "source": "plugin lg (test)",
                        "description": "a test model"}]}
    text = to_markdown(plugin_section(frame, samples, settings, env))
    assert "`lg-torch` (plugin lg (test)): a test model" in text
    assert re.search(r"\| lg-torch \| gru-torch \| train_step_ms \| 2 \| 1 \| (1\.9\d|2\.0\d)× \[.*\] \| slower \|",
                     text)
    assert re.search(r"\| lg-torch \| lstm-torch \| train_step_ms \| 2 \| 4 \| 0\.[45]\d× \[.*\] \| faster \|", text)
    assert re.search(r"\| budget \| t \| accuracy \| lg-torch \| gru-torch \|.*\| different \|", text)
    assert "Time to target" in text and "| 5/5 vs 5/5 |" in text
    without = frame[frame["metric"] != "updates_to_target"]
    assert "Time to target" not in to_markdown(plugin_section(without, samples, settings, env))
    assert plugin_section(frame, samples, settings, {"plugins": []}) is None


# --- the docs' examples run ---------------------------------------------------------------------------------------
def doc_code(page: str) -> str:
    return re.search(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(), re.S).group(1)


def test_the_model_pages_example_registers_trains_and_streams(tmp_path, monkeypatch, isolated):
    from suite.config import validate_config
    from suite.models import build_model
    code = doc_code("plugins-model.md")
    assert len(code.strip().splitlines()) < 30
    name = plugin_module(tmp_path, monkeypatch, code, prefix="my_plugin")
    cfg = validate_config({"plugins": [name], "models": ["gru-torch", "elman-torch"]}, "c.yaml")
    spec = ModelSpec("elman", "torch", 3, 4, 2, output="sequence", layers=2)
    model = build_model(spec)
    x, y = tiny_data(spec)
    model.configure_training(lr=0.01, clip_norm=1.0)
    assert math.isfinite(model.train_step(x, y))
    assert model.num_params() == (12 + 16 + 4 + 4) + (16 + 16 + 4 + 4) + (8 + 2)     # nn.RNN's 2 layers, the head
    state, outs = model.init_state(4), []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
        outs.append(np.asarray(out))
    assert np.max(np.abs(np.stack(outs, axis=1) - model.forward(x))) < 1e-5 and cfg.models[1] == "elman-torch"


def test_the_task_pages_example_registers_and_trains(tmp_path, monkeypatch, isolated):
    from suite.config import validate_config
    from suite.models import build_model
    from suite.run.training import TrainingConfig, train
    from suite.tasks import get_task
    code = doc_code("plugins-task.md")
    assert len(code.strip().splitlines()) < 30
    name = plugin_module(tmp_path, monkeypatch, code, prefix="my_task")
    cfg = validate_config({"plugins": [name], "tasks": {"sign": {"T": 10, "n": 128}}}, "c.yaml")
    task = get_task("sign", **cfg.tasks["sign"])
    data = task.load(0)
    assert data.train.x.shape == (128, 10, 1) and np.array_equal(task.load(0).test.y, data.test.y)
    model = build_model(ModelSpec("gru", "torch", 1, 8, 2, head="classes", seed=0))
    result = train(model, task, data, TrainingConfig(lr=0.01, batch_size=32, epochs=2, seed=0))
    assert result.status == "ok" and set(result.test) == {"accuracy", "loss"}
    with pytest.raises(UserError, match=r"c.yaml: key 'tasks.sign.T': expected a positive integer"):
        validate_config({"plugins": [name], "tasks": {"sign": {"T": 0}}}, "c.yaml")


def test_a_plugin_is_compared_with_the_lstm_at_its_headline_forget_bias_arm():
    """The accuracy stage names an LSTM by its arm; the plugin section compares with the headline one under the
    name the other stages use."""
    import pandas as pd
    from suite.report.plugins import reference_names
    frame = pd.DataFrame({"model": ["lstm-torch-fb1", "lstm-torch-fb0", "gru-torch", "lstm-torch-fb-0.5"],
                          "headline_arm": [True, False, None, False], "value": [1.0, 2.0, 3.0, 4.0]})
    out = reference_names(frame)
    assert list(out["model"]) == ["lstm-torch", "gru-torch"] and list(out["value"]) == [1.0, 3.0]
