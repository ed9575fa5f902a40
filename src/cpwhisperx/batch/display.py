"""The batch on a terminal: a live panel of the batch and each running film; elsewhere the log lines say it."""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from cpwhisperx.batch.run import BatchRun
from cpwhisperx.logs import LOGGER_NAME


class BatchDisplay:
    def __init__(self, run: BatchRun) -> None:
        self.run = run
        self._live: Any = None
        self._handlers: list[tuple[logging.StreamHandler[Any], Any]] = []

    def render(self) -> Group:
        table = Table(box=None, show_header=False, pad_edge=False)
        for column in ("film", "worker", "stage", "progress"):
            table.add_column(column)
        for key, progress in list(self.run.running.items()):  # the panel refreshes from a thread of its own
            entry = self.run.entry(key)
            doing = f"{progress.task} {progress.percent}%" if progress.percent is not None else ""
            table.add_row(entry.name, entry.worker or "", progress.stage, doing)
        return Group(Text(f"batch {self.run.record.id}: {self.run.headline()}", style="bold"), table)

    def __enter__(self) -> BatchDisplay:
        if sys.stderr.isatty():
            from rich.live import Live

            self._live = Live(get_renderable=self.render, console=Console(stderr=True), refresh_per_second=2, transient=True,
                              redirect_stderr=True)
            self._live.start()
            # The console's log lines go above the panel, not through it.
            for handler in logging.getLogger(LOGGER_NAME).handlers:
                if getattr(handler, "_cpwx_console", False) and isinstance(handler, logging.StreamHandler):
                    self._handlers.append((handler, handler.setStream(sys.stderr)))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            for handler, stream in self._handlers:
                handler.setStream(stream)
            self._live.stop()
