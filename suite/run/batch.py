"""`python -m suite batch CONFIG`: execute every notebook with papermill, keep the executed copies,
render them to HTML; the report notebook writes the report (the batch writes it only when that notebook
is not in the batch or failed).

Order of work: load and validate the config; check every notebook parameter name against
``papermill.inspect_notebook`` (papermill itself only warns on unknown names); only then create the run
directory. Each notebook runs in its own kernel with parameters passed as data (papermill injects
them as literals). A notebook that fails (PapermillExecutionError) or passes its cell time limit
(nbclient's CellTimeoutError, which papermill does not convert) is recorded as failed, with a link to
its executed copy, and the batch goes on; the exit status is 1 if anything failed.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from suite.atomic import atomic_write_text
from suite.config import Config, flat_parameters
from suite.errors import UserError, one_line_error
from suite.run.notebook_api import declared_parameters, notebook_path


def check_notebook_parameters(cfg: Config, where: str) -> None:
    """Every parameter a notebook declares (run_dir aside) must be a config key (current or former name), so
    the batch can pass it."""
    from suite.config import flat_key
    for name in cfg.batch.notebooks:
        path = notebook_path(name)
        if not path.is_file():
            raise UserError(f"{where}: key 'batch.notebooks': notebook {path} not found")
        unknown = [p for p in declared_parameters(name) if flat_key(p) is None]
        if unknown:
            raise UserError(f"{path}: parameter {unknown[0]!r} in its parameters cell is not a config key "
                            f"(config keys flattened with '_', e.g. speed_base_seq_len; python -m suite "
                            f"config-help)")


def parameters_for(name: str, cfg: Config, run_dir) -> dict:
    """The papermill parameters of notebook ``name``: run_dir and the config values of its declared keys."""
    return {"run_dir": str(run_dir), **flat_parameters(cfg, declared_parameters(name))}


def ipc_kernel_manager(folder: str):
    """A kernel manager on local IPC sockets in ``folder`` (private, temporary; the caller removes it), not TCP
    on localhost: nothing is reachable from the network, and the kernel has no reason to warn about unencrypted
    TCP."""
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            return tempfile.mkdtemp(dir=folder) + "/kernel"

    return IPCKernelManager


# Notebooks that time nothing (the counts and the equivalence checks, ~1 core each): the batch runs them side
# by side, one kernel per core, while no measurement is under way. Every other notebook runs alone.
SIDE_BY_SIDE = ("parameters", "equivalence")


def notebook_groups(names: list[str]) -> list[list[str]]:
    """The notebooks in order, consecutive SIDE_BY_SIDE ones grouped (at most one per core)."""
    from suite.run.cluster import cores
    groups: list[list[str]] = []
    for name in names:
        if groups and name in SIDE_BY_SIDE and all(n in SIDE_BY_SIDE for n in groups[-1]) \
                and len(groups[-1]) < max(1, cores()):
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


def execute_notebook(name: str, cfg: Config, run_dir: Path, progress: bool = True) -> dict:
    """Run one notebook in the run folder (its kernel's working directory; run_dir = "." so the executed copy
    holds no path of this machine); returns {'status', 'error', 'seconds', 'output', 'html'}. Never raises
    for a failure inside the notebook. progress: papermill's cell bar (off when notebooks run side by side)."""
    import tempfile

    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    out_dir = run_dir / "notebooks"
    out_dir.mkdir(exist_ok=True)
    final = out_dir / f"{name}.ipynb"
    tmp = out_dir / f".{name}.partial.ipynb"
    start = time.perf_counter()
    status, error = "ok", None
    # the kernel's sockets live in a folder removed when the notebook is done, in whichever process ran it
    # (an atexit hook is not run in the forked processes of side-by-side notebooks: their folders stayed behind)
    try:
        with tempfile.TemporaryDirectory(prefix="suite-kernels-") as folder:
            pm.execute_notebook(str(notebook_path(name)), str(tmp), parameters=parameters_for(name, cfg, "."),
                                kernel_name="python3", progress_bar=progress, log_output=False,
                                execution_timeout=cfg.batch.cell_timeout_s, cwd=str(run_dir.resolve()),
                                kernel_manager_class=ipc_kernel_manager(folder))
    except pm.PapermillExecutionError as e:
        status, error = "failed", one_line_error(f"{e.ename}: {e.evalue}")
    except CellTimeoutError as e:
        status, error = "failed", f"cell timed out after {cfg.batch.cell_timeout_s} s: {one_line_error(str(e), 300)}"
    except DeadKernelError as e:
        status, error = "failed", f"kernel died: {one_line_error(str(e), 300)}"
    seconds = time.perf_counter() - start
    if tmp.exists():
        tmp.replace(final)
    html = render_html(final) if final.exists() else None
    return {"status": status, "error": error, "seconds": seconds, "output": final, "html": html}


