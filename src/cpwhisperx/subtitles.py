"""Writing transcripts as subtitle and text files through pysubs2."""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.transcript import Transcript

PYSUBS2_FORMATS = {"srt": "srt", "vtt": "vtt"}


def to_ssafile(transcript: Transcript):  # type: ignore[no-untyped-def]
    """One cue per segment, in time order, empty texts left out."""
    import pysubs2

    subs = pysubs2.SSAFile()
    for seg in sorted(transcript.segments, key=lambda s: s.start):
        text = seg.text.strip()
        if not text:
            continue
        subs.append(pysubs2.SSAEvent(start=round(seg.start * 1000), end=round(max(seg.end, seg.start + 0.001) * 1000), text=text))
    return subs


def write_subtitles(transcript: Transcript, path: Path, fmt: str) -> None:
    to_ssafile(transcript).save(str(path), format_=PYSUBS2_FORMATS[fmt], encoding="utf-8")


def plain_text(transcript: Transcript) -> str:
    return transcript.text + ("\n" if transcript.segments else "")
