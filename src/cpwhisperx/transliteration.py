"""Script conversion: repairing text written in the wrong script, and the casual romanisation
Hinglish readers use. Between Indic scripts and to Latin it goes through aksharamukha; Hindustani
in Urdu letters is read into Devanagari by `hindustani`, which knows Hindi words.

Conversion works word by word, so only the words in a foreign script change and the spacing, the
punctuation and the words already in the right script stay as they were.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from functools import lru_cache

import regex

from cpwhisperx import hindustani
from cpwhisperx.scripts import expected_script, script_of

log = logging.getLogger("cpwhisperx.transliteration")

# aksharamukha's name for the script a language is written in, where it differs from ours.
_LANGUAGE_SCRIPT = {"as": "Assamese", "ur": "Urdu", "sd": "Urdu", "ks": "Urdu"}
_AKSHARAMUKHA = {"Devanagari": "Devanagari", "Bengali": "Bengali", "Gurmukhi": "Gurmukhi", "Gujarati": "Gujarati",
                 "Oriya": "Oriya", "Tamil": "Tamil", "Telugu": "Telugu", "Kannada": "Kannada",
                 "Malayalam": "Malayalam", "Sinhala": "Sinhala", "Arabic": "Urdu"}
_URDU_PUNCTUATION = str.maketrans({"۔": "।", "،": ",", "؟": "?", "؛": ";"})
# Casual Hinglish spellings of words a rule-based romanisation gets stiff.
_HINGLISH_WORDS = {"में": "mein", "हैं": "hain", "नहीं": "nahin", "मैं": "main", "हूँ": "hoon", "हूं": "hoon", "क्यों": "kyon"}
_ANNOTATIONS = str.maketrans("", "", "_ˀʼ¹²³⁴")
_WORD = regex.compile(r"\S+")
_ARABIC_LETTERS = regex.compile(r"[\p{Arabic}&&[\p{L}\p{M}]]+", regex.V1)
# A run of letters (with their marks) in one script; Arabic runs take their own punctuation (۔ ، ؟).
_SCRIPT_RUN = regex.compile(r"\p{Latin}+|\p{Arabic}+|\p{Devanagari}+|\p{Bengali}+|\p{Gurmukhi}+|\p{Gujarati}+|"
                            r"\p{Oriya}+|\p{Tamil}+|\p{Telugu}+|\p{Kannada}+|\p{Malayalam}+|\p{Sinhala}+")
_AFFIXES = regex.compile(r"([^\p{L}\p{M}]*)(.*?)([^\p{L}\p{M}]*)")


def _dominant_script(word: str) -> str | None:
    scripts = Counter(script_of(ch) for ch in word if unicodedata.category(ch).startswith("L"))
    scripts.pop(None, None)
    return scripts.most_common(1)[0][0] if scripts else None


@lru_cache(maxsize=4096)
def _convert(source: str, target: str, text: str, pre: tuple[str, ...] = (), post: tuple[str, ...] = ()) -> str:
    from aksharamukha import transliterate

    out = transliterate.process(source, target, text, nativize=True, pre_options=list(pre), post_options=list(post))
    # aksharamukha's marks for sounds the target script lacks (Tamil's superscript numbers, hamza
    # placeholders) are noise in a transcript.
    return out.translate(_ANNOTATIONS)


def target_script_name(language: str) -> str | None:
    return _LANGUAGE_SCRIPT.get(language) or _AKSHARAMUKHA.get(expected_script(language) or "")


def _word_to_devanagari(word: str, script: str) -> str:
    if script == "Arabic":
        return _ARABIC_LETTERS.sub(lambda m: hindustani.to_devanagari(m.group()), word.translate(_URDU_PUNCTUATION))
    if script == "Latin":
        # Velthuis reads casual romanisation best (aa, ii, sh, kh); a final virama is the silent schwa.
        out = _convert("Velthuis", "Devanagari", word.lower().replace("c", "k").replace("w", "v"))
        return regex.sub(r"्(?=\P{L}*$)", "", out)
    return _convert(_AKSHARAMUKHA[script], "Devanagari", word)


def to_expected_script(text: str, language: str, keep: frozenset[str] = frozenset()) -> str:
    """Rewrites every run of letters in another script into the language's own script, whether it
    is a whole word or a few letters inside one (बóleच); runs in the scripts of `keep` (e.g. Latin for
    English words in Hinglish) stay."""
    target = target_script_name(language)
    expected = expected_script(language)
    if target is None or expected is None:
        return text

    def convert(match: regex.Match[str]) -> str:
        run = match.group()
        script = _dominant_script(run)
        if script is None or script == expected or script in keep:
            return run
        if script == "Latin":
            run = "".join(ch for ch in unicodedata.normalize("NFKD", run) if not unicodedata.combining(ch))
        devanagari = run if script == "Devanagari" else _word_to_devanagari(run, script)
        if target == "Devanagari":
            return devanagari
        return _convert("Devanagari", target, devanagari, post=("UrduRemoveShortVowels",) if target == "Urdu" else ())

    return unicodedata.normalize("NFC", _SCRIPT_RUN.sub(convert, unicodedata.normalize("NFC", text)))


def romanise(text: str, language: str) -> str:
    """Casual romanisation (नमस्ते → namaste): schwa deletion for Hindi, no diacritics."""
    source = target_script_name(language)
    expected = expected_script(language)
    if source is None or expected is None or expected == "Latin":
        return text
    pre = ("RemoveSchwaHindi",) if language == "hi" else ()

    def convert(match: regex.Match[str]) -> str:
        word = match.group()
        if _dominant_script(word) != expected:
            return word
        lead, core, trail = _AFFIXES.fullmatch(word).groups()  # type: ignore[union-attr]
        trail = trail.replace("।", ".").replace("॥", ".")
        if language == "hi" and core in _HINGLISH_WORDS:
            return lead + _HINGLISH_WORDS[core] + trail
        # A final nasal mark is an n to Hinglish readers (हैं → hain), not aksharamukha's m.
        nasal = core[-1:] in ("ं", "ँ")
        roman = _convert(source, "RomanColloquial", core[:-1] if nasal else core, pre)
        return lead + roman + ("n" if nasal else "") + trail

    return _WORD.sub(convert, unicodedata.normalize("NFC", text))
