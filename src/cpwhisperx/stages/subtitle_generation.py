"""Stage 12: cue layout and files per language: {stem}.{lang}.json/.txt and the subtitle formats."""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.compliance import CueFacts, measure
from cpwhisperx.config import Settings
from cpwhisperx.cue_timing import FrameTiming, time_to_frames
from cpwhisperx.layout import Cue, LayoutRules, layout
from cpwhisperx.cache import cache_dir
from cpwhisperx.diarize.names import apply_names, read_speaker_names
from cpwhisperx.review.cues import apply_review, cues_path, load_review
from cpwhisperx.review.films import FilmMemory, confirmed_names
from cpwhisperx.shots import ShotChanges
from cpwhisperx.stageio import StageIO, file_record
from cpwhisperx.subtitle_rules import rules_from
from cpwhisperx.subtitles import plain_text, subtitle_file_name, write_subtitles
from cpwhisperx.tracks import write_extra_tracks
from cpwhisperx.transcript import Transcript
from cpwhisperx.transliteration import romanise

def frame_timing(io: StageIO) -> FrameTiming | None:
    """The video's frames and shot changes, as the demux stage found them; None for audio alone."""
    if not io.has_input("demux", "shot_changes.json"):
        return None
    shots = ShotChanges.from_json(io.read_json("demux", "shot_changes.json", "shot_changes"))
    return FrameTiming.of(shots, io.settings.SUBTITLE_SHOT_CHANGE_WINDOW)


def apply_lyrics_mode(transcript: Transcript, mode: str) -> Transcript:
    if mode == "mark":
        return transcript
    if mode == "drop":
        kept = [seg for seg in transcript.segments if "lyrics" not in seg.flags]
    else:
        kept = [seg.model_copy(update={"flags": {k: v for k, v in seg.flags.items() if k != "lyrics"}}) for seg in transcript.segments]
    return transcript.model_copy(update={"segments": kept})


def in_output_script(transcript: Transcript, s: Settings) -> Transcript:
    """Hindi in Latin letters when HINDI_OUTPUT_SCRIPT=latin; the transcript itself stays in Devanagari."""
    if transcript.language != "hi" or s.HINDI_OUTPUT_SCRIPT != "latin":
        return transcript
    segments = [seg.model_copy(update={"text": romanise(seg.text, "hi"),
                                       "words": [w.model_copy(update={"text": romanise(w.text, "hi")}) for w in seg.words]})
                for seg in transcript.segments]
    return transcript.model_copy(update={"segments": segments})


def facts(cues: list[Cue]) -> list[CueFacts]:
    return [CueFacts(n, round(c.start * 1000), round(c.end * 1000), tuple(c.display_lines), c.speakers)
            for n, c in enumerate(cues, start=1)]


def output_name(language: str) -> str:
    """The translation stage's file for one target language."""
    return f"transcript.{language}.json"


def source_transcript(io: StageIO) -> Transcript:
    for stage in ("hallucination_removal", "lyrics_detection", "diarization", "alignment"):
        if io.has_input(stage, "transcript.json"):
            return Transcript.load(io.input(stage, "transcript.json", "transcript"))
    return Transcript.load(io.input("alignment", "transcript.json", "transcript"))


def reviewed_cues(io: StageIO, cues: list[Cue], language: str) -> list[Cue]:
    """The cues as a reviewer corrected them (`cpwx import-subtitles`, the review page), while they still fit."""
    path = cues_path(io.job.dir, language)
    review = load_review(path)
    if review is None:
        return cues
    io.inputs.append(file_record(path, io.job.dir, "reviewed_cues", language=language))
    generated = {(round(c.start, 3), round(c.end, 3), tuple(c.lines)) for c in cues}
    cues, problem = apply_review(cues, review)
    if problem:
        io.warn(f"{language}: the reviewed subtitles no longer fit the cues ({problem}); they are not applied: "
                "import the corrected file again against the new cues")
    else:
        io.metrics.setdefault("reviewed_cues", {})[language] = sum((round(c.start, 3), round(c.end, 3), tuple(c.lines)) not in generated
                                                                   for c in cues)
    return cues


