"""Stage 11: cue layout and files per language: {stem}.{lang}.json/.txt and the subtitle formats."""

from __future__ import annotations

from cpwhisperx.compliance import CueFacts, measure
from cpwhisperx.config import Settings
from cpwhisperx.layout import Cue, LayoutRules, layout
from cpwhisperx.cache import cache_dir
from cpwhisperx.review.cues import apply_review, cues_path, load_review
from cpwhisperx.review.films import FilmMemory, confirmed_names
from cpwhisperx.stageio import StageIO, file_record
from cpwhisperx.subtitles import plain_text, write_subtitles
from cpwhisperx.transcript import Transcript
from cpwhisperx.transliteration import romanise


def rules_from(s: Settings, language: str) -> LayoutRules:
    """The layout limits for subtitles in `language`: its own line length where one is set."""
    line_length = s.SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE.get(language, s.SUBTITLE_MAX_LINE_LENGTH)
    return LayoutRules(max_line_length=line_length, max_lines=s.SUBTITLE_MAX_LINES,
                       min_duration=s.SUBTITLE_MIN_DURATION, max_duration=s.SUBTITLE_MAX_DURATION, max_cps=s.SUBTITLE_MAX_CPS,
                       min_gap=s.SUBTITLE_MIN_GAP, pause_split=s.SUBTITLE_PAUSE_SPLIT, max_lead=s.SUBTITLE_MAX_LEAD,
                       max_delay=s.SUBTITLE_MAX_DELAY)


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
    return [CueFacts(n, round(c.start * 1000), round(c.end * 1000), tuple(c.display_lines)) for n, c in enumerate(cues, start=1)]


def output_name(language: str) -> str:
    """The translation stage's file for one target language."""
    return f"transcript.{language}.json"


def source_transcript(io: StageIO) -> Transcript:
    for stage in ("hallucination_removal", "lyrics_detection", "alignment"):
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


def run(io: StageIO) -> None:
    s = io.settings
    source = source_transcript(io)
    transcripts = [source]
    for target in s.TARGET_LANGUAGES:
        if target != source.language and io.has_input("translation", output_name(target)):
            transcripts.append(Transcript.load(io.input("translation", output_name(target), "transcript")))
    compliance, late, lyric = {}, {}, {}
    for transcript in (in_output_script(t, s) for t in transcripts):
        lang, stem = transcript.language, io.job.stem
        rules = rules_from(s, lang)
        io.write_text(f"{stem}.{lang}.json", transcript.to_json(), "transcript", language=lang, deliverable=True)
        io.write_text(f"{stem}.{lang}.txt", plain_text(transcript), "transcript_text", language=lang, deliverable=True)
        cues = reviewed_cues(io, layout(apply_lyrics_mode(transcript, s.LYRICS_MODE), rules), lang)
        for fmt in s.SUBTITLE_FORMATS:
            with io.output(f"{stem}.{lang}.{fmt}", "subtitles", language=lang, deliverable=True, cues=len(cues)) as tmp:
                write_subtitles(cues, tmp, fmt)
        compliance[lang] = measure(facts(cues), rules, lang)
        late[lang] = sum(1 for c in cues if c.notes)
        lyric[lang] = sum(c.lyrics for c in cues)
        if not compliance[lang]["all_within"]:
            io.warn(f"{lang}: some cues break the layout limits: {compliance[lang]['violations']}")
    io.metrics.update({"languages": [t.language for t in transcripts], "formats": ["json", "txt", *s.SUBTITLE_FORMATS],
                       "compliance": compliance, "cues_starting_late": late, "lyric_cues": lyric})
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
