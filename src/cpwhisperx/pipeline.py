"""Runs a job's stages in order: incremental re-runs, resume after a crash, the pipeline log."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cpwhisperx.cache import cache_dir
from cpwhisperx.cache.maintenance import cleanup
from cpwhisperx.config import Settings
from cpwhisperx.errors import StageFailed, StageSkipped
from cpwhisperx.jobs import Job, RunLock, check_stage_layout, persist_overrides
from cpwhisperx.logs import CAPTURED_LOGGERS, LOGGER_NAME, attach_file, detach, event, redact
from cpwhisperx.stageio import STAGE_LOG, StageIO, error_entry, load_manifest, now_iso, record_still_matches
from cpwhisperx.stages import STAGES, StageSpec, get_stage

log = logging.getLogger(f"{LOGGER_NAME}.pipeline")


@dataclass
class RunResult:
    job: Job
    ran: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deliverables: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> dict[str, object]:
        """How the run went, as the service and the batch record it (deliverables relative to the job)."""
        return {"exit_code": 0, "seconds": self.seconds, "ran": self.ran, "reused": self.reused,
                "deliverables": [p.relative_to(self.job.dir).as_posix() for p in self.deliverables]}


def run_job(
    job: Job | Path | str,
    *,
    from_stage: str | None = None,
    force: bool = False,
    overrides: Mapping[str, str] | None = None,
    run_values: Mapping[str, str] | None = None,
) -> RunResult:
    """Run every stage that is not already done with the same inputs and configuration.

    `overrides` become the job's settings from now on; `run_values` hold for this run only, below
    the overrides (how a batch worker shares the cores: WHISPER_CPU_THREADS)."""
    if not isinstance(job, Job):
        job = Job.load(Path(job))
    check_stage_layout(job)
    if from_stage:
        get_stage(from_stage)
    with RunLock(job.dir):
        if overrides:
            persist_overrides(job, overrides)
        # The values given for this run outrank the environment, as they did when the job was prepared.
        settings = job.settings({**(run_values or {}), **(overrides or {})})
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        # The pipeline log always records stage transitions and timings, whatever the console shows.
        level = min(logging.getLevelName(settings.LOG_LEVEL), logging.INFO)
        handler = attach_file(job.logs_dir / f"99_pipeline_{stamp}.log", level)
        result = RunResult(job)
        clock = time.perf_counter()
        log.info("run of %s started (workflow %s, media %s)", job.id, job.record.workflow, job.record.media.name)
        job.record.status = "running"
        job.save()
        try:
            _run_stages(job, settings, result, from_stage, force)
            result.seconds = round(time.perf_counter() - clock, 3)
            job.record.status = "success"
            job.record.deliverables = [p.relative_to(job.dir).as_posix() for p in result.deliverables]
            job.record.last_run = {"finished": now_iso(), "status": "success", "seconds": result.seconds, "ran": result.ran, "reused": result.reused}
            job.save()
            log.info("run of %s finished in %.3f s", job.id, result.seconds)
        except BaseException as exc:
            job.record.status = "failed"
            job.record.last_run = {"finished": now_iso(), "status": "failed",
                                   "error": redact(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__}
            try:
                job.save()
            except OSError as save_error:  # the original failure is the one to report
                log.error("could not record the failure in job.json: %s", save_error)
            log.error("run of %s failed after %.3f s: %s", job.id, time.perf_counter() - clock, exc)
            raise
        else:
            _clean_cache(settings)
        finally:
            detach(handler)
    return result


def _clean_cache(settings: Settings) -> None:
    """Keep the result cache within CACHE_TTL_DAYS and CACHE_MAX_SIZE_GB; a cache that cannot be
    cleaned is a warning, never a failed run."""
    if not settings.CACHE_ENABLED or not (settings.CACHE_TTL_DAYS or settings.CACHE_MAX_SIZE_GB):
        return
    root = cache_dir(settings.CACHE_DIR)
    try:
        removed = cleanup(root, settings.CACHE_TTL_DAYS, settings.CACHE_MAX_SIZE_GB)
    except OSError as exc:
        log.warning("the result cache %s could not be cleaned up (%s); it is kept as it is", root, exc.strerror or exc)
        return
    if removed.entries:
        log.info("result cache %s: removed %d entries (%.1f MB) unused for %g days or beyond %g GB",
                 root, removed.entries, removed.bytes / 1e6, settings.CACHE_TTL_DAYS, settings.CACHE_MAX_SIZE_GB)


def _run_stages(job: Job, settings, result: RunResult, from_stage: str | None, force: bool) -> None:  # type: ignore[no-untyped-def]
    rerun = force and not from_stage
    reached_from = from_stage is None
    for spec in STAGES:
        if spec.name == from_stage:
            reached_from = rerun = True
        io = StageIO(job, spec.number, spec.name, settings, spec.config_keys)
        reason = spec.skip_reason(job, settings)
        if reason:
            _record_skip(io, reason)
            result.skipped.append(spec.name)
            continue
        previous = load_manifest(io.dir)
        if not rerun and _reusable(previous) and (not reached_from or _up_to_date(previous, io)):
            log.info("stage %02d %s: up to date, not run again", spec.number, spec.name, extra=event("stage", stage=spec.name, state="up_to_date"))
            result.reused.append(spec.name)
            result.deliverables.extend(_deliverables(previous, job))
            continue
        status = _execute(spec, io)
        if status == "skipped":
            result.skipped.append(spec.name)
            # Skipped again, as last time: no output changed, so later stages need not run for it.
            if not (previous and previous.get("status") == "skipped"):
                rerun = True
            continue
        rerun = True
        result.ran.append(spec.name)
        result.deliverables.extend(_deliverables({"outputs": io.outputs}, job))


def _reusable(previous: dict | None) -> bool:  # type: ignore[type-arg]
    """A stage done before: successful, or skipped by itself for a reason that lasts as long as its
    inputs and configuration (a skip for a missing key or an unreachable service is tried again)."""
    if previous is None:
        return False
    return previous.get("status") == "success" or bool(previous.get("self_skipped") and previous.get("skip_lasting"))


def _up_to_date(previous: dict, io: StageIO) -> bool:  # type: ignore[type-arg]
    if previous.get("config_hash") != io.config_hash:
        log.info("stage %02d %s: configuration changed", io.number, io.name)
        return False
    for record in previous.get("inputs", []) + previous.get("outputs", []):
        if not record_still_matches(record, io.job.dir):
            log.info("stage %02d %s: '%s' changed", io.number, io.name, record["path"])
            return False
    return True


def _deliverables(manifest: dict, job: Job) -> list[Path]:  # type: ignore[type-arg]
    return [job.dir / o["path"] for o in manifest.get("outputs", []) if o.get("deliverable")]


def _record_skip(io: StageIO, reason: str) -> None:
    previous = load_manifest(io.dir)
    if previous and previous.get("status") == "skipped" and previous.get("reason") == reason:
        return
    if io.dir.exists():
        io.reset_dir()
    started = now_iso()
    io.write_manifest(io.manifest("skipped", started, time.perf_counter(), time.process_time(), reason=reason))
    log.info("stage %02d %s: skipped (%s)", io.number, io.name, reason, extra=event("stage", stage=io.name, state="skipped", reason=reason))


def _execute(spec: StageSpec, io: StageIO) -> str:
    """Run one stage; its final status (success or skipped), or StageFailed."""
    started, clock, cpu = now_iso(), time.perf_counter(), time.process_time()
    try:
        io.reset_dir()
    except OSError as exc:
        raise StageFailed(spec.name, exc, str(io.dir / STAGE_LOG)) from exc
    handler = attach_file(io.dir / STAGE_LOG, logging.DEBUG, CAPTURED_LOGGERS)
    log.info("stage %02d %s: started", spec.number, spec.name, extra=event("stage", stage=spec.name, state="started"))
    try:
        try:
            io.write_manifest(io.manifest("running", started, None, None))
            with io.memory:
                spec.runner()(io)
        except StageSkipped as skipped:
            manifest = io.manifest("skipped", started, clock, cpu, reason=skipped.reason)
            manifest.update({"self_skipped": True, "skip_lasting": skipped.lasting})
            io.write_manifest(manifest)
            log.info("stage %02d %s: skipped (%s)", spec.number, spec.name, skipped.reason,
                     extra=event("stage", stage=spec.name, state="skipped", reason=skipped.reason))
            return "skipped"
        except BaseException as exc:
            io.log.debug("failure", exc_info=exc)
            _discard_outputs(io)
            try:
                io.write_manifest(io.manifest("failed", started, clock, cpu, errors=[error_entry(exc)]))
            except OSError as write_error:
                log.error("stage %02d %s: could not write its manifest: %s", spec.number, spec.name, write_error)
            seconds = time.perf_counter() - clock
            log.error("stage %02d %s: failed after %.3f s", spec.number, spec.name, seconds,
                      extra=event("stage", stage=spec.name, state="failed", seconds=round(seconds, 3), message=redact(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__))
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise StageFailed(spec.name, exc, str(io.dir / STAGE_LOG)) from exc
        manifest = io.manifest("success", started, clock, cpu)
        io.write_manifest(manifest)
        log.info("stage %02d %s: success in %.3f s", spec.number, spec.name, manifest["duration_seconds"],
                 extra=event("stage", stage=spec.name, state="success", seconds=manifest["duration_seconds"],
                             cache=bool(io.cache.get("used")), cache_hit=bool(io.cache.get("hit"))))
        return "success"
    finally:
        detach(handler, CAPTURED_LOGGERS)


def _discard_outputs(io: StageIO) -> None:
    """A failed stage keeps none of its outputs under their final names: a later run or reader
    must not take a part of the stage's work for the whole of it."""
    for record in io.outputs:
        path = io.job.dir / record["path"]
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("stage %02d %s: could not remove '%s' after the failure: %s", io.number, io.name, record["path"], exc)
            continue
        io.intermediate_files.append({"path": record["path"], "retained": False, "reason": "removed: the stage failed before finishing"})
    io.outputs = []
