"""What the API says of a job: its summary in lists, its stages, and the log excerpt of a failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cpwhisperx.jobs import Job, RunLock
from cpwhisperx.stageio import load_manifest, stage_dir_name
from cpwhisperx.stages import STAGE_ORDER, stage_number

LOG_EXCERPT_LINES = 25


def job_state(job: Job, in_hand: str | None) -> str:
    """queued or running while the service has it; a run whose process died is interrupted."""
    if in_hand:
        return in_hand
    if job.record.status == "running" and not RunLock.is_held(job.dir):
        return "interrupted"
    return job.record.status


def job_summary(job: Job, in_hand: str | None) -> dict[str, Any]:
    record = job.record
    return {"id": job.id, "workflow": record.workflow, "status": job_state(job, in_hand), "media": record.media.name,
            "source_language": record.source_language, "target_languages": record.target_languages, "created": record.created,
            "deliverables": record.deliverables, "last_run": record.last_run,
            "links": {"self": f"/api/jobs/{job.id}", "events": f"/api/jobs/{job.id}/events", "review": f"/jobs/{job.id}"}}


def job_detail(job: Job, in_hand: str | None) -> dict[str, Any]:
    stages = []
    failure: dict[str, Any] | None = None
    for name in STAGE_ORDER:
        folder = stage_dir_name(stage_number(name), name)
        manifest = load_manifest(job.dir / folder)
        if manifest is None:
            stages.append({"name": name, "number": stage_number(name), "status": "pending"})
            continue
        status = manifest.get("status")
        if status == "running" and not in_hand and not RunLock.is_held(job.dir):
            status = "interrupted"
        entry = {"name": name, "number": stage_number(name), "status": status, "seconds": manifest.get("duration_seconds"),
                 "reason": manifest.get("reason"), "cache_hit": (manifest.get("cache") or {}).get("hit"),
                 "warnings": manifest.get("warnings", [])}
        if manifest.get("errors"):
            entry["error"] = manifest["errors"][0].get("message", "").splitlines()[0]
            failure = {"stage": name, "message": manifest["errors"][0].get("message", ""),
                       "log_excerpt": log_tail(job.dir / folder / "stage.log")}
        stages.append(entry)
    return {**job_summary(job, in_hand), "stages": stages, "failure": failure if job_state(job, in_hand) == "failed" else None}


def log_tail(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_EXCERPT_LINES:]
