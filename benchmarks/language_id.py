"""Language identification on ../shared/data/hindi-dev with the bundled base model.

    .venv/bin/python benchmarks/language_id.py [--candidates hi,en]

Runs the ASR stage's own detection path (VAD regions with the default settings, then the
backend's detect_language) on every clip, with no restriction and with the candidate list, and
prints how often Hindi is detected (target with hi,en: at least 95 %).
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

from faster_whisper.vad import VadOptions, get_speech_timestamps

from cpwhisperx.asr.faster_whisper import FasterWhisperBackend
from cpwhisperx.config import Settings
from cpwhisperx.media import SAMPLE_RATE, read_wav
from cpwhisperx.models import resolve

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hindi-dev"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--candidates", default="hi,en")
    args = parser.parse_args()
    s = Settings()
    backend = FasterWhisperBackend(str(resolve("base").path), "cpu", "int8", 0)
    vad = VadOptions(threshold=s.VAD_THRESHOLD, min_speech_duration_ms=s.VAD_MIN_SPEECH_DURATION_MS,
                     max_speech_duration_s=s.VAD_MAX_SPEECH_DURATION_S, min_silence_duration_ms=s.VAD_MIN_SILENCE_DURATION_MS,
                     speech_pad_ms=s.VAD_SPEECH_PAD_MS)
    with (args.data / "manifest.tsv").open(encoding="utf-8") as handle:
        files = [args.data / row["file"] for row in csv.DictReader(handle, delimiter="\t")]
    candidates = [c for c in args.candidates.split(",") if c]
    results: dict[str, Counter[str]] = {"no restriction": Counter(), f"candidates {','.join(candidates)}": Counter()}
    for path in files:
        audio = read_wav(path)
        regions = [(t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE) for t in get_speech_timestamps(audio, vad)]
        for (label, counter), allowed in zip(results.items(), ([], candidates), strict=True):
            language, _, _ = backend.detect_language(audio, regions, allowed, s.WHISPER_LANGUAGE_DETECTION_SEGMENTS)
            counter[language] += 1
    for label, counter in results.items():
        print(f"{label:<20} hi detected for {counter['hi']}/{len(files)} = {counter['hi'] / len(files):.1%}   all: {dict(counter.most_common())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
