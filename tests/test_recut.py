"""Re-cuts of a film reuse the ASR of the blocks of speech they share with it."""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import cpwx, ffmpeg, job_dirs, manifest

from cpwhisperx.asr.blocks import plan_blocks
from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.asr.result_key import block_settings_key
from cpwhisperx.cache import default_cache_dir
from cpwhisperx.config import Settings
from cpwhisperx.fingerprint import SAME_AUDIO_MAX_BIT_ERROR_RATE, acoustic_fingerprint, bit_error_rate
from cpwhisperx.media import read_wav
from cpwhisperx.samples import librivox_clips, sample_clips


def _regions(seed: int, count: int, start: float = 0.0) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    regions, t = [], start
    for _ in range(count):
        length, pause = float(rng.uniform(2, 12)), float(rng.uniform(1.2, 5))
        regions.append((round(t, 3), round(t + length, 3)))
        t += length + pause
    return regions


def test_blocks_away_from_an_edit_are_cut_alike() -> None:
    film = _regions(1, 80)
    # a minute of regions cut out of the middle, the rest moved up by what was cut, less 0.4 s
    cut_from, cut_to = 30, 38
    shift = film[cut_to][0] - film[cut_from][0] - 0.4
    recut = film[:cut_from] + [(round(a - shift, 3), round(b - shift, 3)) for a, b in film[cut_to:]]
    before, after = plan_blocks(film), plan_blocks(recut)
    assert all(b.regions for b in before) and [r for b in before for r in b.regions] == film
    assert all(b.speech_seconds <= 120 for b in before) and len(before) >= 6
    edit = film[cut_from][0]
    far_before = [b.relative_regions() for b in before if b.end < edit - 60]
    far_after = [b.relative_regions() for b in before if b.start > film[cut_to][0] + 60]
    kept = [b.relative_regions() for b in after]
    assert far_before and far_after
    assert all(block in kept for block in far_before + far_after)


def test_a_block_of_unbroken_long_pauses_is_cut_again() -> None:
    # pauses that only grow: no pause is the longest around it but the last; the blocks stay bounded
    regions, t = [], 0.0
    for i in range(60):
        regions.append((t, t + 8.0))
        t += 8.0 + 1.2 + i * 0.01
    blocks = plan_blocks(regions)
    assert max(b.speech_seconds for b in blocks) <= 120 and [r for b in blocks for r in b.regions] == regions


def test_fingerprints_survive_reencoding_and_tell_speech_apart(tmp_path: Path) -> None:
    first, other = [c.path for c in librivox_clips()][:2]
    prints = {}
    for rate in ("96k", "160k"):
        ffmpeg("-i", str(first), "-c:a", "aac", "-b:a", rate, str(tmp_path / f"{rate}.m4a"))
        ffmpeg("-i", str(tmp_path / f"{rate}.m4a"), "-ar", "16000", "-ac", "1", str(tmp_path / f"{rate}.wav"))
        prints[rate] = acoustic_fingerprint(read_wav(tmp_path / f"{rate}.wav"))
    unrelated = acoustic_fingerprint(read_wav(other))
    assert len(prints["96k"]) > 20
    assert bit_error_rate(prints["96k"], prints["160k"]) <= SAME_AUDIO_MAX_BIT_ERROR_RATE / 3
    assert bit_error_rate(prints["96k"], unrelated[: len(prints["96k"])]) > 2 * SAME_AUDIO_MAX_BIT_ERROR_RATE
    # one second bleeped in the middle: not the same audio, though the rest is
    samples = read_wav(tmp_path / "160k.wav")
    middle = len(samples) // 2
    samples[middle:middle + 16000] = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)
    assert bit_error_rate(prints["96k"], acoustic_fingerprint(samples)) > SAME_AUDIO_MAX_BIT_ERROR_RATE


def test_a_block_key_holds_the_language_decoded_not_how_it_was_chosen() -> None:
    def key(settings: Settings, language: str) -> str:
        options = DecodeOptions.from_settings(settings)
        options = DecodeOptions(**{**options.__dict__, "language": language})
        return block_settings_key(settings, model_digest="m" * 64, backend="faster-whisper", device="cpu", compute_type="int8",
                                  options=options, language=transcript_language or language)

    transcript_language: str | None = None
    auto, english = Settings(), Settings(SOURCE_LANGUAGE="en")
    assert key(auto, "en") == key(english, "en")
    assert key(auto, "en") != key(auto, "fr")
    assert key(auto, "en") != key(Settings(WHISPER_BEAM_SIZE=2), "en")
    # Hindi decoded through Whisper's Urdu token is not Urdu
    urdu = key(auto, "ur")
    transcript_language = "hi"
    assert key(auto, "ur") != urdu


def _cache_of_the_finished_job(tmp_path: Path) -> Path:
    """A copy of the cache the session's finished job filled (its blocks and speech regions)."""
    cache = tmp_path / "cache"
    for kind in ("asr/blocks", "vad"):
        source = default_cache_dir() / kind
        assert source.is_dir(), f"{source}: the finished job cached nothing"
        shutil.copytree(source, cache / kind)
    (cache / "models").symlink_to((default_cache_dir() / "models").resolve(), target_is_directory=True)
    return cache


