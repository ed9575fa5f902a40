"""Stage 05: speech regions with the Silero VAD model faster-whisper ships as ONNX."""

from __future__ import annotations

from cpwhisperx.media import SAMPLE_RATE, WavReader
from cpwhisperx.speech_detection import VadParameters, detect_speech
from cpwhisperx.stageio import StageIO

SPEECH_FILE = "speech.json"


def run(io: StageIO) -> None:
    with WavReader(io.input("demux", "audio.wav", "audio")) as reader:
        stamps = detect_speech(reader, VadParameters.from_settings(io.settings))
        duration = reader.duration
    regions = [{"start": round(start / SAMPLE_RATE, 3), "end": round(end / SAMPLE_RATE, 3)} for start, end in stamps]
    speech = sum(r["end"] - r["start"] for r in regions)
    io.write_json(SPEECH_FILE, {"sample_rate": SAMPLE_RATE, "audio_seconds": round(duration, 3), "speech_seconds": round(speech, 3), "regions": regions}, "speech_regions")
    io.metrics.update({"regions": len(regions), "speech_seconds": round(speech, 3), "speech_share": round(speech / duration, 4) if duration else 0.0})
    io.log.info("%d speech region(s), %.1f s of %.1f s", len(regions), speech, duration)
    if not regions:
        io.warn("no speech detected in the audio; the transcript will be empty")


def load_regions(io: StageIO) -> list[tuple[float, float]] | None:
    """The speech regions, read as an input of the calling stage; None when VAD did not run."""
    if not io.has_input("vad", SPEECH_FILE):
        return None
    return [(r["start"], r["end"]) for r in io.read_json("vad", SPEECH_FILE, "speech_regions")["regions"]]
