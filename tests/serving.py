"""`cpwx serve` started for real in a child process on 127.0.0.1, and a client that follows its events."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 60
RUN_SECONDS = 600


@dataclass(frozen=True)
class Service:
    url: str
    jobs_root: Path
    media_root: Path
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def service(jobs_root: Path, media_root: Path, *extra: str) -> Iterator[Service]:
    """The service with a result cache of its own (beside the jobs root): its runs start cold and teach other tests nothing."""
    port = free_port()
    args = [sys.executable, "-m", "cpwhisperx", "serve", "--port", str(port), "--jobs-root", str(jobs_root),
            "--media-root", str(media_root), *extra]
    log = open(jobs_root.parent / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(args, cwd=jobs_root.parent, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "CACHE_DIR": str(jobs_root.parent / "cache")})
    url = f"http://127.0.0.1:{port}"
    token = extra[extra.index("--token") + 1] if "--token" in extra else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/health", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cpwx serve did not start: {(jobs_root.parent / f'serve-{port}.log').read_text(errors='replace')}")
            time.sleep(0.2)
        yield Service(url, jobs_root, media_root, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def follow(url: str, job_id: str, headers: dict[str, str] | None = None) -> list[dict]:
    """Every server-sent event of the job until the stream ends: (event name, data) as dicts."""
    events: list[dict] = []
    name = "message"
    with httpx.stream("GET", f"{url}/api/jobs/{job_id}/events", headers=headers, timeout=httpx.Timeout(RUN_SECONDS, connect=10)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append({"event": name, **json.loads(line[5:].strip())})
    return events


def run_of(events: list[dict]) -> list[dict]:
    """The events of the last run in the list (from its `queued` event on)."""
    starts = [n for n, e in enumerate(events) if e["event"] == "run" and e.get("state") == "queued"]
    return events[starts[-1]:] if starts else events


def submit(url: str, media: str, **fields: object) -> dict:
    response = httpx.post(f"{url}/api/jobs", json={"media": media, **fields}, timeout=120)
    assert response.status_code == 201, response.text
    return response.json()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under the folder by its sha256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
