"""The service's run queue: worker threads, each running one job at a time in a process of its own.

Every run's events are kept in memory for the life of the service (what `/events` replays to a
late listener); the job directory stays the record of what happened.
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpwhisperx.errors import ExitCode, JobBusy

log = logging.getLogger("cpwhisperx.serve")


@dataclass(frozen=True)
class RunRequest:
    job_id: str
    job_dir: Path
    from_stage: str | None = None
    force: bool = False
    assignments: dict[str, str] = field(default_factory=dict)


class RunEvents:
    """The events of a job's runs in this service, numbered from 0; `ended` once the last run ended."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.ended = False

    def add(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._items.append({"id": len(self._items), **item})

    def since(self, first: int) -> list[dict[str, Any]]:
        with self._lock:
            return self._items[first:]

    def last(self, kind: str) -> dict[str, Any] | None:
        with self._lock:
            return next((item for item in reversed(self._items) if item.get("type") == kind), None)


class Workers:
    def __init__(self, count: int, observe: Callable[[dict[str, Any]], None]) -> None:
        self._queue: queue.Queue[RunRequest | None] = queue.Queue()
        self._observe = observe
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}
        self._processes: dict[str, subprocess.Popen[str]] = {}
        self.events: dict[str, RunEvents] = {}
        self._stopping = False
        self._threads = [threading.Thread(target=self._work, name=f"cpwx-worker-{n}", daemon=True) for n in range(count)]
        for thread in self._threads:
            thread.start()

    def submit(self, request: RunRequest) -> None:
        """Queue a run; a job already queued or running is refused (the job's lock would refuse it too)."""
        with self._lock:
            if request.job_id in self._states:
                raise JobBusy(f"job {request.job_id} is {self._states[request.job_id]} already",
                              hint="wait for its run to finish (GET /api/jobs/{id}/events follows it), then ask again")
            self._states[request.job_id] = "queued"
            events = self.events.setdefault(request.job_id, RunEvents())
            events.ended = False
        events.add({"type": "run", "state": "queued", "from": request.from_stage})
        self._queue.put(request)

    def state(self, job_id: str) -> str | None:
        """queued or running while this service has the job in hand, else None."""
        with self._lock:
            return self._states.get(job_id)

    def queued(self) -> int:
        with self._lock:
            return sum(state == "queued" for state in self._states.values())

    def running(self) -> int:
        with self._lock:
            return sum(state == "running" for state in self._states.values())

    def shutdown(self) -> None:
        """Stop: runs still queued are not started (their jobs stay as they were), running ones are stopped."""
        with self._lock:
            self._stopping = True
            processes = list(self._processes.values())
        for _ in self._threads:
            self._queue.put(None)
        for process in processes:
            process.terminate()  # the job keeps its finished stages; `cpwx run` resumes it
        for thread in self._threads:
            thread.join(timeout=10)

    def _work(self) -> None:
        while (request := self._queue.get()) is not None:
            try:
                if self._stopping:
                    self.events[request.job_id].add({"type": "run", "state": "failed", "exit_code": int(ExitCode.STAGE_FAILED),
                                                     "message": "the service stopped before this run started",
                                                     "fix": "submit the re-run again once the service is back"})
                    continue
                self._run(request)
            except Exception:  # a worker outlives any one run
                log.exception("the run of %s could not be started", request.job_id)
                self.events[request.job_id].add({"type": "run", "state": "failed", "exit_code": int(ExitCode.STAGE_FAILED),
                                                 "message": "the service could not start the run; see its log"})
            finally:
                with self._lock:
                    self.events[request.job_id].ended = True
                    self._states.pop(request.job_id, None)
                    self._processes.pop(request.job_id, None)

    def _run(self, request: RunRequest) -> None:
        events = self.events[request.job_id]
        args = [sys.executable, "-m", "cpwhisperx.serve.runner", "--job-dir", str(request.job_dir)]
        if request.from_stage:
            args += ["--from", request.from_stage]
        if request.force:
            args.append("--force")
        for key, value in request.assignments.items():
            args += ["--set", f"{key}={value}"]
        with self._lock:
            if self._stopping:
                return
            process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                       text=True, encoding="utf-8")
            self._states[request.job_id] = "running"
            self._processes[request.job_id] = process
        ended = False
        assert process.stdout is not None
        for line in process.stdout:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(item, dict):
                continue
            ended = ended or (item.get("type") == "run" and item.get("state") in ("success", "failed"))
            events.add(item)
            self._observe(item)
        code = process.wait()
        if not ended:
            item = {"type": "run", "state": "failed", "exit_code": int(ExitCode.STAGE_FAILED),
                    "message": f"the run stopped without finishing (exit status {code}); finished stages are kept",
                    "fix": "re-run the job: it resumes from the stage that was interrupted"}
            events.add(item)
            self._observe(item)
