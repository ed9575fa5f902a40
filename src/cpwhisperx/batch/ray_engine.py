"""The Ray engine: the batch's films as tasks of model-holding actors, one per worker slot of a Ray
cluster (a GPU slot when the cluster has GPUs).

Each actor is a Ray worker process that loads its model once and runs film after film. Where it
sees the batch folder (shared storage: the driver checks with a token file), it reads the media and
writes the job directories in place; where it does not, or with BATCH_RAY_STORAGE=ship, the job
and its media travel through Ray's object store and the files come back stage by stage (see
`shipping`). An actor lost mid-film (its process killed, its node gone) costs that film's current
stage: the film goes to another actor, which resumes the job from its last finished stage.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpwhisperx.batch.engine import FilmQueue, Listener, Lost
from cpwhisperx.batch.shipping import FILES_EVENT, Receiver, ShippedFilm, clear_stale_scratch, run_shipped, ship
from cpwhisperx.batch.worker import FilmTask, prepare_worker_process, run_film
from cpwhisperx.errors import CpwxError, InvalidInput, ResourceMissing
from cpwhisperx.logs import LOGGER_NAME, failure_report

log = logging.getLogger(f"{LOGGER_NAME}.batch")
POLL_SECONDS = 0.5
VISIBLE_FILE = ".ray-visible"
SHARED_STORAGE_FIX = ("put the media and OUTPUT_DIR (and --batch-dir) on storage every node mounts at the same path "
                      "(NFS, a cluster file system), or set BATCH_RAY_STORAGE=auto to send such nodes the films "
                      "through Ray's object store")


class FilmActor:
    """Lives in a Ray worker process: its model kept from film to film, its events sent to the driver's queue."""

    def __init__(self, events: Any) -> None:
        prepare_worker_process()
        clear_stale_scratch()
        self.events = events

    def where(self) -> tuple[str, int]:
        return socket.gethostname(), os.getpid()

    def sees(self, path: str, token: str) -> bool:
        try:
            return Path(path).read_text(encoding="utf-8") == token
        except OSError:
            return False

    def run(self, task: FilmTask) -> dict[str, object]:
        return run_film(task, lambda item: self.events.put((task.key, item)))

    def run_shipped(self, film: ShippedFilm) -> dict[str, object]:
        import ray

        def send(item: dict[str, object]) -> None:
            if item.get("type") == FILES_EVENT:  # the files through the object store, the queue carries their reference
                item = {**item, "parcel": ray.put(item["parcel"])}
            self.events.put((film.task.key, item))

        return run_shipped(film, send)


@dataclass
class _Slot:
    name: str
    actor: Any
    shipped: bool = False  # the actor does not work on the batch's storage
    task: FilmTask | None = None
    ref: Any = None


