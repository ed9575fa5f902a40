"""Stage 10: one transcript per target language, translated in sentence units with the glossary kept."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cpwhisperx import asr
from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.cache import ResultCache, default_cache_dir
from cpwhisperx.media import read_wav
from cpwhisperx.models import resolve
from cpwhisperx.stageio import StageIO
from cpwhisperx.textnorm import normalise_transcript
from cpwhisperx.stages.glossary_load import load_glossary
from cpwhisperx.stages.subtitle_generation import output_name, source_transcript
from cpwhisperx.stages.vad import load_regions
from cpwhisperx.transcript import Transcript
from cpwhisperx.translate import choose_engine, load_engine
from cpwhisperx.translate.text import translate_transcript


def run(io: StageIO) -> None:
    s = io.settings
    source = source_transcript(io)
    glossary = load_glossary(io)
    cache = ResultCache(Path(s.CACHE_DIR).expanduser() if s.CACHE_DIR else default_cache_dir(), "translations", s.CACHE_ENABLED)
    report: dict[str, Any] = {}
    for target in s.TARGET_LANGUAGES:
        if target == source.language:
            io.warn(f"target language '{target}' is the spoken language: its track is the transcript itself")
            continue
        engine_name = choose_engine(source.language, target, s)
        started = time.perf_counter()
        if engine_name == "whisper":
            translated, details = _whisper_translate(io, source)
        else:
            translated, details = translate_transcript(source, target, engine_name, lambda: load_engine(engine_name, s), glossary, cache)
        translated = normalise_transcript(translated, s.NUMBERS)
        details["seconds"] = round(time.perf_counter() - started, 3)
        io.write_text(output_name(target), translated.to_json(), "transcript", language=target)
        report[target] = details
        io.log.info("%s→%s with %s (%s): %s", source.language, target, engine_name, details["model"],
                     {k: details[k] for k in ("sentences", "engine_calls", "cache_hits") if k in details})
    io.metrics.update({"source_language": source.language, "targets": report})
    io.cache = {"used": cache.enabled, "hits": cache.hits, "misses": cache.misses, "corrupt": cache.corrupt}


def _whisper_translate(io: StageIO, source: Transcript) -> tuple[Transcript, dict[str, Any]]:
    """English straight from the audio with Whisper's translate task over the same speech regions."""
    s = io.settings
    audio = read_wav(io.input("demux", "audio.wav", "audio"))
    selection = asr.select(s.WHISPER_BACKEND, s.WHISPER_DEVICE, s.WHISPER_COMPUTE_TYPE, s.WHISPER_BACKEND_STRICT)
    model = resolve(s.WHISPER_MODEL, s.MODELS_DIR)
    if model.name.endswith(".en"):
        from cpwhisperx.errors import ResourceMissing

        raise ResourceMissing(f"the English-only model '{model.name}' cannot translate", hint="set WHISPER_MODEL to a multilingual model such as base")
    regions = load_regions(io)
    options = DecodeOptions.from_settings(s, task="translate")
    options = DecodeOptions(**{**options.__dict__, "language": source.language if source.language != "und" else None})
    backend = asr.create(selection, str(model.path), s.WHISPER_CPU_THREADS)
    result = backend.transcribe(audio, regions, options, lambda done: None) if regions != [] else Transcript(language="en", duration=source.duration)
    translated = result.model_copy(update={"language": "en", "language_probability": None})
    details = {"engine": "whisper", "model": f"whisper {model.name}", "version": selection.backend, "sentences": len(translated.segments),
               "engine_calls": 1, "cache_hits": 0, "glossary": {"expected": None, "applied": None, "rate": None}}
    return translated, details