def render_html(notebook: Path) -> Path | None:
    import nbformat
    from nbconvert import HTMLExporter
    try:
        body, _ = HTMLExporter().from_notebook_node(nbformat.read(str(notebook), as_version=4))
    except Exception as e:  # a rendering problem must not lose the executed notebook
        print(f"warning: could not render {notebook} to HTML: {e}", file=sys.stderr)
        return None
    html = notebook.with_suffix(".html")
    atomic_write_text(html, body)
    return html


def link_latest(run_dir: Path) -> None:
    """results/latest -> the newest batch run, when the run lives under results/ (atomic symlink swap)."""
    import os
    from suite.results.run_dir import RESULTS_ROOT
    run_dir = run_dir.resolve()
    if run_dir.parent != RESULTS_ROOT.resolve():
        return
    tmp = RESULTS_ROOT / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, RESULTS_ROOT / "latest")


def notebook_ok(store, name: str) -> bool:
    """The notebook ran to the end in this run folder (a resumed batch skips it)."""
    unit_id = f"notebook-{name}"
    return store.has_unit(unit_id) and all(r["status"] == "ok" for r in store.read_unit(unit_id)["rows"])


def run_batch(config_path, out=None, resume=None, scheduler=None) -> int:
    from tqdm.auto import tqdm

    from suite.config import load_config
    from suite.run.experiment import open_run
    if config_path and not resume:
        check_notebook_parameters(load_config(config_path), config_path)
    cfg, store = open_run(config_path, out, resume, scheduler=scheduler)
    if resume:
        check_notebook_parameters(cfg, str(store.dir / "config.yaml"))
    print(f"run directory: {store.dir}", file=sys.stderr)
    names = cfg.batch.notebooks
    bar = tqdm(total=len(names), desc="batch", unit="notebook", dynamic_ncols=True)

    def record(name: str, result: dict) -> None:
        row = {"kind": "notebook", "model": name, "metric": "wall_s", "value": result["seconds"], "unit": "s",
               "status": result["status"], "error": result["error"],
               "notebook": str(result["output"].resolve().relative_to(store.dir.resolve())),
               "html": str(result["html"].resolve().relative_to(store.dir.resolve())) if result["html"] else None}
        store.write_unit(f"notebook-{name}", [row], stage="notebook")
        if result["status"] != "ok":
            tqdm.write(f"notebook {name} failed: {result['error']} (see {result['output']})", file=sys.stderr)
        bar.update(1)

    for group in notebook_groups(names):
        todo = [n for n in group if not notebook_ok(store, n)]
        bar.update(len(group) - len(todo))
        bar.set_postfix_str(" + ".join(todo))
        if len(todo) > 1:      # processes, not threads: papermill changes the working directory of its process
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(max_workers=len(todo), mp_context=multiprocessing.get_context("fork")) as pool:
                futures = {n: pool.submit(execute_notebook, n, cfg, store.dir.resolve(), False) for n in todo}
                for n in todo:
                    record(n, futures[n].result())
        elif todo:
            record(todo[0], execute_notebook(todo[0], cfg, store.dir))
    bar.close()
    frame = store.finalize()
    report = store.dir / "index.html"
    if not notebook_ok(store, "report") or not report.is_file():
        from suite.report.writer import write_report
        from suite.results.run_dir import open_run_folder
        open_run_folder(store.dir, "report")      # what the report reads is readable: else one line, exit 2
        report = write_report(store.dir, cfg)     # the report notebook did not write it: the batch does, once
    failed = frame[frame["status"] == "failed"]
    n_nb = failed[failed["kind"] == "notebook"]["model"].nunique() if len(failed) else 0
    n_units = failed[failed["kind"] != "notebook"]["work_unit"].nunique() if len(failed) else 0
    link_latest(store.dir)
    print(f"report: {report}", file=sys.stderr)
    print(f"{len(names)} notebooks, {n_nb} failed; {n_units} work units failed", file=sys.stderr)
    return 1 if len(failed) else 0
