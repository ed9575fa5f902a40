"""Progress of long stages: a bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
from types import TracebackType


class ProgressReporter:
    """Reports `done` out of `total` units (e.g. seconds of audio)."""

    def __init__(self, description: str, total: float, logger: logging.Logger, unit: str = "s", step_percent: int = 10) -> None:
        self.description = description
        self.total = max(total, 1e-9)
        self.logger = logger
        self.unit = unit
        self.step = step_percent
        self._next_percent = step_percent
        self._bar = None
        self._task = None

    def __enter__(self) -> ProgressReporter:
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} " + self.unit),
                                 TimeElapsedColumn(), TimeRemainingColumn(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def update(self, done: float) -> None:
        done = min(max(done, 0.0), self.total)
        if self._bar is not None:
            self._bar.update(self._task, completed=done)
        percent = 100 * done / self.total
        if percent >= self._next_percent:
            self.logger.info("%s: %.0f%% (%.1f/%.1f %s)", self.description, percent, done, self.total, self.unit)
            self._next_percent = (int(percent) // self.step + 1) * self.step

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
