"""One stage's directory: its logger, inputs and outputs with hashes, and its manifest."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cpwhisperx.config import SPEED_ONLY_KEYS, Settings, config_hash, config_subset
from cpwhisperx.errors import InvalidInput
from cpwhisperx.files import atomic_path, atomic_write_json, atomic_write_text, read_json, sha256_file
from cpwhisperx.jobs import Job
from cpwhisperx.logs import LOGGER_NAME
from cpwhisperx.memory import PeakMemory, current_rss_mb, process_peak_mb

MANIFEST = "manifest.json"
STAGE_LOG = "stage.log"


def stage_dir_name(number: int, name: str) -> str:
    return f"{number:02d}_{name}"


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="milliseconds")


def file_record(path: Path, job_dir: Path, kind: str, **fields: Any) -> dict[str, Any]:
    stat = path.stat()
    try:
        shown = path.relative_to(job_dir).as_posix()
    except ValueError:
        shown = str(path)
    return {
        "type": kind,
        "path": shown,
        "size_bytes": stat.st_size,
        "sha256": sha256_file(path),
        "mtime_ns": stat.st_mtime_ns,
        "format": path.suffix.lstrip(".").lower() or None,
        **fields,
    }


def record_still_matches(record: dict[str, Any], job_dir: Path) -> bool:
    """Size and mtime equal means unchanged; otherwise the content hash decides."""
    path = Path(record["path"])
    if not path.is_absolute():
        path = job_dir / path
    try:
        stat = path.stat()
    except OSError:
        return False
    if stat.st_size != record["size_bytes"]:
        return False
    if stat.st_mtime_ns == record.get("mtime_ns"):
        return True
    return sha256_file(path) == record["sha256"]


class StageIO:
    """What a stage sees of the job: read other stages' outputs, write its own, report."""

    def __init__(self, job: Job, number: int, name: str, settings: Settings, config_keys: tuple[str, ...]) -> None:
        self.job = job
        self.number = number
        self.name = name
        self.settings = settings
        self.dir = job.dir / stage_dir_name(number, name)
        self.log = logging.getLogger(f"{LOGGER_NAME}.stage.{name}")
        self.config = config_subset(settings, config_keys)
        decisive = {key: value for key, value in self.config.items() if key not in SPEED_ONLY_KEYS}
        self.config_hash = config_hash({**decisive, "tool_version": job.record.tool_version})
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        self.intermediate_files: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.metrics: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        self.device: str = "cpu"
        self.cache: dict[str, Any] = {"used": False, "reason": "this stage keeps no result cache"}
        # The pipeline runs the stage inside it; until then the manifest shows what the process holds.
        self.memory = PeakMemory()

    # --- reading --------------------------------------------------------------------------
    def stage_path(self, stage: str) -> Path:
        from cpwhisperx.stages import stage_number

        return self.job.dir / stage_dir_name(stage_number(stage), stage)

    def has_input(self, stage: str, filename: str) -> bool:
        return (self.stage_path(stage) / filename).is_file()

    def input(self, stage: str, filename: str, kind: str) -> Path:
        """A file another stage wrote; recorded with its hash as an input of this stage."""
        path = self.stage_path(stage) / filename
        if not path.is_file():
            raise InvalidInput(f"stage '{self.name}' needs '{path.relative_to(self.job.dir)}', which stage '{stage}' has not written", hint=f"run the job from that stage: cpwx run --job-dir {self.job.dir} --from {stage}")
        self.inputs.append(file_record(path, self.job.dir, kind, stage=stage))
        return path

    def outputs_of(self, stage: str) -> list[dict[str, Any]]:
        """The output records of another stage's successful manifest."""
        manifest = load_manifest(self.stage_path(stage))
        if not manifest or manifest.get("status") != "success":
            raise InvalidInput(f"stage '{self.name}' needs the outputs of stage '{stage}', which has not succeeded",
                               hint=f"run the job from that stage: cpwx run --job-dir {self.job.dir} --from {stage}")
        return list(manifest["outputs"])

    def recorded(self, stage: str, filename: str, field: str) -> Any | None:
        """What another stage recorded about a file it wrote (read by this stage as an input), while
        the file is the one it wrote; else None."""
        path = (self.stage_path(stage) / filename).relative_to(self.job.dir).as_posix()
        read = next((r for r in reversed(self.inputs) if r["path"] == path), None)
        if read is None:
            return None
        manifest = load_manifest(self.stage_path(stage)) or {}
        written = next((r for r in manifest.get("outputs", []) if r.get("path") == path and r.get("sha256") == read["sha256"]), None)
        return written.get(field) if written else None

    def read_json(self, stage: str, filename: str, kind: str) -> Any:
        return read_json(self.input(stage, filename, kind))

    def media(self) -> Path:
        path = self.job.media_path
        if not path.is_file():
            raise InvalidInput(f"the job's media '{path}' is gone", hint="put the file back or prepare a new job")
        self.inputs.append(file_record(path, self.job.dir, "media"))
        return path

    # --- writing --------------------------------------------------------------------------
    @contextlib.contextmanager
    def output(self, filename: str, kind: str, **fields: Any) -> Iterator[Path]:
        """A temporary path to write; it becomes `filename` and an output only on success."""
        final = self.dir / filename
        with atomic_path(final) as tmp:
            yield tmp
        self.intermediate_files.append({"path": tmp.relative_to(self.job.dir).as_posix(), "retained": False,
                                        "reason": f"written under this name and renamed to {filename} once complete"})
        self.outputs.append(file_record(final, self.job.dir, kind, **fields))

    def write_json(self, filename: str, data: Any, kind: str, **fields: Any) -> Path:
        final = self.dir / filename
        atomic_write_json(final, data)
        self.outputs.append(file_record(final, self.job.dir, kind, **fields))
        return final

    def write_text(self, filename: str, text: str, kind: str, **fields: Any) -> Path:
        final = self.dir / filename
        atomic_write_text(final, text)
        self.outputs.append(file_record(final, self.job.dir, kind, **fields))
        return final

    def warn(self, message: str) -> None:
        self.log.warning(message)
        self.warnings.append(message)

    # --- manifest -------------------------------------------------------------------------
    def reset_dir(self) -> None:
        """Remove what an earlier attempt left, keeping the stage log."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for child in self.dir.iterdir():
            if child.name == STAGE_LOG:
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()

    def manifest(self, status: str, started: str | None, started_clock: float | None, cpu_start: float | None,
                 errors: list[dict[str, Any]] | None = None, reason: str | None = None) -> dict[str, Any]:
        duration = round(time.perf_counter() - started_clock, 3) if started_clock is not None else 0.0
        data: dict[str, Any] = {
            "stage": self.name,
            "stage_number": self.number,
            "status": status,
            "started_at": started,
            "completed_at": None if status == "running" else now_iso(),
            "duration_seconds": None if status == "running" else duration,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "intermediate_files": self.intermediate_files,
            "config": self.config,
            "config_hash": self.config_hash,
            "resources": {
                "peak_memory_mb": round(self._peak_memory_mb(), 1),
                "cpu_seconds": round(time.process_time() - cpu_start, 3) if cpu_start is not None else 0.0,
                "device": self.device,
            },
            "cache": self.cache,
            "warnings": self.warnings,
            "errors": errors or [],
            "metrics": self.metrics,
            **self.extra,
        }
        if reason:
            data["reason"] = reason
        return data

    def _peak_memory_mb(self) -> float:
        if self.memory.peak_mb is not None:
            return self.memory.peak_mb
        return current_rss_mb() or process_peak_mb() or 0.0

    def write_manifest(self, data: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.dir / MANIFEST, data)


def error_entry(exc: BaseException) -> dict[str, Any]:
    from cpwhisperx.logs import redact

    return {
        "message": redact(str(exc)),
        "exception_type": type(exc).__name__,
        "traceback": redact("".join(traceback.format_exception(exc))),
    }


def load_manifest(stage_dir: Path) -> dict[str, Any] | None:
    path = stage_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (ValueError, OSError):
        return None
