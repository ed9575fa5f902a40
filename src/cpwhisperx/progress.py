"""Progress of long work: a bar on a terminal, plain log lines otherwise, each with what is being
done, done/total and the time left."""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import Any

from cpwhisperx.logs import event


class ProgressReporter:
    """Reports `done` out of `total` units (seconds of audio, sentences, megabytes).

    A line is logged at each `step_percent` and when the work is done: at INFO (the console) unless
    it comes within `min_interval` seconds of the one before, at DEBUG (the stage log) otherwise,
    so that work ending in a moment does not fill the console.
    """

    def __init__(self, description: str, total: float, logger: logging.Logger, unit: str = "s", step_percent: int = 10,
                 min_interval: float = 2.0) -> None:
        self.description = description
        self.total = max(total, 1e-9)
        self.logger = logger
        self.unit = unit
        self.step = step_percent
        self.min_interval = min_interval
        self.done = 0.0
        self._next_percent = step_percent
        self._started = self._last_line = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    # A terminal shows one live bar at a time (rich refuses a second): a reporter started inside
    # another one reports in lines.
    _live = 0

    def __enter__(self) -> ProgressReporter:
        if sys.stderr.isatty() and ProgressReporter._live == 0:
            ProgressReporter._live += 1
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} " + self.unit),
                                 TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        self._started = self._last_line = time.monotonic()
        return self

    def set_total(self, total: float) -> None:
        """For work whose size is known only once it starts."""
        self.total = max(total, 1e-9)
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

    def advance(self, amount: float) -> None:
        self.update(self.done + amount)

    def update(self, done: float) -> None:
        self.done = done = min(max(done, 0.0), self.total)
        if self._bar is not None:
            self._bar.update(self._task, completed=done)
        percent = 100 * done / self.total
        if percent < self._next_percent:
            return
        self._next_percent = (int(percent) // self.step + 1) * self.step
        now = time.monotonic()
        left = _seconds_left(now - self._started, done, self.total)
        self._line(now, "%s: %d%% (%s/%s %s)%s", self.description, int(percent), _amount(done), _amount(self.total), self.unit,
                   _time_left(left), extra=self._event(percent, left))

    def _event(self, percent: float, seconds_left: float | None) -> dict[str, dict[str, object]]:
        return event("progress", task=self.description, done=round(self.done, 3), total=round(self.total, 3), unit=self.unit,
                     percent=int(percent), seconds_left=None if seconds_left is None else round(seconds_left, 1))

    def _line(self, now: float, message: str, *args: object, extra: dict[str, dict[str, object]]) -> None:
        level = logging.INFO if now - self._last_line >= self.min_interval else logging.DEBUG
        if level == logging.INFO:
            self._last_line = now
        self.logger.log(level, message, *args, extra=extra)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
            ProgressReporter._live -= 1
        if exc_type is None:
            now = time.monotonic()
            self._line(now, "%s: done (%s %s) in %.1f s", self.description, _amount(self.done), self.unit, now - self._started,
                       extra=self._event(100, 0.0))


def _amount(value: float) -> str:
    return f"{value:.0f}" if value >= 100 or float(value).is_integer() else f"{value:.1f}"


def _seconds_left(elapsed: float, done: float, total: float) -> float | None:
    if done <= 0 or done >= total:
        return None
    return elapsed * (total - done) / done


def _time_left(left: float | None) -> str:
    if left is None:
        return ""
    minutes, seconds = divmod(round(left), 60)
    return f", about {minutes} min {seconds:02d} s left" if minutes else f", about {seconds} s left"
