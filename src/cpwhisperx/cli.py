"""The `cpwx` command: a thin layer over the library."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cpwhisperx import __version__
from cpwhisperx.cache.maintenance import KINDS as CACHE_KINDS
from cpwhisperx.config import Settings, load_config
from cpwhisperx.errors import CpwxError, ExitCode, InvalidInput
from cpwhisperx.logs import configure_console

log = logging.getLogger("cpwhisperx.cli")


def _job_flags(parser: argparse.ArgumentParser, media_positional: bool) -> None:
    if media_positional:
        parser.add_argument("media", help="the media file (any format FFmpeg reads)")
    else:
        parser.add_argument("--media", required=True, help="the media file (any format FFmpeg reads)")
    parser.add_argument("-s", "--source-language", help="spoken language as a Whisper code, or auto (default)")
    parser.add_argument("-t", "--target-language", "--target-languages", dest="target_languages",
                        help="comma-separated target languages (translating workflows only)")
    parser.add_argument("--user", help="user name in the job id and directory (default: the login name)")
    parser.add_argument("--no-cache", action="store_true", help="do not reuse cached results (CACHE_ENABLED=false)")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE", help="any configuration key")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="console verbosity")


def _date(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date of the form YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cpwx", description="Films and other media to transcripts, translations and soft-subtitled videos.")
    parser.add_argument("--version", action="version", version=f"cp-whisperx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("transcribe", help="prepare a transcribe job and run it")
    _job_flags(p, media_positional=True)

    p = sub.add_parser("translate", help="prepare a translate job (transcript in the target language) and run it")
    _job_flags(p, media_positional=True)

    p = sub.add_parser("subtitle", help="prepare a subtitle job (subtitle files and a soft-subtitled video) and run it")
    _job_flags(p, media_positional=True)

    p = sub.add_parser("prepare", help="create a job directory without running it")
    _job_flags(p, media_positional=False)
    p.add_argument("--workflow", default="transcribe", help="transcribe, translate or subtitle")

    p = sub.add_parser("batch", help="one job per film of a catalogue, run by workers that keep their model; resumable")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="media files, folders of them, or a .csv/.jsonl manifest (columns: media, source_language, target_languages, any key)")
    p.add_argument("--workflow", default="transcribe", choices=("transcribe", "translate", "subtitle"), help="what each film's job makes")
    p.add_argument("-s", "--source-language", help="spoken language of the films without one in the manifest (default: auto)")
    p.add_argument("-t", "--target-language", "--target-languages", dest="target_languages",
                   help="comma-separated target languages of the films without them in the manifest")
    p.add_argument("--workers", type=int, help="films run at once (BATCH_WORKERS; default: chosen for this machine)")
    p.add_argument("--threads-per-worker", type=int, help="CPU threads of each worker (BATCH_THREADS_PER_WORKER; default: the cores shared)")
    p.add_argument("--engine", choices=("local", "ray"), help="worker processes here, or actors of a Ray cluster (BATCH_ENGINE; default local)")
    p.add_argument("--address", help="Ray engine: the cluster, auto or host:port or ray://host:port (BATCH_RAY_ADDRESS)")
    p.add_argument("--batch-dir", type=Path, help="where batch.json is kept (default: OUTPUT_DIR/batches/<batch id>)")
    p.add_argument("--user", help="user name in the job ids and directories (default: the login name)")
    p.add_argument("--no-cache", action="store_true", help="do not reuse cached results (CACHE_ENABLED=false)")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE", help="any configuration key, for every film")
    p.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="console verbosity")

    p = sub.add_parser("run", help="run (or resume) a prepared job")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("-j", "--job", dest="job_id", help="job id, found under OUTPUT_DIR")
    which.add_argument("--job-dir", type=Path, help="the job directory")
    p.add_argument("--from", dest="from_stage", metavar="STAGE", help="run again from this stage on")
    p.add_argument("--force", action="store_true", help="run every stage again")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE", help="change a setting of the job for this and later runs")
    p.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"))

    p = sub.add_parser("import-subtitles", help="a reviewer's corrected subtitle file back into its job and the translation memory")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("-j", "--job", dest="job_id", help="job id, found under OUTPUT_DIR")
    which.add_argument("--job-dir", type=Path, help="the job directory")
    p.add_argument("file", type=Path, help="the corrected SRT, WebVTT or ASS file (same cues and times as the job's)")
    p.add_argument("--language", required=True, help="the language of the file's subtitles, as the job names them (e.g. en, es)")
    p.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"))

    p = sub.add_parser("serve", help="the job API and the review page in the browser (extra [serve])")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs --token)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--jobs-root", type=Path, help="where jobs are made and read (default: OUTPUT_DIR)")
    p.add_argument("--media-root", dest="media_roots", type=Path, action="append", default=[], metavar="FOLDER",
                   help="a folder whose media jobs may be made of (repeatable); uploads need none")
    p.add_argument("--token", help="the token every request must carry (default: CPWX_SERVE_TOKEN)")
    p.add_argument("--workers", type=int, default=1, help="jobs run at once (default 1)")
    p.add_argument("--low-confidence", type=float, default=0.5, metavar="P",
                   help="flag cues holding a word Whisper gave a probability below P (default 0.5)")
    p.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"))

    p = sub.add_parser("status", help="jobs, stage states, durations and outputs")
    p.add_argument("job_id", nargs="?", help="one job (default: list all)")
    p.add_argument("--job-dir", type=Path)

    p = sub.add_parser("models", help="list, locate or fetch Whisper models")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    msub.add_parser("list", help="known models and where they are")
    for action, text in (("path", "print a model's local directory"), ("download", "fetch a model into the model cache (bundled ones are unpacked)")):
        mp = msub.add_parser(action, help=text)
        mp.add_argument("name")

    sub.add_parser("doctor", help="check Python, FFmpeg, hardware, backends, models and cache")

    p = sub.add_parser("cache", help="the result cache: statistics, clearing, cleanup, validation")
    ksub = p.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    kp = ksub.add_parser("stats", help="entries, size and last use per kind; hits and misses recorded by runs")
    kp.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="count hits and misses from this day on (UTC)")
    kp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    kp = ksub.add_parser("clear", help="remove the entries of one kind, or of all")
    kp.add_argument("kind", nargs="?", default="all", choices=(*CACHE_KINDS, "all"), help="which entries (default: all)")
    ksub.add_parser("cleanup", help="apply CACHE_TTL_DAYS and CACHE_MAX_SIZE_GB now")
    ksub.add_parser("validate", help="read every entry and remove the corrupt ones")

    p = sub.add_parser("config", help="configuration keys and effective values")
    csub = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    csub.add_parser("keys", help="every key with its default and purpose")
    csub.add_parser("show", help="the effective configuration of this directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_config()
        configure_console(getattr(args, "log_level", None) or settings.LOG_LEVEL)
        return int(_dispatch(args, settings))
    except CpwxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except OSError as exc:
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"error: cannot read or write{where}: {exc.strerror or exc}\n  fix: check that the path exists, that you may write "
              "there and that the disk has room; finished stages are kept", file=sys.stderr)
        return int(ExitCode.INVALID_INPUT)
    except KeyboardInterrupt:
        print("interrupted: finished stages are kept; `cpwx run` resumes the job", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from cpwhisperx import commands

    if args.command in ("transcribe", "translate", "subtitle", "prepare"):
        values = commands.given_values(args)
        job = commands.prepare_from_args(args, getattr(args, "workflow", args.command), values)
        if args.command == "prepare":
            print(f"prepared {job.id}\n  {job.dir}\nrun it with: cpwx run -j {job.id}")
            return ExitCode.OK
        # What the command line says outranks the environment in this run too, not only in job files.
        return commands.run_and_report(job.dir, overrides=values)
    if args.command == "run":
        job_dir = args.job_dir or commands.job_dir_for(args.job_id, settings)
        return commands.run_and_report(job_dir, from_stage=args.from_stage, force=args.force, overrides=commands.given_values(args))
    if args.command == "batch":
        return commands.batch(args)
    if args.command == "import-subtitles":
        return commands.import_subtitles(args.job_dir or commands.job_dir_for(args.job_id, settings), args.file, args.language)
    if args.command == "status":
        return commands.status(args, settings)
    if args.command == "serve":
        return commands.serve(args, settings)
    if args.command == "models":
        return commands.models(args, settings)
    if args.command == "doctor":
        return commands.doctor(settings)
    if args.command == "cache":
        return commands.cache(args, settings)
    if args.command == "config":
        return commands.config(args, settings)
    raise InvalidInput(f"unknown command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())

