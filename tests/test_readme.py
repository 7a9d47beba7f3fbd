"""The README's Python example runs and prints differences below the equivalence tolerance."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.integration      # the example in a process of its own, all three frameworks
def test_readme_example_runs():
    readme = (ROOT / "README.md").read_text()
    assert readme.lstrip().startswith("# ") and "make report" in readme.split("```")[1] and \
        "make test" in readme.split("```")[1]   # the two commands come first
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    diffs = ast.literal_eval(r.stdout.strip().splitlines()[-1])
    assert set(diffs) == {"torch", "keras"} and max(diffs.values()) < 1e-5
