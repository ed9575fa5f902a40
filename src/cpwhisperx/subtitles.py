"""Writing cues as subtitle files (SRT, WebVTT, ASS) through pysubs2, and transcripts as text."""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.layout import Cue
from cpwhisperx.transcript import Transcript


def to_ssafile(cues: list[Cue]):  # type: ignore[no-untyped-def]
    import pysubs2

    subs = pysubs2.SSAFile()
    subs.info["Title"] = "cp-whisperx"
    for cue in cues:
        text = "\\N".join(line.replace("{", "(").replace("}", ")") for line in cue.display_lines)
        if cue.lyrics:
            text = "{\\i1}" + text + "{\\i0}"
        subs.append(pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000), text=text))
    return subs


def write_subtitles(cues: list[Cue], path: Path, fmt: str) -> None:
    to_ssafile(cues).save(str(path), format_=fmt, encoding="utf-8")


def plain_text(transcript: Transcript) -> str:
    return transcript.text + ("\n" if transcript.segments else "")
