"""The pipeline against bare faster-whisper on the same ≥ 2-minute film, in one run.

    .venv/bin/python benchmarks/pipeline_overhead.py [--rounds N]

Both sides run as child processes from a cold start (imports, model load, decoding, VAD), with
the same model (bundled base), device, compute type, VAD parameters and decoding settings
(beam 5, word timestamps). Each side runs N times interleaved; the best time counts.
Prints pipeline/bare (target ≤ 1.15), then WHISPER_BATCH_SIZE=8 against 1: speed and WER.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer
from common import normalise_english, run_transcribe, transcript_text

from cpwhisperx.config import Settings
from cpwhisperx.models import resolve
from cpwhisperx.samples import build_sample_film, film_reference_text

BARE = """
import sys
from faster_whisper import WhisperModel, decode_audio
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8")
vad = dict(threshold={s.VAD_THRESHOLD}, min_speech_duration_ms={s.VAD_MIN_SPEECH_DURATION_MS},
           max_speech_duration_s={s.VAD_MAX_SPEECH_DURATION_S}, min_silence_duration_ms={s.VAD_MIN_SILENCE_DURATION_MS},
           speech_pad_ms={s.VAD_SPEECH_PAD_MS})
segments, info = model.transcribe(decode_audio(sys.argv[2]), beam_size={s.WHISPER_BEAM_SIZE}, best_of={s.WHISPER_BEST_OF},
                                  vad_filter=True, vad_parameters=vad, word_timestamps=True)
print(" ".join(seg.text.strip() for seg in segments))
"""


def bare_run(model_path: Path, media: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", BARE.format(s=Settings()), str(model_path), str(media)],
                            capture_output=True, text=True, check=True)
    return time.perf_counter() - started, result.stdout


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalise_english(reference), normalise_english(hypothesis))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    model = resolve("base")
    with tempfile.TemporaryDirectory() as tmp:
        film = Path(tmp) / "film_2min.mp4"
        segments = build_sample_film(film, repeat=2, min_duration=125.0)
        reference = film_reference_text(segments)
        print(f"audio: {film.name}, {segments[-1].end:.1f} s of film, {len(segments)} real-speech clips; model {model.path}")
        bare_times, pipe_times, batch_times = [], [], []
        pipe_text = batch_text = bare_text = ""
        for round_number in range(args.rounds):
            seconds, bare_text = bare_run(model.path, film)
            bare_times.append(seconds)
            seconds, job = run_transcribe(film, Path(tmp) / f"seq{round_number}")
            pipe_times.append(seconds)
            pipe_text = transcript_text(job)
            seconds, job = run_transcribe(film, Path(tmp) / f"batch{round_number}", "--set", "WHISPER_BATCH_SIZE=8")
            batch_times.append(seconds)
            batch_text = transcript_text(job)
            print(f"round {round_number + 1}: bare {bare_times[-1]:.1f} s, pipeline {pipe_times[-1]:.1f} s, pipeline batch 8 {batch_times[-1]:.1f} s")
    bare, pipe, batch = min(bare_times), min(pipe_times), min(batch_times)
    print(f"bare faster-whisper:      {bare:7.1f} s   WER {wer(reference, bare_text):.2%}")
    print(f"cpwx transcribe:          {pipe:7.1f} s   WER {wer(reference, pipe_text):.2%}")
    print(f"pipeline / bare:          {pipe / bare:7.3f}   (target ≤ 1.15)")
    print(f"WHISPER_BATCH_SIZE=8:     {batch:7.1f} s   WER {wer(reference, batch_text):.2%}")
    print(f"speed batch 8 / batch 1:  {pipe / batch:7.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
