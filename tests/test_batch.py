"""`cpwx batch`: films gathered from files, folders and manifests, run by real worker processes on
the bundled model, recorded in batch.json, resumed, and kept apart when one fails or its worker dies."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from conftest import batch_and_alone_transcripts, cpwx, ffmpeg, job_dirs

from cpwhisperx.batch.films import gather_films
from cpwhisperx.batch.local import plan_workers
from cpwhisperx.batch.shipping import Parcel, pack, unpack
from cpwhisperx.config import validate
from cpwhisperx.errors import InvalidInput
from cpwhisperx.samples import librivox_clips

# Results computed by the workers themselves, not found in the session's cache.
NO_CACHE = ("--set", "CACHE_ENABLED=false")


def _batch_json(cwd: Path) -> dict:
    (found,) = (cwd / "out" / "batches").glob("*/batch.json")
    return json.loads(found.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def clips() -> list[Path]:
    """Three real LibriVox recordings of 3 to 6 seconds."""
    return [c.path for c in librivox_clips()[:3]]


def test_manifests_give_each_film_its_languages_and_settings(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "season 1").mkdir(parents=True)
    for name in ("a.wav", "season 1/b.mkv", ".hidden/c.wav", "notes.txt"):
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(b"x")
    (tmp_path / "films.csv").write_text("media,source_language,target_languages,whisper_beam_size\n"
                                        "media/a.wav,hi,\"en,es\",3\nmedia/season 1/b.mkv,,,\n", encoding="utf-8")
    (tmp_path / "films.jsonl").write_text('{"media": "media/a.wav", "set": {"SUBTITLE_MAX_LINES": 1}}\n\n', encoding="utf-8")

    found = gather_films([tmp_path / "films.csv", tmp_path / "films.jsonl", media], source_language="en", target_languages=("pt",),
                         values={"CACHE_ENABLED": "false"})

    by_row = [(f.media.relative_to(tmp_path).as_posix(), f.source_language, f.target_languages, dict(f.values)) for f in found]
    assert by_row == [
        ("media/a.wav", "hi", ("en", "es"), {"CACHE_ENABLED": "false", "WHISPER_BEAM_SIZE": "3"}),
        ("media/season 1/b.mkv", "en", ("pt",), {"CACHE_ENABLED": "false"}),
        ("media/a.wav", "en", ("pt",), {"CACHE_ENABLED": "false", "SUBTITLE_MAX_LINES": "1"}),
        # The folder adds a.wav with the command line's settings; b.mkv is the second row's film
        # already, and hidden or non-media files are no films.
        ("media/a.wav", "en", ("pt",), {"CACHE_ENABLED": "false"}),
    ]
    (tmp_path / "bad.csv").write_text("media,colour\nmedia/a.wav,red\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.csv, line 2: unknown column 'colour'"):
        gather_films([tmp_path / "bad.csv"], source_language=None, target_languages=(), values={})
    (tmp_path / "bad.jsonl").write_text('{"media": "a.wav"}\n[1]\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.jsonl, line 2: not a JSON object"):
        gather_films([tmp_path / "bad.jsonl"], source_language=None, target_languages=(), values={})


def test_workers_are_planned_from_cores_memory_and_gpus() -> None:
    settings = validate({})
    cpu = plan_workers(settings, 8, cpu_cores=2, cuda_devices=0, available_gb=20)
    assert (cpu.workers, cpu.threads, cpu.gpus) == (2, 1, (None, None))
    short_of_memory = plan_workers(settings, 8, cpu_cores=16, cuda_devices=0, available_gb=4)
    assert (short_of_memory.workers, short_of_memory.threads) == (2, 8) and "memory" in short_of_memory.reason
    gpus = plan_workers(settings, 8, cpu_cores=16, cuda_devices=2, available_gb=64)
    assert (gpus.workers, gpus.threads, gpus.gpus) == (2, 8, ("0", "1"))
    assert plan_workers(settings, 1, cpu_cores=16, cuda_devices=0, available_gb=64).workers == 1
    asked = plan_workers(validate({"BATCH_WORKERS": "3", "BATCH_THREADS_PER_WORKER": "2"}), 8, cpu_cores=2, cuda_devices=0, available_gb=1)
    assert (asked.workers, asked.threads) == (3, 2)


def test_a_batch_matches_separate_runs_keeps_going_past_a_failed_film_and_resumes(tmp_path: Path, clips: list[Path]) -> None:
    missing = tmp_path / "gone.wav"
    (tmp_path / "films.csv").write_text("media\n" + "".join(f"{p}\n" for p in [*clips[:2], missing]), encoding="utf-8")

    first = cpwx("batch", str(tmp_path / "films.csv"), *NO_CACHE, cwd=tmp_path)

    assert first.returncode == 2, first.stderr  # the missing film's exit code: invalid input
    record = _batch_json(tmp_path)
    states = {Path(e["media"]).name: e["state"] for e in record["films"]}
    assert states == {clips[0].name: "success", clips[1].name: "success", "gone.wav": "failed"}
    gone = next(e for e in record["films"] if e["name"] == "gone.wav")
    assert "does not exist" in gone["message"] and gone["exit_code"] == 2
    assert "gone.wav" in first.stdout and "2 of 3 film(s) done, 1 failed" in first.stdout
    for entry in record["films"][:2]:
        assert entry["real_time_factor"] > 0 and "asr" in entry["ran"] and entry["worker"].startswith("worker ")
        assert any(d.endswith(".srt") for d in entry["deliverables"])

    # Each film's transcript is the one `cpwx transcribe` makes of it alone.
    for entry in record["films"][:2]:
        mine, theirs = batch_and_alone_transcripts(entry, tmp_path, *NO_CACHE)
        assert mine == theirs != ""

    # The same batch again: finished films are not run again; the failed one is tried again.
    ffmpeg("-i", str(clips[2]), str(missing))
    second = cpwx("batch", str(tmp_path / "films.csv"), *NO_CACHE, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    again = _batch_json(tmp_path)
    assert again["id"] == record["id"] and again["runs"] == 2
    assert [e["job_id"] for e in again["films"][:2]] == [e["job_id"] for e in record["films"][:2]]
    assert [e["attempts"] for e in again["films"]] == [1, 1, 1] and all(e["state"] == "success" for e in again["films"])
    assert second.stdout.count("success (earlier run)") == 2


def test_a_film_whose_worker_dies_resumes_on_another_from_its_last_finished_stage(tmp_path: Path, clips: list[Path]) -> None:
    film = tmp_path / "film.wav"
    # Long enough that the speech recognition is still running when its worker is killed.
    ffmpeg("-i", str(clips[0]), "-i", str(clips[1]), "-i", str(clips[2]), "-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1", str(film))
    process = subprocess.Popen([sys.executable, "-m", "cpwhisperx", "batch", str(film), *NO_CACHE, "--workers", "1"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
    asr_manifest = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        jobs = job_dirs(tmp_path)
        if jobs and (jobs[0] / "06_asr" / "manifest.json").is_file():
            asr_manifest = json.loads((jobs[0] / "06_asr" / "manifest.json").read_text(encoding="utf-8"))
            if asr_manifest["status"] == "running":
                break
        time.sleep(0.05)
    assert asr_manifest is not None and asr_manifest["status"] == "running", process.communicate()
    (job,) = job_dirs(tmp_path)
    demux_before = (job / "01_demux" / "manifest.json").read_text(encoding="utf-8")
    worker = next(e for e in _batch_json(tmp_path)["films"])["worker"]
    os.kill(int(worker.split("pid ")[1].rstrip(")")), signal.SIGKILL)

    stdout, stderr = process.communicate(timeout=300)

    assert process.returncode == 0, stderr
    (entry,) = _batch_json(tmp_path)["films"]
    assert entry["state"] == "success" and entry["attempts"] == 2 and entry["worker"] != worker
    assert "stopped (exit code -9) while running the film" in entry["lost"][0]
    # The second attempt ran only the stage that was cut off and those after it.
    assert entry["ran"][0] == "asr" and "demux" in entry["reused"] and "vad" in entry["reused"]
    assert (job / "01_demux" / "manifest.json").read_text(encoding="utf-8") == demux_before
    assert "starts again and resumes from its last finished stage" in stderr


def test_a_worker_above_its_memory_bound_is_stopped_and_its_film_fails_alone(tmp_path: Path, clips: list[Path]) -> None:
    result = cpwx("batch", str(clips[0]), *NO_CACHE, "--set", "BATCH_MAX_WORKER_MEMORY_GB=0.05", cwd=tmp_path)

    assert result.returncode == 3, result.stderr
    (entry,) = _batch_json(tmp_path)["films"]
    assert entry["state"] == "failed" and entry["attempts"] == 1
    assert "above BATCH_MAX_WORKER_MEMORY_GB=0.05" in entry["message"] and "BATCH_MAX_WORKER_MEMORY_GB" in entry["fix"]


def test_films_after_a_sampled_one_decode_as_they_would_alone(tmp_path: Path, clips: list[Path]) -> None:
    # Every window is decoded by sampling at temperature 1: its words hang on the random numbers drawn.
    sampling = ("--set", "WHISPER_LOG_PROB_THRESHOLD=0", "--set", "WHISPER_TEMPERATURE=1.0", "--set", "WHISPER_BEST_OF=1", *NO_CACHE)
    result = cpwx("batch", str(clips[0]), str(clips[1]), "--workers", "1", *sampling, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entries = _batch_json(tmp_path)["films"]
    assert {e["worker"] for e in entries} == {entries[0]["worker"]}  # one worker ran both, one after the other
    for entry in entries:
        alone = tmp_path / f"alone-{entry['name']}"
        alone.mkdir()
        single = cpwx("transcribe", entry["media"], *sampling, cwd=alone)
        assert single.returncode == 0, single.stderr
        (job,) = job_dirs(alone)
        mine = json.loads((Path(entry["job_dir"]) / "06_asr" / "transcript.json").read_text(encoding="utf-8"))
        theirs = json.loads((job / "06_asr" / "transcript.json").read_text(encoding="utf-8"))
        assert any(s["temperature"] > 0 for s in mine["segments"])
        assert [s["text"] for s in mine["segments"]] == [s["text"] for s in theirs["segments"]] != []


def test_shipped_files_come_back_with_the_users_media_path(tmp_path: Path) -> None:
    job = tmp_path / "job"
    (job / "01_demux").mkdir(parents=True)
    (job / "job.json").write_text(json.dumps({"media": {"path": "/films/a.mp4"}}), encoding="utf-8")
    manifest = job / "01_demux" / "manifest.json"
    manifest.write_text(json.dumps({"inputs": [{"path": "/films/a.mp4", "sha256": "x"}, {"path": "other.wav"}]}), encoding="utf-8")
    os.utime(manifest, ns=(1_000_000_123, 1_000_000_123))
    (job / "01_demux" / ".audio.wav.abc.part.wav").write_bytes(b"half written")
    (job / ".run.lock").write_text("1", encoding="utf-8")
    parcel = pack(job, {})
    assert sorted(parcel.stats) == ["01_demux/manifest.json", "job.json"]  # no lock, no file still being written
    assert not pack(job, parcel.stats).stats  # nothing changed: nothing to send
    copy = tmp_path / "scratch"
    names = unpack(parcel, copy, ("/films/a.mp4", "/scratch/media/a.mp4"))
    assert sorted(names) == ["01_demux/manifest.json", "job.json"]
    assert json.loads((copy / "job.json").read_text(encoding="utf-8"))["media"]["path"] == "/scratch/media/a.mp4"
    inputs = json.loads((copy / "01_demux" / "manifest.json").read_text(encoding="utf-8"))["inputs"]
    assert [r["path"] for r in inputs] == ["/scratch/media/a.mp4", "other.wav"]
    # the time to the nanosecond, as the records that match files by size and time need it
    assert (copy / "01_demux" / "manifest.json").stat().st_mtime_ns == 1_000_000_123
    # an archive naming a file outside the folder it is unpacked into is refused
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as archive:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.OutsideDestinationError):
        unpack(Parcel(evil.getvalue(), {}), tmp_path / "target")
    assert not (tmp_path / "outside.txt").exists()
