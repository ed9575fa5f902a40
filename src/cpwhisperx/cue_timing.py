"""Cue times on the video's frames and timed to its shot changes, as the streaming guides ask.

Netflix's timing guidelines (written for 24 fps, "half a second" being 12 frames; the minimum gap
2 frames at every rate): an in-time within half a second of a shot change moves onto it; an
out-time within half a second before a cut ends 2 frames before it; a subtitle does not run across
a cut that its speech does not cross. BBC subtitle guidelines ask the same.

Every time is a whole frame, written to the millisecond nearest it (SRT and WebVTT keep whole
milliseconds). The layout's limits stay as they were: a cue keeps at least the frames of its
reading time, and the gap between cues is SUBTITLE_MIN_GAP in the nearest whole frames, except
across a cut, where 2 frames part a cue ending before it from one starting on it.
Where an in-time can move onto the cut after it only if the next cue starts later, the next cue
waits, within SUBTITLE_MAX_DELAY of its speech and keeping its own reading time.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from cpwhisperx.layout import Cue, LayoutRules
from cpwhisperx.shots import ShotChanges

if TYPE_CHECKING:
    from cpwhisperx.compliance import CueFacts

CUT_GAP = 2  # frames between an out-time and the cut after it (Netflix: "2 frames before the shot change")
FRAME_TOLERANCE_MS = 1.0  # a written time within this of a frame's time is on it (files keep whole milliseconds)


@dataclass(frozen=True)
class FrameTiming:
    """The video's frames on the audio's timeline: frame k shows from `offset + k / frame_rate` seconds."""

    frame_rate: Fraction
    shot_changes: tuple[int, ...]  # the first frame of each new shot, in order
    window: int  # frames around a cut within which the cut rules apply
    offset: Fraction = Fraction(0)  # when the video's first frame shows, in seconds of the audio

    @classmethod
    def of(cls, shots: ShotChanges, window_seconds: float) -> FrameTiming | None:
        """The timing of a video; None for audio alone. A window of 0 leaves the cuts out."""
        if shots.frame_rate is None:
            return None
        window = round(window_seconds * shots.frame_rate)
        return cls(shots.frame_rate, tuple(sorted(shots.frames)) if window > 0 else (), window, shots.video_offset)

    def frame(self, seconds: float) -> int:
        """The frame nearest a time."""
        return math.floor((Fraction(seconds) - self.offset) * self.frame_rate + Fraction(1, 2))

    def frame_at_or_before(self, seconds: float) -> int:
        return math.floor((Fraction(seconds + 0.0005) - self.offset) * self.frame_rate)

    def seconds(self, frame: int) -> float:
        """The frame's time to the millisecond, as the subtitle files write it."""
        return round((self.offset + Fraction(frame) / self.frame_rate) * 1000) / 1000

    @property
    def first_frame(self) -> int:
        """The earliest frame a cue starts on: the video's first, where the audio starts before it, else the first shown at or after 0 s."""
        return max(0, math.ceil(-self.offset * self.frame_rate))

    def at_least(self, seconds: float) -> int:
        """The fewest whole frames lasting `seconds` (a millisecond short counts: files round to it)."""
        return max(0, math.ceil(Fraction(seconds - 0.0005) * self.frame_rate))

    def cuts_between(self, low: int, high: int) -> tuple[int, ...]:
        """The cuts in [low, high]."""
        return self.shot_changes[bisect_left(self.shot_changes, low):bisect_right(self.shot_changes, high)]

    def nearest_cut(self, frame: int) -> int | None:
        near = self.cuts_between(frame - self.window, frame + self.window)
        return min(near, key=lambda cut: (abs(cut - frame), cut)) if near else None

    def gap_frames(self, rules: LayoutRules) -> int:
        """SUBTITLE_MIN_GAP in the nearest whole frames (0.083 s is 2 frames at 24, 25 and 30 fps), at least one."""
        return max(1, round(rules.min_gap * self.frame_rate)) if rules.min_gap > 0 else 0

    def gap_kept(self, rules: LayoutRules, previous_end_ms: int, start_ms: int) -> bool:
        """Whether the gap between two cues is the minimum gap in frames or more."""
        return self.frame(start_ms / 1000) - self.frame(previous_end_ms / 1000) >= self.gap_frames(rules)


def time_to_frames(cues: list[Cue], rules: LayoutRules, timing: FrameTiming) -> list[Cue]:
    """The cues (changed in place) on whole frames and timed to the shot changes."""
    gap, shortest = timing.gap_frames(rules), timing.at_least(rules.min_duration)
    longest = math.floor(rules.max_duration * timing.frame_rate)
    # In-times go to the frame at or before them: a cue loses none of the reading time the layout gave it.
    starts = [timing.frame_at_or_before(cue.start) for cue in cues]
    previous_out: int | None = None
    for number, cue in enumerate(cues):
        keep = max(1, timing.at_least(cue.end - cue.start))  # the reading time the layout gave it
        next_in = starts[number + 1] if number + 1 < len(cues) else None
        latest = next_in - gap if next_in is not None else math.inf
        start = max(starts[number], previous_out + gap if previous_out is not None else timing.first_frame)
        end = max(timing.frame(cue.end), start + keep)
        cut = timing.nearest_cut(start)
        if cut is not None and cut > start and next_in is not None and cut + keep > latest:
            latest = _push_next(timing, cues, starts, number, cut + keep + gap, rules, gap)
        start, end = _in_time_on_cut(timing, start, end, keep, previous_out, latest, longest)
        end = max(start + 1, min(end, latest, start + longest))
        end = _not_across_cuts(timing, cue, start, end, shortest)
        end = _out_time_before_cut(timing, start, end, shortest, longest, next_in, gap)
        cue.start, cue.end = timing.seconds(start), timing.seconds(end)
        previous_out = end
    return cues


