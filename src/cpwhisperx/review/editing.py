"""A reviewer's cues saved into the job: a revision of the files, a re-run of what depends on them, the memory.

The reviewed cues are kept in the job (see `review.cues`) and the previous subtitle files as a
revision. A corrected sentence of the spoken language is translated again (only it: the others come
from the translation cache); then the subtitle and mux stages run again. Each changed sentence is
stored as an approved translation (or, in the spoken language, a corrected transcript sentence)
for later jobs.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cpwhisperx.cache import cache_dir
from cpwhisperx.files import sha256_file
from cpwhisperx.errors import InvalidInput, JobBusy
from cpwhisperx.jobs import Job, RunLock
from cpwhisperx.pipeline import RunResult, run_job
from cpwhisperx.layout import LYRICS_MARK
from cpwhisperx.review.cues import TimedText, clean_lines, cues_path, edited_cues, generated_timing, review_dir, save_review, save_sentences
from cpwhisperx.scripts import join_text
from cpwhisperx.stageio import StageIO, load_manifest
from cpwhisperx.stages import get_stage
from cpwhisperx.stages.subtitle_generation import output_name, source_transcript
from cpwhisperx.transcript import Transcript
from cpwhisperx.translate.memory import TranscriptMemory, TranslationMemory
from cpwhisperx.translate.sentences import Sentence, build_sentences

SUBTITLE_STAGE = "subtitle_generation"
TRANSLATION_STAGE = "translation"
# The job's own file to compare with, best first: the one the mux stage prefers too.
COMPARED_FORMATS = ("srt", "ass", "vtt")
# A cue "touches" a segment when they share more than this (the layout's gaps are at least 83 ms).
OVERLAP = 0.01


@dataclass
class EditReport:
    language: str
    changed_cues: list[int] = field(default_factory=list)  # 1-based, as the file numbers them
    from_stage: str = SUBTITLE_STAGE
    stored: int = 0
    not_stored: list[str] = field(default_factory=list)
    revision: Path | None = None
    run: RunResult | None = None


def read_cues(path: Path) -> list[TimedText]:
    """The cues of an SRT, WebVTT or ASS file in time order (comments left out)."""
    import pysubs2

    try:
        subs = pysubs2.load(str(path), encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"the subtitle file '{path}' does not exist") from None
    except (pysubs2.exceptions.Pysubs2Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"'{path.name}' is not a subtitle file pysubs2 reads ({exc})",
                           hint="give an SRT, WebVTT or ASS file in UTF-8") from None
    events = sorted((e for e in subs if not e.is_comment), key=lambda e: (e.start, e.end))
    return [TimedText(e.start / 1000, e.end / 1000, clean_lines(e.plaintext.splitlines()), LYRICS_MARK in e.plaintext) for e in events]


def ensure_idle(job: Job) -> None:
    if RunLock.is_held(job.dir):
        raise JobBusy(f"job {job.id} is running", hint="save the review once the run has finished")


def current_cues(job: Job, language: str) -> tuple[Path, list[TimedText]]:
    """The job's subtitle file of `language` that reviews compare with, and its cues."""
    path = current_subtitles(job, language)
    return path, read_cues(path)


def save_edits(job: Job, language: str, edited: list[TimedText], source: str,
               rerun: Callable[[str], RunResult | None] | None = None) -> EditReport:
    """The reviewed cues of `language` into the job: the files, the memory, and a run of what depends on them.

    Cues are compared by times and lines; a cue that is not one of the job's current cues is a
    changed one. `rerun(stage)` runs the job from that stage (by default here and now)."""
    ensure_idle(job)
    unapplied_review(job, language)
    settings = job.settings()
    _, current = current_cues(job, language)
    edited = [TimedText(round(c.start, 3), round(c.end, 3), clean_lines(c.lines), c.lyrics) for c in edited]
    kept = {(round(c.start, 3), round(c.end, 3), c.lines, c.lyrics) for c in current}
    changed = {n for n, cue in enumerate(edited) if (cue.start, cue.end, cue.lines, cue.lyrics) not in kept}
    report = EditReport(language, [n + 1 for n in sorted(changed)])
    if not changed and len(edited) == len(current):
        return report
    earlier = edited_cues(job.dir, language)
    edited = [dataclasses.replace(cue, edited=n in changed or (cue.start, cue.end, cue.lines) in earlier) for n, cue in enumerate(edited)]
    corrected = {n: join_text(list(cue.lines), language) for n, cue in enumerate(edited)}
    spoken, approvals = _sentence_texts(job, settings, language, edited, corrected, changed, report)
    generated = generated_timing(job.dir, language, current)
    report.revision = _keep_revision(job, language)
    save_review(job.dir, language, generated, edited, source, job.id)
    if language == spoken and approvals and _translated(job, settings, spoken):
        save_sentences(job.dir, spoken, {sentence.text: text for sentence, text in approvals})
        report.from_stage = TRANSLATION_STAGE
    _remember(job, settings, spoken, language, approvals, report)
    report.run = (rerun or (lambda stage: run_job(job, from_stage=stage)))(report.from_stage)
    return report


def unapplied_review(job: Job, language: str) -> None:
    """Refuse to save over a review whose run has not made the subtitle files yet (it failed, or never ran):
    the files the new review starts from do not hold it, so saving would lose it."""
    path = cues_path(job.dir, language)
    if not path.is_file():
        return
    manifest = load_manifest(job.dir / _stage_dir(SUBTITLE_STAGE)) or {}
    applied = {r.get("sha256") for r in manifest.get("inputs", []) if r.get("type") == "reviewed_cues" and r.get("language") == language}
    if manifest.get("status") != "success" or sha256_file(path) not in applied:
        raise InvalidInput(f"the {language} review saved last is not in the job's subtitle files yet (its run did not finish)",
                           hint=f"run the job again (cpwx run -j {job.id}, or POST /api/jobs/{job.id}/rerun), then review and save")


