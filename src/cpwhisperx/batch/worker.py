"""One film's job run inside a batch worker: its events passed on as they happen, its outcome as data."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cpwhisperx.logs import LOGGER_NAME, EventHandler, failure_report
from cpwhisperx.memory import PeakMemory

Sink = Callable[[dict[str, object]], None]


@dataclass(frozen=True)
class FilmTask:
    """What a worker is given: the film's job, made beforehand, and the values for this run only."""

    key: str
    job_dir: str
    run_values: Mapping[str, str] = field(default_factory=dict)


def run_film(task: FilmTask, send: Sink) -> dict[str, object]:
    """Run (or resume) the film's job; `send` receives each event of the run, from any thread."""
    from cpwhisperx.pipeline import run_job

    lock = threading.Lock()

    def forward(item: dict[str, object]) -> None:
        with lock:
            send(item)

    logger = logging.getLogger(LOGGER_NAME)
    handler = EventHandler(forward)
    logger.addHandler(handler)
    try:
        with PeakMemory() as peak:
            try:
                outcome: dict[str, object] = {"state": "success", **run_job(task.job_dir, run_values=task.run_values).report()}
            except Exception as exc:  # a failed film is an outcome to record; the worker goes on with the next
                outcome = {"state": "failed", **failure_report(exc)}
        outcome["peak_memory_mb"] = round(peak.peak_mb, 1) if peak.peak_mb else None
        return outcome
    finally:
        logger.removeHandler(handler)


def prepare_worker_process() -> None:
    """Set-up of a fresh worker process: models kept from film to film, no console of its own.

    The worker's share of the cores is its films' WHISPER_CPU_THREADS alone: NumPy's thread pools
    keep their defaults, because their sums (the mel features) come out differently on other thread
    counts, and the films' transcripts would no longer be those `cpwx transcribe` makes."""
    from cpwhisperx import asr

    asr.keep_models()
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
