"""Errors a user can act on, each carrying the exit code of SPEC §10."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    STAGE_FAILED = 1
    INVALID_INPUT = 2
    RESOURCE_MISSING = 3
    SERVICE_FAILED = 4


class CpwxError(Exception):
    """Base of every error meant for the user: a message in plain words and an exit code."""

    exit_code: ExitCode = ExitCode.STAGE_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class InvalidInput(CpwxError):
    """Bad media, arguments or configuration."""

    exit_code = ExitCode.INVALID_INPUT


class ConfigError(InvalidInput):
    """A configuration key or value that is not allowed."""


class ResourceMissing(CpwxError):
    """A model, program or device the run needs is not there."""

    exit_code = ExitCode.RESOURCE_MISSING


class ServiceFailed(CpwxError):
    """An external service answered with an error or not at all."""

    exit_code = ExitCode.SERVICE_FAILED


class JobBusy(InvalidInput):
    """Another process is running the same job."""


class StageFailed(CpwxError):
    """A stage raised; carries the stage name and where its log is."""

    def __init__(self, stage: str, cause: BaseException, log_path: str) -> None:
        self.stage = stage
        self.cause = cause
        self.log_path = log_path
        code = cause.exit_code if isinstance(cause, CpwxError) else ExitCode.STAGE_FAILED
        self.exit_code = code
        super().__init__(f"stage '{stage}' failed: {cause}\n  stage log: {log_path}")


class StageSkipped(Exception):
    """Raised by a stage that found it has nothing to do (its manifest says skipped, with the reason).

    `lasting` says whether the reason holds as long as the stage's inputs and configuration do (no
    match for the title asked for); a reason that can change without them (a missing API key, a
    service that did not answer) is not lasting, and the next run tries the stage again.
    """

    def __init__(self, reason: str, *, lasting: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lasting = lasting
