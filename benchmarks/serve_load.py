"""Load on `cpwx serve`: 20 concurrent job submissions and 200 concurrent reads, from a local client.

    .venv/bin/python benchmarks/serve_load.py [--submissions 20] [--reads 200] [--workers 2]

Starts the real service on 127.0.0.1 (a free port, a temporary jobs root, the sample film as the
media root), submits the jobs at once, reads one job 200 times at once (and the job list and a
cue sheet), waits for every job to finish, and prints the latencies (p50, p95, max) and whether
any request failed or any job was lost. The client is bounded: at most `--reads` connections, each
request with a 60 s time-out, to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cpwhisperx.samples import build_sample_film

TIMEOUT = httpx.Timeout(60, connect=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> tuple[float, httpx.Response | Exception]:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        return time.perf_counter() - started, exc
    return time.perf_counter() - started, response


def report(name: str, results: list[tuple[float, httpx.Response | Exception]], ok: int) -> int:
    latencies = [seconds * 1000 for seconds, _ in results]
    errors = [r for _, r in results if isinstance(r, Exception) or r.status_code != ok]
    print(f"{name:<34} {len(results):>5} {len(errors):>6} {statistics.median(latencies):>8.1f} {percentile(latencies, 0.95):>8.1f} "
          f"{max(latencies):>8.1f}")
    for error in errors[:3]:
        print(f"  error: {error if isinstance(error, Exception) else f'{error.status_code} {error.text[:200]}'}")
    return len(errors)


async def load(url: str, submissions: int, reads: int) -> int:
    limits = httpx.Limits(max_connections=max(reads, submissions), max_keepalive_connections=max(reads, submissions))
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, limits=limits) as client:
        posted = await asyncio.gather(*(timed(client, "POST", "/api/jobs", json={"media": "sample_film.mp4", "source_language": "en"})
                                        for _ in range(submissions)))
        ids = [r.json()["id"] for _, r in posted if isinstance(r, httpx.Response) and r.status_code == 201]
        print(f"{'request':<34} {'count':>5} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        errors = report("POST /api/jobs (concurrent)", posted, 201)
        one = ids[0]
        errors += report("GET /api/jobs/{id} (concurrent)", await asyncio.gather(*(timed(client, "GET", f"/api/jobs/{one}") for _ in range(reads))), 200)
        errors += report("GET /api/jobs (concurrent, 20)", await asyncio.gather(*(timed(client, "GET", "/api/jobs") for _ in range(20))), 200)
        started = time.perf_counter()
        while True:
            states = [(await client.get(f"/api/jobs/{job_id}")).json()["status"] for job_id in ids]
            if all(state in ("success", "failed") for state in states):
                break
            await asyncio.sleep(1)
        finished = time.perf_counter() - started
        errors += report("GET /api/jobs/{id}/cues/en (concur.)",
                         await asyncio.gather(*(timed(client, "GET", f"/api/jobs/{one}/cues/en") for _ in range(reads))), 200)
        listed = {job["id"] for job in (await client.get("/api/jobs")).json()["jobs"]}
    lost = [job_id for job_id in ids if job_id not in listed] + ["(not accepted)"] * (submissions - len(ids))
    failed = [job_id for job_id, state in zip(ids, states, strict=True) if state != "success"]
    print(f"jobs: {len(ids)} of {submissions} accepted with distinct ids: {len(set(ids)) == len(ids)}; "
          f"{states.count('success')} succeeded, {len(failed)} failed, {len(lost)} lost; all finished {finished:.1f} s after the reads")
    return errors + len(failed) + len(lost)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cpwx-serve-load-") as folder:
        home = Path(folder)
        (home / "media").mkdir()
        (home / "jobs").mkdir()
        build_sample_film(home / "media" / "sample_film.mp4")
        port = free_port()
        env = {**os.environ, "CACHE_DIR": str(home / "cache")}
        server = subprocess.Popen([sys.executable, "-m", "cpwhisperx", "serve", "--port", str(port), "--jobs-root", str(home / "jobs"),
                                   "--media-root", str(home / "media"), "--workers", str(args.workers)],
                                  cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            print(f"cpwx serve on {url}, {args.workers} worker(s), {os.cpu_count()} CPU cores")
            problems = asyncio.run(load(url, args.submissions, args.reads))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("no error, no lost job" if problems == 0 else f"{problems} problem(s)")
    return 0 if problems == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
