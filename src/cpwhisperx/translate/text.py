"""Translating a transcript with a text engine: sentences, glossary protection, the cache."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cpwhisperx.cache import ResultCache, cache_key
from cpwhisperx.glossary import Glossary, expected_renderings, protect, restore
from cpwhisperx.transcript import Transcript
from cpwhisperx.translate import TextEngine
from cpwhisperx.translate.sentences import build_sentences, distribute


def translate_transcript(source: Transcript, target: str, engine_name: str, engine_factory: Callable[[], TextEngine],
                         glossary: Glossary, cache: ResultCache) -> tuple[Transcript, dict[str, Any]]:
    """The transcript in `target`: sentence units, glossary terms protected, cached per sentence.

    The engine is created only when some sentence is not in the cache.
    """
    sentences = build_sentences(source.segments)
    protected = [protect(sentence.text, glossary, target) for sentence in sentences]
    results: list[str | None] = []
    keys = []
    for (text, renderings), sentence in zip(protected, sentences, strict=True):
        relevant = sorted(set(renderings))
        key = cache_key(sentence.text, source.language, target, engine_name, relevant)
        keys.append(key)
        hit = cache.get(key)
        results.append(hit["translation"] if isinstance(hit, dict) and "model" in hit else None)
    missing = [i for i, r in enumerate(results) if r is None]
    timings: list[float] = []
    model = version = ""
    if missing:
        engine = engine_factory()
        started = time.perf_counter()
        raw = engine.translate([protected[i][0] for i in missing], source.language, target)
        per_sentence = (time.perf_counter() - started) / len(missing)
        for i, text in zip(missing, raw, strict=True):
            results[i] = restore(text, protected[i][1])
            cache.put(keys[i], {"translation": results[i], "model": engine.model, "version": engine.version})
            timings.append(per_sentence)
        model, version = engine.model, engine.version
    texts: dict[int, list[str]] = {}
    expected = applied = 0
    for sentence, translation in zip(sentences, results, strict=True):
        assert translation is not None
        for index, share in distribute(translation, sentence.parts):
            texts.setdefault(index, []).append(share)
        wanted = Counter(expected_renderings(sentence.text, glossary, target))
        expected += sum(wanted.values())
        applied += sum(min(needed, translation.count(rendering)) for rendering, needed in wanted.items())
    segments = [seg.model_copy(update={"text": " ".join(t for t in texts.get(i, []) if t).strip(), "words": []})
                for i, seg in enumerate(source.segments)]
    translated = source.model_copy(update={"language": target, "language_probability": None,
                                           "segments": [seg for seg in segments if seg.text]})
    details = {"engine": engine_name, "model": model or "(all from cache)", "version": version, "sentences": len(sentences),
               "engine_calls": len(missing), "cache_hits": len(sentences) - len(missing),
               "seconds_per_sentence": round(sum(timings) / len(timings), 4) if timings else 0.0,
               "glossary": {"expected": expected, "applied": applied, "rate": round(applied / expected, 4) if expected else None}}
    return translated, details
