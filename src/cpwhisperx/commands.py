"""What each `cpwx` command does, on top of the library; output for people goes to stdout."""

from __future__ import annotations

import argparse

import platform
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cpwhisperx.cache import cache_dir
from cpwhisperx.config import Settings, load_config, parse_assignments, reference_markdown, to_env_text
from cpwhisperx.errors import CpwxError, ExitCode
from cpwhisperx.jobs import Job, RunLock, find_job, list_jobs, output_root, prepare_job
from cpwhisperx.pipeline import run_job
from cpwhisperx.stageio import load_manifest, stage_dir_name
from cpwhisperx.stages import STAGE_ORDER, stage_number

# Piped output is read by scripts and people alike: no truncated table cells there.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 400)


def given_values(args: argparse.Namespace) -> dict[str, str]:
    """The configuration values given on the command line: `--set` and the flags that stand for keys."""
    values = parse_assignments(args.assignments)
    if args.log_level:
        values["LOG_LEVEL"] = args.log_level
    if getattr(args, "no_cache", False):
        values["CACHE_ENABLED"] = "false"
    if getattr(args, "source_language", None):
        values["SOURCE_LANGUAGE"] = args.source_language
    if getattr(args, "target_languages", None):
        values["TARGET_LANGUAGES"] = args.target_languages
    return values


def prepare_from_args(args: argparse.Namespace, workflow: str, values: dict[str, str]) -> Job:
    targets = [t.strip() for t in (args.target_languages or "").split(",") if t.strip()]
    job = prepare_job(args.media, workflow, source_language=args.source_language, target_languages=targets,
                      user=args.user, overrides=values)
    out.print(f"job {job.id}: {job.dir}")
    return job


def job_dir_for(job_id: str, settings: Settings) -> Path:
    return find_job(job_id, output_root(settings))


def run_and_report(job_dir: Path, *, from_stage: str | None = None, force: bool = False,
                   overrides: dict[str, str] | None = None) -> int:
    result = run_job(job_dir, from_stage=from_stage, force=force, overrides=overrides)
    out.print(f"done in {result.seconds:.1f} s: ran {', '.join(result.ran) or 'nothing'}"
              + (f"; up to date: {', '.join(result.reused)}" if result.reused else ""))
    for path in result.deliverables:
        out.print(str(path))
    return ExitCode.OK


def status(args: argparse.Namespace, settings: Settings) -> int:
    if args.job_dir or args.job_id:
        job_dir = args.job_dir or job_dir_for(args.job_id, settings)
        job = Job.load(job_dir)
        table = Table(title=f"{job.id} ({job.record.workflow}, {_job_state(job)})")
        for column in ("stage", "status", "seconds", "outputs / reason"):
            table.add_column(column)
        for name in STAGE_ORDER:
            manifest = load_manifest(job.dir / stage_dir_name(stage_number(name), name))
            if manifest is None:
                table.add_row(stage_dir_name(stage_number(name), name), "pending", "", "")
                continue
            detail = manifest.get("reason") or ", ".join(o["path"] for o in manifest.get("outputs", []))
            if manifest.get("errors"):
                detail = manifest["errors"][0]["message"].splitlines()[0]
            seconds = manifest.get("duration_seconds")
            state = manifest["status"]
            if state == "running" and not RunLock.is_held(job.dir):
                state, detail = "interrupted", "the run stopped mid-stage; `cpwx run` does this stage again"
            table.add_row(stage_dir_name(stage_number(name), name), state, f"{seconds:.2f}" if seconds is not None else "", detail)
        out.print(table)
        out.print(f"media: {job.record.media.path}")
        for item in job.record.deliverables:
            out.print(f"output: {job.dir / item}")
        return ExitCode.OK
    jobs = list_jobs(output_root(settings))
    if not jobs:
        out.print(f"no jobs under {output_root(settings)}")
        return ExitCode.OK
    table = Table()
    for column in ("job", "workflow", "status", "media", "created"):
        table.add_column(column)
    for job_dir in jobs:
        job = Job.load(job_dir)
        table.add_row(job.id, job.record.workflow, _job_state(job), job.record.media.name, job.record.created)
    out.print(table)
    return ExitCode.OK


