"""Stage 05: speech regions with the Silero VAD model faster-whisper ships as ONNX."""

from __future__ import annotations

import importlib.metadata
import time
from dataclasses import asdict

from cpwhisperx.cache import ResultCache, cache_dir, cache_key
from cpwhisperx.fingerprint import audio_digest
from cpwhisperx.media import SAMPLE_RATE, WavReader
from cpwhisperx.speech_detection import VadParameters, detect_speech
from cpwhisperx.stageio import StageIO

SPEECH_FILE = "speech.json"


def run(io: StageIO) -> None:
    s = io.settings
    parameters = VadParameters.from_settings(s)
    cache = ResultCache(cache_dir(s.CACHE_DIR), "vad", s.CACHE_ENABLED)
    with WavReader(io.input("demux", "audio.wav", "audio")) as reader:
        # The VAD model is the one this faster-whisper version ships.
        digest = audio_digest(io.recorded("demux", "audio.wav", "pcm_sha256"), reader) if cache.enabled else None
        key = cache_key("vad", 1, digest, asdict(parameters), importlib.metadata.version("faster-whisper")) if digest else None
        found = cache.get(key) if key else None
        stamps = _stamps(found)
        if stamps is None:
            clock = time.perf_counter()
            stamps = detect_speech(reader, parameters)
            seconds = round(time.perf_counter() - clock, 3)
            if key:
                cache.put(key, {"regions": stamps, "seconds": seconds})
        duration = reader.duration
    io.cache = {"used": cache.enabled, "hit": found is not None and stamps is not None, "key": key,
                "seconds_saved": found["seconds"] if stamps is not None and found else 0.0, "writable": cache.writable}
    for problem in cache.problems:
        io.warn(problem)
    cache.record_stats()
    regions = [{"start": round(start / SAMPLE_RATE, 3), "end": round(end / SAMPLE_RATE, 3)} for start, end in stamps]
    speech = sum(r["end"] - r["start"] for r in regions)
    io.write_json(SPEECH_FILE, {"sample_rate": SAMPLE_RATE, "audio_seconds": round(duration, 3), "speech_seconds": round(speech, 3), "regions": regions}, "speech_regions")
    io.metrics.update({"regions": len(regions), "speech_seconds": round(speech, 3), "speech_share": round(speech / duration, 4) if duration else 0.0})
    io.log.info("%d speech region(s), %.1f s of %.1f s", len(regions), speech, duration)
    if not regions:
        io.warn("no speech detected in the audio; the transcript will be empty")


def _stamps(found: object) -> list[tuple[int, int]] | None:
    """Sample ranges from a cache entry, or None when it holds none this version reads."""
    try:
        return [(int(start), int(end)) for start, end in found["regions"]] if isinstance(found, dict) else None  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None


def load_regions(io: StageIO) -> list[tuple[float, float]] | None:
    """The speech regions, read as an input of the calling stage; None when VAD did not run."""
    if not io.has_input("vad", SPEECH_FILE):
        return None
    return [(r["start"], r["end"]) for r in io.read_json("vad", SPEECH_FILE, "speech_regions")["regions"]]
