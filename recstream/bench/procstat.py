"""A process's CPU time and peak resident memory from Linux /proc (no psutil needed)."""

from __future__ import annotations

import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds_from_stat(stat_text: str, clk_tck: int = CLK_TCK) -> float:
    """utime + stime (s) from the text of ``/proc/<pid>/stat``.

    The command name (field 2) is in parentheses and may contain spaces, so fields are
    counted after the last ``)``: utime and stime are fields 14 and 15.
    """
    rest = stat_text[stat_text.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / clk_tck


def peak_rss_mb_from_status(status_text: str, field: str = "VmHWM") -> float | None:
    """VmHWM (peak resident set; ``field="VmRSS"``: the current one) in MiB from the text of
    ``/proc/<pid>/status``."""
    for line in status_text.splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024.0, 1)
    return None


def cpu_seconds(pid: int) -> float | None:
    """The process's CPU seconds so far; None once it is gone."""
    try:
        return cpu_seconds_from_stat(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory (VmHWM, MiB); None once it is gone."""
    return rss_mb(pid, "VmHWM")


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """The process's resident memory now (VmRSS; ``field``: another size line of
    ``/proc/<pid>/status``) in MiB; None once it is gone."""
    try:
        return peak_rss_mb_from_status(Path(f"/proc/{pid}/status").read_text(), field)
    except OSError:
        return None
