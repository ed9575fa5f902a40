"""A reviewer's cue texts, kept in the job (`review/{lang}/cues.json`) and laid over the generated cues.

The subtitle stage writes its files again from the transcripts on every re-run, so a corrected
text lives where that stage reads it, not only in its output: a later `cpwx run` keeps it. The
reviewed texts are tied to the cue timing they were made for; when the cues move (another layout
or transcript), they are not forced onto cues they no longer describe.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pysubs2.formats.subrip import SubripFormat

from cpwhisperx.files import atomic_write_json
from cpwhisperx.layout import LYRICS_MARK, Cue

REVIEW_DIR = "review"
CUES_FILE = "cues.json"
# How far a reviewed cue may start or end from the job's cue and still be the same cue.
TIME_TOLERANCE = 0.5


@dataclass(frozen=True)
class TimedText:
    """One cue as a subtitle file holds it: times in seconds and its lines."""

    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def clean_lines(lines: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The lines without the lyrics marks (the layout adds them again) and empty lines."""
    cleaned = (line.replace(LYRICS_MARK, " ").strip() for line in lines)
    return tuple(" ".join(line.split()) for line in cleaned if line)


def first_mismatch(reviewed: list[TimedText], current: list[TimedText]) -> str | None:
    """Why the reviewed cues are not the job's cues (count, or the first cue whose times moved), or None."""
    if len(reviewed) != len(current):
        return f"it has {len(reviewed)} cues and the job's subtitles have {len(current)}"
    for number, (mine, theirs) in enumerate(zip(reviewed, current, strict=True), start=1):
        if abs(mine.start - theirs.start) > TIME_TOLERANCE or abs(mine.end - theirs.end) > TIME_TOLERANCE:
            return (f"cue {number} is at {_clock(mine.start)} --> {_clock(mine.end)}, the job's cue {number} at "
                    f"{_clock(theirs.start)} --> {_clock(theirs.end)}")
    return None


def _clock(seconds: float) -> str:
    """A time as SRT writes it, so the message quotes the file."""
    return SubripFormat.ms_to_timestamp(round(seconds * 1000))


def review_dir(job_dir: Path, language: str) -> Path:
    return job_dir / REVIEW_DIR / language


def cues_path(job_dir: Path, language: str) -> Path:
    return review_dir(job_dir, language) / CUES_FILE


def save_review(job_dir: Path, language: str, timing: list[TimedText], texts: dict[int, tuple[str, ...]],
                source_file: str, job_id: str) -> Path:
    """The corrected texts by cue number (0-based), merged over earlier reviews, with the timing they fit."""
    path = cues_path(job_dir, language)
    earlier = load_review(path)
    merged = {**(earlier.texts if earlier else {}), **texts}
    atomic_write_json(path, {"language": language, "job": job_id, "imported_from": source_file,
                             "timing": [[t.start, t.end] for t in timing],
                             "texts": {str(index): list(lines) for index, lines in sorted(merged.items())}})
    return path


@dataclass(frozen=True)
class Review:
    timing: list[tuple[float, float]]
    texts: dict[int, tuple[str, ...]]


def load_review(path: Path) -> Review | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return Review([(float(a), float(b)) for a, b in data["timing"]],
                      {int(index): tuple(str(line) for line in lines) for index, lines in data["texts"].items()})
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"'{path}' is not a review file cp-whisperx wrote ({exc})") from None


def apply_review(cues: list[Cue], review: Review) -> tuple[list[Cue], str | None]:
    """The cues with the reviewed texts, or the cues unchanged and why the review no longer fits them."""
    timing = [TimedText(start, end, ()) for start, end in review.timing]
    problem = first_mismatch(timing, [TimedText(c.start, c.end, ()) for c in cues])
    if problem:
        return cues, problem
    return [dataclasses.replace(cue, lines=list(review.texts[n])) if n in review.texts else cue
            for n, cue in enumerate(cues)], None
