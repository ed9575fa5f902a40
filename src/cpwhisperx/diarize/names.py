"""Speakers' names: a `speakers.tsv` that maps diarization labels to the names a reader sees.

One row a speaker, the label and the name separated by a tab:

    # the interview
    SPEAKER_1	Asha Rao
    SPEAKER_2	Interviewer

Lines starting with '#' and blank lines are skipped; a label without a row keeps its label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from cpwhisperx.errors import InvalidInput
from cpwhisperx.transcript import Transcript

LABEL = re.compile(r"SPEAKER_(\d+)")
FORMAT_HINT = "each row is a label, a tab and a name, e.g. 'SPEAKER_1<TAB>Asha Rao'; lines starting with '#' are comments"


def read_speaker_names(path: Path) -> dict[str, str]:
    """Label → name, as the file gives them (a label written SPEAKER_01 is SPEAKER_1)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"speaker names file not found: {path}",
                           hint="set DIARIZATION_SPEAKER_NAMES to a speakers.tsv that exists") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: the speaker names file is not UTF-8 text", hint="save it as UTF-8") from None
    names: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        row = line.strip()
        if not row or row.startswith("#"):
            continue
        where = f"{path}, line {number}"
        if "\t" not in line:
            raise InvalidInput(f"{where}: no tab between the label and the name: {row!r}", hint=FORMAT_HINT)
        label, name = (part.strip() for part in line.split("\t", 1))
        match = LABEL.fullmatch(label)
        if match is None or int(match.group(1)) == 0:
            raise InvalidInput(f"{where}: {label!r} is not a speaker label",
                               hint="labels are SPEAKER_1, SPEAKER_2, … as the transcript writes them")
        if not name:
            raise InvalidInput(f"{where}: no name for {label}", hint=FORMAT_HINT)
        if "\t" in name:
            raise InvalidInput(f"{where}: more than one tab: the name may not hold one", hint=FORMAT_HINT)
        label = f"SPEAKER_{int(match.group(1))}"
        if label in names:
            raise InvalidInput(f"{where}: {label} is named twice", hint="give each label one row")
        names[label] = name
    return names


def display_name(label: str, names: Mapping[str, str]) -> str:
    """What a reader sees for a speaker: the name given, else the label."""
    return names.get(label, label)


def apply_names(transcript: Transcript, names: Mapping[str, str]) -> Transcript:
    """The transcript with `speaker_name` on each segment whose speaker the mapping names."""
    if not names:
        return transcript
    segments = [seg.model_copy(update={"speaker_name": names[seg.speaker]}) if seg.speaker is not None and seg.speaker in names
                else seg for seg in transcript.segments]
    return transcript.model_copy(update={"segments": segments})