def _asr_words(job: Path, start: float = 0.0, end: float = float("inf")) -> list[str]:
    segments = json.loads((job / "06_asr" / "transcript.json").read_text(encoding="utf-8"))["segments"]
    return [w["text"].strip() for seg in segments if start - 0.01 <= seg["start"] < end + 0.01 for w in seg["words"]]


def _transcribe(media: Path, cwd: Path, cache: Path) -> Path:
    cwd.mkdir(parents=True, exist_ok=True)
    result = cpwx("transcribe", str(media), "-s", "en", cwd=cwd, env={"CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    return job_dirs(cwd)[-1]


def _contains(words: list[str], part: list[str]) -> bool:
    return any(words[i:i + len(part)] == part for i in range(len(words) - len(part) + 1))


def test_the_same_audio_with_the_language_given_reuses_every_block(finished_job: Path, sample_film: Path, tmp_path: Path) -> None:
    # the finished job detected English; given as -s en, the whole-file key differs, the blocks' does not
    cache = _cache_of_the_finished_job(tmp_path)
    job = _transcribe(sample_film, tmp_path / "run", cache)
    asr = manifest(job, "06_asr")
    assert asr["cache"]["hit"] is False
    blocks = json.loads((job / "06_asr" / "blocks.json").read_text(encoding="utf-8"))
    assert blocks and {b["result"] for b in blocks} == {"digest"}
    assert asr["cache"]["regions_decoded"] == 0 and asr["cache"]["regions_reused"] == sum(b["regions"] for b in blocks)
    assert asr["cache"]["seconds_saved"] > 0
    assert "model_load_seconds" not in asr["metrics"]
    assert _asr_words(job) == _asr_words(finished_job) and _asr_words(job)


@pytest.fixture(scope="module")
def varied_film(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Real speech between pauses of unlike lengths, as a film's are (AAC at 96 kbit/s), transcribed
    once: the film, its job, and the cache that run filled."""
    work = tmp_path_factory.mktemp("varied")
    gaps = [2.6, 4.4, 3.1, 6.2, 2.9, 5.3, 3.6, 2.5, 4.9, 3.3, 5.8, 2.7]
    pieces = [np.zeros(16000, np.float32)]
    for clip, gap in zip(sample_clips(), gaps, strict=False):
        pieces += [read_wav(clip.path), np.zeros(int(gap * 16000), np.float32)]
    with wave.open(str(work / "film.wav"), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(np.round(np.concatenate(pieces) * 32767).astype("<i2").tobytes())
    film = work / "film.m4a"
    ffmpeg("-i", str(work / "film.wav"), "-c:a", "aac", "-b:a", "96k", str(film))
    cache = work / "cache"
    cache.mkdir()
    (cache / "models").symlink_to((default_cache_dir() / "models").resolve(), target_is_directory=True)
    return film, _transcribe(film, work / "first", cache), cache


def test_a_reencoded_recut_with_new_speech_reuses_the_rest(varied_film: tuple[Path, Path, Path], tmp_path: Path) -> None:
    film, first, film_cache = varied_film
    cache = tmp_path / "cache"
    shutil.copytree(film_cache, cache, symlinks=True)
    # new speech and a pause before the film's audio, all re-encoded as AAC at 160 kbit/s
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(tmp_path / "new.wav"),
                    "Good evening. Tonight we return to the story of the family at Norland Park."], check=True)
    recut = tmp_path / "recut.m4a"
    ffmpeg("-i", str(tmp_path / "new.wav"), "-i", str(film), "-filter_complex",
           "[0:a]aresample=16000,apad=pad_dur=4[new];[1:a]aresample=16000[film];[new][film]concat=n=2:v=0:a=1", "-ac", "1",
           "-c:a", "aac", "-b:a", "160k", str(recut))
    job = _transcribe(recut, tmp_path / "run", cache)
    cache_figures = manifest(job, "06_asr")["cache"]
    blocks = json.loads((job / "06_asr" / "blocks.json").read_text(encoding="utf-8"))
    reused = [b for b in blocks if b["result"] == "fingerprint"]
    decoded = [b for b in blocks if b["result"] == "decoded"]
    assert reused and decoded and decoded[0]["start"] < 3.0, blocks
    assert cache_figures["regions_reused"] == sum(b["regions"] for b in reused) > 0
    assert 0 < cache_figures["speech_seconds_decoded"] < cache_figures["speech_seconds_reused"]
    assert cache_figures["seconds_saved"] > 0
    film_words = _asr_words(first)
    for block in reused:  # word for word what the film's own run decoded
        part = _asr_words(job, block["start"], block["end"])
        assert part and _contains(film_words, part), (block, part)
    new_words = " ".join(_asr_words(job, decoded[0]["start"], decoded[0]["end"])).lower()
    assert "tonight" in new_words and "story" in new_words
