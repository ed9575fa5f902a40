"""The local engine: worker processes on this machine, each holding its model from film to film.

Each worker is a fresh (spawned) process with its share of the cores; the parent hands it one film
at a time, longest first, and watches its resident memory. A worker that dies mid-film costs only
that film's current stage: the film goes to another worker, which resumes its job.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from cpwhisperx.batch.engine import FilmQueue, Listener, Lost
from cpwhisperx.batch.worker import FilmTask, prepare_worker_process, run_film
from cpwhisperx.config import Settings
from cpwhisperx.errors import ExitCode, ResourceMissing
from cpwhisperx.logs import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.batch")
POLL_SECONDS = 0.5
# A worker that dies before taking a film this many times in a row means workers cannot start here.
MAX_FAILED_STARTS = 3
# What one worker holding the bundled `base` model needs at most on a long film, measured (README).
WORKER_MEMORY_ESTIMATE_GB = 1.5


@dataclass(frozen=True)
class WorkerPlan:
    """How many workers, the CPU threads of each, the GPU each one sees (None on the CPU), and why."""

    workers: int
    threads: int
    gpus: tuple[str | None, ...]
    reason: str


def plan_workers(settings: Settings, films: int, *, cpu_cores: int, cuda_devices: int, available_gb: float | None) -> WorkerPlan:
    """Workers × threads for throughput: on the CPU, one single-thread worker per core (on 2 cores,
    two single-thread workers finished `benchmarks/batch_throughput.py`'s 8 films in 164.9 s, one
    worker on both cores in 179.6 s), as many as memory allows; on CUDA one worker per GPU."""
    wanted = settings.BATCH_WORKERS
    on_gpu = cuda_devices > 0 and settings.WHISPER_DEVICE in ("cuda", "auto")
    if wanted:
        count, why = wanted, "BATCH_WORKERS"
    elif on_gpu:
        count, why = cuda_devices, f"one per GPU ({cuda_devices})"
    else:
        count, why = cpu_cores, f"one per CPU core ({cpu_cores})"
        per_worker = settings.BATCH_MAX_WORKER_MEMORY_GB or WORKER_MEMORY_ESTIMATE_GB
        if available_gb is not None and available_gb < count * per_worker:
            count = max(1, int(available_gb // per_worker))
            why = f"{available_gb:.1f} GB of memory free, {per_worker:g} GB a worker"
    count = max(1, min(count, films))
    threads = settings.BATCH_THREADS_PER_WORKER or max(1, cpu_cores // count)
    gpus = tuple(str(i % cuda_devices) for i in range(count)) if on_gpu else (None,) * count
    return WorkerPlan(count, threads, gpus, why)


def available_memory_gb() -> float | None:
    """MemAvailable from /proc/meminfo (Linux); None elsewhere."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1024 * 1024)
    return None


def resident_gb(pid: int) -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1024**3
    return None


def _worker_main(conn: Connection, gpu: str | None) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers and records what was interrupted.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    prepare_worker_process()
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the parent is gone
            return
        if task is None:
            return
        outcome = run_film(task, lambda item, key=task.key: conn.send(("event", key, item)))
        conn.send(("done", task.key, outcome))


@dataclass
class _Worker:
    name: str
    process: Any
    conn: Connection
    task: FilmTask | None = None
    took_film: bool = False


class LocalEngine:
    def __init__(self, plan: WorkerPlan, *, max_attempts: int, memory_limit_gb: float) -> None:
        self.plan = plan
        self.max_attempts = max_attempts
        self.memory_limit_gb = memory_limit_gb
        self._started = 0
        self._failed_starts = 0

    def run(self, tasks: list[FilmTask], listener: Listener) -> None:
        context = multiprocessing.get_context("spawn")
        queue = FilmQueue(tasks, self.max_attempts)
        workers: list[_Worker] = []
        try:
            while queue.waiting or any(w.task for w in workers):
                while queue.waiting and len(workers) < self.plan.workers:
                    workers.append(self._start(context))
                for worker in workers:
                    if worker.task is None and queue.waiting:
                        self._give(worker, queue, listener)
                for worker in [w for w in workers if w.task is None and not queue.waiting]:
                    self._stop(worker)
                    workers.remove(worker)
                ready = set(wait([w.conn for w in workers] + [w.process.sentinel for w in workers], timeout=POLL_SECONDS))
                for worker in list(workers):
                    if worker.conn in ready:
                        self._receive(worker, listener)
                    if worker.process.sentinel in ready or not worker.process.is_alive():
                        self._receive(worker, listener)
                        worker.process.join(timeout=5)  # its exit code is known once it is joined
                        self._bury(worker, queue, listener, f"{worker.name} stopped (exit code {worker.process.exitcode}) while running the film")
                        workers.remove(worker)
                self._check_memory(workers, queue, listener)
        finally:
            for worker in workers:
                self._stop(worker)

    def _start(self, context: Any) -> _Worker:
        index = self._started
        self._started += 1
        parent_end, child_end = context.Pipe()
        process = context.Process(target=_worker_main, args=(child_end, self.plan.gpus[index % len(self.plan.gpus)]),
                                  name=f"cpwx-batch-worker-{index + 1}", daemon=True)
        process.start()
        child_end.close()
        return _Worker(f"worker {index + 1} (pid {process.pid})", process, parent_end)

    def _give(self, worker: _Worker, queue: FilmQueue, listener: Listener) -> None:
        task = queue.take()
        if task is None:
            return
        worker.task, worker.took_film = task, True
        listener.started(task.key, worker.name)
        worker.conn.send(task)

    def _receive(self, worker: _Worker, listener: Listener) -> None:
        with contextlib.suppress(EOFError, OSError):
            while worker.conn.poll():
                kind, key, payload = worker.conn.recv()
                if kind == "event":
                    listener.event(key, payload)
                elif kind == "done" and worker.task is not None and key == worker.task.key:
                    worker.task = None
                    listener.finished(key, payload)

    def _bury(self, worker: _Worker, queue: FilmQueue, listener: Listener, why: str, lost: Lost | None = None) -> None:
        """The worker is gone: its film, if it had one, is lost; a worker that never ran a film counts as a failed start."""
        worker.process.join(timeout=5)
        worker.conn.close()
        if worker.task is not None:
            task, worker.task = worker.task, None
            queue.lose(task, lost or Lost(why), listener)
            self._failed_starts = 0
        elif not worker.took_film:
            self._failed_starts += 1
            if self._failed_starts >= MAX_FAILED_STARTS:
                raise ResourceMissing(f"batch workers stop as soon as they start ({why})",
                                      hint="run one film with `cpwx transcribe` to see the error, or give --workers 1")

    def _check_memory(self, workers: list[_Worker], queue: FilmQueue, listener: Listener) -> None:
        if not self.memory_limit_gb:
            return
        for worker in list(workers):
            if worker.task is None or worker.process.pid is None:
                continue
            used = resident_gb(worker.process.pid)
            if used is None or used <= self.memory_limit_gb:
                continue
            worker.process.kill()
            why = f"{worker.name} used {used:.2f} GB, above BATCH_MAX_WORKER_MEMORY_GB={self.memory_limit_gb:g}, and was stopped"
            log.warning("%s", why)
            self._bury(worker, queue, listener, why, Lost(why, retry=False, exit_code=int(ExitCode.RESOURCE_MISSING),
                                                          fix="raise BATCH_MAX_WORKER_MEMORY_GB, or choose a smaller WHISPER_MODEL"))
            workers.remove(worker)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        if worker.process.is_alive():
            if worker.task is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
                worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=10)
        worker.conn.close()
