"""Diarization error rate of the built-in backend against the one-speaker baseline.

Sets of alternating turns (tests/speakers.py): Hindi news readers of ../shared/data/hindi-dev
(each clip another reader, one station each), the LibriVox and CMU readers of pocketsphinx-testdata,
and espeak-ng and flite voices. Each set is scored with the count estimated and with it given, on
the reference turns padded by 0.2 s as speech regions, and with the count estimated on the speech
regions the pipeline's Silero VAD finds (default VAD_* settings: its 0.4 s padding and the pauses
it bridges). DER with a 0.25 s collar on each side of every reference boundary (md-eval's -c 0.25).

    .venv/bin/python benchmarks/diarization.py
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cpwhisperx.config import load_config
from cpwhisperx.diarize import SpeakerCount
from cpwhisperx.diarize.builtin import BuiltinDiarizer
from cpwhisperx.diarize.der import diarization_error, one_speaker
from cpwhisperx.media import SAMPLE_RATE, WavReader
from cpwhisperx.speech_detection import VadParameters, detect_speech

_SPEC = importlib.util.spec_from_file_location("speakers", Path(__file__).resolve().parents[1] / "tests" / "speakers.py")
assert _SPEC and _SPEC.loader
speakers = importlib.util.module_from_spec(_SPEC)
sys.modules["speakers"] = speakers   # its dataclasses look their module up there
_SPEC.loader.exec_module(speakers)


def sets() -> list[tuple[str, object]]:
    hindi = speakers.HINDI_DEV
    built = [
        ("hindi-dev, 2 readers", speakers.conversation(speakers.hindi_readers(hindi, 2, 12), seed=4)),
        ("hindi-dev, 3 readers", speakers.conversation(speakers.hindi_readers(hindi, 3, 0), seed=2)),
        ("hindi-dev, 3 other readers", speakers.conversation(speakers.hindi_readers(hindi, 3, 8), seed=8)),
        ("hindi-dev, 4 readers", speakers.conversation(speakers.hindi_readers(hindi, 4, 5), seed=3)),
        ("hindi-dev, 1 reader", speakers.conversation(speakers.hindi_readers(hindi, 1, 3), seed=2)),
        ("English readers (LibriVox, CMU), 2", speakers.conversation(speakers.english_readers(), seed=5)),
        ("LibriVox reader alone, 1", speakers.conversation(speakers.english_readers()[:1], seed=2)),
        ("espeak-ng voices, 4", speakers.conversation(speakers.synthetic_voices("espeak-ng"), seed=6)),
        ("espeak-ng voices, 3", speakers.conversation(speakers.synthetic_voices("espeak-ng", speakers.ESPEAK_VOICES[:3]), seed=9)),
    ]
    if shutil.which("flite"):
        built += [("flite voices, 3", speakers.conversation(speakers.synthetic_voices("flite", ("slt", "rms", "awb")), seed=7)),
                  ("flite voices, 4", speakers.conversation(speakers.synthetic_voices("flite"), seed=10))]
    readers = speakers.hindi_readers(hindi, 3, 0) + speakers.english_readers()[:1] + speakers.synthetic_voices("espeak-ng", ("en+f3",))
    built.append(("mixed: 3 Hindi, 1 LibriVox, 1 espeak-ng", speakers.conversation(readers, seed=11)))
    return built


def vad_regions(mix: object, folder: Path) -> list[tuple[float, float]]:
    with WavReader(mix.write_wav(folder / "mix.wav")) as reader:  # type: ignore[attr-defined]
        stamps = detect_speech(reader, VadParameters.from_settings(load_config()))
    return [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in stamps]


def main() -> int:
    print(f"{'set':42s} {'speech s':>8s} {'true':>4s} | {'naive':>6s} | {'est. n':>6s} {'DER':>6s} | {'given':>6s} {'DER':>6s} "
          f"| {'VAD n':>6s} {'DER':>6s} | {'s':>5s}")
    folder = Path(tempfile.mkdtemp(prefix="diarization-bench-"))
    for name, mix in sets():
        true = len({t.speaker for t in mix.turns})
        naive = diarization_error(mix.turns, one_speaker(mix.turns)).rate
        row = []
        clock = time.perf_counter()
        for count in (SpeakerCount(), SpeakerCount(exact=true)):
            found = BuiltinDiarizer().diarize(mix.audio, mix.speech_regions, count)
            row.append((len({t.speaker for t in found}), diarization_error(mix.turns, found).rate))
        seconds = (time.perf_counter() - clock) / 2
        found = BuiltinDiarizer().diarize(mix.audio, vad_regions(mix, folder), SpeakerCount())
        row.append((len({t.speaker for t in found}), diarization_error(mix.turns, found).rate))
        speech = sum(t.end - t.start for t in mix.turns)
        print(f"{name:42s} {speech:8.1f} {true:4d} | {naive:6.1%} | {row[0][0]:6d} {row[0][1]:6.1%} | {row[1][0]:6d} {row[1][1]:6.1%} "
              f"| {row[2][0]:6d} {row[2][1]:6.1%} | {seconds:5.1f}")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
