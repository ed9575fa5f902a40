"""How a hallucinated segment is recognised: loops, text outside speech, known phrases, weak decodes.

Phrase lists are per language: what Whisper invents on silence or music differs by language, and
an English pattern says nothing about Hindi. A segment is never dropped merely for being short.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from cpwhisperx.scripts import CODE_MIXED_PROMPTS, STEERING_PROMPTS
from cpwhisperx.transcript import Segment

# Phrases that are never dialogue in a film: credits of subtitle sites, channel promotion.
SIGNATURE_PHRASES: dict[str, tuple[str, ...]] = {
    "*": ("amara.org", "www.", ".com", "subtitles by", "captions by", "transcribed by"),
    "en": ("please subscribe", "subscribe to my channel", "like and subscribe", "thanks for watching",
           "thank you for watching", "see you in the next video", "don't forget to subscribe"),
    "hi": ("सब्सक्राइब", "चैनल को सब्सक्राइब", "लाइक और शेयर", "देखने के लिए धन्यवाद", "हमारे चैनल",
           "سبسکرائب", "چینل کو سبسکرائب", "دیکھنے کا شکریہ"),
    "ur": ("سبسکرائب", "چینل کو سبسکرائب", "دیکھنے کا شکریہ"),
    "es": ("suscríbete", "gracias por ver", "subtítulos realizados por"),
    "pt": ("inscreva-se", "obrigado por assistir", "legendas pela comunidade"),
    "fr": ("abonnez-vous", "sous-titres réalisés par", "merci d'avoir regardé"),
    "de": ("untertitel im auftrag", "untertitel von", "danke fürs zuschauen"),
}
# Phrases that are real words but also what Whisper says over silence or music: dropped only when the
# decode itself shows weak evidence of speech.
SUSPECT_PHRASES: dict[str, tuple[str, ...]] = {
    "en": ("thank you", "thank you.", "thanks", "bye", "bye bye", "you", "okay", "music"),
    "hi": ("धन्यवाद", "शुक्रिया", "नमस्कार", "संगीत", "شکریہ", "موسیقی"),
    "ur": ("شکریہ", "موسیقی"),
    "es": ("gracias", "música"),
    "pt": ("obrigado", "obrigada", "música"),
}
PROMPT_ECHO_SIMILARITY = 0.75
_PUNCT = re.compile(r"[^\w\s.']", re.UNICODE)


@dataclass(frozen=True)
class Thresholds:
    min_speech_overlap: float
    max_repeats: int
    compression_ratio: float
    log_prob: float
    no_speech: float


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P") or ch in ".'")
    return re.sub(r"\s+", " ", _PUNCT.sub(" ", text)).strip(" .")


def repetition_loop(text: str, max_repeats: int) -> str | None:
    """An n-gram (n ≤ 4) repeated back to back: a single word needs twice as many repeats."""
    words = normalise(text).replace(".", " ").split()
    for n in range(1, 5):
        needed = max_repeats * 2 if n == 1 else max_repeats
        for start in range(0, max(len(words) - n * needed + 1, 0)):
            gram = words[start:start + n]
            count = 1
            while words[start + count * n:start + (count + 1) * n] == gram:
                count += 1
            if count >= needed:
                return f"repetition loop: '{' '.join(gram)}' ×{count}"
    return None


def speech_overlap(segment: Segment, regions: list[tuple[float, float]]) -> float:
    length = segment.end - segment.start
    if length <= 0:
        inside = any(lo <= segment.start <= hi for lo, hi in regions)
        return 1.0 if inside else 0.0
    covered = sum(max(0.0, min(hi, segment.end) - max(lo, segment.start)) for lo, hi in regions)
    return covered / length


def _phrases(table: dict[str, tuple[str, ...]], language: str) -> tuple[str, ...]:
    return table.get("*", ()) + table.get(language, ())


def known_phrase(segment: Segment, language: str, weak: bool) -> str | None:
    text = normalise(segment.text)
    for phrase in _phrases(SIGNATURE_PHRASES, language):
        if normalise(phrase) in text or phrase in segment.text.lower():
            return f"known hallucination phrase for '{language}': '{phrase}'"
    if weak and text in {normalise(p) for p in _phrases(SUSPECT_PHRASES, language)}:
        return f"phrase Whisper invents on non-speech for '{language}' ('{segment.text.strip()}'), with weak speech evidence"
    return None


def prompt_echo(segment: Segment, language: str, weak: bool) -> str | None:
    """Over noise, base repeats the script steering prompt it was given (on Hindi white noise:
    "आज की मुख्य ख़बरें प्रकार है।"). A news reader may say the same words, so only an echo with
    weak speech evidence is dropped."""
    if not weak:
        return None
    text = normalise(segment.text)
    for prompt in filter(None, (STEERING_PROMPTS.get(language), CODE_MIXED_PROMPTS.get(language))):
        for sentence in re.split(r"[।.]", prompt):
            if len(text) >= 4 and difflib.SequenceMatcher(None, text, normalise(sentence)).ratio() >= PROMPT_ECHO_SIMILARITY:
                return f"echo of the script steering prompt ('{sentence.strip()}'), with weak speech evidence"
    return None


def weak_evidence(segment: Segment, overlap: float | None) -> bool:
    """Signs that the decoder was not hearing a clear voice."""
    return ((segment.no_speech_prob or 0.0) >= 0.3 or (segment.avg_logprob or 0.0) < -0.8
            or (overlap is not None and overlap < 0.5))


def unsure_over_music(segment: Segment) -> bool:
    """Over music the no-speech probability is high even for a sung voice; only an unsure decode
    (low log-probability, unsure words) marks text the model made up."""
    logprob = segment.avg_logprob if segment.avg_logprob is not None else 0.0
    word_probability = sum(w.probability for w in segment.words) / len(segment.words) if segment.words else 1.0
    return logprob < -0.7 or word_probability < 0.5 or ((segment.no_speech_prob or 0.0) >= 0.5 and logprob < -0.4)


def _repeat_runs(segments: list[Segment]) -> dict[int, int]:
    """Segment id → the length of the run of identical texts it repeats; the first of a run is not
    in the map, so it is kept while every copy after it goes."""
    runs: dict[int, int] = {}
    start = 0
    texts = [normalise(seg.text) for seg in segments]
    for end in range(1, len(segments) + 1):
        if end == len(segments) or not texts[end] or texts[end] != texts[start]:
            for seg in segments[start + 1:end]:
                runs[seg.id] = end - start
            start = end
    return runs


def judge(segments: list[Segment], language: str, regions: list[tuple[float, float]] | None, t: Thresholds,
          music_shares: dict[int, float] | None = None) -> dict[int, str]:
    """Segment id → why it is a hallucination, for every segment that is one.

    `music_shares` (segment id → share of its span that is music or noise) lets text decoded over
    music be dropped when the decode itself shows weak evidence of a voice.
    """
    verdicts: dict[int, str] = {}
    repeats = _repeat_runs(segments)
    for seg in segments:
        text = normalise(seg.text)
        run_length = repeats.get(seg.id, 0)
        overlap = speech_overlap(seg, regions) if regions is not None else None
        reason = None
        if not text:
            reason = "empty text"
        elif overlap is not None and overlap < t.min_speech_overlap:
            reason = f"outside detected speech ({overlap:.0%} of its span overlaps speech)"
        elif seg.compression_ratio is not None and seg.compression_ratio > t.compression_ratio:
            reason = f"compression ratio {seg.compression_ratio:.2f} > {t.compression_ratio}"
        elif (seg.no_speech_prob is not None and seg.avg_logprob is not None
              and seg.no_speech_prob > t.no_speech and seg.avg_logprob < t.log_prob):
            reason = f"no-speech probability {seg.no_speech_prob:.2f} > {t.no_speech} with average log-probability {seg.avg_logprob:.2f} < {t.log_prob}"
        elif music_shares and music_shares.get(seg.id, 0.0) >= 0.5 and unsure_over_music(seg):
            reason = f"music or noise over {music_shares[seg.id]:.0%} of its span, and an unsure decode"
        elif run_length >= t.max_repeats:
            reason = f"repetition loop: the same text {run_length} segments in a row (the first is kept)"
        else:
            weak = weak_evidence(seg, overlap)
            reason = repetition_loop(seg.text, t.max_repeats) or known_phrase(seg, language, weak) or prompt_echo(seg, language, weak)
        if reason:
            verdicts[seg.id] = reason
    return verdicts
