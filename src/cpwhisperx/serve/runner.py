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
from cpwhisperx.errors import ExitCode
from cpwhisperx.logs import LOGGER_NAME, EventHandler, failure_report


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
    handler = EventHandler(lambda item: write(stream, item))
    logger.addHandler(handler)
    write(stream, {"type": "run", "state": "started", "from": args.from_stage, "force": args.force})
    try:
        from cpwhisperx.pipeline import run_job

        result = run_job(args.job_dir, from_stage=args.from_stage, force=args.force, overrides=parse_assignments(args.assignments) or None)
    except Exception as exc:  # any failure is a failed run, reported in the CLI's words
        report = failure_report(exc)
        write(stream, {"type": "run", "state": "failed", **report})
        return int(report["exit_code"])
    write(stream, {"type": "run", "state": "success", **result.report()})
    return int(ExitCode.OK)


if __name__ == "__main__":
    raise SystemExit(main())