def _job_state(job: Job) -> str:
    """The recorded status, except that a run whose process died is shown as interrupted."""
    if job.record.status == "running" and not RunLock.is_held(job.dir):
        return "interrupted (`cpwx run` resumes it)"
    return job.record.status


def models(args: argparse.Namespace, settings: Settings) -> int:
    from cpwhisperx import models as registry

    if args.models_command == "list":
        table = Table(title=f"model cache: {registry.models_dir(settings.MODELS_DIR)}")
        for column in ("model", "state", "path"):
            table.add_column(column)
        for row in registry.status_rows(settings.MODELS_DIR):
            table.add_row(*row)
        out.print(table)
    elif args.models_command == "path":
        out.print(str(registry.resolve(args.name, settings.MODELS_DIR, allow_download=False).path))
    else:
        root = registry.models_dir(settings.MODELS_DIR)
        if registry.bundled_available(args.name):
            path = registry.install_bundled(args.name, root)
        else:
            path = registry.resolve(args.name, settings.MODELS_DIR).path
        out.print(str(path))
    return ExitCode.OK


def doctor(settings: Settings) -> int:
    from cpwhisperx import asr, hardware, media
    from cpwhisperx import models as registry

    table = Table(show_header=False)
    table.add_column("check")
    table.add_column("result")
    table.add_row("cp-whisperx", _version())
    table.add_row("Python", f"{sys.version.split()[0]} ({sys.executable})")
    table.add_row("platform", f"{platform.system()} {platform.machine()}")
    for tool in ("ffmpeg", "ffprobe"):
        try:
            table.add_row(tool, media.tool_version(tool))
        except CpwxError as exc:  # shown, not raised: doctor reports every problem
            table.add_row(tool, f"[red]missing[/red]: {exc}")
    table.add_row("CPU cores", str(hardware.cpu_count()))
    table.add_row("CUDA devices", str(hardware.cuda_device_count()))
    table.add_row("Apple Silicon", "yes" if hardware.is_apple_silicon() else "no")
    for name in [*asr.REGISTRY, *asr.NOT_BUILT]:
        why = asr.backend_available(name)
        table.add_row(f"backend {name}", "available" if why is None else f"not available: {why}")
    try:
        chosen = asr.select(settings.WHISPER_BACKEND, settings.WHISPER_DEVICE, settings.WHISPER_COMPUTE_TYPE, strict=False)
        table.add_row("ASR would use", f"{chosen.backend} on {chosen.device} ({chosen.compute_type})" + "".join(f"; {w}" for w in chosen.warnings))
    except Exception as exc:
        table.add_row("ASR would use", f"[red]{exc}[/red]")
    root = registry.models_dir(settings.MODELS_DIR)
    for name, state, path in registry.status_rows(settings.MODELS_DIR):
        if state != "downloadable":
            table.add_row(f"model {name}", f"{state} {path}")
    table.add_row("model cache", f"{root} ({_size_mb(root):.0f} MB)")
    cache_root = cache_dir(settings.CACHE_DIR)
    table.add_row("result cache", f"{cache_root} ({_size_mb(cache_root):.0f} MB{'' if settings.CACHE_ENABLED else ', off'})")
    table.add_row("job outputs", str(output_root(settings)))
    out.print(table)
    return ExitCode.OK


def config(args: argparse.Namespace, settings: Settings) -> int:
    if args.config_command == "keys":
        sys.stdout.write(reference_markdown())
    else:
        sys.stdout.write(to_env_text(load_config()))
    return ExitCode.OK


def _version() -> str:
    from cpwhisperx import __version__

    return __version__


def _size_mb(root: Path) -> float:
    if not root.exists():
        return 0.0
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