def speaker_names(io: StageIO) -> dict[str, str]:
    """The names DIARIZATION_SPEAKER_NAMES gives the speakers (none when unset)."""
    if not io.settings.DIARIZATION_SPEAKER_NAMES:
        return {}
    path = Path(io.settings.DIARIZATION_SPEAKER_NAMES).expanduser().resolve()
    names = read_speaker_names(path)
    io.inputs.append(file_record(path, io.job.dir, "speaker_names"))
    return names


def run(io: StageIO) -> None:
    s = io.settings
    source = source_transcript(io)
    names = speaker_names(io)
    transcripts = [source]
    for target in s.TARGET_LANGUAGES:
        if target != source.language and io.has_input("translation", output_name(target)):
            transcripts.append(Transcript.load(io.input("translation", output_name(target), "transcript")))
    compliance, late, lyric, extra_tracks = {}, {}, {}, {}
    timing = frame_timing(io)
    for transcript in (apply_names(in_output_script(t, s), names) for t in transcripts):
        lang, stem = transcript.language, io.job.stem
        rules = rules_from(s, lang)
        io.write_text(f"{stem}.{lang}.json", transcript.to_json(), "transcript", language=lang, deliverable=True)
        io.write_text(f"{stem}.{lang}.txt", plain_text(transcript), "transcript_text", language=lang, deliverable=True)
        cues = layout(apply_lyrics_mode(transcript, s.LYRICS_MODE), rules)
        # on frames before the review, which is tied to the times it was made against
        cues = reviewed_cues(io, time_to_frames(cues, rules, timing) if timing else cues, lang)
        for fmt in s.SUBTITLE_FORMATS:
            with io.output(subtitle_file_name(stem, lang, fmt), "subtitles", language=lang, format=fmt, deliverable=True, cues=len(cues)) as tmp:
                write_subtitles(cues, tmp, fmt, lang)
        extra_tracks[lang] = write_extra_tracks(io, transcript, source.language, rules, timing)
        compliance[lang] = measure(facts(cues), rules, lang, timing, [(c.speech_start, c.speech_end) for c in cues])
        late[lang] = sum(1 for c in cues if c.notes)
        lyric[lang] = sum(c.lyrics for c in cues)
        if not compliance[lang]["all_within"]:
            broken = {limit: n for limit, n in compliance[lang]["violations"].items() if n}
            io.warn(f"{lang}: some cues break the subtitle rules: {broken}")
    io.metrics.update({"languages": [t.language for t in transcripts], "formats": ["json", "txt", *s.SUBTITLE_FORMATS],
                       "compliance": compliance, "cues_starting_late": late, "lyric_cues": lyric,
                       "extra_tracks": {lang: tracks for lang, tracks in extra_tracks.items() if tracks}})
    if not source.segments:
        io.warn("the transcript is empty: no speech was found")
    learn_film_names(io, source)


def learn_film_names(io: StageIO, source: Transcript) -> None:
    """The glossary's names this film's final transcript confirms, kept for its later jobs.

    Here, because this is the one stage of every workflow that reads the final transcript (after
    the ASR's glossary corrections and the hallucination removal) and runs only when it changed.
    """
    from cpwhisperx.stages.glossary_load import film_of, load_glossary

    s = io.settings
    if not s.CACHE_ENABLED or not io.has_input("glossary_load", "glossary.json"):
        return
    names = confirmed_names(load_glossary(io), source)
    if names:
        memory = FilmMemory(cache_dir(s.CACHE_DIR))
        memory.learn(film_of(io), names, io.job.id)
        for problem in memory.problems:
            io.warn(problem)
    io.metrics["names_confirmed"] = [t.term for t in names]