def _translated(job: Job, settings, spoken: str) -> bool:  # type: ignore[no-untyped-def]
    return any(t != spoken for t in settings.TARGET_LANGUAGES) and job.record.workflow in ("translate", "subtitle")


def subtitle_records(job: Job) -> list[dict]:  # type: ignore[type-arg]
    """The subtitle files of the job's last successful subtitle stage, as its manifest lists them."""
    manifest = load_manifest(job.dir / _stage_dir(SUBTITLE_STAGE))
    if not manifest or manifest.get("status") != "success":
        return []
    return [r for r in manifest.get("outputs", []) if r.get("type") == "subtitles"]


def subtitle_languages(job: Job) -> list[str]:
    return list(dict.fromkeys(str(r.get("language")) for r in subtitle_records(job)))


def current_subtitles(job: Job, language: str) -> Path:
    records = subtitle_records(job)
    mine = sorted((r for r in records if r.get("language") == language), key=lambda r: _format_rank(r.get("format")))
    if not mine:
        languages = sorted({str(r.get("language")) for r in records})
        raise InvalidInput(f"job {job.id} has no {language} subtitles to correct"
                           + (f" (it has {', '.join(languages)})" if languages else " (its subtitle stage has not run)"),
                           hint="give --language one of the job's subtitle languages" if languages else f"run the job first: cpwx run -j {job.id}")
    return job.dir / mine[0]["path"]


def _format_rank(fmt: object) -> int:
    return COMPARED_FORMATS.index(str(fmt)) if fmt in COMPARED_FORMATS else len(COMPARED_FORMATS)


def _stage_dir(name: str) -> str:
    return f"{get_stage(name).number:02d}_{name}"


def _sentence_texts(job: Job, settings, language: str, cues: list[TimedText], corrected: dict[int, str],  # type: ignore[no-untyped-def]
                    changed: set[int], report: EditReport) -> tuple[str, list[tuple[Sentence, str]]]:
    """The spoken language, and each source sentence a changed cue belongs to, with the corrected text of the whole sentence.

    The target segments keep their source segment's times, so a cue belongs to the sentences whose
    segments it overlaps. A sentence over several cues gets its cues' texts joined; a cue holding
    parts of two sentences cannot say which words belong to which, so those sentences are left out.
    """
    io = StageIO(job, get_stage(SUBTITLE_STAGE).number, SUBTITLE_STAGE, settings, ())
    source = source_transcript(io)
    if language != source.language and not (job.dir / _stage_dir("translation") / output_name(language)).is_file():
        report.not_stored.append(f"the job has no {language} translation to relate the cues to")
        return source.language, []
    sentences = build_sentences(source.segments, source.language)
    touching = [_cues_of(sentence, source, cues) for sentence in sentences]
    results = []
    for group in _groups(touching):
        cue_numbers = sorted({c for s in group for c in touching[s]})
        if not changed.intersection(cue_numbers):
            continue
        if len(group) > 1:
            report.not_stored.append(f"cues {', '.join(str(c + 1) for c in cue_numbers)} hold parts of {len(group)} sentences")
            continue
        results.append((sentences[group[0]], join_text([corrected[c] for c in cue_numbers], language)))
    return source.language, results


def _cues_of(sentence: Sentence, source: Transcript, cues: list[TimedText]) -> set[int]:
    spans = [(source.segments[index].start, source.segments[index].end) for index, _ in sentence.parts]
    return {n for n, cue in enumerate(cues) for start, end in spans if min(cue.end, end) - max(cue.start, start) > OVERLAP}


def _groups(touching: list[set[int]]) -> list[list[int]]:
    """Sentences joined when they share a cue (they touch cues in time order, so neighbours suffice)."""
    groups: list[list[int]] = []
    for index, cues in enumerate(touching):
        if not cues:
            continue
        if groups and touching[groups[-1][-1]] & cues:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def _keep_revision(job: Job, language: str) -> Path:
    """The language's current subtitle files, copied to review/{lang}/rev-NNN/ before they are replaced."""
    manifest = load_manifest(job.dir / _stage_dir(SUBTITLE_STAGE)) or {}
    base = review_dir(job.dir, language)
    taken = [int(p.name[4:]) for p in base.glob("rev-*") if p.name[4:].isdigit()] if base.is_dir() else []
    revision = base / f"rev-{max(taken, default=0) + 1:03d}"
    revision.mkdir(parents=True)
    for record in manifest.get("outputs", []):
        if record.get("language") == language and record.get("type") in ("subtitles", "transcript", "transcript_text"):
            shutil.copy2(job.dir / record["path"], revision / Path(record["path"]).name)
    return revision


def _remember(job: Job, settings, spoken: str, language: str, approvals: list[tuple[Sentence, str]],  # type: ignore[no-untyped-def]
              report: EditReport) -> None:
    if not settings.CACHE_ENABLED:
        report.not_stored.append("CACHE_ENABLED=false: nothing is kept for later jobs")
        return
    root = cache_dir(settings.CACHE_DIR)
    transcripts, translations = TranscriptMemory(root), TranslationMemory(root)
    for sentence, text in approvals:
        if language == spoken:
            transcripts.approve(sentence.text, language, text, job.id)
        else:
            translations.approve(sentence.text, spoken, language, text, job.id)
        report.stored += 1
    report.not_stored += transcripts.problems + translations.problems