class RayEngine:
    def __init__(self, *, address: str | None, workers: int, threads: int, gpus_per_worker: float, max_attempts: int,
                 folder: Path, storage: str = "auto") -> None:
        self.address = address
        self.storage = storage
        self.workers = workers
        self.threads = threads
        self.gpus_per_worker = gpus_per_worker
        self.max_attempts = max_attempts
        self.folder = folder
        self._started = 0

    def connect(self) -> dict[str, float]:
        """Join the cluster (`auto`, host:port or ray://host:port; none: a running local one, else a new one); its resources."""
        try:
            import ray
        except ImportError:
            raise ResourceMissing("the Ray engine needs Ray, which is not installed", hint="pip install 'cp-whisperx[ray]'") from None
        if not ray.is_initialized():
            # A new local cluster needs no dashboard; one joined keeps its own settings.
            own = {} if self.address else {"include_dashboard": False}
            try:
                ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING, **own)
            except ConnectionError as exc:
                raise InvalidInput(f"no Ray cluster at {self.address}: {exc}",
                                   hint="start one with `ray start --head`, or give --address host:port of its head") from None
        return {k: float(v) for k, v in ray.cluster_resources().items()}

    def slots(self, resources: dict[str, float]) -> int:
        """Worker slots: --workers, else one per GPU share when the cluster has GPUs, else its CPUs over the threads of each."""
        if self.workers:
            return self.workers
        if resources.get("GPU", 0) and self.gpus_per_worker:
            return max(1, int(resources["GPU"] // self.gpus_per_worker))
        return max(1, int(resources.get("CPU", 1) // self.threads))

    def run(self, tasks: list[FilmTask], listener: Listener) -> None:
        import ray
        from ray.util.queue import Queue

        resources = self.connect()
        count = min(self.slots(resources), len(tasks))
        gpus = self.gpus_per_worker if resources.get("GPU", 0) else 0
        events = Queue()
        token = secrets.token_hex(8)
        visible = self.folder / VISIBLE_FILE
        visible.write_text(token, encoding="utf-8")
        # Ray gives each worker OMP_NUM_THREADS=<its CPUs>; an empty value leaves NumPy's BLAS its own
        # default, as in `cpwx transcribe` (its sums, the mel features, depend on the thread count).
        actor_class = ray.remote(FilmActor).options(num_cpus=self.threads, num_gpus=gpus, max_restarts=0,
                                                     runtime_env={"env_vars": {"OMP_NUM_THREADS": ""}})
        queue = FilmQueue(tasks, self.max_attempts)
        receiver = Receiver({t.key: Path(t.job_dir) for t in tasks})
        slots: list[_Slot] = []
        try:
            while queue.waiting or any(s.task for s in slots):
                while queue.waiting and len(slots) < count:
                    slots.append(self._start(actor_class, events, visible, token))
                for slot in slots:
                    if slot.task is None and queue.waiting:
                        task = queue.take()
                        assert task is not None
                        listener.started(task.key, slot.name)
                        if slot.shipped:
                            try:
                                film = ship(task)
                            except (CpwxError, OSError) as exc:  # this film cannot go; the others still do
                                listener.finished(task.key, {"state": "failed", **failure_report(exc)})
                                continue
                            receiver.media_paths[task.key] = film.media_path
                            slot.task, slot.ref = task, slot.actor.run_shipped.remote(film)
                        else:
                            slot.task, slot.ref = task, slot.actor.run.remote(task)
                for slot in [s for s in slots if s.task is None and not queue.waiting]:
                    ray.kill(slot.actor)
                    slots.remove(slot)
                busy = [s.ref for s in slots if s.task is not None]
                ready = set(ray.wait(busy, num_returns=len(busy), timeout=POLL_SECONDS)[0]) if busy else set()
                self._drain(events, listener, receiver)
                for slot in list(slots):
                    if slot.task is None or slot.ref not in ready:
                        continue
                    task, slot.task = slot.task, None
                    try:
                        outcome = ray.get(slot.ref)
                    except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
                        slots.remove(slot)
                        queue.lose(task, Lost(f"{slot.name} was lost while running the film ({type(exc).__name__})"), listener)
                        continue
                    except ray.exceptions.RayTaskError as exc:  # the film's task failed outside its job: that film fails
                        outcome = {"state": "failed", **failure_report(exc)}
                    self._drain(events, listener, receiver)
                    listener.finished(task.key, outcome)
        finally:
            for slot in slots:
                ray.kill(slot.actor)
            events.shutdown()
            visible.unlink(missing_ok=True)

    def _start(self, actor_class: Any, events: Any, visible: Path, token: str) -> _Slot:
        import ray

        self._started += 1
        actor = actor_class.remote(events)
        host, pid = ray.get(actor.where.remote())
        shipped = self.storage == "ship"
        if not shipped and not ray.get(actor.sees.remote(str(visible), token)):
            if self.storage == "shared":
                ray.kill(actor)
                raise InvalidInput(f"a Ray worker on {host} does not see the batch folder {self.folder}", hint=SHARED_STORAGE_FIX)
            log.info("the Ray worker on %s does not see the batch folder: its films go through the object store", host)
            shipped = True
        name = f"ray actor {self._started} on {host} (pid {pid}{'; files through the object store' if shipped else ''})"
        return _Slot(name, actor, shipped)

    @staticmethod
    def _drain(events: Any, listener: Listener, receiver: Receiver) -> None:
        import ray

        while not events.empty():
            for key, item in events.get_nowait_batch(events.qsize()):
                if item.get("type") != FILES_EVENT:
                    listener.event(key, item)
                    continue
                try:
                    parcel = ray.get(item["parcel"])
                except ray.exceptions.RayError as exc:  # its actor died before they were read: the stage runs again
                    log.info("files of a lost actor not received (%s)", type(exc).__name__)
                    continue
                receiver.take(key, {**item, "parcel": parcel})
