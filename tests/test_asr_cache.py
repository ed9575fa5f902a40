"""ASR and VAD results reused across jobs: what hits, what misses, and what a bad entry does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import cpwx, ffmpeg, job_dirs, manifest

from cpwhisperx.asr.result_key import OUTSIDE_KEY_SETTINGS, RESOLVED_SETTINGS, RESULT_SETTINGS, asr_result_key
from cpwhisperx.config import Settings
from cpwhisperx.stages import get_stage

# A value other than the default, for every setting that changes the ASR result.
CHANGED = {
    "SOURCE_LANGUAGE": "hi", "LANGUAGE_CANDIDATES": "en,hi", "WHISPER_BEAM_SIZE": "2", "WHISPER_BEST_OF": "3",
    "WHISPER_PATIENCE": "1.5", "WHISPER_TEMPERATURE": "0.0,0.5", "WHISPER_COMPRESSION_RATIO_THRESHOLD": "2.0",
    "WHISPER_LOG_PROB_THRESHOLD": "-0.5", "WHISPER_NO_SPEECH_THRESHOLD": "0.5", "WHISPER_INITIAL_PROMPT": "A film.",
    "WHISPER_SCRIPT_PROMPT": "false", "HINDI_DECODE_SCRIPT": "devanagari", "SCRIPT_CHECK": "false", "SCRIPT_MIN_SHARE": "0.5",
    "SCRIPT_REDECODE": "false", "HINGLISH_ENGLISH_WORDS": "latin", "LANGUAGE_PER_SEGMENT": "true",
    "LANGUAGE_SWITCH_MIN_PROBABILITY": "0.9", "WHISPER_HOTWORDS": "Marianne", "WHISPER_CONDITION_ON_PREVIOUS_TEXT": "false",
    "WHISPER_BATCH_SIZE": "4", "WHISPER_LANGUAGE_DETECTION_SEGMENTS": "2", "GLOSSARY_ASR_BIAS": "false", "GLOSSARY_ASR_MAX_TERMS": "5",
}
KEEPING = {"WHISPER_CPU_THREADS": "1", "WHISPER_BACKEND_STRICT": "true", "NUMBERS": "words", "GLOSSARY_CORRECT_ASR": "false",
           "SUBTITLE_MAX_LINE_LENGTH": "30", "TARGET_LANGUAGES": "es", "LYRICS_MODE": "drop"}


def _key(settings: Settings) -> str:
    return asr_result_key(settings, audio_digest="a" * 64, regions=[(0.0, 2.5)], model_digest="m" * 64, backend="faster-whisper",
                          device="cpu", compute_type="int8", hotwords=settings.WHISPER_HOTWORDS or None)


def _with(name: str, value: str) -> Settings:
    return Settings.model_validate({**Settings().model_dump(), name: Settings.model_validate({name: value}).model_dump()[name]})


def test_every_setting_of_the_asr_stage_is_accounted_for() -> None:
    prefixes = get_stage("asr").config_keys
    stage_keys = {k for k in Settings.model_fields if any(k == p or (p.endswith("_") and k.startswith(p)) for p in prefixes)}
    assert stage_keys == set(RESULT_SETTINGS) | set(RESOLVED_SETTINGS) | set(OUTSIDE_KEY_SETTINGS)
    assert set(CHANGED) == set(RESULT_SETTINGS)


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_a_setting_that_changes_the_result_misses(name: str) -> None:
    changed = _with(name, CHANGED[name])
    assert getattr(changed, name) != getattr(Settings(), name), name
    assert _key(changed) != _key(Settings())


@pytest.mark.parametrize("name", sorted(KEEPING))
def test_a_setting_that_keeps_the_result_hits(name: str) -> None:
    changed = _with(name, KEEPING[name])
    assert getattr(changed, name) != getattr(Settings(), name), name
    assert _key(changed) == _key(Settings())


def test_the_audio_model_and_device_are_in_the_key() -> None:
    s = Settings()
    base = dict(audio_digest="a" * 64, regions=[(0.0, 2.5)], model_digest="m" * 64, backend="faster-whisper", device="cpu",
                compute_type="int8", hotwords=None)
    keys = {asr_result_key(s, **{**base, **change}) for change in
            ({}, {"audio_digest": "b" * 64}, {"regions": [(0.0, 2.4)]}, {"model_digest": "n" * 64}, {"device": "cuda"},
             {"compute_type": "float16"}, {"hotwords": "Elinor"})}
    assert len(keys) == 7


def _transcribe(media: Path, cwd: Path, cache: Path, *extra: str) -> Path:
    cwd.mkdir(parents=True, exist_ok=True)
    result = cpwx("transcribe", str(media), "-s", "en", *extra, cwd=cwd, env={"CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    return job_dirs(cwd)[-1]


def _words(job: Path) -> list[str]:
    return [w["text"] for seg in json.loads((job / "06_asr" / "transcript.json").read_text())["segments"] for w in seg["words"]]


def test_a_new_job_of_the_same_audio_reuses_vad_and_asr_without_the_model(short_clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _transcribe(short_clip, tmp_path / "a", cache)
    assert manifest(first, "06_asr")["cache"]["hit"] is False
    assert manifest(first, "05_vad")["cache"]["hit"] is False
    # the same audio in another container, with other tags, and a layout setting changed
    remuxed = tmp_path / "same audio.mka"
    ffmpeg("-i", str(short_clip), "-metadata", "title=Another title", "-c:a", "flac", str(remuxed))
    second = _transcribe(remuxed, tmp_path / "b", cache, "--set", "SUBTITLE_MAX_LINE_LENGTH=30")
    asr = manifest(second, "06_asr")
    assert asr["cache"]["hit"] is True and asr["cache"]["seconds_saved"] > 0
    assert "model_load_seconds" not in asr["metrics"]
    assert manifest(second, "05_vad")["cache"]["hit"] is True
    assert _words(second) == _words(first) and _words(first)
    assert json.loads((second / "05_vad" / "speech.json").read_text()) == json.loads((first / "05_vad" / "speech.json").read_text())
    # a decoding setting changed: decoded again
    third = _transcribe(short_clip, tmp_path / "c", cache, "--set", "WHISPER_BEAM_SIZE=2")
    assert manifest(third, "06_asr")["cache"]["hit"] is False
    assert manifest(third, "05_vad")["cache"]["hit"] is True
    # --no-cache reads nothing and writes nothing
    entries = sorted(cache.rglob("*.json"))
    fourth = _transcribe(short_clip, tmp_path / "d", cache, "--no-cache")
    assert manifest(fourth, "06_asr")["cache"] == {**manifest(fourth, "06_asr")["cache"], "used": False, "hit": False}
    assert sorted(cache.rglob("*.json")) == entries


@pytest.mark.parametrize("damage", ["truncated", "garbage", "edited"])
def test_a_damaged_entry_is_a_miss_with_a_warning(short_clip: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    first = _transcribe(short_clip, tmp_path / "a", cache)
    entries = sorted((cache / "asr").rglob("*.json"))  # the whole file's and each block's
    assert len(entries) >= 2
    for entry in entries:
        text = entry.read_text(encoding="utf-8")
        entry.write_text({"truncated": text[: len(text) // 2], "garbage": "\x00\xff not json",
                          "edited": text.replace('"text": "', '"text": "X', 1)}[damage], encoding="utf-8")
    second = _transcribe(short_clip, tmp_path / "b", cache)
    assert manifest(second, "06_asr")["cache"]["hit"] is False
    assert {b["result"] for b in json.loads((second / "06_asr" / "blocks.json").read_text())} == {"decoded"}
    assert _words(second) == _words(first)
    assert "corrupt" in (second / "06_asr" / "stage.log").read_text(encoding="utf-8")


def test_the_same_media_in_a_new_job_reuses_its_extracted_audio(short_clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _transcribe(short_clip, tmp_path / "a", cache)
    assert manifest(first, "01_demux")["cache"]["hit"] is False
    second = _transcribe(short_clip, tmp_path / "b", cache)
    demux = manifest(second, "01_demux")
    assert demux["cache"]["hit"] is True and "extracted before" in (second / "01_demux" / "stage.log").read_text(encoding="utf-8")
    assert (second / "01_demux" / "audio.wav").read_bytes() == (first / "01_demux" / "audio.wav").read_bytes()
    (audio,) = [o for o in demux["outputs"] if o["path"].endswith("audio.wav")]
    assert audio["pcm_sha256"] == next(o for o in manifest(first, "01_demux")["outputs"] if o["path"].endswith("audio.wav"))["pcm_sha256"]
    # the kept audio replaced by other samples (not written through: the jobs' files stay as they are)
    def damage() -> None:
        (stored,) = (cache / "demux").rglob("*.wav")
        damaged = stored.read_bytes()[:-800] + bytes(800)
        stored.unlink()
        stored.write_bytes(damaged)

    damage()
    third = _transcribe(short_clip, tmp_path / "c", cache)
    assert manifest(third, "01_demux")["cache"]["hit"] is False
    assert "corrupt" in (third / "01_demux" / "stage.log").read_text(encoding="utf-8")
    assert (third / "01_demux" / "audio.wav").read_bytes() == (first / "01_demux" / "audio.wav").read_bytes()
    assert _words(third) == _words(first)
    # validate checks the kept audio too, and removes it with its entry
    assert len([p for p in (cache / "demux").rglob("*") if p.is_file()]) == 2
    damage()
    checked = cpwx("cache", "validate", cwd=tmp_path, env={"CACHE_DIR": str(cache)})
    assert checked.returncode == 0 and "demux: 0 valid, 1 corrupt" in checked.stdout, checked.stdout
    assert not [p for p in (cache / "demux").rglob("*") if p.is_file()]
