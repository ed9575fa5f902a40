"""`cpwx import-subtitles`: a reviewer's corrected subtitle file back into its job, and into the memory.

The file's cues are matched to the job's cues of that language by number and timing; nothing is
re-timed: only the texts are taken (see `review.editing` for what saving them does).
"""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.errors import InvalidInput
from cpwhisperx.jobs import Job
from cpwhisperx.review.cues import TimedText, first_mismatch
from cpwhisperx.review.editing import EditReport, current_cues, ensure_idle, read_cues, save_edits


def import_subtitles(job: Job, file: Path, language: str) -> EditReport:
    ensure_idle(job)
    current_file, current = current_cues(job, language)
    reviewed = read_cues(file)
    problem = first_mismatch(reviewed, current)
    if problem:
        raise InvalidInput(f"'{file.name}' does not fit the job's {language} subtitles: {problem}",
                           hint=f"keep every cue of {current_file.name} and its times (within 0.5 s), change only the texts, then import again")
    edited = [TimedText(theirs.start, theirs.end, mine.lines, theirs.lyrics) for mine, theirs in zip(reviewed, current, strict=True)]
    return save_edits(job, language, edited, file.name)
