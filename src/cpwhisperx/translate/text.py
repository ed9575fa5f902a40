"""Translating a transcript with a text engine: sentences, glossary protection, the cache."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from cpwhisperx.cache import ResultCache, cache_key
from cpwhisperx.glossary import Glossary, expected_renderings, protect, restore
from cpwhisperx.progress import ProgressReporter
from cpwhisperx.scripts import join_text
from cpwhisperx.transcript import Transcript
from cpwhisperx.translate import TextEngine
from cpwhisperx.translate.memory import TranslationMemory
from cpwhisperx.translate.sentences import build_sentences, distribute


# Sentences per engine call: small enough for the progress to move, large enough that a
# per-call cost (a process start for Apertium) stays small.
SENTENCES_PER_CALL = 64


def translate_transcript(source: Transcript, target: str, engine_name: str, engine_factory: Callable[[], TextEngine],
                         glossary: Glossary, cache: ResultCache, identity: str,
                         progress: ProgressReporter | None = None,
                         memory: TranslationMemory | None = None,
                         corrections: Mapping[str, str] | None = None) -> tuple[Transcript, dict[str, Any]]:
    """The transcript in `target`: sentence units, glossary terms protected, cached per sentence.

    A sentence the translation memory holds an approved translation of is taken from there as it
    is: no cache, no engine, no glossary (the reviewer's text already says what it should).

    `identity` names the exact model (see `model_identity`), so the cache never answers for another
    one. The engine is created only when some sentence is not in the cache. A sentence's
    translation is shared among its segments while its glossary terms are still placeholders, so
    a rendering of several words is never split between two cues.
    """
    sentences = build_sentences(source.segments, source.language)
    # A sentence a reviewer corrected in this job is translated as corrected.
    wordings = [(corrections or {}).get(sentence.text, sentence.text) for sentence in sentences]
    protected = [protect(wording, glossary, target) for wording in wordings]
    raw: list[str | None] = []
    keys = [cache_key(wording, source.language, target, engine_name, identity, renderings)
            for (_, renderings), wording in zip(protected, wordings, strict=True)]
    used: list[dict[str, Any]] = []
    approved = 0
    for key, sentence, wording in zip(keys, sentences, wordings, strict=True):
        # An approved translation is of the sentence as recognised: one corrected in this job is translated anew.
        reviewed = memory.lookup(sentence.text, source.language, target) if memory is not None and wording == sentence.text else None
        if reviewed is not None:
            raw.append(reviewed)
            approved += 1
            continue
        hit = cache.get(key)
        raw.append(hit["raw"] if isinstance(hit, dict) and isinstance(hit.get("raw"), str) else None)
        if raw[-1] is not None:
            used.append(hit)
    if approved:
        used.append({"model": "translation memory", "version": "approved"})
    missing = [i for i, r in enumerate(raw) if r is None]
    engine_seconds = 0.0
    if progress is not None:
        progress.set_total(len(missing))
    if missing:
        engine = engine_factory()
        started = time.perf_counter()
        for first in range(0, len(missing), SENTENCES_PER_CALL):
            batch = missing[first:first + SENTENCES_PER_CALL]
            fresh = engine.translate([protected[i][0] for i in batch], source.language, target)
            for i, text in zip(batch, fresh, strict=True):
                raw[i] = text
                cache.put(keys[i], {"raw": text, "model": engine.model, "version": engine.version})
            if progress is not None:
                progress.advance(len(batch))
        engine_seconds = time.perf_counter() - started
        used.append({"model": engine.model, "version": engine.version})
    texts: dict[int, list[str]] = {}
    pairs = []
    for sentence, wording, text, (_, renderings) in zip(sentences, wordings, raw, protected, strict=True):
        assert text is not None
        for index, share in distribute(text, sentence.parts):
            texts.setdefault(index, []).append(restore(share, renderings))
        pairs.append((wording, restore(text, renderings)))
    segments = [seg.model_copy(update={"text": join_text(texts.get(i, []), target), "words": []})
                for i, seg in enumerate(source.segments)]
    translated = source.model_copy(update={"language": target, "language_probability": None,
                                           "segments": [seg for seg in segments if seg.text]})
    details = {"engine": engine_name, "model": _joined(used, "model"), "version": _joined(used, "version"), "identity": identity,
               "sentences": len(sentences), "segments": len(source.segments), "engine_calls": len(missing),
               "cache_hits": len(sentences) - len(missing) - approved, "memory_used": approved,
               "corrected_sentences": sum(w != sentence.text for w, sentence in zip(wordings, sentences, strict=True)),
               # the engine translates a batch at a time: per sentence and per segment are averages over it
               "timing": {"engine_seconds": round(engine_seconds, 4),
                          "per_sentence": round(engine_seconds / len(missing), 4) if missing else 0.0,
                          "per_segment": round(engine_seconds / len(source.segments), 4) if source.segments and missing else 0.0},
               "glossary": glossary_application(pairs, glossary, target)}
    return translated, details


def glossary_application(pairs: list[tuple[str, str]], glossary: Glossary, target: str) -> dict[str, Any]:
    """How many glossary renderings the translations should hold (one per term occurrence in the
    source) and how many they do."""
    expected = applied = 0
    for source_text, translation in pairs:
        wanted = Counter(expected_renderings(source_text, glossary, target))
        expected += sum(wanted.values())
        applied += sum(min(needed, translation.count(rendering)) for rendering, needed in wanted.items())
    return {"expected": expected, "applied": applied, "rate": round(applied / expected, 4) if expected else None}


def _joined(entries: list[dict[str, Any]], field: str) -> str:
    return ", ".join(dict.fromkeys(str(e.get(field, "")) for e in entries if e.get(field))) or "unknown"
