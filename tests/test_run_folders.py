"""A damaged or foreign run directory given to any command that reads one -- ``run --resume``, ``batch --resume``,
``compare``, ``publish-reference``, the report notebook -- is one line naming the directory or file and what was
expected, exit status 2, and nothing written (``suite.results.run_dir.open_run_folder``). The commands go through
``suite.cli.main`` in this process: the code path of ``python -m suite``, whose only addition is ``sys.exit``."""
import gzip
import json

import pytest
import yaml

from suite.cli import main
from suite.config import config_yaml, defaults
from suite.errors import UserError
from suite.results.run_dir import PURPOSES, open_run_folder
from suite.results.samples import SAMPLES_FILE
from suite.results.store import RunStore


def write_run(path):
    """A small run directory as the store writes it: config, environment, run.json, two finished units (one
    with raw timing samples), results.csv, curves.csv, samples.json.gz and a report.md."""
    cfg = defaults()
    store = RunStore(path)
    store.create(cfg, config_yaml(cfg), threads=1)
    (path / "run.json").write_text(json.dumps({"stages": ["params", "speed"], "command": ["run"]}))
    store.write_unit("params", [{"kind": "params", "model": "gru-torch", "metric": "params_counted",
                                 "value": 6369.0, "status": "ok"}], stage="params")
    store.write_unit("speed", [{"kind": "speed", "model": "gru-torch", "metric": "train_step_ms", "value": 2.0,
                                "unit": "ms", "B": 2, "T": 12, "hidden": 4, "layers": 1, "threads": 1,
                                "status": "ok", "samples": {"rounds": [[1.9, 2.0, 2.1]], "stable": [True]}}],
                     stage="speed")
    store.finalize()
    (path / "report.md").write_text("# report\n")
    return path


