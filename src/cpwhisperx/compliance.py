"""Checks cues against the layout rules: the share within each limit and the worst offenders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpwhisperx.layout import LayoutRules, dialogue_dashes, graphemes
from cpwhisperx.cue_timing import FRAME_TOLERANCE_MS, FrameTiming, gap_at_cut, timing_offences
from cpwhisperx.scripts import written_without_spaces

LIMITS = ("line_length", "line_count", "min_duration", "max_duration", "reading_speed", "gap", "speakers")


@dataclass(frozen=True)
class CueFacts:
    """A cue as a file holds it: whole milliseconds and the lines a viewer reads."""

    number: int
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    # Who speaks in it, where known (a file read back does not say: its cues are not checked for this).
    speakers: tuple[str, ...] = ()


def measure(cues: list[CueFacts], rules: LayoutRules, language: str | None = None, timing: FrameTiming | None = None,
            speech: list[tuple[float, float]] | None = None) -> dict[str, Any]:
    """Per limit: how many cues keep it, the share, and the five worst offenders.

    A line of one word longer than the limit is excused in languages written with spaces (it cannot
    break); in those written without, a line may break between characters, so no line is excused,
    and the lines of a cue are read without a space between them. A cue whose speakers are known keeps
    `speakers` when it shows one, or two in the dialogue-dash form (`in_speaker_form`).

    With the video's `timing` (and the cues' speech times where known), `timing` in the report
    checks the frames and shot changes (`cpwhisperx.cue_timing.timing_offences`); a gap of 2
    frames across a cut, or of SUBTITLE_MIN_GAP in the nearest whole frames, is no gap offence."""
    offenders: dict[str, list[tuple[float, int, str]]] = {limit: [] for limit in LIMITS}
    previous_end: int | None = None
    for cue in cues:
        text = cue_text(cue, language)
        for limit, value in cue_offences(cue, rules, language, previous_end):
            if not (limit == "gap" and gap_excused(timing, rules, previous_end, cue.start_ms)):
                offenders[limit].append((value, cue.number, text))
        previous_end = cue.end_ms
    total = len(cues)
    report: dict[str, Any] = {"cues": total, "within": {}, "violations": {}, "worst": {},
                              "limits": {"line_length": rules.max_line_length, "line_count": rules.max_lines,
                                         "min_duration": rules.min_duration, "max_duration": rules.max_duration,
                                         "reading_speed": rules.max_cps, "gap": rules.min_gap, "speakers": 2}}
    for limit in LIMITS:
        bad = offenders[limit]
        report["violations"][limit] = len(bad)
        report["within"][limit] = round(1 - len(bad) / total, 4) if total else 1.0
        worst = sorted(bad, key=lambda item: item[0], reverse=limit not in ("min_duration", "gap"))[:5]
        report["worst"][limit] = [{"cue": n, "value": v, "text": t} for v, n, t in worst]
    if timing:
        report["timing"] = timing_report(cues, rules, timing, speech)
        # The frame and shot-change rules are limits like the others: counted, shared and named alike.
        texts = {cue.number: cue_text(cue, language) for cue in cues}
        for limit, count in report["timing"]["violations"].items():
            report["violations"][limit] = count
            report["within"][limit] = report["timing"]["within"][limit]
            report["worst"][limit] = [entry | {"text": texts.get(entry["cue"], "")} for entry in report["timing"]["worst"][limit]]
        report["limits"].update({"frame_accuracy": FRAME_TOLERANCE_MS, "shot_changes": timing.window})
    report["all_within"] = all(v == 0 for v in report["violations"].values())
    return report


def gap_excused(timing: FrameTiming | None, rules: LayoutRules, previous_end_ms: int | None, start_ms: int) -> bool:
    """On a video, a gap shorter than SUBTITLE_MIN_GAP in seconds that keeps it in whole frames, or
    the 2 frames before a cut."""
    return bool(timing and previous_end_ms is not None
                and (gap_at_cut(timing, previous_end_ms, start_ms) or timing.gap_kept(rules, previous_end_ms, start_ms)))


def timing_report(cues: list[CueFacts], rules: LayoutRules, timing: FrameTiming,
                  speech: list[tuple[float, float]] | None) -> dict[str, Any]:
    found = timing_offences(cues, rules, timing, speech)
    total = len(cues)
    return {"frame_rate": float(timing.frame_rate), "shot_changes": len(timing.shot_changes), "window_frames": timing.window,
            "violations": {rule: len(bad) for rule, bad in found.items()},
            "within": {rule: round(1 - len(bad) / total, 4) if total else 1.0 for rule, bad in found.items()},
            "worst": {rule: [{"cue": n, "value": v} for v, n in sorted(bad, reverse=True)[:5]] for rule, bad in found.items()},
            "all_within": not any(found.values())}


def cue_text(cue: CueFacts, language: str | None) -> str:
    """The cue's lines read as one text: without a space between them where the language writes none."""
    return ("" if written_without_spaces(language) else " ").join(cue.lines)


def cue_offences(cue: CueFacts, rules: LayoutRules, language: str | None, previous_end_ms: int | None) -> list[tuple[str, float]]:
    """Each limit the cue breaks, with its value (characters, lines, seconds, characters per second)."""
    unspaced = written_without_spaces(language)
    duration = cue.end_ms - cue.start_ms
    found: list[tuple[str, float]] = []
    long_lines = [line for line in cue.lines if graphemes(line) > rules.max_line_length and (unspaced or len(line.split()) > 1)]
    if long_lines:
        found.append(("line_length", max(graphemes(x) for x in long_lines)))
    if len(cue.lines) > rules.max_lines:
        found.append(("line_count", len(cue.lines)))
    if duration < rules.min_duration * 1000 - 0.5:
        found.append(("min_duration", duration / 1000))
    if duration > rules.max_duration * 1000:
        found.append(("max_duration", duration / 1000))
    cps = graphemes(cue_text(cue, language)) / (duration / 1000) if duration > 0 else float("inf")
    if cps > rules.max_cps + 1e-9:
        found.append(("reading_speed", round(cps, 2)))
    if previous_end_ms is not None and cue.start_ms - previous_end_ms < round(rules.min_gap * 1000):
        found.append(("gap", (cue.start_ms - previous_end_ms) / 1000))
    if not in_speaker_form(cue, language):
        found.append(("speakers", len(set(cue.speakers))))
    return found


def in_speaker_form(cue: CueFacts, language: str | None) -> bool:
    """Whether the cue shows its speakers as the rules ask: one, or two on a line each, each line
    opened by the language's dialogue dash."""
    speakers = set(cue.speakers)
    if len(speakers) < 2:
        return True
    first, second = dialogue_dashes(language)
    return len(speakers) == 2 and len(cue.lines) == 2 and cue.lines[0].startswith(first) and cue.lines[1].startswith(second)


def facts_from_file(path: Path) -> list[CueFacts]:
    """Re-read a written subtitle file: the independent check of what a player will show."""
    import pysubs2

    if not path.read_text(encoding="utf-8-sig").strip():
        return []  # a film without speech: a file of no cues, whose format nothing can tell
    subs = pysubs2.load(str(path), encoding="utf-8")
    return [CueFacts(n, e.start, e.end, tuple(e.plaintext.split("\n"))) for n, e in enumerate(subs, start=1) if e.plaintext.strip()]
