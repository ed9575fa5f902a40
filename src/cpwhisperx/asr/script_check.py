"""Per-segment script check and repair.

A segment whose letters are not mostly in its language's script is decoded again with only that
script's tokens allowed; what still fails (or cannot be decoded again) is transliterated, and so
are stray letters of another script in a segment that is otherwise right. Every repair is returned
for the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cpwhisperx.scripts import EXPECTED_SCRIPT, letter_scripts
from cpwhisperx.transcript import Segment, Transcript, Word
from cpwhisperx.transliteration import target_script_name, to_expected_script


@dataclass(frozen=True)
class ScriptPolicy:
    expected: str
    min_share: float
    # Hinglish: English words may stay in Latin letters inside a segment in the native script.
    latin_words: bool = False

    @classmethod
    def for_language(cls, language: str, min_share: float, latin_words: bool) -> ScriptPolicy | None:
        expected = EXPECTED_SCRIPT.get(language)
        if expected is None or target_script_name(language) is None:
            return None
        return cls(expected, min_share, latin_words and expected != "Latin")

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset({self.expected, "Latin"} if self.latin_words else {self.expected})

    @property
    def kept(self) -> frozenset[str]:
        return frozenset({"Latin"}) if self.latin_words else frozenset()

    def share(self, text: str) -> float | None:
        """Share of letters in an acceptable script; Latin counts only as a minority among native
        letters (English words in a Hindi sentence, not a sentence of romanised Hindi)."""
        counts = letter_scripts(text)
        total = sum(counts.values())
        if not total:
            return None
        good = counts[self.expected]
        if self.latin_words and counts["Latin"] < total / 2:
            good += counts["Latin"]
        return good / total

    def needs_repair(self, text: str) -> bool:
        share = self.share(text)
        return share is not None and share < self.min_share


def transliterate_segment(segment: Segment, language: str, policy: ScriptPolicy) -> Segment:
    words = [w.model_copy(update={"text": to_expected_script(w.text, language, policy.kept)}) for w in segment.words]
    return segment.model_copy(update={"text": to_expected_script(segment.text, language, policy.kept), "words": words})


def repair_segments(
    transcript: Transcript,
    policy_for: Callable[[str], ScriptPolicy | None],
    redecode: Callable[[Segment, str, ScriptPolicy], Segment | None] | None,
) -> tuple[Transcript, list[dict[str, object]]]:
    segments: list[Segment] = []
    repairs: list[dict[str, object]] = []
    for segment in transcript.segments:
        language = segment.language or transcript.language
        policy = policy_for(language)
        share = policy.share(segment.text) if policy else None
        if policy is None or share is None or share >= 1.0:
            segments.append(segment)
            continue
        record: dict[str, object] = {"segment": segment.id, "start": segment.start, "end": segment.end, "language": language,
                                     "before": segment.text, "share_before": _rounded(share)}
        # Mostly right: only the stray letters are transliterated; mostly wrong: decoded again first.
        repaired = redecode(segment, language, policy) if redecode and policy.needs_repair(segment.text) else None
        if repaired is not None and repaired.text.strip() and not policy.needs_repair(repaired.text):
            record["method"] = "redecode"
            if (policy.share(repaired.text) or 1.0) < 1.0:
                repaired = transliterate_segment(repaired, language, policy)
        else:
            record["method"] = "transliterate"
            if repaired is not None and repaired.text.strip():
                record["redecoded"] = repaired.text
            repaired = transliterate_segment(segment, language, policy)
        record.update({"after": repaired.text, "share_after": _rounded(policy.share(repaired.text))})
        repairs.append(record)
        segments.append(repaired)
    return transcript.model_copy(update={"segments": segments}), repairs


def shift_words(words: list[Word], offset: float) -> list[Word]:
    return [w.model_copy(update={"start": round(w.start + offset, 3), "end": round(w.end + offset, 3)}) for w in words]


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