def snapshot(root):
    """Every path under ``root`` with its bytes (None for a folder): what a command must leave as it was."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


@pytest.fixture
def good_run(tmp_path):
    return write_run(tmp_path / "good")


# (id, file damaged, how) -- each one a way a stored file stops reading back as what the store wrote
DAMAGES = [
    ("config-unparsable", "config.yaml", lambda p: p.write_text("training: {lr: [1,\n")),
    ("config-not-a-mapping", "config.yaml", lambda p: p.write_text("- 1\n- 2\n")),
    ("config-binary", "config.yaml", lambda p: p.write_bytes(b"\xff\xfe\x00name")),
    ("results-unparsable", "results.csv", lambda p: p.write_text("kind,metric\nspeed,a,b,c,d\n")),
    ("results-foreign-table", "results.csv", lambda p: p.write_text("x,y\n1,2\n")),
    ("results-empty", "results.csv", lambda p: p.write_bytes(b"")),
    ("environment-unparsable", "environment.json", lambda p: p.write_text('{"python": "3.11"')),
    ("unit-truncated", "units/params.json", lambda p: p.write_text(p.read_text()[:40])),
    ("unit-without-rows", "units/speed.json", lambda p: p.write_text('{"work_unit": "speed"}')),
    ("samples-not-gzip", SAMPLES_FILE, lambda p: p.write_bytes(b"not gzip at all")),
    ("samples-not-json", SAMPLES_FILE, lambda p: p.write_bytes(gzip.compress(b"{records"))),
]


def damaged_run(tmp_path, name, how):
    run = write_run(tmp_path / "damaged")
    how(run / name)
    return run, run / name


def foreign_folder(tmp_path, kind):
    folder = tmp_path / kind
    folder.mkdir()
    if kind == "unrelated-files":
        (folder / "notes.txt").write_text("holiday plans\n")
        (folder / "data.csv").write_text("a,b\n1,2\n")
    return folder


def commands(run, other, dest):
    """Every command that reads a run directory, with ``run`` in the place of the one it reads."""
    return {"run --resume": ["run", "--resume", str(run)],
            "batch --resume": ["batch", "--resume", str(run)],
            "compare (as A)": ["compare", str(run), str(other)],
            "compare (as B)": ["compare", str(other), str(run)],
            "publish-reference": ["publish-reference", str(run), str(dest)]}


def assert_refused(argv, capsys, named, tmp_path, dest):
    before = snapshot(tmp_path)
    assert main(argv) == 2, argv
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert str(named) in err[0] and "expected" in err[0], err[0]
    assert snapshot(tmp_path) == before, f"{argv} wrote into {tmp_path}"
    assert not dest.exists() and not dest.with_name(dest.name + ".partial").exists()
    return err[0]


@pytest.mark.parametrize("case, name, how", DAMAGES, ids=[d[0] for d in DAMAGES])
def test_every_command_refuses_a_damaged_run_directory(tmp_path, good_run, capsys, case, name, how):
    run, damaged = damaged_run(tmp_path, name, how)
    dest = tmp_path / "published"
    for label, argv in commands(run, good_run, dest).items():
        assert_refused(argv, capsys, damaged, tmp_path, dest)


@pytest.mark.parametrize("kind", ["empty", "unrelated-files"])
def test_every_command_refuses_a_foreign_directory(tmp_path, good_run, capsys, kind):
    folder = foreign_folder(tmp_path, kind)
    dest = tmp_path / "published"
    for label, argv in commands(folder, good_run, dest).items():
        line = assert_refused(argv, capsys, folder, tmp_path, dest)
        assert ": not a run directory: no " in line, (label, line)


def test_a_missing_directory_is_named(tmp_path, good_run, capsys):
    dest = tmp_path / "published"
    for label, argv in commands(tmp_path / "nowhere", good_run, dest).items():
        line = assert_refused(argv, capsys, tmp_path / "nowhere", tmp_path, dest)
        assert "not a directory: nothing exists there" in line, (label, line)


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_what_the_store_writes_opens_for_every_purpose(good_run, purpose):
    folder = open_run_folder(good_run, purpose)
    assert folder.dir == good_run and folder.config == yaml.safe_load((good_run / "config.yaml").read_text())


def test_the_message_says_which_file_and_what_it_should_be(tmp_path):
    run, damaged = damaged_run(tmp_path, "config.yaml", lambda p: p.write_text("training: {lr: [1,\n"))
    with pytest.raises(UserError) as e:
        open_run_folder(run, "resume")
    assert str(e.value).startswith(f"--resume {damaged}: invalid YAML at line ") and "expected the config" in \
        str(e.value) and "\n" not in str(e.value)
    with pytest.raises(UserError, match=r"^compare .*results\.csv: missing columns kind, metric, value, status"):
        open_run_folder(damaged_run(tmp_path / "b", "results.csv", lambda p: p.write_text("x,y\n1,2\n"))[0],
                        "compare")


@pytest.mark.parametrize("case, name, how", [d for d in DAMAGES if d[1] in ("config.yaml", "results.csv")],
                         ids=[d[0] for d in DAMAGES if d[1] in ("config.yaml", "results.csv")])
def test_the_report_notebook_refuses_a_damaged_run_directory(tmp_path, case, name, how):
    """The report notebook's first call (notebook_run) opens its run_dir before reading or writing anything."""
    from suite.run.notebook_api import notebook_run
    run, damaged = damaged_run(tmp_path, name, how)
    before = snapshot(tmp_path)
    with pytest.raises(UserError) as e:
        notebook_run("report", {"run_dir": str(run)})
    assert str(e.value).startswith(f"report {damaged}: ") and "\n" not in str(e.value)
    assert snapshot(tmp_path) == before


def test_a_notebook_refuses_a_foreign_directory_but_starts_an_empty_one(tmp_path):
    from suite.run.notebook_api import notebook_run
    folder = foreign_folder(tmp_path, "unrelated-files")
    before = snapshot(tmp_path)
    for name in ("report", "parameters"):
        with pytest.raises(UserError, match="not a run directory: no config.yaml"):
            notebook_run(name, {"run_dir": str(folder)})
    assert snapshot(tmp_path) == before
    empty = foreign_folder(tmp_path, "empty")
    run = notebook_run("report", {"run_dir": str(empty)})
    assert run.dir == empty and (empty / "config.yaml").is_file()


def test_the_committed_reference_opens_for_compare_and_publish():
    from pathlib import Path
    reference = Path(__file__).resolve().parent.parent / "results" / "reference"
    for purpose in ("compare", "publish", "report"):
        assert open_run_folder(reference, purpose).config["name"] == "default"
