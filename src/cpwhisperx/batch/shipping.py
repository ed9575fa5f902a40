"""Films run where the batch's storage is not mounted: the job directory and the media travel to
the worker through Ray's object store, and what the run writes comes back stage by stage.

The worker unpacks the job into a scratch folder of its own, with the media beside it, and runs it
there. As each stage ends, and every second or so while one runs, it sends the files that changed
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
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cpwhisperx.batch.worker import FilmTask, Sink, run_film
from cpwhisperx.files import atomic_write_json
from cpwhisperx.jobs import Job

SCRATCH_PREFIX = "cpwx-shipped-"
FILES_EVENT = "files"
# While a stage runs, its changed files (its manifest, the log) go back at most this often.
SEND_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class ShippedFilm:
    """A film's task with its job and media, as the worker receives them."""

    task: FilmTask
    job: bytes
    media: bytes
    media_name: str
    media_path: str  # where the user keeps it


def ship(task: FilmTask) -> ShippedFilm:
    job = Job.load(Path(task.job_dir))
    media = job.media_path
    return ShippedFilm(task, pack(job.dir, {})[0], media.read_bytes(), media.name, str(media))


def pack(root: Path, sent: dict[str, tuple[int, int]]) -> tuple[bytes, dict[str, tuple[int, int]]]:
    """A tar of the files under `root` not in `sent` as they are now, and `sent` with them added."""
    buffer = io.BytesIO()
    now = dict(sent)
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            stat = path.stat()
            if sent.get(name) == (stat.st_size, stat.st_mtime_ns):
                continue
            archive.add(path, arcname=name)
            now[name] = (stat.st_size, stat.st_mtime_ns)
    return buffer.getvalue(), now


def unpack(data: bytes, root: Path) -> list[str]:
    """The files of a `pack` written under `root` (nothing outside it); their names."""
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        names = [member.name for member in archive.getmembers() if member.isfile()]
        archive.extractall(root, filter="data")
    return names


def relocate_media(job_dir: Path, names: list[str], old: str, new: str) -> None:
    """The media's path set from `old` to `new` in job.json and the stage manifests among `names`."""
    for name in names:
        path = job_dir / name
        if name == "job.json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["media"]["path"] == old:
                data["media"]["path"] = new
                _rewrite(path, data)
        elif name.endswith("/manifest.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            moved = [r for r in data.get("inputs", []) if r.get("path") == old]
            for record in moved:
                record["path"] = new
            if moved:
                _rewrite(path, data)


def _rewrite(path: Path, data: object) -> None:
    """Rewritten with its modification time kept: records of the file elsewhere still match it."""
    stat = path.stat()
    atomic_write_json(path, data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@dataclass
class Receiver:
    """The driver's side: files sent back by a film's worker written into its job directory."""

    job_dirs: dict[str, Path]
    media_paths: dict[str, str] = field(default_factory=dict)

    def take(self, key: str, item: dict[str, object]) -> None:
        job_dir = self.job_dirs[key]
        names = unpack(item["data"], job_dir)  # type: ignore[arg-type]
        relocate_media(job_dir, names, str(item["media_path"]), self.media_paths[key])


def run_shipped(film: ShippedFilm, send: Sink) -> dict[str, object]:
    """The worker's side: the film run in a scratch copy, its files sent back after every stage
    (as `files` events) and once more at the end."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        media = scratch / "media" / film.media_name
        media.parent.mkdir()
        media.write_bytes(film.media)
        job_dir = scratch / "job"
        names = unpack(film.job, job_dir)
        relocate_media(job_dir, names, film.media_path, str(media))
        _, sent = pack(job_dir, {})
        back = _Sender(job_dir, str(media), sent, send)

        def forward(item: dict[str, object]) -> None:
            send(item)
            if item.get("type") == "stage" or time.monotonic() - back.last >= SEND_EVERY_SECONDS:
                back.send_changes()

        outcome = run_film(replace(film.task, job_dir=str(job_dir)), forward)
        back.send_changes()
        return _relocated(outcome, str(job_dir), film.task.job_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class _Sender:
    job_dir: Path
    media_path: str
    sent: dict[str, tuple[int, int]]
    send: Callable[[dict[str, object]], None]
    last: float = 0.0

    def send_changes(self) -> None:
        self.last = time.monotonic()
        data, self.sent = pack(self.job_dir, self.sent)
        self.send({"type": FILES_EVENT, "data": data, "media_path": self.media_path})


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

