"""A batch from start to end: the films' jobs made (or found again), run by an engine, recorded in
`batch.json` as they go, and summed up."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cpwhisperx.batch.engine import Listener
from cpwhisperx.batch.films import Film
from cpwhisperx.batch.record import BatchRecord, FilmEntry, now_iso, open_record
from cpwhisperx.batch.worker import FilmTask
from cpwhisperx.errors import CpwxError
from cpwhisperx.jobs import Job, prepare_job
from cpwhisperx.logs import LOGGER_NAME, failure_report

log = logging.getLogger(f"{LOGGER_NAME}.batch")


@dataclass
class FilmProgress:
    """What a running film is doing now, from its events."""

    stage: str = ""
    task: str = ""
    percent: int | None = None


@dataclass
class BatchRun(Listener):
    """The batch's record, kept up to date as the engine reports; what the display shows."""

    record: BatchRecord
    folder: Path
    started_at: float = field(default_factory=time.monotonic)
    running: dict[str, FilmProgress] = field(default_factory=dict)
    ran_now: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._by_key = {entry.key: entry for entry in self.record.films}

    def entry(self, key: str) -> FilmEntry:
        return self._by_key[key]

    def save(self) -> None:
        self.record.save(self.folder)

    def started(self, key: str, worker: str) -> None:
        entry = self.entry(key)
        entry.state, entry.worker, entry.attempts, entry.started = "running", worker, entry.attempts + 1, now_iso()
        entry.finished = entry.message = entry.fix = entry.stage = entry.log = None
        entry.exit_code = None
        self.running[key] = FilmProgress()
        self.ran_now.add(key)
        log.info("%s: started on %s", entry.name, worker)
        self.save()

    def event(self, key: str, item: dict[str, object]) -> None:
        progress = self.running.setdefault(key, FilmProgress())
        kind = item.get("type")
        if kind == "stage" and item.get("state") == "started":
            progress.stage, progress.task, progress.percent = str(item.get("stage")), "", None
        elif kind == "progress":
            progress.task, progress.percent = str(item.get("task")), int(item.get("percent") or 0)  # type: ignore[call-overload]
        elif kind == "log" and item.get("level") in ("warning", "error"):
            log.warning("%s: %s", self.entry(key).name, item.get("message"))

    def finished(self, key: str, outcome: Mapping[str, object]) -> None:
        entry = self.entry(key)
        self.running.pop(key, None)
        entry.state = "success" if outcome.get("state") == "success" else "failed"
        entry.finished = now_iso()
        entry.exit_code = int(outcome.get("exit_code") or 0)  # type: ignore[call-overload]
        for name in ("message", "fix", "stage", "log"):
            setattr(entry, name, outcome.get(name))
        if entry.state == "success":
            entry.seconds = float(outcome["seconds"])  # type: ignore[arg-type]
            entry.ran, entry.reused = list(outcome["ran"]), list(outcome["reused"])  # type: ignore[call-overload]
            entry.deliverables = list(outcome["deliverables"])  # type: ignore[call-overload]
            if entry.audio_seconds:
                entry.real_time_factor = round(entry.seconds / entry.audio_seconds, 4)
        entry.peak_memory_mb = outcome.get("peak_memory_mb")  # type: ignore[assignment]
        log.info("%s: %s%s; %s", entry.name, entry.state, f" ({entry.message})" if entry.message else f" in {entry.seconds:.1f} s",
                 self.headline())
        self.save()

    def lost(self, key: str, why: str, again: bool) -> None:
        entry = self.entry(key)
        self.running.pop(key, None)
        entry.lost.append(why)
        entry.state = "interrupted"
        log.warning("%s: %s%s", entry.name, why, "; it starts again and resumes from its last finished stage" if again else "")
        self.save()

    def interrupted(self) -> None:
        """Ctrl-C: what was running is recorded as interrupted; its job resumes on the next run."""
        for key in list(self.running):
            self.entry(key).state = "interrupted"
        self.running.clear()
        self.save()

    def audio_seconds(self, *states: str) -> float:
        return sum(e.audio_seconds or 0 for e in self.record.films if e.state in states)

    def headline(self) -> str:
        """The batch in one line: films done / running / failed, hours of audio done, time left."""
        states = [e.state for e in self.record.films]
        total = self.audio_seconds("pending", "running", "interrupted", "success", "failed")
        left = self.seconds_left()
        return (f"{states.count('success')}/{len(states)} done, {states.count('running')} running, {states.count('failed')} failed; "
                f"audio {format_seconds(self.audio_seconds('success'))} of {format_seconds(total)} done"
                + (f"; about {format_seconds(left)} left" if left else ""))

    def seconds_left(self) -> float | None:
        """From this run's pace: audio finished so far per second of the batch."""
        done_now = sum(e.audio_seconds or 0 for e in self.record.films if e.key in self.ran_now and e.state == "success")
        if not done_now:
            return None
        rate = done_now / (time.monotonic() - self.started_at)
        return self.audio_seconds("pending", "running", "interrupted") / rate


def prepare_films(record: BatchRecord, films: list[Film], *, user: str | None) -> list[str]:
    """Make each film's job unless it has one already; the keys of the films left to run, longest first.

    A film that cannot be prepared (its media missing or unreadable) is recorded failed; the others go on."""
    from cpwhisperx import media

    by_key = {film.key: film for film in films}
    to_run = []
    for entry in record.films:
        film = by_key[entry.key]
        job = _existing_job(entry)
        if job is not None and job.record.status == "success":
            entry.state = "success"
            continue
        try:
            if job is None:
                job = prepare_job(film.media, record.workflow, source_language=film.source_language,
                                  target_languages=list(film.target_languages), user=user, overrides=film.values)
                entry.job_id, entry.job_dir = job.id, str(job.dir)
            if entry.audio_seconds is None:
                entry.audio_seconds = media.probe(film.media).duration
        except CpwxError as exc:
            report = failure_report(exc)
            entry.state, entry.exit_code, entry.message, entry.fix = "failed", int(report["exit_code"]), str(report["message"]), report["fix"]  # type: ignore[call-overload, assignment]
            entry.finished = now_iso()
            log.warning("%s: %s", entry.name, entry.message)
            continue
        if entry.state != "interrupted":  # an interrupted film keeps saying so until it starts again
            entry.state = "pending"
        to_run.append(entry)
    to_run.sort(key=lambda e: -(e.audio_seconds or 0))
    return [entry.key for entry in to_run]


def _existing_job(entry: FilmEntry) -> Job | None:
    if not entry.job_dir or not (Path(entry.job_dir) / "job.json").is_file():
        return None
    try:
        return Job.load(Path(entry.job_dir))
    except CpwxError:  # a job file that no longer reads is made again
        return None


def tasks_for(record: BatchRecord, keys: list[str], run_values: Mapping[str, str]) -> list[FilmTask]:
    """Each film's task; a film's own WHISPER_CPU_THREADS outranks the batch's share of the cores."""
    by_key = {entry.key: entry for entry in record.films}
    tasks = []
    for key in keys:
        entry = by_key[key]
        values = {k: v for k, v in run_values.items() if k not in entry.values}
        tasks.append(FilmTask(key, str(entry.job_dir), values))
    return tasks


def start_record(folder: Path, films: list[Film], workflow: str) -> BatchRecord:
    folder.mkdir(parents=True, exist_ok=True)
    record = open_record(folder, films, workflow)
    record.runs += 1
    return record


def format_seconds(seconds: float) -> str:
    """Audio and waiting times as people read them: 45 s, 3 min 05 s, 2 h 10 min."""
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
