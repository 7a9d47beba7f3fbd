"""Where derived data sets live on disk, and how they are written.

Directory: ``$SUITE_CACHE_DIR`` if set, else ``~/.cache/gru-suite``. Files are written atomically
(a temporary file in the same directory, then ``os.replace``), so a reader never sees half a file
and two processes building the same cache at once both end with a complete one. Every file carries
a ``version`` entry; a file whose version differs from the caller's is treated as absent.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from suite.atomic import atomic_write_bytes

ENV_VAR = "SUITE_CACHE_DIR"
DEFAULT_DIR = Path.home() / ".cache" / "gru-suite"


def cache_dir() -> Path:
    """The cache directory (created on first use)."""
    path = Path(os.environ.get(ENV_VAR) or DEFAULT_DIR).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_npz_atomic(path: Path, version: int, **arrays: np.ndarray) -> None:
    """Write ``arrays`` plus ``version`` to ``path`` (compressed .npz), atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, version=np.int64(version), **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_npz(path: Path, version: int | None = None) -> dict[str, np.ndarray] | None:
    """The arrays stored at ``path``, or None when it is missing, unreadable or of another version.

    ``version=None`` accepts any version (used for committed fixtures).
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    if version is not None and int(arrays.get("version", -1)) != version:
        return None
    return arrays
