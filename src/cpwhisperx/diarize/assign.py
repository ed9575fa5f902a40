"""Speakers onto a transcript: each word to the speaker of the turns it overlaps most, and each
segment cut where its words change speaker."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from itertools import groupby

from cpwhisperx.diarize import Turn
from cpwhisperx.transcript import Segment, Transcript, Word


class _Turns:
    """Turns sorted by start, for finding those near a stretch of time without scanning them all."""

    def __init__(self, turns: list[Turn]) -> None:
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.starts = [t.start for t in self.turns]
        self.longest = max(t.end - t.start for t in self.turns)
        # the turn that ends latest among the first k + 1: the nearest one before a stretch
        self.latest_ending: list[int] = []
        for index, turn in enumerate(self.turns):
            best = self.latest_ending[-1] if self.latest_ending else index
            self.latest_ending.append(index if turn.end >= self.turns[best].end else best)

    def speaker_of(self, start: float, end: float) -> str:
        """The speaker whose turns overlap [start, end] the longest; the nearest turn's when none does."""
        after = bisect_left(self.starts, end)
        overlap: dict[str, float] = defaultdict(float)
        for turn in self.turns[bisect_left(self.starts, start - self.longest):after]:
            shared = min(end, turn.end) - max(start, turn.start)
            if shared > 0:
                overlap[turn.speaker] += shared
        if overlap:
            return max(overlap, key=lambda speaker: overlap[speaker])
        candidates = [self.turns[i] for i in (after, after - 1) if 0 <= i < len(self.turns)]
        if after > 0:
            candidates.append(self.turns[self.latest_ending[after - 1]])
        return min(candidates, key=lambda t: max(t.start - end, start - t.end, 0.0)).speaker


def assign_speakers(transcript: Transcript, turns: list[Turn]) -> Transcript:
    """The transcript with a speaker on every word and segment, a segment split where its speaker
    changes (ids numbered again, every other field kept on each part). Without turns, unchanged."""
    if not turns:
        return transcript
    found = _Turns(turns)
    segments: list[Segment] = []
    for seg in transcript.segments:
        if not seg.words:
            segments.append(seg.model_copy(update={"speaker": found.speaker_of(seg.start, seg.end)}))
            continue
        words = [w.model_copy(update={"speaker": found.speaker_of(w.start, w.end)}) for w in seg.words]
        runs = [list(run) for _, run in groupby(words, key=lambda w: w.speaker)]
        if len(runs) == 1:
            segments.append(seg.model_copy(update={"words": words, "speaker": words[0].speaker}))
            continue
        for number, run in enumerate(runs):
            segments.append(seg.model_copy(update={
                "words": run, "speaker": run[0].speaker, "text": text_of(run),
                "start": seg.start if number == 0 else run[0].start,
                "end": seg.end if number == len(runs) - 1 else run[-1].end,
            }))
    numbered = [seg.model_copy(update={"id": number}) for number, seg in enumerate(segments)]
    return transcript.model_copy(update={"segments": numbered})


def text_of(words: list[Word]) -> str:
    """A part of a segment as its words write it. Each word carries the space before it where the
    language writes one (Whisper's convention, kept by the alignment and the glossary), so the words
    join as they are: with spaces in English or Hindi, without in Chinese or Japanese, and at the
    written phrase ends in Thai."""
    return "".join(w.text for w in words).strip()
