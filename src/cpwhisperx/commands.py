"""What each `cpwx` command does, on top of the library; output for people goes to stdout."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cpwhisperx.cache import cache_dir, maintenance
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


def import_subtitles(job_dir: Path, file: Path, language: str) -> int:
    from cpwhisperx.review.importing import import_subtitles as bring_in

    report = bring_in(Job.load(job_dir), file, language)
    if not report.changed_cues:
        out.print(f"{file.name}: no cue differs from the job's {language} subtitles; nothing changed")
        return ExitCode.OK
    out.print(f"{file.name}: {len(report.changed_cues)} cue(s) changed ({', '.join(map(str, report.changed_cues))}); "
              f"the previous files are in {report.revision}")
    out.print(f"{report.stored} sentence(s) kept in the memory for later jobs")
    for reason in report.not_stored:
        out.print(f"not kept: {reason}")
    if report.run is not None:
        for path in report.run.deliverables:
            out.print(str(path))
    return ExitCode.OK


def serve(args: argparse.Namespace, settings: Settings) -> int:
    """`cpwx serve`: uvicorn in this process until interrupted."""
    import ipaddress
    import os

    from cpwhisperx.errors import InvalidInput, ResourceMissing

    token = args.token or os.environ.get("CPWX_SERVE_TOKEN") or None
    try:
        local = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        local = False
    if not local and token is None:
        raise InvalidInput(f"listening on {args.host} lets other machines in, and no token was given",
                           hint="give --token (or set CPWX_SERVE_TOKEN), or keep the default --host 127.0.0.1")
    if args.workers < 1 or not 0 <= args.low_confidence <= 1:
        raise InvalidInput("--workers must be at least 1 and --low-confidence between 0 and 1")
    for folder in args.media_roots:
        if not folder.is_dir():
            raise InvalidInput(f"the media root '{folder}' is not a folder", hint="give --media-root an existing folder")
    try:
        import uvicorn

        from cpwhisperx.serve.app import ServeOptions, create_app
    except ImportError as exc:
        raise ResourceMissing(f"the service needs {exc.name}, which is not installed", hint="pip install 'cp-whisperx[serve]'") from None
    options = ServeOptions(jobs_root=args.jobs_root or output_root(settings), media_roots=tuple(args.media_roots), token=token,
                           workers=args.workers, low_confidence=args.low_confidence)
    out.print(f"cp-whisperx serving {options.jobs_root} on http://{args.host}:{args.port}/ (API docs at /docs)"
              + ("; requests need the token" if token else ""))
    uvicorn.run(create_app(options), host=args.host, port=args.port, log_level=(args.log_level or "warning").lower())
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
            table.add_row(stage_dir_name(stage_number(name), name), state, f"{seconds:.2f}" if seconds is not None else "", escape(detail))
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
    """Every tool, backend, engine and model, available or why not; exit code 3 when something the
    default workflows need is missing."""
    from cpwhisperx import asr, hardware, media
    from cpwhisperx import models as registry

    rows = Table(show_header=False)
    rows.add_column("check")
    rows.add_column("result")
    missing: list[str] = []

    def row(name: str, result: str) -> None:
        rows.add_row(escape(name), escape(result))  # plain text: a hint such as cp-whisperx[nllb] is no markup

    def required(name: str, problem: str | None, fine: str) -> None:
        if problem is None:
            row(name, fine)
        else:
            rows.add_row(escape(name), f"[red]missing[/red]: {escape(problem)}")
            missing.append(name)

    row("cp-whisperx", _version())
    row("Python", f"{sys.version.split()[0]} ({sys.executable})")
    row("platform", f"{platform.system()} {platform.machine()}")
    for tool in ("ffmpeg", "ffprobe"):
        try:
            required(tool, None, media.tool_version(tool))
        except CpwxError as exc:  # shown, not raised: doctor reports every problem
            required(tool, str(exc), "")
    row("CPU cores", str(hardware.cpu_count()))
    row("CUDA devices", str(hardware.cuda_device_count()))
    for device, why in asr.NOT_BUILT_DEVICES.items():
        row(f"device {device}", f"not built: {why}")
    for name in asr.REGISTRY:
        why = asr.backend_available(name)
        if name == "faster-whisper":
            required(f"backend {name}", why, "available")
        else:
            row(f"backend {name}", "available" if why is None else f"not installed: {why}")
    for name, why in asr.NOT_BUILT.items():
        row(f"backend {name}", f"not built: {why}")
    try:
        chosen = asr.select(settings.WHISPER_BACKEND, settings.WHISPER_DEVICE, settings.WHISPER_COMPUTE_TYPE, strict=settings.WHISPER_BACKEND_STRICT)
        row("ASR would use", f"{chosen.backend} on {chosen.device} ({chosen.compute_type})" + "".join(f"; {w}" for w in chosen.warnings))
    except CpwxError as exc:
        required("ASR would use", str(exc), "")
    required("VAD (Silero, ONNX)", _vad_problem() if settings.VAD_ENABLED else None,
             "available" if settings.VAD_ENABLED else "off (VAD_ENABLED=false)")
    try:
        model = registry.resolve(settings.WHISPER_MODEL, settings.MODELS_DIR, allow_download=False)
        required(f"model {settings.WHISPER_MODEL} (WHISPER_MODEL)", None, f"{model.source}: {model.path}")
    except CpwxError as exc:
        required(f"model {settings.WHISPER_MODEL} (WHISPER_MODEL)", exc.message, "")
    for name, state, path in registry.status_rows(settings.MODELS_DIR):
        if state != "downloadable" and name != settings.WHISPER_MODEL:
            row(f"model {name}", f"{state} {path}")
    for name, state in _translation_engines(settings):
        row(f"translation {name}", state)
    root = registry.models_dir(settings.MODELS_DIR)
    row("model cache", f"{root} ({_size_mb(root):.0f} MB)")
    cache_root = cache_dir(settings.CACHE_DIR)
    row("result cache", f"{cache_root} ({_size_mb(cache_root):.0f} MB{'' if settings.CACHE_ENABLED else ', off'})")
    row("job outputs", str(output_root(settings)))
    out.print(rows)
    if missing:
        out.print(f"missing for the default workflows: {', '.join(missing)}")
        return ExitCode.RESOURCE_MISSING
    out.print("everything the default workflows need is here")
    return ExitCode.OK


def _vad_problem() -> str | None:
    """Why the Silero VAD model that the vad stage uses cannot be loaded, or None."""
    try:
        from faster_whisper.vad import get_vad_model

        get_vad_model()
    except Exception as exc:  # a missing package, file or runtime: each is the same answer for the user
        return f"the Silero VAD model faster-whisper ships does not load ({type(exc).__name__}: {exc}); reinstall faster-whisper and onnxruntime"
    return None


def _translation_engines(settings: Settings) -> list[tuple[str, str]]:
    """Each translation engine: available (and for what), or why not and how to get it."""
    from cpwhisperx.translate import ENGINES, apertium_pairs

    rows = []
    for name, spec in ENGINES.items():
        if name == "apertium":
            pairs = sorted(apertium_pairs())
            state = f"available: {', '.join(pairs)}" if pairs else f"not installed ({spec.install_hint})"
        elif name == "whisper":
            state = "available: any language → English from the audio, with a multilingual WHISPER_MODEL"
        else:
            source, target = ("en", "pt") if name == "bergamot" else ("en", "hi")
            why = spec.installed(source, target, settings)
            state = "available" + (" (en↔pt)" if name == "bergamot" else "") if why is None else f"not available: {why}; {spec.install_hint}"
        rows.append((name, state))
    return rows


def cache(args: argparse.Namespace, settings: Settings) -> int:
    root = cache_dir(settings.CACHE_DIR)
    if args.cache_command == "stats":
        _cache_stats(root, maintenance.stats(root, args.since), as_json=args.json)
    elif args.cache_command == "clear":
        removed = maintenance.clear(root, [args.kind])
        for kind, gone in removed.items():
            out.print(f"{kind}: removed {_entries(gone.entries)} ({gone.bytes / 1e6:.1f} MB)")
        if not any(gone.entries for gone in removed.values()):
            out.print(f"no {'' if args.kind == 'all' else args.kind + ' '}entries to remove in {root}")
    elif args.cache_command == "cleanup":
        gone = maintenance.cleanup(root, settings.CACHE_TTL_DAYS, settings.CACHE_MAX_SIZE_GB)
        limits = f"CACHE_TTL_DAYS={settings.CACHE_TTL_DAYS:g}, CACHE_MAX_SIZE_GB={settings.CACHE_MAX_SIZE_GB:g}"
        out.print(f"removed {_entries(gone.entries)} ({gone.bytes / 1e6:.1f} MB) and {gone.temp_files} unfinished writes from {root} ({limits})")
    else:
        checked = maintenance.validate(root)
        for kind in sorted(set(checked.valid) | set(checked.corrupt)):
            out.print(f"{kind}: {checked.valid.get(kind, 0)} valid, {checked.corrupt.get(kind, 0)} corrupt")
        for path in checked.removed:
            out.print(f"removed {path}")
        out.print(f"removed {_entries(len(checked.removed))} that did not read and {checked.temp_files} unfinished writes from {root}")
    return ExitCode.OK


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _cache_stats(root: Path, per_kind: dict[str, maintenance.KindStats], *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"root": str(root), "kinds": {k: v.as_json() for k, v in per_kind.items()}}, indent=2) + "\n")
        return
    if not per_kind:
        out.print(f"the result cache {root} is empty")
        return
    table = Table(title=f"result cache: {root}")
    for column in ("kind", "entries", "MB", "oldest use", "newest use", "hits", "misses", "corrupt"):
        table.add_column(column)
    for kind, row in per_kind.items():
        used = [t.strftime("%Y-%m-%d %H:%M") if t else "" for t in (row.oldest, row.newest)]
        table.add_row(kind, str(row.entries), f"{row.bytes / 1e6:.1f}", *used, str(row.hits), str(row.misses), str(row.corrupt))
    out.print(table)


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
