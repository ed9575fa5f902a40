"""A finished job: manifests, incremental re-runs, resume after SIGKILL, and the run lock."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import cpwx, job_dirs, manifest, ran_stages

from cpwhisperx.files import sha256_file
from cpwhisperx.stages import STAGE_ORDER

STAGE_DIRS = [f"{i:02d}_{name}" for i, name in enumerate(STAGE_ORDER, start=1)]
TRANSCRIBE_STAGES = ["01_demux", "05_vad", "06_asr", "07_alignment", "10_hallucination_removal", "12_subtitle_generation"]


def test_every_stage_has_a_full_manifest(finished_job: Path) -> None:
    for stage_dir in STAGE_DIRS:
        data = manifest(finished_job, stage_dir)
        for key in ("stage", "stage_number", "status", "started_at", "completed_at", "duration_seconds", "inputs", "outputs",
                    "intermediate_files", "config", "config_hash", "resources", "cache", "warnings", "errors", "metrics"):
            assert key in data, (stage_dir, key)
        assert data["stage_number"] == int(stage_dir[:2])
        if stage_dir in TRANSCRIBE_STAGES:
            assert data["status"] == "success", stage_dir
            assert data["outputs"], stage_dir
            assert data["duration_seconds"] >= 0
            for record in data["inputs"] + data["outputs"]:
                path = Path(record["path"]) if Path(record["path"]).is_absolute() else finished_job / record["path"]
                assert record["sha256"] == sha256_file(path), record
                assert record["size_bytes"] == path.stat().st_size
            assert (finished_job / stage_dir / "stage.log").stat().st_size > 0
        else:
            assert data["status"] == "skipped" and data["reason"], stage_dir
    asr = manifest(finished_job, "06_asr")
    assert asr["config"]["WHISPER_BEAM_SIZE"] == 5 and len(asr["config_hash"]) == 64
    assert asr["language"]["used"] == "en" and asr["language"]["probability"] > 0.5
    assert asr["inputs"][0]["path"] == "01_demux/audio.wav"
    # each stage reports its own peak memory: the model's weights count in asr, not in the stages around it
    peaks = {d: manifest(finished_job, d)["resources"]["peak_memory_mb"] for d in ("01_demux", "06_asr", "07_alignment")}
    assert peaks["01_demux"] < peaks["06_asr"] and peaks["07_alignment"] < peaks["06_asr"], peaks
    demux = manifest(finished_job, "01_demux")["intermediate_files"]
    assert demux and demux[0]["retained"] is False and not (finished_job / demux[0]["path"]).exists()


def test_pipeline_log_shows_each_stage(finished_job: Path) -> None:
    (log,) = (finished_job / "logs").glob("99_pipeline_*.log")
    text = log.read_text(encoding="utf-8")
    for number, name in enumerate(STAGE_ORDER, start=1):
        if f"{number:02d}_{name}" in TRANSCRIBE_STAGES:
            assert re.search(rf"stage {number:02d} {name}: started", text)
            assert re.search(rf"stage {number:02d} {name}: success in \d+\.\d+ s", text)
        else:
            assert f"stage {number:02d} {name}: skipped" in text


def test_job_record_and_outputs(finished_job: Path, sample_film: Path) -> None:
    record = json.loads((finished_job / "job.json").read_text(encoding="utf-8"))
    assert record["status"] == "success"
    assert record["media"]["sha256"] == sha256_file(sample_film)
    names = sorted(Path(p).name for p in record["deliverables"])
    assert names == ["sample_film.en.json", "sample_film.en.srt", "sample_film.en.txt", "sample_film.en.vtt"]
    text = (finished_job / "12_subtitle_generation" / "sample_film.en.txt").read_text(encoding="utf-8").lower()
    assert "dashwood" in text and "amiable" in text
    transcript = json.loads((finished_job / "12_subtitle_generation" / "sample_film.en.json").read_text(encoding="utf-8"))
    words = [w for seg in transcript["segments"] for w in seg["words"]]
    assert len(words) > 80
    assert all(a["end"] <= b["start"] + 1e-6 for a, b in zip(words, words[1:], strict=False))
    env_text = (finished_job / ".env.pipeline").read_text(encoding="utf-8")
    assert 'WHISPER_MODEL="base"' in env_text


def test_second_run_redoes_nothing(job_copy: Path) -> None:
    """Nothing runs and nothing is rewritten: every stage's files are byte for byte as they were."""
    before = {p.relative_to(job_copy): p.read_bytes() for p in job_copy.glob("[0-9][0-9]_*/*") if p.is_file()}
    assert len([p for p in before if p.name == "manifest.json"]) == len(STAGE_DIRS)
    result = cpwx("run", "--job-dir", str(job_copy), cwd=job_copy)
    assert result.returncode == 0, result.stderr
    assert ran_stages(result.stdout) == []
    for number, name in enumerate(STAGE_ORDER, start=1):
        if f"{number:02d}_{name}" in TRANSCRIBE_STAGES:
            assert f"stage {number:02d} {name}: up to date" in result.stderr
        assert f"stage {number:02d} {name}: started" not in result.stderr
    after = {p.relative_to(job_copy): p.read_bytes() for p in job_copy.glob("[0-9][0-9]_*/*") if p.is_file()}
    assert after.keys() == before.keys()
    assert [str(p) for p in after if after[p] != before[p]] == []


