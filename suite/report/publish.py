"""Publishing a finished run's report (``make reference`` regenerates the committed results/reference/)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from suite.atomic import atomic_write_text
from suite.results.run_dir import open_run_folder

PUBLISHED = ("report.md", "index.html", "environment.json", "config.yaml", "results.csv", "curves.csv")


def publish_reference(run_dir, dest) -> Path:
    """Copy a finished run's report (report.md, index.html, figures, tables, machine info, results and the
    executed notebooks rendered as HTML; the executed .ipynb stay in the run) to ``dest`` --
    results/reference/ is made this way."""
    run_dir, dest = open_run_folder(run_dir, "publish").dir, Path(dest)   # damaged or foreign: one line, exit 2
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in PUBLISHED:
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, tmp / name)
    for folder in ("figures", "tables"):
        if (run_dir / folder).is_dir():
            shutil.copytree(run_dir / folder, tmp / folder)
    (tmp / "notebooks").mkdir()
    for path in sorted((run_dir / "notebooks").glob("*.html")):   # the .ipynb copies stay in the run (size)
        shutil.copy2(path, tmp / "notebooks" / path.name)
    for name in ("report.md", "index.html"):
        if (tmp / name).is_file():
            text = (tmp / name).read_text()
            text = re.sub(r" \(\[ipynb\]\(notebooks/[\w-]+\.ipynb\)\)", "", text)
            text = re.sub(r' \(<a href="notebooks/[\w-]+\.ipynb">ipynb</a>\)', "", text)
            atomic_write_text(tmp / name, text)
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest
