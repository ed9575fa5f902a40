"""Writing cues as subtitle files (SRT, WebVTT, ASS through pysubs2; IMSC TTML and EBU-TT-D through
`cpwhisperx.timed_text`), and transcripts as text."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from cpwhisperx.layout import Cue
from cpwhisperx.scripts import join_text
from cpwhisperx.timed_text import TIMED_TEXT_FORMATS, file_extension, write_timed_text
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


def write_subtitles(cues: list[Cue], path: Path, fmt: str, language: str = "und") -> None:
    """`language` (a BCP 47 tag) is written into the Timed Text formats, which declare it."""
    if fmt in TIMED_TEXT_FORMATS:
        write_timed_text(cues, path, fmt, language)
    else:
        to_ssafile(cues).save(str(path), format_=fmt, encoding="utf-8")


def subtitle_file_name(stem: str, language: str, fmt: str, track: str = "") -> str:
    """{stem}.{lang}.{ext}, or {stem}.{lang}.{track}.{ext} for an SDH or forced track."""
    return ".".join(part for part in (stem, language, track, file_extension(fmt)) if part)


def plain_text(transcript: Transcript) -> str:
    """The transcript as text: a line a segment; once diarized, a line a speaker's turn, led by the
    speaker's name (or label) and a colon."""
    if all(seg.speaker is None for seg in transcript.segments):
        return transcript.text + ("\n" if transcript.segments else "")
    lines = []
    for who, turn in groupby((seg for seg in transcript.segments if seg.text.strip()), key=lambda seg: seg.speaker_name or seg.speaker):
        text = join_text((seg.text for seg in turn), transcript.language)
        lines.append(f"{who}: {text}" if who else text)
    return "".join(line + "\n" for line in lines)
