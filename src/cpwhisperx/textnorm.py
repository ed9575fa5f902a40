"""Normalisation of transcript text, applied once in the ASR stage so that the transcript, the
subtitles and the translation input all read the same.

- Unicode NFC, which also gives every nukta letter one form (क़ is क + ◌़ after NFC).
- The danda: languages that end sentences with । get it in place of the "." or "|" Whisper writes,
  ॥ for a double one, and no space before closing punctuation.
- Numbers: `digits` writes numbers in ASCII digits (native digits such as ४२ become 42); `words`
  spells them out in the language (42 → बयालीस).
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Literal

import regex

from cpwhisperx.transcript import Transcript

log = logging.getLogger("cpwhisperx.textnorm")

NumberStyle = Literal["digits", "words"]
DANDA_LANGUAGES = frozenset({"hi", "ne", "sa", "bn", "as", "pa", "or", "mai", "bho"})
# ISO 639-1 → the three-letter codes indic-numtowords uses.
_INDIC_NUMBER_LANGUAGES = {
    "hi": "hi", "bn": "bn", "gu": "gu", "ta": "ta", "te": "te", "kn": "kn", "mr": "mr", "pa": "pa", "ml": "ml",
    "or": "or", "as": "as", "ne": "ne", "ur": "ur", "sa": "sa",
}
_SENTENCE_DOT = regex.compile(r"(?<=[\p{L}\p{M}])\s*(?:\.|\|)(?!\d)(?=\s|$|[\"'”’)])")
_DOUBLE_DANDA = regex.compile(r"।\s*।|\|\|")
_SPACE_BEFORE_CLOSING = regex.compile(r"\s+(?=[।॥,?!;:])")
_NUMBER = regex.compile(r"(?<![\p{L}\p{M}\d])\d+(?:,\d+)*(?:\.\d+)?(?![\p{L}\p{M}\d])")


def native_digits_to_ascii(text: str) -> str:
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() and unicodedata.digit(ch, None) is not None
                   else ch for ch in text)


def number_to_words(number: str, language: str) -> str | None:
    """Spells out an integer written in ASCII digits; None where the language has no speller."""
    digits = number.replace(",", "")
    if not digits.isdigit():
        return None
    value = int(digits)
    if language in _INDIC_NUMBER_LANGUAGES:
        from indic_numtowords import num2words as indic_num2words

        return str(indic_num2words(value, lang=_INDIC_NUMBER_LANGUAGES[language]))
    from num2words import num2words

    try:
        return str(num2words(value, lang=language))
    except NotImplementedError:
        return None


def normalise(text: str, language: str, numbers: NumberStyle = "digits") -> str:
    text = native_digits_to_ascii(unicodedata.normalize("NFC", text))
    if language in DANDA_LANGUAGES:
        text = _DOUBLE_DANDA.sub("॥", text)
        text = _SENTENCE_DOT.sub("।", text)
        text = _SPACE_BEFORE_CLOSING.sub("", text)
    if numbers == "words":
        text = _NUMBER.sub(lambda m: number_to_words(m.group(), language) or m.group(), text)
    return text


def normalise_transcript(transcript: Transcript, numbers: NumberStyle) -> Transcript:
    segments = []
    for segment in transcript.segments:
        language = segment.language or transcript.language
        words = [w.model_copy(update={"text": normalise(w.text, language, numbers)}) for w in segment.words]
        segments.append(segment.model_copy(update={"text": normalise(segment.text, language, numbers).strip(), "words": words}))
    return transcript.model_copy(update={"segments": segments})
