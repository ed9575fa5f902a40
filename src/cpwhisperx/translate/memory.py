"""What reviewers approved: translations and transcript corrections, per sentence, served before any engine.

Keys hold the normalised source sentence and the languages but no engine or model: a reviewer's
translation is right whichever engine would have been asked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpwhisperx.cache import ResultCache, cache_key
from cpwhisperx.stageio import now_iso

TRANSLATIONS = "memory/translations"
TRANSCRIPTS = "memory/transcripts"


def normalise_sentence(text: str) -> str:
    """The form a sentence is looked up by: a changed space or letter case is the same sentence."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


@dataclass(frozen=True)
class Approval:
    source: str
    text: str
    approved_at: str
    job: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "text": self.text, "approved_at": self.approved_at, "job": self.job}


class _SentenceMemory:
    """Approved texts of source sentences in one namespace of the result cache."""

    namespace = ""

    def __init__(self, cache_root: Path, enabled: bool = True) -> None:
        self.store = ResultCache(cache_root, self.namespace, enabled)
        self.used = 0

    def _key(self, sentence: str, *languages: str) -> str:
        return cache_key(normalise_sentence(sentence), *languages)

    def _lookup(self, sentence: str, *languages: str) -> str | None:
        entry: Any = self.store.get(self._key(sentence, *languages))
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry["text"].strip():
            return None
        self.used += 1
        return str(entry["text"])

    def _record(self, sentence: str, text: str, job: str, *languages: str) -> Approval:
        approval = Approval(sentence, text, now_iso(), job)
        self.store.put(self._key(sentence, *languages), {**approval.to_json(), "languages": list(languages)})
        return approval

    @property
    def problems(self) -> list[str]:
        return self.store.problems


class TranslationMemory(_SentenceMemory):
    """Approved translations, by (source sentence, source language, target language)."""

    namespace = TRANSLATIONS

    def lookup(self, sentence: str, source: str, target: str) -> str | None:
        return self._lookup(sentence, source, target)

    def approve(self, sentence: str, source: str, target: str, text: str, job: str) -> Approval:
        return self._record(sentence, text, job, source, target)


class TranscriptMemory(_SentenceMemory):
    """Corrected transcript sentences, by (sentence as recognised, language)."""

    namespace = TRANSCRIPTS

    def lookup(self, sentence: str, language: str) -> str | None:
        return self._lookup(sentence, language)

    def approve(self, sentence: str, language: str, text: str, job: str) -> Approval:
        return self._record(sentence, text, job, language)
