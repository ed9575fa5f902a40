"""A job's cues of one language as a reviewer sees them: timing, text, and what deserves a second look.

Flags: words Whisper was unsure of (its word probabilities), layout limits broken, lyrics, a
glossary correction, and the segments the hallucination filter dropped (listed beside the cues,
so that a reviewer can restore one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cpwhisperx.compliance import CueFacts, cue_offences
from cpwhisperx.jobs import Job
from cpwhisperx.layout import LayoutRules
from cpwhisperx.review.cues import edited_cues, load_restored
from cpwhisperx.review.editing import current_cues
from cpwhisperx.stageio import load_manifest, stage_dir_name
from cpwhisperx.stages import stage_number
from cpwhisperx.subtitle_rules import rules_from
from cpwhisperx.transcript import Transcript, Word

SUBTITLE_DIR = stage_dir_name(stage_number("subtitle_generation"), "subtitle_generation")
ASR_DIR = stage_dir_name(stage_number("asr"), "asr")
HALLUCINATION_DIR = stage_dir_name(stage_number("hallucination_removal"), "hallucination_removal")
# A word counts as inside a cue when most of it is.
WORD_INSIDE = 0.5


def rules_json(rules: LayoutRules) -> dict[str, float]:
    """The limits the page checks as the reviewer types (the same the subtitle stage keeps)."""
    return {"max_line_length": rules.max_line_length, "max_lines": rules.max_lines, "min_duration": rules.min_duration,
            "max_duration": rules.max_duration, "max_cps": rules.max_cps, "min_gap": rules.min_gap}


def cue_sheet(job: Job, language: str, low_confidence: float) -> dict[str, Any]:
    settings = job.settings()
    rules = rules_from(settings, language)
    path, cues = current_cues(job, language)
    transcript = _language_transcript(job, language)
    words = [w for seg in transcript.segments for w in seg.words] if transcript else []
    lyric_spans = [(seg.start, seg.end) for seg in transcript.segments if "lyrics" in seg.flags] if transcript else []
    spoken = spoken_language(job)
    corrections = _glossary_corrections(job) if language == spoken else []
    reviewed = edited_cues(job.dir, language)
    rows = []
    previous_end: int | None = None
    for index, cue in enumerate(cues):
        facts = CueFacts(index + 1, round(cue.start * 1000), round(cue.end * 1000), cue.lines)
        flags: list[dict[str, Any]] = [{"kind": "layout", "limit": limit, "value": value}
                                       for limit, value in cue_offences(facts, rules, language, previous_end)]
        previous_end = facts.end_ms
        if (round(cue.start, 3), round(cue.end, 3), cue.lines) in reviewed:
            # A reviewer's text: what the recogniser was unsure of is no longer in it.
            flags.append({"kind": "reviewed"})
            rows.append({"index": index, "start": cue.start, "end": cue.end, "lines": list(cue.lines), "lyrics": cue.lyrics, "flags": flags})
            continue
        unsure = [w for w in words if _inside(w, cue.start, cue.end) and w.probability < low_confidence]
        if unsure:
            flags.append({"kind": "low_confidence", "words": [{"text": w.text.strip(), "probability": round(w.probability, 3)} for w in unsure]})
        if cue.lyrics or any(min(cue.end, b) - max(cue.start, a) > 0 for a, b in lyric_spans):
            flags.append({"kind": "lyrics"})
        for fix in corrections:
            if cue.start - 0.05 <= float(fix.get("start", -1)) < cue.end:
                flags.append({"kind": "glossary", "found": fix.get("found"), "term": fix.get("term"), "evidence": fix.get("evidence")})
        rows.append({"index": index, "start": cue.start, "end": cue.end, "lines": list(cue.lines), "lyrics": cue.lyrics, "flags": flags})
    return {"job": job.id, "language": language, "file": path.name, "rules": rules_json(rules), "low_confidence": low_confidence,
            "cues": rows, "dropped": _dropped(job) if language == spoken else []}


def _language_transcript(job: Job, language: str) -> Transcript | None:
    """The transcript the subtitle stage laid out for `language` (word probabilities, lyrics flags)."""
    manifest = load_manifest(job.dir / SUBTITLE_DIR) or {}
    for record in manifest.get("outputs", []):
        if record.get("type") == "transcript" and record.get("language") == language:
            return Transcript.load(job.dir / record["path"])
    return None


def spoken_language(job: Job) -> str:
    """The transcript's language: the first the subtitle stage laid out (the job's, when it was given)."""
    languages = (load_manifest(job.dir / SUBTITLE_DIR) or {}).get("metrics", {}).get("languages")
    return str(languages[0]) if languages else job.record.source_language


def _inside(word: Word, start: float, end: float) -> bool:
    length = max(word.end - word.start, 1e-6)
    return (min(word.end, end) - max(word.start, start)) / length >= WORD_INSIDE


def _glossary_corrections(job: Job) -> list[dict[str, Any]]:
    return _json_list(job.dir / ASR_DIR / "glossary_corrections.json")


def _dropped(job: Job) -> list[dict[str, Any]]:
    """What the hallucination filter dropped (and what a reviewer restored), in time order."""
    restored = load_restored(job.dir)
    dropped = [{"id": seg["id"], "start": seg["start"], "end": seg["end"], "text": seg["text"].strip(),
                "reason": seg.get("flags", {}).get("hallucination", ""), "restored": False}
               for seg in _json_list(job.dir / HALLUCINATION_DIR / "hallucinations.json")]
    kept = Transcript.load(job.dir / HALLUCINATION_DIR / "transcript.json") if (job.dir / HALLUCINATION_DIR / "transcript.json").is_file() else None
    for seg in kept.segments if kept else []:
        if "restored" in seg.flags and restored.get(seg.id) == seg.text:
            dropped.append({"id": seg.id, "start": seg.start, "end": seg.end, "text": seg.text.strip(), "reason": seg.flags["restored"],
                            "restored": True})
    return sorted(dropped, key=lambda item: item["start"])


def _json_list(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

