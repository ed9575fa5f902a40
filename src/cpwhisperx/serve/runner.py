"""One run of a job in a process of its own, its events on stdout as JSON lines: what the service's workers start.

    python -m cpwhisperx.serve.runner --job-dir DIR [--from STAGE] [--force] [--set KEY=VALUE]

A run in its own process keeps each job's logs, memory and failures to itself; the last line is
always a `run` event saying how it ended (the exit code of the CLI included).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from cpwhisperx.config import parse_assignments
from cpwhisperx.errors import CpwxError, ExitCode, StageFailed
from cpwhisperx.logs import EVENT_FIELD, LOGGER_NAME, redact, redactor


class EventLines(logging.Handler):
    """Writes each record that is an event, and every warning and error, as one JSON line."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        found = getattr(record, EVENT_FIELD, None)
        if found is None:
            if record.levelno < logging.WARNING:
                return
            found = {"type": "log", "level": record.levelname.lower(), "message": record.getMessage()}
        write(self.stream, found)


def write(stream: IO[str], item: dict[str, Any]) -> None:
    stream.write(json.dumps({"time": round(time.time(), 3), **item}, ensure_ascii=False) + "\n")
    stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cpwhisperx.serve.runner")
    parser.add_argument("--job-dir", required=True)
    parser.add_argument("--from", dest="from_stage")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--set", dest="assignments", action="append", default=[])
    args = parser.parse_args(argv)
    stream = sys.stdout
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = EventLines(stream)
    handler.addFilter(redactor())
    logger.addHandler(handler)
    write(stream, {"type": "run", "state": "started", "from": args.from_stage, "force": args.force})
    try:
        from cpwhisperx.pipeline import run_job

        result = run_job(args.job_dir, from_stage=args.from_stage, force=args.force, overrides=parse_assignments(args.assignments) or None)
    except CpwxError as exc:
        write(stream, {"type": "run", "state": "failed", "exit_code": int(exc.exit_code), **failure(exc)})
        return int(exc.exit_code)
    except Exception as exc:  # anything else is a failed run, reported the same way
        write(stream, {"type": "run", "state": "failed", "exit_code": int(ExitCode.STAGE_FAILED),
                       "message": redact(f"{type(exc).__name__}: {exc}"), "fix": None, "stage": None, "log": None})
        return int(ExitCode.STAGE_FAILED)
    write(stream, {"type": "run", "state": "success", "exit_code": 0, "seconds": result.seconds, "ran": result.ran,
                   "reused": result.reused, "deliverables": [p.relative_to(result.job.dir).as_posix() for p in result.deliverables]})
    return int(ExitCode.OK)


def failure(exc: CpwxError) -> dict[str, Any]:
    """What went wrong in the CLI's words: the message, the fix, the stage and its log."""
    if isinstance(exc, StageFailed):
        cause = exc.cause
        message = cause.message if isinstance(cause, CpwxError) else f"{type(cause).__name__}: {cause}"
        hint = cause.hint if isinstance(cause, CpwxError) else None
        return {"message": redact(f"stage '{exc.stage}' failed: {message}"), "fix": hint, "stage": exc.stage, "log": exc.log_path}
    return {"message": redact(exc.message), "fix": exc.hint, "stage": None, "log": None}


if __name__ == "__main__":
    raise SystemExit(main())
