"""Stage 05: speech regions with the Silero VAD model faster-whisper ships as ONNX."""

from __future__ import annotations

from cpwhisperx.media import SAMPLE_RATE, read_wav
from cpwhisperx.stageio import StageIO

SPEECH_FILE = "speech.json"


def run(io: StageIO) -> None:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    s = io.settings
    audio = read_wav(io.input("demux", "audio.wav", "audio"))
    options = VadOptions(
        threshold=s.VAD_THRESHOLD,
        min_speech_duration_ms=s.VAD_MIN_SPEECH_DURATION_MS,
        max_speech_duration_s=s.VAD_MAX_SPEECH_DURATION_S,
        min_silence_duration_ms=s.VAD_MIN_SILENCE_DURATION_MS,
        speech_pad_ms=s.VAD_SPEECH_PAD_MS,
    )
    stamps = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    regions = [{"start": round(t["start"] / SAMPLE_RATE, 3), "end": round(t["end"] / SAMPLE_RATE, 3)} for t in stamps]
    duration = len(audio) / SAMPLE_RATE
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
