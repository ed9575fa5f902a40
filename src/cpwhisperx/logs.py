"""Logging set-up: console, the pipeline log per run, stage logs; secrets redacted everywhere."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from cpwhisperx.config import SECRET_KEYS
from cpwhisperx.errors import ConfigError

LOGGER_NAME = "cpwhisperx"
# Libraries whose messages belong in the stage log too.
CAPTURED_LOGGERS = (LOGGER_NAME, "faster_whisper")
SECRETS_HINT = 'write it as {"TMDB_API_KEY": "…", "HF_TOKEN": "…"}, or give the secrets in the environment instead'
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# A log record may carry what it says as data too (a stage started, progress): what the service streams.
EVENT_FIELD = "cpwx_event"


def event(kind: str, **fields: object) -> dict[str, dict[str, object]]:
    """The `extra` of a log call whose record is also an event of the run."""
    return {EVENT_FIELD: {"type": kind, **fields}}


class EventHandler(logging.Handler):
    """Hands each record that is an event, and every warning and error as a `log` event, to `sink`."""

    def __init__(self, sink: Callable[[dict[str, object]], None]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink
        self.addFilter(redactor())

    def emit(self, record: logging.LogRecord) -> None:
        found = getattr(record, EVENT_FIELD, None)
        if found is None:
            if record.levelno < logging.WARNING:
                return
            found = {"type": "log", "level": record.levelname.lower(), "message": record.getMessage()}
        self.sink(found)


def load_secrets(cwd: Path | None = None) -> dict[str, str]:
    """Secrets from config/secrets.json, overridden by the environment."""
    found: dict[str, str] = {}
    path = (cwd or Path.cwd()) / "config" / "secrets.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"'{path}' is not a text file (not UTF-8)", hint=SECRETS_HINT) from None
        except json.JSONDecodeError as exc:
            # The position only: the file holds secrets, and the message goes to logs.
            raise ConfigError(f"'{path}' is not valid JSON (line {exc.lineno}, column {exc.colno})", hint=SECRETS_HINT) from None
        if not isinstance(data, dict):
            raise ConfigError(f"'{path}' is not a JSON object", hint=SECRETS_HINT)
        found.update({k: str(v) for k, v in data.items() if k in SECRET_KEYS and v})
    found.update({k: os.environ[k] for k in SECRET_KEYS if os.environ.get(k)})
    return found


class RedactingFilter(logging.Filter):
    """Replaces every secret value in a record with ***."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def redact(text: str) -> str:
    for secret in load_secrets().values():
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def redactor() -> RedactingFilter:
    return RedactingFilter(list(load_secrets().values()))


def configure_console(level: str) -> logging.Handler:
    """A console handler for the cpwhisperx logger (stderr, plain lines)."""
    root = logging.getLogger(LOGGER_NAME)
    root.setLevel(logging.DEBUG)
    root.propagate = False
    for handler in list(root.handlers):
        if getattr(handler, "_cpwx_console", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s" if level == "DEBUG" else "%(message)s"))
    handler.addFilter(redactor())
    handler._cpwx_console = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return handler


def attach_file(path: Path, level: int | str, loggers: tuple[str, ...] = (LOGGER_NAME,)) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    handler.addFilter(redactor())
    for name in loggers:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
            logger.setLevel(logging.DEBUG)
    logging.getLogger(LOGGER_NAME).setLevel(logging.DEBUG)
    return handler


def detach(handler: logging.Handler, loggers: tuple[str, ...] = (LOGGER_NAME,)) -> None:
    for name in loggers:
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def failure_report(exc: BaseException) -> dict[str, object]:
    """What went wrong in the CLI's words: the exit code, message, fix, the stage and its log."""
    from cpwhisperx.errors import CpwxError, ExitCode, StageFailed

    if isinstance(exc, StageFailed):
        cause = exc.cause
        message = cause.message if isinstance(cause, CpwxError) else f"{type(cause).__name__}: {cause}"
        hint = cause.hint if isinstance(cause, CpwxError) else None
        return {"exit_code": int(exc.exit_code), "message": redact(f"stage '{exc.stage}' failed: {message}"), "fix": hint,
                "stage": exc.stage, "log": exc.log_path}
    if isinstance(exc, CpwxError):
        return {"exit_code": int(exc.exit_code), "message": redact(exc.message), "fix": exc.hint, "stage": None, "log": None}
    return {"exit_code": int(ExitCode.STAGE_FAILED), "message": redact(f"{type(exc).__name__}: {exc}"), "fix": None, "stage": None, "log": None}
