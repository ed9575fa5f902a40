"""What the QC report shows, gathered from the other stages' files (each read recorded as an input)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpwhisperx.compliance import CueFacts, cue_offences, facts_from_file, gap_excused, measure
from cpwhisperx.cue_timing import FrameTiming
from cpwhisperx.shots import ShotChanges
from cpwhisperx.stageio import StageIO, load_manifest
from cpwhisperx.subtitle_rules import rules_from

# The subtitle file a language is checked in, best first: all three hold the same cues.
CHECKED_FORMATS = ("srt", "vtt", "ass")


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class Turn(Span):
    speaker: str


@dataclass(frozen=True)
class TimedCue(Span):
    """A cue as its file holds it, with the rules it breaks."""

    number: int
    text: str
    broken: tuple[str, ...]


@dataclass
class LanguageFacts:
    language: str
    file: str
    cues: list[TimedCue]
    # As the subtitle stage measured it (every check it ran), and again from the written file.
    reported: dict[str, Any] | None
    remeasured: dict[str, Any]

    def cue(self, number: int) -> TimedCue | None:
        return next((c for c in self.cues if c.number == number), None)


@dataclass
class SpeakerFacts:
    backend: str | None
    speakers: list[str]
    turns: list[Turn]

    def seconds(self, speaker: str) -> float:
        return sum(t.seconds for t in self.turns if t.speaker == speaker)

    def turn_count(self, speaker: str) -> int:
        return sum(1 for t in self.turns if t.speaker == speaker)


@dataclass
class JobFacts:
    job_id: str
    media_name: str
    workflow: str
    duration: float
    languages: list[LanguageFacts] = field(default_factory=list)
    speech: list[Span] | None = None
    music: list[Span] | None = None
    shot_changes: list[float] | None = None
    speakers: SpeakerFacts | None = None


def timecode(seconds: float) -> str:
    """HH:MM:SS,mmm, as a subtitle file writes a cue's time."""
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{ms:03d}"


def gather(io: StageIO) -> JobFacts:
    timing = _frame_timing(io)
    languages = [_language(io, record, timing) for record in _checked_files(io)]
    facts = JobFacts(job_id=io.job.id, media_name=io.job.record.media.name, workflow=io.job.record.workflow, duration=0.0,
                     languages=languages, speech=_spans(io, "vad", "speech.json", "speech_regions"),
                     music=_spans(io, "lyrics_detection", "music.json", "music_profile"),
                     shot_changes=_shot_changes(io), speakers=_speakers(io))
    facts.duration = _duration(io, facts)
    return facts


def read_input(io: StageIO, stage: str, filename: str, kind: str) -> Path:
    """Another stage's file, recorded once as an input (the stage may have recorded it already)."""
    path = io.stage_path(stage) / filename
    shown = path.relative_to(io.job.dir).as_posix()
    if any(record["path"] == shown for record in io.inputs):
        return path
    return io.input(stage, filename, kind)


def _read_json(io: StageIO, stage: str, filename: str, kind: str) -> Any | None:
    if not io.has_input(stage, filename):
        return None
    from cpwhisperx.files import read_json

    return read_json(read_input(io, stage, filename, kind))


def _checked_files(io: StageIO) -> list[dict[str, Any]]:
    chosen: dict[str, dict[str, Any]] = {}
    for record in io.outputs_of("subtitle_generation"):
        if record["type"] != "subtitles" or record.get("format") not in CHECKED_FORMATS:
            continue
        current = chosen.get(record["language"])
        if current is None or CHECKED_FORMATS.index(record["format"]) < CHECKED_FORMATS.index(current["format"]):
            chosen[record["language"]] = record
    return list(chosen.values())


def _frame_timing(io: StageIO) -> FrameTiming | None:
    """The video's frames and cuts as the subtitle stage timed cues to them, for the re-measure."""
    data = _read_json(io, "demux", "shot_changes.json", "shot_changes")
    return None if data is None else FrameTiming.of(ShotChanges.from_json(data), io.settings.SUBTITLE_SHOT_CHANGE_WINDOW)


def _language(io: StageIO, record: dict[str, Any], timing: FrameTiming | None) -> LanguageFacts:
    language = record["language"]
    path = read_input(io, "subtitle_generation", Path(record["path"]).name, "subtitles")
    rules = rules_from(io.settings, language)
    cue_facts = facts_from_file(path)
    remeasured = measure(cue_facts, rules, language, timing)
    manifest = load_manifest(io.stage_path("subtitle_generation")) or {}
    reported = manifest.get("metrics", {}).get("compliance", {}).get(language)
    # The stage's worst lists name cues of checks this re-measure may not run (speakers, shot changes).
    named = _named_offenders(reported) if reported else {}
    cues, previous_end = [], None
    for cue in cue_facts:
        broken = {limit for limit, _ in cue_offences(cue, rules, language, previous_end)
                  if not (limit == "gap" and gap_excused(timing, rules, previous_end, cue.start_ms))} | named.get(cue.number, set())
        cues.append(_timed(cue, tuple(sorted(broken))))
        previous_end = cue.end_ms
    return LanguageFacts(language, path.relative_to(io.job.dir).as_posix(), cues, reported, remeasured)


def _named_offenders(report: dict[str, Any]) -> dict[int, set[str]]:
    named: dict[int, set[str]] = {}
    for limit, worst in report.get("worst", {}).items():
        for entry in worst:
            named.setdefault(int(entry["cue"]), set()).add(limit)
    return named


def _timed(cue: CueFacts, broken: tuple[str, ...]) -> TimedCue:
    return TimedCue(cue.start_ms / 1000, cue.end_ms / 1000, cue.number, " / ".join(cue.lines), broken)


def _spans(io: StageIO, stage: str, filename: str, kind: str) -> list[Span] | None:
    data = _read_json(io, stage, filename, kind)
    if data is None:
        return None
    return [Span(float(r["start"]), float(r["end"])) for r in data.get("regions", [])]


def _shot_changes(io: StageIO) -> list[float] | None:
    data = _read_json(io, "demux", "shot_changes.json", "shot_changes")
    return None if data is None else sorted(float(t) for t in data.get("shot_changes", []))


def _speakers(io: StageIO) -> SpeakerFacts | None:
    data = _read_json(io, "diarization", "turns.json", "speaker_turns")
    if data is None:
        return None
    turns = [Turn(float(t["start"]), float(t["end"]), str(t["speaker"])) for t in data.get("turns", [])]
    speakers = [str(s) for s in data.get("speakers", [])]
    speakers += sorted({t.speaker for t in turns} - set(speakers))
    return SpeakerFacts(data.get("backend"), speakers, turns)


def _duration(io: StageIO, facts: JobFacts) -> float:
    """The film's length: as probed, else the audio's, else the last thing the report shows."""
    media = _read_json(io, "demux", "media.json", "media_info") or {}
    if media.get("duration_seconds"):
        return float(media["duration_seconds"])
    speech = _read_json(io, "vad", "speech.json", "speech_regions") or {}
    if speech.get("audio_seconds"):
        return float(speech["audio_seconds"])
    ends = [c.end for lang in facts.languages for c in lang.cues] + [s.end for s in facts.speech or []] + [s.end for s in facts.music or []]
    ends += [t.end for t in facts.speakers.turns] if facts.speakers else []
    return max([*ends, *(facts.shot_changes or []), 0.0])