def test_changed_beam_size_redoes_asr_and_after_only(job_copy: Path) -> None:
    before = {d: manifest(job_copy, d)["completed_at"] for d in TRANSCRIBE_STAGES}
    result = cpwx("run", "--job-dir", str(job_copy), "--set", "WHISPER_BEAM_SIZE=1", cwd=job_copy)
    assert result.returncode == 0, result.stderr
    assert ran_stages(result.stdout) == ["asr", "alignment", "hallucination_removal", "subtitle_generation"]
    after = {d: manifest(job_copy, d)["completed_at"] for d in TRANSCRIBE_STAGES}
    assert after["01_demux"] == before["01_demux"] and after["05_vad"] == before["05_vad"]
    assert manifest(job_copy, "06_asr")["config"]["WHISPER_BEAM_SIZE"] == 1
    assert 'WHISPER_BEAM_SIZE="1"' in (job_copy / ".env.pipeline").read_text(encoding="utf-8")


def test_from_and_force(job_copy: Path) -> None:
    result = cpwx("run", "--job-dir", str(job_copy), "--from", "hallucination_removal", cwd=job_copy)
    assert ran_stages(result.stdout) == ["hallucination_removal", "subtitle_generation"]
    result = cpwx("run", "--job-dir", str(job_copy), "--from", "halucination", cwd=job_copy)
    assert result.returncode == 2 and "hallucination_removal" in result.stderr
    before = manifest(job_copy, "01_demux")["completed_at"]
    result = cpwx("run", "--job-dir", str(job_copy), "--force", cwd=job_copy)
    assert result.returncode == 0, result.stderr
    assert ran_stages(result.stdout) == [d.split("_", 1)[1] for d in TRANSCRIBE_STAGES]
    assert manifest(job_copy, "01_demux")["completed_at"] != before


def test_command_line_values_outrank_the_environment(job_copy: Path) -> None:
    """SPEC §5 puts the environment above job files; a value typed for this run still wins, and says so."""
    env = {"WHISPER_BEAM_SIZE": "3"}
    result = cpwx("run", "--job-dir", str(job_copy), "--set", "WHISPER_BEAM_SIZE=2", cwd=job_copy, env=env)
    assert result.returncode == 0, result.stderr
    assert manifest(job_copy, "06_asr")["config"]["WHISPER_BEAM_SIZE"] == 2
    result = cpwx("run", "--job-dir", str(job_copy), cwd=job_copy, env=env)  # no --set: the environment wins
    assert ran_stages(result.stdout)[0] == "asr" and manifest(job_copy, "06_asr")["config"]["WHISPER_BEAM_SIZE"] == 3