def _push_next(timing: FrameTiming, cues: list[Cue], starts: list[int], number: int, wanted: int, rules: LayoutRules,
               gap: int) -> float:
    """Make room for cue `number` to start on the cut after it: the next cue starts as late as
    `wanted` where that stays within SUBTITLE_MAX_DELAY of its speech and it keeps its reading time
    before the cue after it. The latest out-time cue `number` may then have."""
    after = number + 1
    following = cues[after]
    keep = max(1, timing.at_least(following.end - following.start))
    limit = timing.frame(following.speech_start + rules.max_delay)
    beyond = starts[after + 1] - gap if after + 1 < len(cues) else math.inf
    if wanted <= limit and wanted + keep <= beyond and wanted - starts[after] <= timing.window:
        starts[after] = wanted
    return starts[after] - gap


def _in_time_on_cut(timing: FrameTiming, start: int, end: int, keep: int, previous_out: int | None,
                    latest: float, longest: int) -> tuple[int, int]:
    cut = timing.nearest_cut(start)
    if cut is None or cut == start:
        return start, end
    if cut < start:  # earlier, onto the cut, while the cue before ends 2 frames before it
        return (cut, end) if previous_out is None or cut - previous_out >= CUT_GAP else (start, end)
    moved_end = max(end, cut + keep)  # later: the cue keeps its reading time after the cut
    return (cut, moved_end) if moved_end <= latest and moved_end - cut <= longest else (start, end)


def _not_across_cuts(timing: FrameTiming, cue: Cue, start: int, end: int, shortest: int) -> int:
    """An out-time 2 frames before the first cut inside the cue that its speech does not cross,
    where the cue still lasts its minimum duration: reading time alone does not carry a cue over a cut."""
    speech_end = timing.frame(cue.speech_end)
    for cut in timing.cuts_between(start + 1, end - 1):
        if speech_end <= cut:
            return cut - CUT_GAP if cut - CUT_GAP - start >= shortest else end
    return end


def _out_time_before_cut(timing: FrameTiming, start: int, end: int, shortest: int, longest: int,
                         next_in: int | None, gap: int) -> int:
    cuts = timing.cuts_between(end, end + timing.window)
    if not cuts:
        return end
    target = cuts[0] - CUT_GAP
    if target < end:
        return target if target - start >= shortest else end
    fits_before_next = next_in is None or next_in >= cuts[0] or target <= next_in - gap
    return target if fits_before_next and target - start <= longest else end


# --- checking ---------------------------------------------------------------------------------

def timing_offences(cues: list[CueFacts], rules: LayoutRules, timing: FrameTiming,
                    speech: list[tuple[float, float]] | None = None) -> dict[str, list[tuple[float, int]]]:
    """Per rule, the cues that break it with a value: `frame_accuracy` (milliseconds off the frame)
    and `shot_changes` (frames between the time and the cut it should meet).

    Shot-change offences: an in-time within the window of a cut but not on it (unless the cue
    before ends too late for it to move earlier); an out-time within the window before a cut but
    not 2 frames before it (unless the next cue starts before the cut); a cue running across a cut
    its speech does not cross, where it could end before the cut and keep its minimum duration.
    Without the speech times (a file alone) a cue counts as running across a cut when it ends less
    than the window after it: so short a tail is the typical fault, while a cut deep inside a cue
    usually has speech going on across it."""
    found: dict[str, list[tuple[float, int]]] = {"frame_accuracy": [], "shot_changes": []}
    shortest = timing.at_least(rules.min_duration)
    frames = [(timing.frame(c.start_ms / 1000), timing.frame(c.end_ms / 1000)) for c in cues]
    for index, cue in enumerate(cues):
        off = max(abs(ms - timing.seconds(timing.frame(ms / 1000)) * 1000) for ms in (cue.start_ms, cue.end_ms))
        if off > FRAME_TOLERANCE_MS:
            found["frame_accuracy"].append((round(off, 1), cue.number))
        start, end = frames[index]
        previous_out = frames[index - 1][1] if index else None
        next_in = frames[index + 1][0] if index + 1 < len(cues) else None
        misses: list[int] = []
        cut = timing.nearest_cut(start)
        if cut is not None and cut != start and not (cut < start and previous_out is not None and cut - previous_out < CUT_GAP):
            misses.append(abs(cut - start))
        after = timing.cuts_between(end, end + timing.window)
        if after and end != after[0] - CUT_GAP and (next_in is None or next_in >= after[0]):
            misses.append(abs(after[0] - CUT_GAP - end))
        for inside in timing.cuts_between(start + timing.window + 1, end - 1):
            if inside - CUT_GAP - start < shortest:
                continue
            crosses = speech[index][0] < timing.seconds(inside) < speech[index][1] if speech else end - inside > timing.window
            if not crosses:
                misses.append(end - inside)
                break
        if misses:
            found["shot_changes"].append((max(misses), cue.number))
    return found


def gap_at_cut(timing: FrameTiming, previous_end_ms: int, start_ms: int) -> bool:
    """Whether a gap is the one the cut rules make: a cut inside it, at least 2 frames long."""
    previous_out, start = timing.frame(previous_end_ms / 1000), timing.frame(start_ms / 1000)
    return start - previous_out >= CUT_GAP and bool(timing.cuts_between(previous_out + 1, start))
