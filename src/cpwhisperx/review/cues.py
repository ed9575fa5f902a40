"""A reviewer's cues, kept in the job (`review/{lang}/cues.json`) and laid over the generated cues.

The subtitle stage writes its files again from the transcripts on every re-run, so a corrected
cue lives where that stage reads it, not only in its output: a later `cpwx run` keeps it. The
reviewed cues (texts, times, cues split or merged) are tied to the generated cue timing they were
made from; when the generated cues move (another layout or transcript), the review is not forced
onto cues it no longer describes.

A sentence of the spoken language that a reviewer corrected is kept too (`review/{lang}/sentences.json`):
the translation stage translates the corrected sentence instead of the recognised one.
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
SENTENCES_FILE = "sentences.json"
RESTORED_FILE = "restored.json"
# How far a reviewed cue may start or end from the job's cue and still be the same cue.
TIME_TOLERANCE = 0.5


@dataclass(frozen=True)
class TimedText:
    """One cue as a subtitle file holds it: times in seconds and its lines."""

    start: float
    end: float
    lines: tuple[str, ...]
    lyrics: bool = False
    edited: bool = False  # changed by a reviewer (in this save or an earlier one)

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


def sentences_path(job_dir: Path, language: str) -> Path:
    return review_dir(job_dir, language) / SENTENCES_FILE


def restored_path(job_dir: Path) -> Path:
    """The segments a reviewer brought back after the hallucination filter dropped them."""
    return job_dir / REVIEW_DIR / RESTORED_FILE


def load_restored(job_dir: Path) -> dict[int, str]:
    """Restored segments: id → the text it had when restored (a segment of another text is another segment)."""
    path = restored_path(job_dir)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return {int(item["id"]): str(item["text"]) for item in data["segments"]}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"'{path}' is not a file of restored segments cp-whisperx wrote ({exc})") from None


def save_restored(job_dir: Path, segments: dict[int, str]) -> Path:
    path = restored_path(job_dir)
    atomic_write_json(path, {"segments": [{"id": k, "text": v} for k, v in sorted(segments.items())]})
    return path


def save_review(job_dir: Path, language: str, generated: list[tuple[float, float]], cues: list[TimedText],
                source: str, job_id: str) -> Path:
    """The reviewed cues, whole, with the generated timing they replace."""
    path = cues_path(job_dir, language)
    atomic_write_json(path, {"language": language, "job": job_id, "reviewed_from": source,
                             "timing": [[start, end] for start, end in generated],
                             "cues": [{"start": c.start, "end": c.end, "lines": list(c.lines), "lyrics": c.lyrics, "edited": c.edited}
                                      for c in cues]})
    return path


def generated_timing(job_dir: Path, language: str, current: list[TimedText]) -> list[tuple[float, float]]:
    """The layout's own cue times under the job's current cues: an earlier review's, while the current
    cues are that review applied, else the current cues' own."""
    earlier = load_review(cues_path(job_dir, language))
    if earlier is not None and earlier.cues is not None and [(c.start, c.end) for c in earlier.cues] == [(c.start, c.end) for c in current]:
        return earlier.timing
    return [(c.start, c.end) for c in current]


def edited_cues(job_dir: Path, language: str) -> set[tuple[float, float, tuple[str, ...]]]:
    """The cues of the job's review that a reviewer changed, by start, end and lines."""
    review = load_review(cues_path(job_dir, language))
    return {(c.start, c.end, c.lines) for c in review.cues if c.edited} if review and review.cues else set()


def save_sentences(job_dir: Path, language: str, corrected: dict[str, str]) -> Path:
    """Corrected sentences of the spoken language (recognised text → corrected), merged over earlier ones."""
    path = sentences_path(job_dir, language)
    merged = {**load_sentences(path), **corrected}
    atomic_write_json(path, {"language": language, "sentences": merged})
    return path


def load_sentences(path: Path) -> dict[str, str]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data["sentences"].items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"'{path}' is not a file of corrected sentences cp-whisperx wrote ({exc})") from None


@dataclass(frozen=True)
class Review:
    timing: list[tuple[float, float]]
    texts: dict[int, tuple[str, ...]]
    cues: list[TimedText] | None = None


def load_review(path: Path) -> Review | None:
    """A review file; one written before reviews held whole cues gives its texts by cue number."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        timing = [(float(a), float(b)) for a, b in data["timing"]]
        if "cues" in data:
            cues = [TimedText(float(c["start"]), float(c["end"]), tuple(str(line) for line in c["lines"]), bool(c.get("lyrics")),
                              bool(c.get("edited")))
                    for c in data["cues"]]
            return Review(timing, {}, cues)
        return Review(timing, {int(index): tuple(str(line) for line in lines) for index, lines in data["texts"].items()})
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"'{path}' is not a review file cp-whisperx wrote ({exc})") from None


def apply_review(cues: list[Cue], review: Review) -> tuple[list[Cue], str | None]:
    """The cues as reviewed, or the cues unchanged and why the review no longer fits them."""
    timing = [TimedText(start, end, ()) for start, end in review.timing]
    problem = first_mismatch(timing, [TimedText(c.start, c.end, ()) for c in cues])
    if problem:
        return cues, problem
    if review.cues is not None:
        separator = cues[0].separator if cues else " "
        return [Cue(c.start, c.end, list(c.lines), lyrics=c.lyrics, speech_start=c.start, speech_end=c.end, separator=separator)
                for c in review.cues], None
    return [dataclasses.replace(cue, lines=list(review.texts[n])) if n in review.texts else cue
            for n, cue in enumerate(cues)], None
