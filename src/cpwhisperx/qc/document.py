"""qc.json: the report's facts as data, for tools and dashboards."""

from __future__ import annotations

from typing import Any

from cpwhisperx.qc.facts import JobFacts, LanguageFacts, timecode

# What a subtitle file does not hold (who speaks in a cue, when its speech runs across a cut), so its
# re-measure cannot judge these checks: they are not compared.
NOT_IN_FILE = frozenset({"speakers", "shot_changes"})


def qc_document(facts: JobFacts) -> dict[str, Any]:
    return {
        "job_id": facts.job_id,
        "media": facts.media_name,
        "workflow": facts.workflow,
        "duration_seconds": round(facts.duration, 3),
        "languages": {lang.language: language_section(lang) for lang in facts.languages},
        "speakers": None if facts.speakers is None else {
            "backend": facts.speakers.backend,
            "turns": len(facts.speakers.turns),
            "speakers": [{"speaker": name, "seconds": round(facts.speakers.seconds(name), 3), "turns": facts.speakers.turn_count(name)}
                         for name in facts.speakers.speakers],
        },
        "shot_changes": None if facts.shot_changes is None else len(facts.shot_changes),
        "music_seconds": None if facts.music is None else round(sum(s.seconds for s in facts.music), 3),
        "music_regions": None if facts.music is None else len(facts.music),
        "speech_seconds": None if facts.speech is None else round(sum(s.seconds for s in facts.speech), 3),
        "speech_regions": None if facts.speech is None else len(facts.speech),
    }


def measured(lang: LanguageFacts) -> dict[str, Any]:
    """The subtitle stage's own measure (it ran every check), else the re-measure of the file."""
    return lang.reported if lang.reported is not None else lang.remeasured


def language_section(lang: LanguageFacts) -> dict[str, Any]:
    report = measured(lang)
    return {
        "file": lang.file,
        "cues": report["cues"],
        "limits": report.get("limits", {}),
        "within": report["within"],
        "violations": report["violations"],
        "all_within": all(count == 0 for count in report["violations"].values()),
        "worst": {limit: [worst_entry(lang, entry) for entry in entries] for limit, entries in report.get("worst", {}).items()},
        "measured_by": "subtitle_generation" if lang.reported is not None else "qc (the stage recorded no measure)",
        "independent_check": independent_check(lang),
    }


def worst_entry(lang: LanguageFacts, entry: dict[str, Any]) -> dict[str, Any]:
    cue = lang.cue(int(entry["cue"]))
    return {"cue": entry["cue"], "value": entry["value"], "text": entry["text"],
            "start": timecode(cue.start) if cue else None, "end": timecode(cue.end) if cue else None}


def independent_check(lang: LanguageFacts) -> dict[str, Any]:
    """The written file measured again, and where it disagrees with what the stage recorded."""
    again = lang.remeasured
    differences: list[dict[str, Any]] = []
    unchecked: list[str] = []
    if lang.reported is not None:
        if lang.reported["cues"] != again["cues"]:
            differences.append({"what": "cues", "reported": lang.reported["cues"], "in_file": again["cues"]})
        for limit, count in lang.reported["violations"].items():
            if limit not in again["violations"] or limit in NOT_IN_FILE:
                unchecked.append(limit)
            elif again["violations"][limit] != count:
                differences.append({"what": limit, "reported": count, "in_file": again["violations"][limit]})
    return {"cues": again["cues"], "within": again["within"], "violations": again["violations"],
            "agrees": not differences, "differences": differences, "not_rechecked": unchecked}
