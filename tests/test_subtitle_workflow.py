"""`cpwx subtitle`: compliant cues on real speech, soft subtitles in MKV/MP4 with untouched streams."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import cpwx, job_dirs, manifest, remeasured

from cpwhisperx.compliance import facts_from_file, measure
from cpwhisperx.config import Settings
from cpwhisperx.subtitle_rules import rules_from
from cpwhisperx.samples import build_sample_film

STAGES_RUN = ["demux", "vad", "asr", "alignment", "diarization", "lyrics_detection", "hallucination_removal", "subtitle_generation", "mux"]


def ffprobe_streams(path: Path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["streams"]


def stream_hashes(path: Path) -> list[str]:
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v", "-map", "0:a", "-c", "copy",
                          "-f", "streamhash", "-hash", "sha256", "-"], capture_output=True, text=True, check=True).stdout
    return out.split()


def duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


@pytest.fixture(scope="session")
def subtitled_job(sample_film: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("subtitled")
    result = cpwx("subtitle", str(sample_film), cwd=cwd)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(cwd)
    return job


@pytest.fixture(scope="session")
def long_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "long film.mkv"
    build_sample_film(path, repeat=2, min_duration=125.0)
    return path


def check_compliance(srt: Path, report: dict) -> None:
    """The stage's report, and the file measured again on the video's frames (cut rules need the speech: not re-checked)."""
    assert report["all_within"], report
    assert report["cues"] > 5
    independent = remeasured(srt, "en")
    assert independent["all_within"], independent
    assert independent["cues"] == report["cues"]


def test_sample_film_cues_all_compliant(subtitled_job: Path) -> None:
    srt = subtitled_job / "12_subtitle_generation" / "sample_film.en.srt"
    report = manifest(subtitled_job, "12_subtitle_generation")["metrics"]["compliance"]["en"]
    check_compliance(srt, report)
    assert set(report["within"]) == {"line_length", "line_count", "min_duration", "max_duration", "reading_speed", "gap", "speakers",
                                     "frame_accuracy", "shot_changes"}


def test_two_minute_real_speech_all_compliant(long_film: Path, tmp_path: Path) -> None:
    result = cpwx("subtitle", str(long_film), "-s", "en", "--set", "SUBTITLE_FORMATS=srt,vtt,ass", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    report = manifest(job, "12_subtitle_generation")["metrics"]["compliance"]["en"]
    check_compliance(job / "12_subtitle_generation" / "long film.en.srt", report)
    for fmt in ("vtt", "ass"):
        assert remeasured(job / "12_subtitle_generation" / f"long film.en.{fmt}", "en")["all_within"]
    out = job / "13_mux" / "long film_subtitled.mkv"
    assert stream_hashes(out) == stream_hashes(long_film)


def test_mkv_has_untouched_streams_and_tagged_track(subtitled_job: Path, sample_film: Path) -> None:
    out = subtitled_job / "13_mux" / "sample_film_subtitled.mkv"
    streams = ffprobe_streams(out)
    original = ffprobe_streams(sample_film)
    assert [s["codec_name"] for s in streams] == [s["codec_name"] for s in original] + ["subrip"]
    assert stream_hashes(out) == stream_hashes(sample_film)
    assert abs(duration(out) - duration(sample_film)) < 0.1
    subtitle = streams[-1]
    assert subtitle["tags"]["language"] == "eng" and subtitle["tags"]["title"] == "English"
    assert subtitle["disposition"]["default"] == 1
    data = manifest(subtitled_job, "13_mux")
    assert data["metrics"]["streams_identical"] is True
    record = json.loads((subtitled_job / "job.json").read_text())
    assert "13_mux/sample_film_subtitled.mkv" in record["deliverables"]


def test_every_stage_of_the_subtitle_workflow_ran(subtitled_job: Path) -> None:
    ran = json.loads((subtitled_job / "job.json").read_text())["last_run"]["ran"]
    assert ran == STAGES_RUN


def test_mp4_container(subtitled_job: Path, sample_film: Path, tmp_path: Path) -> None:
    job = tmp_path / subtitled_job.name
    shutil.copytree(subtitled_job, job)
    result = cpwx("run", "--job-dir", str(job), "--set", "MUX_CONTAINER=mp4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"ran mux\b", result.stdout)
    out = job / "13_mux" / "sample_film_subtitled.mp4"
    streams = ffprobe_streams(out)
    assert [s["codec_name"] for s in streams] == ["h264", "aac", "mov_text"]
    assert streams[-1]["tags"]["language"] == "eng" and streams[-1]["tags"]["handler_name"] == "English"
    assert stream_hashes(out) == stream_hashes(sample_film)
    assert abs(duration(out) - duration(sample_film)) < 0.1


def test_changing_line_length_reruns_layout_and_mux_only(subtitled_job: Path, tmp_path: Path) -> None:
    job = tmp_path / subtitled_job.name
    shutil.copytree(subtitled_job, job)
    result = cpwx("run", "--job-dir", str(job), "--set", "SUBTITLE_MAX_LINE_LENGTH=30", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"ran ([^;\n]*)", result.stdout).group(1) == "subtitle_generation, mux"
    srt = job / "12_subtitle_generation" / "sample_film.en.srt"
    facts = facts_from_file(srt)
    assert all(len(line) <= 30 for cue in facts for line in cue.lines)
    assert remeasured(srt, "en", replace(rules_from(Settings(), "en"), max_line_length=30))["all_within"]


def test_target_languages_need_an_engine(sample_film: Path, tmp_path: Path) -> None:
    result = cpwx("subtitle", str(sample_film), "-s", "en", "-t", "hi,ta", cwd=tmp_path)
    assert result.returncode == 3
    assert "no translation engine is installed for en→hi" in result.stderr
    assert job_dirs(tmp_path) == []
