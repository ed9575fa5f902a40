"""`cpwx batch --engine ray` on a real Ray cluster started on 127.0.0.1 with two worker slots: the
films complete with the transcripts `cpwx transcribe` makes, and a killed actor costs only its
film's interrupted stage."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import batch_and_alone_transcripts, ffmpeg

from cpwhisperx.samples import librivox_clips

NO_CACHE = ("--set", "CACHE_ENABLED=false")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """A Ray head on 127.0.0.1 with two CPUs: two single-thread worker slots."""
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    assert ray, "the ray command of this environment"
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    subprocess.run([ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
                    "--num-gpus", "0", "--include-dashboard", "false", "--temp-dir", temp, "--disable-usage-stats"],
                   check=True, capture_output=True, env=env, timeout=180)
    yield f"127.0.0.1:{port}"
    subprocess.run([ray, "stop", "--force"], capture_output=True, env=env, timeout=120, check=False)
    shutil.rmtree(temp, ignore_errors=True)


def _record(cwd: Path) -> dict:
    (found,) = (cwd / "out" / "batches").glob("*/batch.json")
    return json.loads(found.read_text(encoding="utf-8"))


def _scratch_asr(pid: int) -> Path | None:
    """The ASR manifest in a shipping actor's own copy of its film's job."""
    return next(Path(tempfile.gettempdir()).glob(f"cpwx-shipped-{pid}-*/job/06_asr/manifest.json"), None)


def _running(manifest: Path | None) -> bool:
    try:
        return manifest is not None and json.loads(manifest.read_text(encoding="utf-8"))["status"] == "running"
    except (OSError, ValueError):
        return False


def _pipeline_logs(job_dir: str) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((Path(job_dir) / "logs").glob("99_pipeline_*.log"))]


@pytest.mark.parametrize("storage", ["shared", "ship"])
def test_a_killed_actor_costs_only_its_films_interrupted_stage(ray_head: str, tmp_path: Path, storage: str) -> None:
    """On shared storage the actors work in the job directories; shipped, each works on a copy
    sent through the object store, and the driver's job directories fill as its stages go."""
    clips = [c.path for c in librivox_clips()[:3]]
    long_film = tmp_path / "long.wav"
    ffmpeg("-i", str(clips[0]), "-i", str(clips[1]), "-i", str(clips[2]), "-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1", str(long_film))
    films = [long_film, clips[0], clips[1]]
    process = subprocess.Popen([sys.executable, "-m", "cpwhisperx", "batch", *map(str, films), "--engine", "ray", "--address", ray_head,
                                *NO_CACHE, "--set", f"BATCH_RAY_STORAGE={storage}"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and time.monotonic() < deadline and process.poll() is None:
        batch = next((tmp_path / "out" / "batches").glob("*/batch.json"), None) if (tmp_path / "out" / "batches").is_dir() else None
        entry = json.loads(batch.read_text(encoding="utf-8"))["films"][0] if batch else None
        pid = int(re.search(r"pid (\d+)", entry["worker"]).group(1)) if entry and entry["state"] == "running" else None
        # the film in its speech recognition, as the actor sees it and as the job directory shows it
        where = [Path(entry["job_dir"]) / "06_asr" / "manifest.json", *([_scratch_asr(pid)] if storage == "ship" else [])] if pid else []
        if where and all(_running(path) for path in where):
            killed = entry["worker"]
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    assert killed is not None, process.communicate()

    stdout, stderr = process.communicate(timeout=300)

    assert process.returncode == 0, stderr
    record = _record(tmp_path)
    assert record["engine"] == "ray" and record["workers"] == 2
    first, *others = record["films"]
    assert first["name"] == "long.wav" and first["state"] == "success" and first["attempts"] == 2
    assert "was lost while running the film" in first["lost"][0] and first["worker"] != killed
    # Its second run did the interrupted stage and those after it; demux and VAD were not done again.
    before, after = _pipeline_logs(first["job_dir"])
    assert "stage 06 asr: started" in before and "stage 06 asr: started" in after
    assert "stage 01 demux: started" in before and "stage 01 demux: started" not in after and "stage 01 demux: up to date" in after
    assert "stage 05 vad: up to date" in after
    for entry in others:
        assert entry["state"] == "success" and entry["attempts"] == 1 and len(_pipeline_logs(entry["job_dir"])) == 1
    shipped = [entry for entry in record["films"] if "object store" in (entry["worker"] or "")]
    assert len(shipped) == (3 if storage == "ship" else 0)
    for entry in record["films"]:  # the driver's copy names the user's media, and holds every stage's files
        job = json.loads((Path(entry["job_dir"]) / "job.json").read_text(encoding="utf-8"))
        assert job["media"]["path"] == str(films[record["films"].index(entry)].resolve()) and job["status"] == "success"
        assert all(Path(entry["job_dir"], d).is_file() for d in entry["deliverables"])
    # The films' transcripts are those of `cpwx transcribe`, film by film.
    for entry in record["films"]:
        mine, theirs = batch_and_alone_transcripts(entry, tmp_path, *NO_CACHE)
        assert mine == theirs != ""
