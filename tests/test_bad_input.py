"""Bad input, table-driven: one line naming the file/flag, the key and what was expected; exit status 2; no run
directory created. The config table goes through ``suite.cli.main`` in this process (the code path of
``python -m suite``, whose only addition is ``sys.exit``); the other cases, and one config case per command,
start the real CLI as a process."""
import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent

CONFIG_CASES = [
    # (id, YAML text, expected fragment of the message)
    ("invalid-yaml", "training: {lr: [1,\n", "invalid YAML at line"),
    ("top-level-list", "- 1\n- 2\n", "expected a YAML mapping"),
    ("unknown-key", "epochz: 3\n", "unknown key 'epochz'"),
    ("unknown-nested-key", "training: {optimiser: sgd}\n", "unknown key 'training.optimiser'"),
    ("wrong-type", "training: {lr: fast}\n", "key 'training.lr': expected a positive number"),
    ("zero-size", "sizing: {hidden: 0}\n", "key 'sizing.hidden': expected a positive integer"),
    ("zero-size-former-name", "model: {hidden: 0}\n", "key 'model.hidden': expected a positive integer"),
    ("both-names", "speed: {seq_len: 50, base_seq_len: 50}\n",
     "key 'speed.base_seq_len': given twice, also under its former name 'seq_len'"),
    ("unknown-former-style-key", "speed: {repeat: 2}\n", "unknown key 'speed.repeat'; expected one of:"),
    ("negative-size", "training: {batch_size: -8}\n", "key 'training.batch_size': expected a positive integer"),
    ("float-for-int", "training: {epochs: 2.5}\n", "key 'training.epochs': expected a positive integer"),
    ("zero-threads", "threads: 0\n", "key 'threads': expected a positive integer"),
    ("unknown-task", "tasks: {mnist: {}}\n", "key 'tasks.mnist': expected a task among"),
    ("unknown-task-option", "tasks: {adding: {length: 5}}\n", "unknown key 'tasks.adding.length'; expected one of: T,"),
    ("task-option-type", "tasks: {adding: {T: many}}\n", "key 'tasks.adding.T': expected a positive integer, got 'many'"),
    ("task-cross-option", "tasks: {adding: {T: 1}}\n", "key 'tasks.adding': task adding: option 'T' must be >= 2"),
    ("empty-file", "\n", "the file is empty"),
    ("unknown-model", "models: [gru-jax]\n", "key 'models[0]': expected a model name"),
    ("unknown-arch", "models: [rnn-torch]\n", "key 'models[0]': expected a model name"),
    ("unsupported-convention", "models: [gru-torch-reset_before]\n", "torch.nn.GRU implements only"),
    ("duplicate-model", "models: [gru-torch, gru-torch]\n", "key 'models[1]': expected each model once"),
    ("unknown-framework", "paper_check: {frameworks: [jax]}\n", "key 'paper_check.frameworks[0]': expected one of"),
    ("empty-seeds", "seeds: []\n", "key 'seeds': expected a non-empty list"),
    ("unknown-notebook", "batch: {notebooks: [secret]}\n", "key 'batch.notebooks[0]': expected a notebook among"),
    ("name-leaves-results", "name: ../../tmp/evil\n", "key 'name': expected a run name"),
    ("bad-init", "training: {init: random}\n", "key 'training.init': expected one of framework, shared"),
    ("yaml-code", "name: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    ("bad-scheduler", "scheduler: localhost:8786\n", "key 'scheduler': expected a Dask scheduler address"),
    ("no-view-left", "sizing: {budget: null, equal_width: false}\n",
     "key 'sizing.equal_width': expected true when sizing.budget"),
    ("task-epochs-task", "training: {task_epochs: {co2: 3}}\n", "key 'training.task_epochs.co2': expected a task"),
    ("equal-width-model", "sizing: {budget: 900, equal_width_models: [gru-keras-reset_before]}\n",
     "key 'sizing.equal_width_models[0]': expected one of the config's models"),
    ("sweep-rounds", "speed: {rounds: 1, sweep_rounds: 2}\n",
     "key 'speed.sweep_rounds': expected at most speed.rounds (1), got 2"),
    ("sweep-rounds-former-names", "speed: {repeats: 1, sweep_repeats: 2}\n",
     "key 'speed.sweep_rounds': expected at most speed.rounds (1), got 2"),
    ("equal-width-task", "sizing: {budget: 900, equal_width_tasks: [co2]}\n",
     "key 'sizing.equal_width_tasks[0]': expected a task of this config"),
    ("accuracy-model", "sizing: {accuracy_models: [gru-numpy, minlstm-keras]}\n",
     "key 'sizing.accuracy_models[1]': expected one of the config's models"),
]


def run_cli(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "suite", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def main_in_process(*args, cwd):
    """``suite.cli.main(args)`` run from ``cwd``: (returncode, stderr) like a finished process."""
    from suite.cli import main
    err, here = io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(list(args))
            except SystemExit as e:          # argparse
                code = e.code
    finally:
        os.chdir(here)
    return SimpleNamespace(returncode=code, stderr=err.getvalue())


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.mark.parametrize("command", ["run", "batch"])
@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_config(tmp_path, case, command):
    _, text, fragment = case
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    r = main_in_process(command, str(cfg), "--out", str(out), cwd=tmp_path)
    assert_one_line_error(r, str(cfg), fragment)
    assert not out.exists()


@pytest.mark.parametrize("command,case", [("run", "empty-file"), ("batch", "wrong-type")])
def test_bad_config_through_the_real_cli(tmp_path, command, case):
    """The same errors from a real ``python -m suite`` process: its exit status, its stderr."""
    _, text, fragment = next(c for c in CONFIG_CASES if c[0] == case)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    r = run_cli(command, str(cfg), "--out", str(out), cwd=tmp_path)
    assert_one_line_error(r, str(cfg), fragment)
    assert not out.exists()


def test_missing_config_file(tmp_path):
    r = run_cli("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert_one_line_error(r, "nope.yaml", "config file not found")
    assert not (tmp_path / "o").exists()


def _good_config(tmp_path) -> Path:
    cfg = tmp_path / "good.yaml"
    cfg.write_text("models: [gru-numpy]\ntasks: {adding: {T: 5, n_train: 8, n_val: 8, n_test: 8}}\n"
                   "seeds: [0]\nspeed: {enabled: false}\npaper_check: {enabled: false}\n")
    return cfg


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = run_cli("run", str(_good_config(tmp_path)), "--out", str(blocker / "run"), cwd=tmp_path)
    assert_one_line_error(r, "--out", "cannot write there")


def test_output_where_mkdir_fails(tmp_path):
    """/proc/x/run passes the writability checks (root may write /proc) but cannot be created."""
    r = run_cli("run", str(_good_config(tmp_path)), "--out", "/proc/x/run", cwd=tmp_path)
    assert_one_line_error(r, "--out /proc/x/run", "cannot create it")


def test_output_exists(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "something").write_text("x")
    r = run_cli("run", str(_good_config(tmp_path)), "--out", str(out), cwd=tmp_path)
    assert_one_line_error(r, "--out", "already exists")
    assert sorted(p.name for p in out.iterdir()) == ["something"]


def test_resume_of_a_non_run(tmp_path):
    r = run_cli("run", "--resume", str(tmp_path), cwd=tmp_path)
    assert_one_line_error(r, "--resume", "not a run directory")


def test_resume_with_out(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("{}\n")
    r = run_cli("run", "--resume", str(tmp_path / "run"), "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert_one_line_error(r, "--out and --resume")


@pytest.mark.parametrize("text,fragment", [("training: {lr: [1,\n", "invalid YAML at line"),
                                           ("speed: {rounds: 0}\n", "key 'speed.rounds': expected a positive integer")])
def test_resume_of_a_run_whose_stored_config_is_damaged(tmp_path, text, fragment):
    """The stored config.yaml is read like a config file: a damaged one is a one-line error, not a traceback."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text(text)
    r = main_in_process("run", "--resume", str(tmp_path / "run"), cwd=tmp_path)
    assert_one_line_error(r, str(tmp_path / "run" / "config.yaml"), fragment)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.yaml"]


def test_no_config(tmp_path):
    assert_one_line_error(run_cli("run", cwd=tmp_path), "missing CONFIG")


@pytest.mark.parametrize("args,fragment", [
    (["params", "--hidden", "0"], "--hidden: expected a positive integer"),
    (["params", "--layers", "-1"], "--layers: expected a positive integer"),
    (["params", "--format", "xml"], "--format: invalid choice"),
    (["bench", "fidelity", "--threads", "0"], "--threads: expected a positive integer"),
    (["bench", "speedy"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_flags(tmp_path, args, fragment):
    assert_one_line_error(main_in_process(*args, cwd=tmp_path), fragment)


def test_unknown_notebook_parameter(tmp_path):
    """A notebook whose parameters cell declares a name that is no config key: refused before anything runs."""
    import nbformat
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for p in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(str(p), as_version=4)
        if p.stem == "speed":
            cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
            cell.source += "\nrounds: int = 2  # not a config key (speed_rounds is)"
        nbformat.write(nb, str(nb_dir / p.name))
    out = tmp_path / "out"
    r = run_cli("batch", str(_good_config(tmp_path)), "--out", str(out), cwd=tmp_path,
                env={"SUITE_NOTEBOOK_DIR": str(nb_dir)})
    assert_one_line_error(r, "speed.ipynb", "parameter 'rounds' in its parameters cell is not a config key")
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "batch"])
def test_unreachable_scheduler(tmp_path, command):
    import socket
    with socket.socket() as sock:            # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "out"
    r = run_cli(command, str(_good_config(tmp_path)), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}",
                cwd=tmp_path)
    assert_one_line_error(r, "--scheduler", f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    assert not out.exists()
    r = run_cli(command, str(_good_config(tmp_path)), "--out", str(out), "--scheduler", "127.0.0.1", cwd=tmp_path)
    assert_one_line_error(r, "--scheduler: key 'scheduler': expected a Dask scheduler address tcp://HOST:PORT")
