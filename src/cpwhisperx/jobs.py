"""Jobs: ids, directory layout, job.json, and the run lock."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from cpwhisperx.config import Settings, check_keys, load_config, parse_env_file, to_env_text, validate
from cpwhisperx.errors import InvalidInput, JobBusy
from cpwhisperx.files import atomic_write_text, read_json, sha256_file

WORKFLOWS = ("transcribe", "translate", "subtitle")
JOB_ID_RE = re.compile(r"^job-(\d{8})-([a-z0-9_-]+)-(\d{4})$")


class MediaInfo(BaseModel):
    path: str
    name: str
    size_bytes: int
    sha256: str


class JobRecord(BaseModel):
    """The contents of job.json."""

    id: str
    workflow: str
    media: MediaInfo
    source_language: str
    target_languages: list[str] = Field(default_factory=list)
    user: str
    created: str
    tool_version: str
    status: str = "prepared"
    deliverables: list[str] = Field(default_factory=list)
    last_run: dict[str, Any] | None = None


@dataclass
class Job:
    dir: Path
    record: JobRecord

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def env_path(self) -> Path:
        return self.dir / ".env.pipeline"

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def media_path(self) -> Path:
        return Path(self.record.media.path)

    @property
    def stem(self) -> str:
        return Path(self.record.media.name).stem

    def settings(self, overrides: Mapping[str, str] | None = None) -> Settings:
        return load_config(job_env=self.env_path, overrides=overrides)

    def save(self) -> None:
        atomic_write_text(self.dir / "job.json", self.record.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, job_dir: Path) -> Job:
        # Resolved once here, so that every path built from it later is absolute.
        job_dir = Path(job_dir).expanduser().resolve()
        path = job_dir / "job.json"
        if not path.is_file():
            raise InvalidInput(f"'{job_dir}' is not a job directory (no job.json)", hint="give the directory `cpwx prepare` printed, or use -j JOB_ID")
        return cls(job_dir, JobRecord.model_validate(read_json(path)))


_STAGE_DIR_RE = re.compile(r"^(\d{2})_([a-z_]+)$")


def check_stage_layout(job: Job) -> None:
    """Stop on a job whose stage folders are numbered as an older version numbered them (before a
    stage was inserted): this version would not find their outputs, and would mix two layouts."""
    from cpwhisperx.stages import STAGE_ORDER, stage_number

    stale = sorted(child.name for child in job.dir.iterdir()
                   if child.is_dir() and (m := _STAGE_DIR_RE.match(child.name))
                   and m.group(2) in STAGE_ORDER and int(m.group(1)) != stage_number(m.group(2)))
    if stale:
        now = ", ".join(f"{stage_number(name.split('_', 1)[1]):02d}_{name.split('_', 1)[1]}" for name in stale[:3])
        raise InvalidInput(f"job {job.id} was prepared by an older version of cp-whisperx: its stage folders "
                           f"{', '.join(stale[:3])}{' …' if len(stale) > 3 else ''} are numbered as that version numbered them (now {now})",
                           hint=f"prepare the film again as a new job: cpwx prepare --media {job.record.media.path} "
                                f"--workflow {job.record.workflow}, then cpwx run the new job")


def default_user() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "user"
    return sanitize_user(name)


def sanitize_user(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    return cleaned or "user"


def output_root(settings: Settings) -> Path:
    return Path(settings.OUTPUT_DIR).expanduser().resolve()


def _new_job_dir(root: Path, user: str, now: dt.datetime) -> tuple[str, Path]:
    parent = root / f"{now:%Y}" / f"{now:%m}" / f"{now:%d}" / user
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return _claim_job_id(parent, user, now)
    except OSError as exc:
        raise InvalidInput(f"cannot create a job directory under '{root}': {exc.strerror or exc}",
                           hint="run from a folder you can write to, or choose one with --set OUTPUT_DIR=/a/writable/folder") from None


def _claim_job_id(parent: Path, user: str, now: dt.datetime) -> tuple[str, Path]:
    taken = [int(m.group(3)) for p in parent.iterdir() if (m := JOB_ID_RE.match(p.name))]
    number = max(taken, default=0) + 1
    while True:
        job_id = f"job-{now:%Y%m%d}-{user}-{number:04d}"
        try:
            (parent / job_id).mkdir()
            return job_id, parent / job_id
        except FileExistsError:
            number += 1


def prepare_job(
    media: Path | str,
    workflow: str = "transcribe",
    *,
    source_language: str | None = None,
    target_languages: list[str] | None = None,
    user: str | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Job:
    """Check the media, create the job directory with job.json and the effective .env.pipeline."""
    from cpwhisperx import __version__

    if workflow not in WORKFLOWS:
        raise InvalidInput(f"unknown workflow '{workflow}'", hint=f"choose one of: {', '.join(WORKFLOWS)}")
    if target_languages and workflow == "transcribe":
        raise InvalidInput(
            f"the {workflow} workflow makes no translations, but target languages were given ({', '.join(target_languages)})",
            hint="drop -t/--target-languages, or use `cpwx translate` / `cpwx subtitle`",
        )
    if workflow == "translate" and not target_languages:
        raise InvalidInput("the translate workflow needs a target language", hint="add -t en (or another language code)")
    media_path = Path(media).expanduser()
    if not media_path.exists():
        raise InvalidInput(f"media file '{media_path}' does not exist", hint="check the path (quote it if it has spaces)")
    if not media_path.is_file():
        raise InvalidInput(f"'{media_path}' is not a file", hint="give the path of a media file")
    media_path = media_path.resolve()
    all_overrides = dict(overrides or {})
    if source_language is not None:
        all_overrides["SOURCE_LANGUAGE"] = source_language
    if target_languages:
        all_overrides["TARGET_LANGUAGES"] = ",".join(target_languages)
    check_keys(all_overrides, "--set")
    settings = load_config(overrides=all_overrides)
    if settings.SOURCE_LANGUAGE != "auto":
        from cpwhisperx.translate import choose_engine

        for target in settings.TARGET_LANGUAGES:
            if target != settings.SOURCE_LANGUAGE:
                choose_engine(settings.SOURCE_LANGUAGE, target, settings)
    user_name = sanitize_user(user) if user else default_user()
    now = dt.datetime.now()
    job_id, job_dir = _new_job_dir(output_root(settings), user_name, now)
    try:
        record = JobRecord(
            id=job_id,
            workflow=workflow,
            media=MediaInfo(path=str(media_path), name=media_path.name, size_bytes=media_path.stat().st_size, sha256=sha256_file(media_path)),
            source_language=settings.SOURCE_LANGUAGE,
            target_languages=settings.TARGET_LANGUAGES,
            user=user_name,
            created=now.astimezone().isoformat(timespec="seconds"),
            tool_version=__version__,
        )
        job = Job(job_dir, record)
        atomic_write_text(job.env_path, to_env_text(settings))
        job.logs_dir.mkdir(exist_ok=True)
        job.save()
    except BaseException:
        for child in sorted(job_dir.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
        job_dir.rmdir()
        raise
    return job


def persist_overrides(job: Job, overrides: Mapping[str, str]) -> Settings:
    """Apply `--set` values of a re-run to the job's recorded configuration."""
    check_keys(overrides, "--set")
    values: dict[str, Any] = parse_env_file(job.env_path) if job.env_path.is_file() else {}
    values.update(overrides)
    recorded = validate(values)
    atomic_write_text(job.env_path, to_env_text(recorded))
    settings = job.settings()
    if "SOURCE_LANGUAGE" in overrides or "TARGET_LANGUAGES" in overrides:
        job.record.source_language = settings.SOURCE_LANGUAGE
        job.record.target_languages = settings.TARGET_LANGUAGES
        job.save()
    return settings


