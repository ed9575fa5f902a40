"""Stage 11: one transcript per target language, translated in sentence units with the glossary kept."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from cpwhisperx import asr
from cpwhisperx.asr import longform
from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.cache import ResultCache, cache_dir
from cpwhisperx.config import MULTILINGUAL_HINT
from cpwhisperx.errors import InvalidInput
from cpwhisperx.glossary import Glossary, asr_prompt, correct_transcript, protect, restore
from cpwhisperx.media import WavReader
from cpwhisperx.models import is_english_only, resolve
from cpwhisperx.progress import ProgressReporter
from cpwhisperx.review.cues import load_sentences, sentences_path
from cpwhisperx.stageio import StageIO, file_record
from cpwhisperx.stages.glossary_load import load_glossary
from cpwhisperx.stages.subtitle_generation import output_name, source_transcript
from cpwhisperx.stages.vad import load_regions
from cpwhisperx.textnorm import normalise_transcript
from cpwhisperx.transcript import Segment, Transcript
from cpwhisperx.translate import choose_engine, load_engine, model_identity
from cpwhisperx.translate.memory import TranslationMemory
from cpwhisperx.translate.text import glossary_application, translate_transcript


def run(io: StageIO) -> None:
    s = io.settings
    source = source_transcript(io)
    glossary = load_glossary(io)
    cache = ResultCache(cache_dir(s.CACHE_DIR), "translations", s.CACHE_ENABLED)
    memory = TranslationMemory(cache_dir(s.CACHE_DIR), s.CACHE_ENABLED)
    corrections = reviewed_sentences(io, source.language)
    report: dict[str, Any] = {}
    for target in s.TARGET_LANGUAGES:
        if target == source.language:
            io.warn(f"target language '{target}' is the spoken language: its track is the transcript itself")
            continue
        engine_name = choose_engine(source.language, target, s)
        started = time.perf_counter()
        if engine_name == "whisper":
            translated, details = _whisper_translate(io, source, glossary)
        else:
            identity = model_identity(engine_name, source.language, target, s)
            with ProgressReporter(f"translating {source.language}→{target} ({engine_name})", 0, io.log, unit="sentences") as bar:
                translated, details = translate_transcript(source, target, engine_name, lambda: load_engine(engine_name, s), glossary,
                                                           cache, identity, bar, memory, corrections)
        translated = normalise_transcript(translated, s.NUMBERS)
        details["seconds"] = round(time.perf_counter() - started, 3)
        io.write_text(output_name(target), translated.to_json(), "transcript", language=target)
        report[target] = details
        io.log.info("%s→%s with %s (%s): %s", source.language, target, engine_name, details["model"],
                     {k: details[k] for k in ("sentences", "engine_calls", "cache_hits", "memory_used") if k in details})
    memory_used = sum(d.get("memory_used", 0) for d in report.values())
    io.metrics.update({"source_language": source.language, "targets": report, "memory_used": memory_used})
    for problem in dict.fromkeys(cache.problems + memory.problems):
        io.warn(problem)
    io.cache = {"hit": bool(cache.hits or memory_used), "key": None, "memory_used": memory_used,
                "translation_cache_hits": cache.hits, "used": cache.enabled, "hits": cache.hits, "misses": cache.misses,
                "corrupt": cache.corrupt, "writable": cache.writable}
    cache.record_stats()


def reviewed_sentences(io: StageIO, language: str) -> dict[str, str]:
    """The spoken sentences a reviewer corrected in this job (the review page, `cpwx import-subtitles`)."""
    path = sentences_path(io.job.dir, language)
    if not path.is_file():
        return {}
    io.inputs.append(file_record(path, io.job.dir, "reviewed_sentences", language=language))
    return load_sentences(path)


def _whisper_translate(io: StageIO, source: Transcript, glossary: Glossary) -> tuple[Transcript, dict[str, Any]]:
    """English straight from the audio with Whisper's translate task over the same speech regions.

    The glossary works on the English as it comes out: names bias the decoding as hotwords, aliases
    and misspellings are corrected to the term, and terms are written as their English rendering.
    """
    s = io.settings
    audio = io.input("demux", "audio.wav", "audio")
    selection = asr.select(s.WHISPER_BACKEND, s.WHISPER_DEVICE, s.WHISPER_COMPUTE_TYPE, s.WHISPER_BACKEND_STRICT)
    model = resolve(s.WHISPER_MODEL, s.MODELS_DIR)
    if is_english_only(model.name):
        raise InvalidInput(f"the English-only model '{model.name}' cannot translate", hint=MULTILINGUAL_HINT)
    regions = load_regions(io)
    options = DecodeOptions.from_settings(s, task="translate")
    for lost in options.batched_tradeoffs():
        io.warn(f"WHISPER_BATCH_SIZE={options.batch_size} (Whisper's English): {lost}")
    hotwords = asr_prompt(glossary, s.GLOSSARY_ASR_MAX_TERMS) if glossary.terms and s.GLOSSARY_ASR_BIAS else ""
    options = replace(options, language=source.language if source.language != "und" else None,
                      hotwords=", ".join(filter(None, [options.hotwords, hotwords])) or None)
    if hotwords:
        io.log.info("glossary hotwords for the translate task: %s", hotwords)
    backend = asr.create(selection, str(model.path), s.WHISPER_CPU_THREADS)
    started = time.perf_counter()
    if regions == []:
        result = Transcript(language="en", duration=source.duration)
    else:
        with WavReader(audio) as reader, ProgressReporter("translating the speech into English (Whisper)", reader.duration, io.log) as bar:
            result = longform.transcribe(backend, reader, regions, options, bar.update)
    seconds = time.perf_counter() - started
    translated = result.model_copy(update={"language": "en", "language_probability": None})
    corrections = []
    if s.GLOSSARY_CORRECT_ASR:
        translated, corrections = correct_transcript(translated, glossary)
    for c in corrections:
        io.log.info("glossary (en): '%s' → '%s' (%s: %s) at %.2f s", c.found, c.term, c.kind, c.evidence, c.start)
    translated = translated.model_copy(update={"segments": [render_terms(seg, glossary) for seg in translated.segments]})
    details = {"engine": "whisper", "model": f"whisper {model.name}", "version": selection.backend, "sentences": len(translated.segments),
               "segments": len(source.segments), "engine_calls": 1, "cache_hits": 0, "glossary_corrections": len(corrections),
               "timing": {"engine_seconds": round(seconds, 4),
                          "per_segment": round(seconds / len(translated.segments), 4) if translated.segments else 0.0},
               "glossary": glossary_application([(source.text, translated.text)], glossary, "en")}
    return translated, details


def render_terms(segment: Segment, glossary: Glossary) -> Segment:
    """Glossary terms written as their English rendering; word times are dropped where the text changed."""
    text = restore(*protect(segment.text, glossary, "en"))
    return segment if text == segment.text else segment.model_copy(update={"text": text, "words": []})
