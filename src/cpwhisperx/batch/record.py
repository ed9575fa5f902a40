"""`batch.json`: the films of a batch, their job ids and states; what a second run of the same batch resumes from."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from cpwhisperx.batch.films import Film
from cpwhisperx.files import atomic_write_text

BATCH_FILE = "batch.json"
FilmState = Literal["pending", "running", "success", "failed", "interrupted"]


class FilmEntry(BaseModel):
    key: str
    media: str
    name: str
    source_language: str | None = None
    target_languages: list[str] = Field(default_factory=list)
    values: dict[str, str] = Field(default_factory=dict)
    audio_seconds: float | None = None
    job_id: str | None = None
    job_dir: str | None = None
    state: FilmState = "pending"
    attempts: int = 0
    worker: str | None = None
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    real_time_factor: float | None = None
    ran: list[str] = Field(default_factory=list)
    reused: list[str] = Field(default_factory=list)
    deliverables: list[str] = Field(default_factory=list)
    peak_memory_mb: float | None = None
    exit_code: int | None = None
    message: str | None = None
    fix: str | None = None
    stage: str | None = None
    log: str | None = None
    lost: list[str] = Field(default_factory=list, description="why earlier attempts ended without a result")

    @classmethod
    def of(cls, film: Film) -> FilmEntry:
        return cls(key=film.key, media=str(film.media), name=film.media.name, source_language=film.source_language,
                   target_languages=list(film.target_languages), values=dict(film.values))


class BatchRecord(BaseModel):
    id: str
    workflow: str
    created: str
    updated: str
    engine: str = "local"
    workers: int = 0
    threads_per_worker: int = 0
    runs: int = 0
    films: list[FilmEntry]

    def save(self, folder: Path) -> None:
        self.updated = now_iso()
        atomic_write_text(folder / BATCH_FILE, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> BatchRecord | None:
        path = folder / BATCH_FILE
        if not path.is_file():
            return None
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def batch_id(films: list[Film], workflow: str) -> str:
    """The same films with the same settings make the same batch: a second run resumes it."""
    payload = json.dumps([workflow, sorted(f.key for f in films)], ensure_ascii=False)
    return "batch-" + hashlib.sha256(payload.encode()).hexdigest()[:12]


def open_record(folder: Path, films: list[Film], workflow: str) -> BatchRecord:
    """The batch's record: the earlier one, with its job of each film kept, or a new one."""
    earlier = BatchRecord.load(folder)
    known = {entry.key: entry for entry in earlier.films} if earlier and earlier.workflow == workflow else {}
    entries = [known.get(film.key) or FilmEntry.of(film) for film in films]
    stamp = now_iso()
    if earlier is not None and earlier.workflow == workflow:
        earlier.films = entries
        return earlier
    return BatchRecord(id=folder.name, workflow=workflow, created=stamp, updated=stamp, films=entries)