def _wait_for_status(path: Path, status: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(path.read_text(encoding="utf-8"))["status"] == status:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {status}")


def test_sigkill_in_asr_then_resume_and_lock(job_copy: Path) -> None:
    env = {**os.environ, "CACHE_ENABLED": "false"}  # the decode itself, not a cached result, is interrupted
    child = subprocess.Popen([sys.executable, "-m", "cpwhisperx", "run", "--job-dir", str(job_copy), "--from", "asr"],
                             cwd=job_copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_status(job_copy / "06_asr" / "manifest.json", "running")
        time.sleep(1.0)
        busy = cpwx("run", "--job-dir", str(job_copy), cwd=job_copy)
        assert busy.returncode == 2
        assert "already being run" in busy.stderr and f"pid {child.pid}" in busy.stderr
        assert child.poll() is None, "the run finished before it could be killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert manifest(job_copy, "06_asr")["status"] == "running"
    status = cpwx("status", "--job-dir", str(job_copy), cwd=job_copy)
    assert "interrupted" in status.stdout, status.stdout
    (asr_row,) = [line for line in status.stdout.splitlines() if "06_asr" in line]
    assert "interrupted" in asr_row and "running" not in asr_row, asr_row
    leftovers = sorted(p.name for p in (job_copy / "06_asr").iterdir())
    assert "transcript.json" not in leftovers
    assert all(name in ("manifest.json", "stage.log") or name.endswith(".part.json") for name in leftovers), leftovers
    # The dead process's lock file is still there; the next run takes it over and resumes at asr.
    assert (job_copy / ".run.lock").read_text().startswith(f"pid {child.pid}")
    result = cpwx("run", "--job-dir", str(job_copy), cwd=job_copy)
    assert result.returncode == 0, result.stderr
    assert ran_stages(result.stdout) == ["asr", "alignment", "hallucination_removal", "subtitle_generation"]
    assert manifest(job_copy, "06_asr")["status"] == "success"
    assert not [p for p in (job_copy / "06_asr").iterdir() if p.name.endswith(".part.json")]


def test_relative_job_dir(tmp_path: Path, short_clip: Path) -> None:
    prepared = cpwx("prepare", "--media", str(short_clip), "--set", "WHISPER_MODEL=tiny.en", cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    (job,) = job_dirs(tmp_path)
    relative = job.relative_to(tmp_path)
    result = cpwx("run", "--job-dir", str(relative), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "demux" in ran_stages(result.stdout) and "subtitle_generation" in ran_stages(result.stdout)
    assert manifest(job, "01_demux")["outputs"][0]["path"] == "01_demux/media.json"
    status = cpwx("status", "--job-dir", str(relative), cwd=tmp_path)
    assert status.returncode == 0 and "success" in status.stdout


def test_audio_stream_in_the_source_language_is_chosen(tmp_path: Path, short_clip: Path) -> None:
    """A film with a French track first and the English one second, run with -s en, transcribes the
    English one and says so; -s fr, or asking for stream 0, takes the other."""
    from conftest import REPO, ffmpeg

    other = REPO / "tests" / "data" / "hindi" / "noa_chandigarh_202018191821_sent_11.wav"
    film = tmp_path / "two tracks.mkv"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=160x90:r=10:d=3", "-i", str(other), "-i", str(short_clip),
           "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
           "-metadata:s:a:0", "language=fre", "-metadata:s:a:1", "language=eng", "-shortest", str(film))
    result = cpwx("transcribe", str(film), "-s", "en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "has 2 audio streams (0: fre, 1: eng); transcribing stream 1" in result.stderr
    (job,) = job_dirs(tmp_path)
    assert json.loads((job / "01_demux" / "media.json").read_text(encoding="utf-8"))["audio_stream_index"] == 1
    assert any("2 audio streams" in w for w in manifest(job, "01_demux")["warnings"])
    text = (job / "12_subtitle_generation" / "two tracks.en.txt").read_text(encoding="utf-8").lower()
    assert "young man" in text, text
    chosen = cpwx("run", "--job-dir", str(job), "--set", "DEMUX_AUDIO_STREAM=0", cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    assert "transcribing stream 0, as DEMUX_AUDIO_STREAM=0 asks" in chosen.stderr
    assert "young man" not in (job / "12_subtitle_generation" / "two tracks.en.txt").read_text(encoding="utf-8").lower()
