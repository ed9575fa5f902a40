"""What each `cpwx` command does, on top of the library; output for people goes to stdout."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

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


def batch(args: argparse.Namespace) -> int:
    """`cpwx batch`: every film's job, run by workers that keep their model; a summary at the end."""
    from cpwhisperx.batch.display import BatchDisplay
    from cpwhisperx.batch.films import gather_films
    from cpwhisperx.batch.record import BATCH_FILE, batch_id
    from cpwhisperx.batch.run import BatchRun, prepare_films, start_record, tasks_for
    from cpwhisperx.errors import InvalidInput, JobBusy

    values = parse_assignments(args.assignments)
    if args.no_cache:
        values["CACHE_ENABLED"] = "false"
    if args.workers is not None:
        values["BATCH_WORKERS"] = str(args.workers)
    if args.threads_per_worker is not None:
        values["BATCH_THREADS_PER_WORKER"] = str(args.threads_per_worker)
    if args.engine:
        values["BATCH_ENGINE"] = args.engine
    if args.address:
        values["BATCH_RAY_ADDRESS"] = args.address
    # How the batch runs is no part of what each film's job makes: a change of it is the same batch.
    run_only = {k: v for k, v in values.items() if k.startswith("BATCH_") or k == "LOG_LEVEL"}
    film_values = {k: v for k, v in values.items() if k not in run_only}
    settings = load_config(overrides=values)
    targets = tuple(t.strip() for t in (args.target_languages or "").split(",") if t.strip())
    if targets and args.workflow == "transcribe":
        raise InvalidInput(f"the transcribe workflow makes no translations, but target languages were given ({', '.join(targets)})",
                           hint="drop -t, or give --workflow translate or subtitle")
    films = gather_films(args.inputs, source_language=args.source_language, target_languages=targets, values=film_values)
    folder = (args.batch_dir or output_root(settings) / "batches" / batch_id(films, args.workflow)).expanduser().resolve()
    record = start_record(folder, films, args.workflow)
    try:
        with RunLock(folder):
            keys = prepare_films(record, films, user=args.user)
            engine, workers, threads, why = _batch_engine(settings, len(keys), folder)
            record.engine, record.workers, record.threads_per_worker = settings.BATCH_ENGINE, workers, threads
            run = BatchRun(record, folder)
            run.save()
            earlier = len(films) - len(keys)
            out.print(f"batch {record.id}: {len(films)} film(s), {len(keys)} to run"
                      + (f" ({earlier} finished or failed to prepare)" if earlier else "")
                      + (f"; {settings.BATCH_ENGINE} engine, {why}" if keys else ""))
            out.print(f"  {folder / BATCH_FILE}")
            # One local worker holding every core runs as `cpwx transcribe` does; otherwise the cores are shared.
            shared = settings.BATCH_ENGINE == "ray" or workers != 1 or settings.BATCH_THREADS_PER_WORKER
            run_values = {"WHISPER_CPU_THREADS": str(threads)} if shared else {}
            if "LOG_LEVEL" in run_only:
                run_values["LOG_LEVEL"] = run_only["LOG_LEVEL"]
            try:
                with BatchDisplay(run):
                    engine.run(tasks_for(record, keys, run_values), run)
            except KeyboardInterrupt:
                run.interrupted()
                print("interrupted: finished films and stages are kept; the same `cpwx batch` command resumes the batch", file=sys.stderr)
                return 130
    except JobBusy:
        raise JobBusy(f"the batch {record.id} is already being run by another `cpwx batch`",
                      hint="wait for it to finish, or give this run another --batch-dir") from None
    _batch_summary(run)
    failed = [e for e in record.films if e.state != "success"]
    return failed[0].exit_code or ExitCode.STAGE_FAILED if failed else ExitCode.OK


def _batch_engine(settings: Settings, films: int, folder: Path) -> tuple[Any, int, int, str]:
    """The engine of the batch, its workers, threads per worker (0: the library's own choice), and why so many."""
    from cpwhisperx import hardware

    if settings.BATCH_ENGINE == "ray":
        from cpwhisperx.batch.ray_engine import RayEngine

        threads = settings.BATCH_THREADS_PER_WORKER or 1
        ray_engine = RayEngine(address=settings.BATCH_RAY_ADDRESS or None, workers=settings.BATCH_WORKERS, threads=threads,
                               gpus_per_worker=settings.BATCH_GPUS_PER_WORKER, max_attempts=settings.BATCH_MAX_ATTEMPTS, folder=folder,
                               storage=settings.BATCH_RAY_STORAGE)
        if not films:
            return ray_engine, 0, threads, ""
        slots = min(ray_engine.slots(ray_engine.connect()), films)
        return ray_engine, slots, threads, f"{slots} actor(s) × {threads} thread(s)"
    from cpwhisperx.batch.local import LocalEngine, available_memory_gb, plan_workers

    plan = plan_workers(settings, films, cpu_cores=hardware.cpu_count(), cuda_devices=hardware.cuda_device_count(),
                        available_gb=available_memory_gb())
    engine = LocalEngine(plan, max_attempts=settings.BATCH_MAX_ATTEMPTS, memory_limit_gb=settings.BATCH_MAX_WORKER_MEMORY_GB)
    return engine, plan.workers, plan.threads, f"{plan.workers} worker(s) × {plan.threads} thread(s) ({plan.reason})"


def _batch_summary(run: Any) -> None:
    from cpwhisperx.batch.run import format_seconds

    table = Table(title=f"batch {run.record.id} ({run.record.workflow})")
    for column in ("film", "status", "audio", "seconds", "RTF", "peak MB", "job", "deliverables / problem"):
        table.add_column(column)
    for entry in run.record.films:
        status = entry.state if entry.key in run.ran_now or entry.state != "success" else "success (earlier run)"
        stem = Path(entry.name).stem + "."
        # The paths follow the table; here, what each file is.
        detail = ", ".join(Path(d).name.removeprefix(stem) for d in entry.deliverables) if entry.state == "success" else (entry.message or "")
        if entry.fix and entry.state != "success":
            detail += f" (fix: {entry.fix})"
        table.add_row(escape(entry.name), status, format_seconds(entry.audio_seconds) if entry.audio_seconds else "",
                      f"{entry.seconds:.1f}" if entry.seconds is not None else "",
                      f"{entry.real_time_factor:.3f}" if entry.real_time_factor is not None else "",
                      f"{entry.peak_memory_mb:.0f}" if entry.peak_memory_mb else "", entry.job_id or "", escape(detail))
    out.print(table)
    done = [e for e in run.record.films if e.key in run.ran_now and e.state == "success"]
    elapsed = time.monotonic() - run.started_at
    audio = sum(e.audio_seconds or 0 for e in done)
    failed = sum(e.state != "success" for e in run.record.films)
    out.print(f"{len(run.record.films) - failed} of {len(run.record.films)} film(s) done, {failed} failed; this run: "
              f"{len(done)} film(s), {format_seconds(audio)} of audio in {format_seconds(elapsed)}"
              + (f" ({audio / elapsed:.1f}× real time)" if audio and elapsed else ""))
    for entry in run.record.films:
        if entry.state == "success" and entry.job_dir:
            for item in entry.deliverables:
                out.print(str(Path(entry.job_dir) / item))


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
