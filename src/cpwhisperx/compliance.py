"""Checks cues against the layout rules: the share within each limit and the worst offenders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpwhisperx.layout import LayoutRules, graphemes
from cpwhisperx.scripts import written_without_spaces

LIMITS = ("line_length", "line_count", "min_duration", "max_duration", "reading_speed", "gap")


@dataclass(frozen=True)
class CueFacts:
    """A cue as a file holds it: whole milliseconds and the lines a viewer reads."""

    number: int
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


def measure(cues: list[CueFacts], rules: LayoutRules, language: str | None = None) -> dict[str, Any]:
    """Per limit: how many cues keep it, the share, and the five worst offenders.

    A line of one word longer than the limit is excused in languages written with spaces (it cannot
    break); in those written without, a line may break between characters, so no line is excused,
    and the lines of a cue are read without a space between them."""
    offenders: dict[str, list[tuple[float, int, str]]] = {limit: [] for limit in LIMITS}
    previous_end: int | None = None
    for cue in cues:
        text = cue_text(cue, language)
        for limit, value in cue_offences(cue, rules, language, previous_end):
            offenders[limit].append((value, cue.number, text))
        previous_end = cue.end_ms
    total = len(cues)
    report: dict[str, Any] = {"cues": total, "within": {}, "violations": {}, "worst": {},
                              "limits": {"line_length": rules.max_line_length, "line_count": rules.max_lines,
                                         "min_duration": rules.min_duration, "max_duration": rules.max_duration,
                                         "reading_speed": rules.max_cps, "gap": rules.min_gap}}
    for limit in LIMITS:
        bad = offenders[limit]
        report["violations"][limit] = len(bad)
        report["within"][limit] = round(1 - len(bad) / total, 4) if total else 1.0
        worst = sorted(bad, key=lambda item: item[0], reverse=limit not in ("min_duration", "gap"))[:5]
        report["worst"][limit] = [{"cue": n, "value": v, "text": t} for v, n, t in worst]
    report["all_within"] = all(v == 0 for v in report["violations"].values())
    return report


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
    return found


def facts_from_file(path: Path) -> list[CueFacts]:
    """Re-read a written subtitle file: the independent check of what a player will show."""
    import pysubs2

    subs = pysubs2.load(str(path), encoding="utf-8")
    return [CueFacts(n, e.start, e.end, tuple(e.plaintext.split("\n"))) for n, e in enumerate(subs, start=1) if e.plaintext.strip()]
