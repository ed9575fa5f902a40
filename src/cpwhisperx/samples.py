"""A sample film made from public-domain real speech, for the demo, the tests and the benchmarks.

The recordings come from the Debian package `pocketsphinx-testdata`: five LibriVox readings of
*Sense and Sensibility* and five short read card names, each with its reference transcript. They
are joined with pauses and given a generated video stream.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from cpwhisperx.media import SAMPLE_RATE, tool_path

log = logging.getLogger("cpwhisperx.samples")
POCKETSPHINX_DATA = Path("/usr/share/pocketsphinx/test/data")
_LINE = re.compile(r"^<s>\s*(.*?)\s*</s>\s*\((\S+)\)\s*$")


class SampleDataMissing(RuntimeError):
    """The public-domain recordings are not installed."""


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    reference: str


@dataclass(frozen=True)
class FilmSegment:
    start: float
    end: float
    reference: str


def _references(transcription: Path) -> dict[str, str]:
    if not transcription.is_file():
        raise SampleDataMissing(f"{transcription} is missing: install the Debian package pocketsphinx-testdata "
                                "(apt-get install pocketsphinx-testdata)")
    found = {}
    for line in transcription.read_text(encoding="utf-8").splitlines():
        if match := _LINE.match(line.strip()):
            found[match.group(2)] = re.sub(r"\s+", " ", match.group(1))
    return found


def librivox_clips(data_dir: Path = POCKETSPHINX_DATA) -> list[SpeechClip]:
    refs = _references(data_dir / "librivox" / "transcription")
    return [SpeechClip(data_dir / "librivox" / f"{fid}.wav", text) for fid, text in sorted(refs.items())]


def sample_clips(data_dir: Path = POCKETSPHINX_DATA) -> list[SpeechClip]:
    refs = _references(data_dir / "cards" / "cards.transcription")
    cards = [SpeechClip(data_dir / "cards" / f"{fid}.wav", text) for fid, text in sorted(refs.items())]
    return librivox_clips(data_dir) + cards


def _read_pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as handle:
        if (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) != (1, 2, SAMPLE_RATE):
            raise SampleDataMissing(f"{path} is not 16 kHz mono 16-bit PCM")
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")


def build_sample_film(out_path: Path, *, data_dir: Path = POCKETSPHINX_DATA, gap_seconds: float = 1.5,
                      min_duration: float = 62.0, repeat: int = 1) -> list[FilmSegment]:
    """Write the film (container by suffix) and return where each clip lies in it."""
    clips = sample_clips(data_dir) * repeat
    params = {"data_dir": str(data_dir), "gap_seconds": gap_seconds, "min_duration": min_duration, "repeat": repeat}
    sidecar = out_path.with_suffix(out_path.suffix + ".json")
    if out_path.is_file() and sidecar.is_file():
        recorded = json.loads(sidecar.read_text(encoding="utf-8"))
        if recorded.get("params") == params:
            return [FilmSegment(**s) for s in recorded["segments"]]
    pcm = [_read_pcm(clip.path) for clip in clips]
    speech_seconds = sum(len(p) for p in pcm) / SAMPLE_RATE
    lead = 1.0
    gap = max(gap_seconds, (min_duration - lead - speech_seconds) / len(clips))
    pieces, segments, position = [np.zeros(int(lead * SAMPLE_RATE), "<i2")], [], int(lead * SAMPLE_RATE)
    for clip, samples in zip(clips, pcm, strict=True):
        segments.append(FilmSegment(round(position / SAMPLE_RATE, 3), round((position + len(samples)) / SAMPLE_RATE, 3), clip.reference))
        silence = np.zeros(int(gap * SAMPLE_RATE), "<i2")
        pieces += [samples, silence]
        position += len(samples) + len(silence)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        with wave.open(str(wav), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(SAMPLE_RATE)
            handle.writeframes(np.concatenate(pieces).tobytes())
        partial = out_path.with_name(f".{out_path.stem}.part{out_path.suffix}")
        subprocess.run([tool_path("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(wav),
                        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                        "-map", "1:v", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", "-shortest", str(partial)], check=True)
        os.replace(partial, out_path)
    sidecar.write_text(json.dumps({"params": params, "segments": [asdict(s) for s in segments]}, indent=1), encoding="utf-8")
    log.info("sample film %s: %.1f s, %d clips", out_path, position / SAMPLE_RATE, len(clips))
    return segments


def film_reference_text(segments: list[FilmSegment]) -> str:
    return " ".join(s.reference for s in segments)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cpwhisperx.samples", description="Build the sample film.")
    parser.add_argument("out_path", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--min-duration", type=float, default=62.0)
    args = parser.parse_args(argv)
    build_sample_film(args.out_path, repeat=args.repeat, min_duration=args.min_duration)
    print(args.out_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
