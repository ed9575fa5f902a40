"""Subtitles for the deaf and hard of hearing: who speaks, what is sung, where music plays.

Conventions of the Netflix SDH style guides: identifiers in square brackets, in lower case except
names (`[Asha]`, `[speaker 2]`, `[music]`); song lyrics between ♪. A speaker is identified only
where the audio cannot show who speaks; since the picture is not read here, the speaker is named at
every change of speaker, and every change of speaker starts a new cue, so that no cue mixes two
speakers. Songs are always marked in SDH, whatever LYRICS_MODE does to the plain subtitles.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from cpwhisperx.layout import Cue, LayoutRules, layout, retime
from cpwhisperx.transcript import Segment, Transcript

# The music tag in the languages whose SDH guides name it; elsewhere a music note says it.
MUSIC_TAGS: dict[str, str] = {"en": "[music]", "hi": "[संगीत]", "es": "[música]", "pt": "[música]", "fr": "[musique]",
                              "de": "[Musik]", "it": "[musica]", "nl": "[muziek]"}
MUSIC_NOTE_TAG = "♪"


@dataclass(frozen=True)
class MusicRegion:
    start: float
    end: float


def music_tag(language: str) -> str:
    return MUSIC_TAGS.get(language.split("-")[0].lower(), MUSIC_NOTE_TAG)


def speaker_id(segment: Segment) -> str | None:
    """The bracketed identifier of the segment's speaker: its name, else its label in lower case."""
    if segment.speaker_name:
        return f"[{segment.speaker_name}]"
    if segment.speaker:
        return "[" + segment.speaker.replace("_", " ").lower() + "]"
    return None


def _with_id(segment: Segment, identifier: str) -> Segment:
    words = list(segment.words)
    if words:
        words[0] = words[0].model_copy(update={"text": f" {identifier} {words[0].text.lstrip()}"})
    return segment.model_copy(update={"text": f"{identifier} {segment.text.lstrip()}", "words": words})


def speaker_turns(transcript: Transcript) -> list[list[Segment]]:
    """Runs of consecutive segments of one speaker (all of them one run when nothing is diarized),
    the first dialogue segment of each run led by its speaker's identifier."""
    segments = sorted(transcript.segments, key=lambda seg: seg.start)
    turns: list[list[Segment]] = []
    for _, run in groupby(segments, key=lambda seg: seg.speaker):
        turn = list(run)
        first = next((n for n, seg in enumerate(turn) if "lyrics" not in seg.flags and seg.text.strip()), None)
        identifier = speaker_id(turn[0])
        if first is not None and identifier:
            turn[first] = _with_id(turn[first], identifier)
        turns.append(turn)
    return turns


def music_cues(regions: Iterable[MusicRegion], taken: list[Cue], rules: LayoutRules, language: str) -> list[Cue]:
    """A music tag over every stretch of music that no other cue covers, when it is long enough to read."""
    busy = sorted((cue.start - rules.min_gap, cue.end + rules.min_gap) for cue in taken)
    tags = []
    for region in regions:
        for start, end in _free(region.start, region.end, busy):
            # Whole centiseconds, inside the free stretch, as the layout times every cue.
            start, end = math.ceil(round(start * 100, 6)) / 100, math.floor(round(min(end, start + rules.max_duration) * 100, 6)) / 100
            if end - start >= rules.min_duration:
                tags.append(Cue(start, end, [music_tag(language)], speech_start=start, speech_end=end))
    return tags


def _free(start: float, end: float, busy: list[tuple[float, float]]) -> list[tuple[float, float]]:
    stretches, position = [], start
    for taken_start, taken_end in busy:
        if taken_end <= position or taken_start >= end:
            continue
        if taken_start > position:
            stretches.append((position, taken_start))
        position = max(position, taken_end)
    if position < end:
        stretches.append((position, end))
    return stretches


def sdh_cues(transcript: Transcript, rules: LayoutRules, music: Iterable[MusicRegion] = ()) -> list[Cue]:
    """The SDH cues of a transcript whose lyrics segments are flagged (`lyrics`), in time order."""
    cues: list[Cue] = []
    for turn in speaker_turns(transcript):
        cues += layout(transcript.model_copy(update={"segments": turn}), rules)
    for cue in cues:
        cue.notes.clear()  # the cues are timed again together, which notes late starts afresh
    cues = retime(cues, rules)
    return sorted(cues + music_cues(music, cues, rules, transcript.language), key=lambda cue: cue.start)
