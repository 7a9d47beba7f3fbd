"""A process's resident memory as Linux reports it in ``/proc/self/status``: the one reader the speed, memory
and edge workers share.

    VmRSS   resident set size now (kB)
    VmHWM   its high-water mark: the largest VmRSS since the process image started, or since the mark was
            last reset by writing "5" to /proc/self/clear_refs (Linux >= 4.0)

Values are returned in MiB (kB / 1024). Off Linux there is no /proc: ``status_mb`` gives None, and
``peak_rss_mb`` falls back to ``getrusage``'s ru_maxrss.
"""
from __future__ import annotations

import resource

STATUS_PATH = "/proc/self/status"
CLEAR_REFS_PATH = "/proc/self/clear_refs"
RESET_HIGH_WATER_MARK = "5"          # clear_refs value: VmHWM := VmRSS


def parse_status_kb(text: str, field: str) -> int | None:
    """The kB value of ``field`` ('VmRSS', 'VmHWM', ...) in the text of a /proc/<pid>/status file; None when
    the field is absent."""
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name == field:
            return int(rest.split()[0])
    return None


def status_mb(field: str) -> float | None:
    """``field`` of this process's /proc/self/status in MiB; None off Linux or when the field is absent."""
    try:
        with open(STATUS_PATH, encoding="ascii") as f:
            kb = parse_status_kb(f.read(), field)
    except OSError:
        return None
    return None if kb is None else kb / 1024.0


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB: VmHWM (the high-water mark of this process image).

    Not ru_maxrss where /proc exists: that survives fork + exec, so a worker started by a 800 MB parent (a
    notebook kernel with torch and TensorFlow loaded) would report the parent's size. Elsewhere ru_maxrss
    (kB on Linux) is the fallback."""
    peak = status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak() -> None:
    """Set VmHWM back to the current VmRSS; OSError where the kernel has no clear_refs (not Linux)."""
    with open(CLEAR_REFS_PATH, "w", encoding="ascii") as f:
        f.write(RESET_HIGH_WATER_MARK)
