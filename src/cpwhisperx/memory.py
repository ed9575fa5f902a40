"""The peak memory of one part of a run, measured without touching what the kernel reports.

Resetting the kernel's high-water mark (`/proc/self/clear_refs`) would give each stage its own
peak, but it also lowers the figure that outside tools (`/usr/bin/time -v`, a parent's rusage)
report for the whole process. Instead: when the process's peak (`ru_maxrss`) rose while the part
ran, that new peak is the part's exact peak; otherwise the part stayed below an earlier peak, and
a thread sampling the resident set size (`/proc/self/statm`) tells how high it went.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path
from types import TracebackType

SAMPLE_SECONDS = 0.01
_STATM = Path("/proc/self/statm")


def current_rss_mb() -> float | None:
    """The resident set size now (Linux); None where it cannot be read."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(_STATM.read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    return None


def process_peak_mb() -> float | None:
    """The process's peak resident set size so far; None where the platform does not tell (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class PeakMemory:
    """Context manager: the peak resident set size, in MB, while its block runs."""

    def __init__(self) -> None:
        self.peak_mb: float | None = None
        self._sampled = 0.0
        self._peak_before: float | None = None
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        self.peak_mb = None
        self._peak_before = process_peak_mb()
        now = current_rss_mb()
        self._sampled = now or 0.0
        self._stop.clear()
        if now is not None:
            self._sampler = threading.Thread(target=self._sample, name="cpwx-peak-memory", daemon=True)
            self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sampled = max(self._sampled, current_rss_mb() or 0.0)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
            self._sampler = None
        self._sampled = max(self._sampled, current_rss_mb() or 0.0)
        peak_after = process_peak_mb()
        if peak_after is not None and self._peak_before is not None and peak_after > self._peak_before:
            self.peak_mb = peak_after
        elif self._sampled:
            self.peak_mb = self._sampled
        else:  # nothing to sample on this platform: the process's peak is the best bound known
            self.peak_mb = peak_after or 0.0
