"""Films run where the batch's storage is not mounted: the job directory and the media travel to
the worker through Ray's object store, and what the run writes comes back stage by stage.

The worker unpacks the job into a scratch folder of its own, with the media beside it, and runs it
there. As each stage starts or ends, and every second while one runs, it sends the files that changed
(the stage's folder, job.json, the logs); the driver writes them into the job directory where the
user asked for it, so that it shows the film's state as a worker on shared storage would. A worker lost mid-film
thus costs only the stage it was running: the next attempt ships the job as far as it got.
The job records the media by its path; in the worker's copy that path is the scratch copy's, and it
is set back to the user's path in every file that comes back.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cpwhisperx.batch.worker import FilmTask, Sink, run_film
from cpwhisperx.errors import InvalidInput
from cpwhisperx.files import atomic_path
from cpwhisperx.jobs import Job
from cpwhisperx.logs import LOGGER_NAME, failure_report

log = logging.getLogger(f"{LOGGER_NAME}.batch")
SCRATCH_PREFIX = "cpwx-shipped-"
FILES_EVENT = "files"
# While a stage runs, its changed files (its manifest, the log) go back this often.
SEND_EVERY_SECONDS = 1.0
RUN_LOCK = ".run.lock"


@dataclass(frozen=True)
class Parcel:
    """Files of a job directory: a tar, and each file's size and modification time to the
    nanosecond (a tar keeps less), so that the stages' records of them still match."""

    data: bytes
    stats: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class ShippedFilm:
    """A film's task with its job and media, as the worker receives them."""

    task: FilmTask
    job: Parcel
    media: bytes
    media_name: str
    media_path: str  # where the user keeps it
    media_mtime_ns: int


def ship(task: FilmTask) -> ShippedFilm:
    job = Job.load(Path(task.job_dir))
    media = job.media_path
    if not media.is_file():
        raise InvalidInput(f"the job's media '{media}' is gone", hint="put the file back or prepare a new job")
    return ShippedFilm(task, pack(job.dir, {}), media.read_bytes(), media.name, str(media), media.stat().st_mtime_ns)


def _travels(name: str) -> bool:
    """Not the run lock, nor a file still being written (an atomic write's temporary name)."""
    leaf = name.rsplit("/", 1)[-1]
    return leaf != RUN_LOCK and not (leaf.startswith(".") and ".part" in leaf)


def pack(root: Path, sent: dict[str, tuple[int, int]]) -> Parcel:
    """The files under `root` that are not in `sent` as they are now."""
    buffer = io.BytesIO()
    stats: dict[str, tuple[int, int]] = {}
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(root.rglob("*")):
            name = path.relative_to(root).as_posix()
            try:
                if not path.is_file() or not _travels(name):
                    continue
                stat = path.stat()
                if sent.get(name) == (stat.st_size, stat.st_mtime_ns):
                    continue
                archive.add(path, arcname=name)
            except FileNotFoundError:  # removed while packing (a stage starting again): it is not part of the job now
                continue
            stats[name] = (stat.st_size, stat.st_mtime_ns)
    return Parcel(buffer.getvalue(), stats)


def unpack(parcel: Parcel, root: Path, media: tuple[str, str] | None = None) -> list[str]:
    """The parcel's files written under `root` (nothing outside it), each replaced whole, with its
    own modification time; with `media` (old, new), the media's path in job.json and the stage
    manifests changed from old to new as they are written. Their names."""
    root.mkdir(parents=True, exist_ok=True)
    names = []
    with tarfile.open(fileobj=io.BytesIO(parcel.data), mode="r") as archive:
        for member in archive.getmembers():
            member = tarfile.data_filter(member, str(root))
            if not member.isfile():
                continue
            handle = archive.extractfile(member)
            assert handle is not None
            content = handle.read()
            if media and (member.name == "job.json" or member.name.endswith("/manifest.json")):
                content = _relocated_json(content, *media)
            target = root / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                tmp.write_bytes(content)
            mtime_ns = parcel.stats.get(member.name, (0, int(member.mtime * 1e9)))[1]
            os.utime(target, ns=(mtime_ns, mtime_ns))
            names.append(member.name)
    return names


def _relocated_json(content: bytes, old: str, new: str) -> bytes:
    data = json.loads(content)
    changed = False
    if isinstance(data.get("media"), dict) and data["media"].get("path") == old:
        data["media"]["path"], changed = new, True
    for record in data.get("inputs", []):
        if record.get("path") == old:
            record["path"], changed = new, True
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8") if changed else content


@dataclass
class Receiver:
    """The driver's side: files sent back by a film's worker written into its job directory."""

    job_dirs: dict[str, Path]
    media_paths: dict[str, str] = field(default_factory=dict)

    def take(self, key: str, item: dict[str, object]) -> None:
        parcel = item["parcel"]
        assert isinstance(parcel, Parcel)
        unpack(parcel, self.job_dirs[key], (str(item["media_path"]), self.media_paths[key]))


def run_shipped(film: ShippedFilm, send: Sink) -> dict[str, object]:
    """The worker's side: the film run in a scratch copy, its files sent back as its stages go
    (`files` events) and once more at the end. A failure here fails the film, as in `run_film`."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        try:
            media = scratch / "media" / film.media_name
            media.parent.mkdir()
            media.write_bytes(film.media)
            os.utime(media, ns=(film.media_mtime_ns, film.media_mtime_ns))  # the job's record of it still matches
            job_dir = scratch / "job"
            unpack(film.job, job_dir, (film.media_path, str(media)))
            back = _Sender(job_dir, str(media), pack(job_dir, {}).stats, send)
        except Exception as exc:
            return {"state": "failed", **failure_report(exc)}

        def forward(item: dict[str, object]) -> None:
            send(item)
            if item.get("type") == "stage":
                back.send_changes()

        stop = threading.Event()
        beat = threading.Thread(target=back.every, args=(SEND_EVERY_SECONDS, stop), name="cpwx-ship-back", daemon=True)
        beat.start()
        try:
            outcome = run_film(replace(film.task, job_dir=str(job_dir)), forward)
        finally:
            stop.set()
            beat.join()
        try:
            back.send_changes()
        except Exception as exc:
            return {"state": "failed", **failure_report(exc)}
        return _relocated(outcome, str(job_dir), film.task.job_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class _Sender:
    job_dir: Path
    media_path: str
    sent: dict[str, tuple[int, int]]
    send: Callable[[dict[str, object]], None]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_changes(self) -> None:
        with self.lock:
            parcel = pack(self.job_dir, self.sent)
            if parcel.stats:
                self.sent.update(parcel.stats)
                self.send({"type": FILES_EVENT, "parcel": parcel, "media_path": self.media_path})

    def every(self, seconds: float, stop: threading.Event) -> None:
        """Changes sent every `seconds` until `stop`: a stage's progress shows on the driver's side
        even between its events."""
        while not stop.wait(seconds):
            try:
                self.send_changes()
            except OSError as exc:  # the next send, or the last one at the end, tries again
                log.debug("files not sent back: %s", exc)


def clear_stale_scratch() -> None:
    """Scratch folders of workers that died mid-film (killed, their node restarted) removed."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _relocated(outcome: dict[str, object], local: str, remote: str) -> dict[str, object]:
    """The outcome with paths into the scratch job directory made paths into the user's."""
    return {name: value.replace(local, remote) if isinstance(value, str) else value for name, value in outcome.items()}

