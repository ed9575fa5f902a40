"""What every batch engine promises: films run once each, longest first, a film whose worker is lost
started again (resuming) up to a limit, and each happening told to a listener."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

from cpwhisperx.batch.worker import FilmTask


class Listener(Protocol):
    def started(self, key: str, worker: str) -> None: ...
    def event(self, key: str, item: dict[str, object]) -> None: ...
    def finished(self, key: str, outcome: dict[str, object]) -> None: ...
    def lost(self, key: str, why: str, again: bool) -> None: ...


@dataclass(frozen=True)
class Lost:
    """Why a film's worker stopped mid-film, and whether starting again can help."""

    why: str
    retry: bool = True
    exit_code: int = 1
    fix: str | None = None


class FilmQueue:
    """Films waiting for a worker, in the order given (the longest first), with their attempts so far."""

    def __init__(self, tasks: list[FilmTask], max_attempts: int) -> None:
        self.waiting: deque[FilmTask] = deque(tasks)
        self.attempts: dict[str, int] = {task.key: 0 for task in tasks}
        self.max_attempts = max_attempts

    def take(self) -> FilmTask | None:
        if not self.waiting:
            return None
        task = self.waiting.popleft()
        self.attempts[task.key] += 1
        return task

    def lose(self, task: FilmTask, lost: Lost, listener: Listener) -> None:
        """The film's worker is gone: start the film again on another one, or record it failed."""
        again = lost.retry and self.attempts[task.key] < self.max_attempts
        listener.lost(task.key, lost.why, again)
        if again:
            # Next, before shorter films: it is the longest of those left, and it resumes where it stopped.
            self.waiting.appendleft(task)
            return
        tried = self.attempts[task.key]
        listener.finished(task.key, {"state": "failed", "exit_code": lost.exit_code, "stage": None, "log": None,
                                     "message": lost.why + (f" (attempt {tried} of {self.max_attempts})" if lost.retry else ""),
                                     "fix": lost.fix or "run the same `cpwx batch` again: the film resumes from its last finished stage"})
