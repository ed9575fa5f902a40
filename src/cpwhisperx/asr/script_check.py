"""Per-segment script check and repair.

A segment in a script that converts faithfully into its language's script (another Indic script;
Urdu letters for Hindi, which is the same spoken language) is transliterated. A segment in any
other script (Latin above all, which may be an English translation rather than the words said) is
decoded again with only the right script's tokens allowed, and transliterated when that still
fails. Stray letters of another script in a segment that is otherwise right are transliterated.
Every repair is returned for the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cpwhisperx.scripts import expected_script, INDIC_SCRIPTS, letter_scripts
from cpwhisperx.transcript import Segment, Transcript, Word
from cpwhisperx.transliteration import target_script_name, to_expected_script


# Hindi and Urdu: one spoken language in two scripts.
HINDUSTANI = frozenset({"hi", "ur"})


@dataclass(frozen=True)
class ScriptPolicy:
    language: str
    expected: str
    min_share: float
    # Hinglish: English words may stay in Latin letters inside a segment in the native script.
    latin_words: bool = False

    @classmethod
    def for_language(cls, language: str, min_share: float, latin_words: bool) -> ScriptPolicy | None:
        expected = expected_script(language)
        if expected is None or target_script_name(language) is None:
            return None
        return cls(language, expected, min_share, latin_words and expected != "Latin")

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

    def converts_faithfully(self, text: str) -> bool:
        """The letters not in the expected script are in scripts that transliterate into it without
        changing the words: Indic scripts among themselves, Urdu and Devanagari for Hindustani."""
        faithful = INDIC_SCRIPTS | {"Arabic"} if self.language in HINDUSTANI else INDIC_SCRIPTS
        wrong = {script for script in letter_scripts(text) if script != self.expected and script not in self.kept}
        return self.expected in faithful and wrong <= faithful


def transliterate_segment(segment: Segment, language: str, policy: ScriptPolicy) -> Segment:
    words = [w.model_copy(update={"text": to_expected_script(w.text, language, policy.kept)}) for w in segment.words]
    return segment.model_copy(update={"text": to_expected_script(segment.text, language, policy.kept), "words": words})


def repair_segments(
    transcript: Transcript,
    policy_for: Callable[[str], ScriptPolicy | None],
    redecode: Callable[[Segment, str, ScriptPolicy], Segment | None] | None,
    progress: Callable[[int], None] = lambda _: None,
) -> tuple[Transcript, list[dict[str, object]]]:
    """`progress` gets the number of segments checked so far."""
    segments: list[Segment] = []
    repairs: list[dict[str, object]] = []
    for segment in transcript.segments:
        progress(len(segments))
        language = segment.language or transcript.language
        policy = policy_for(language)
        share = policy.share(segment.text) if policy else None
        if policy is None or share is None or share >= 1.0:
            segments.append(segment)
            continue
        record: dict[str, object] = {"segment": segment.id, "start": segment.start, "end": segment.end, "language": language,
                                     "before": segment.text, "share_before": _rounded(share)}
        # Mostly right, or in a script that converts faithfully: transliterated. Otherwise decoded
        # again first; a new decode is kept when it is right or converts faithfully.
        repaired, record["method"] = segment, "transliterate"
        if redecode and policy.needs_repair(segment.text) and not policy.converts_faithfully(segment.text):
            redecoded = redecode(segment, language, policy)
            if redecoded is not None and redecoded.text.strip():
                if not policy.needs_repair(redecoded.text) or policy.converts_faithfully(redecoded.text):
                    repaired, record["method"] = redecoded, "redecode"
                else:
                    record["redecoded"] = redecoded.text
        if (policy.share(repaired.text) or 0.0) < 1.0:
            repaired = transliterate_segment(repaired, language, policy)
        record.update({"after": repaired.text, "share_after": _rounded(policy.share(repaired.text))})
        repairs.append(record)
        segments.append(repaired)
    progress(len(segments))
    return transcript.model_copy(update={"segments": segments}), repairs


def shift_words(words: list[Word], offset: float) -> list[Word]:
    return [w.model_copy(update={"start": round(w.start + offset, 3), "end": round(w.end + offset, 3)}) for w in words]


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