def find_job(job_id: str, root: Path) -> Path:
    match = JOB_ID_RE.match(job_id)
    if not match:
        raise InvalidInput(f"'{job_id}' is not a job id", hint="job ids look like job-20260101-alice-0001; `cpwx status` lists them")
    day, user = match.group(1), match.group(2)
    path = root / day[:4] / day[4:6] / day[6:] / user / job_id
    if not (path / "job.json").is_file():
        raise InvalidInput(f"no job '{job_id}' under '{root}'", hint="run from the directory the job was prepared in, set OUTPUT_DIR, or use --job-dir")
    return path


def list_jobs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted((p.parent for p in root.glob("*/*/*/*/job-*/job.json")), key=lambda p: p.name)


class RunLock:
    """An exclusive lock on a job, released by the kernel if its holder dies."""

    def __init__(self, job_dir: Path) -> None:
        self.path = job_dir / ".run.lock"
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InvalidInput(f"cannot write to the job directory '{self.path.parent}': {exc.strerror or exc}",
                               hint="make the job directory writable, or prepare the job again in a writable OUTPUT_DIR") from None
        if not _try_lock(fd):
            os.lseek(fd, 0, os.SEEK_SET)
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise JobBusy(
                f"job '{self.path.parent.name}' is already being run ({holder})",
                hint="wait for that run to finish or stop it; a lock left by a process that died is taken over automatically",
            )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"pid {os.getpid()} since {dt.datetime.now().isoformat(timespec='seconds')}".encode())
        self._fd = fd
        return self

    @staticmethod
    def is_held(job_dir: Path) -> bool:
        """Whether a live process is running the job now (a lock left by a dead one is free)."""
        path = job_dir / ".run.lock"
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDONLY)
        try:
            if _try_lock(fd):
                _unlock(fd)
                return False
            return True
        finally:
            os.close(fd)

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    except OSError:
        return False


def _unlock(fd: int) -> None:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
