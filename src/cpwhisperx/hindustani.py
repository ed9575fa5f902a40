"""Hindustani written in Urdu letters, read back into Devanagari.

Spoken Hindi and Urdu are one language, and Whisper's small models write Hindi speech far better
in Urdu letters than in Devanagari. Urdu spelling leaves short vowels out, so a letter-by-letter
conversion guesses them; a Hindi lexicon guesses much better. Every word of the wordfreq Hindi
list is written in Urdu letters once (short vowels removed, as Urdu writes them), and an Urdu word
is read as the most frequent Hindi word spelt that way. Words not in the lexicon go through
letter rules that know Urdu's vowel letters: و is व at the start of a word and ो after a consonant,
ی is य, ी or िय, a final ہ after a consonant is ा, ں nasalises.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache

import regex

log = logging.getLogger("cpwhisperx.hindustani")

LEXICON_SIZE = 100_000
# Spellings a lexicon built by frequency gets wrong: Urdu writes the conjunction कि as کہ, and a few
# pronoun forms differ from their Hindi spelling.
_WORDS = {
    "کہ": "कि", "یہ": "यह", "وہ": "वह", "بعد": "बाद", "کیونکہ": "क्योंकि", "انہوں": "उन्हों", "انہیں": "उन्हें",
    "انھیں": "उन्हें", "انھوں": "उन्हों", "جنہوں": "जिन्हों", "جنہیں": "जिन्हें", "ہوں": "हूँ", "لئے": "लिए", "لیے": "लिए",
}
_CONSONANTS = {
    "ب": "ब", "پ": "प", "ت": "त", "ٹ": "ट", "ث": "स", "ج": "ज", "چ": "च", "ح": "ह", "خ": "ख़", "د": "द", "ڈ": "ड",
    "ذ": "ज़", "ر": "र", "ڑ": "ड़", "ز": "ज़", "ژ": "ज़", "س": "स", "ش": "श", "ص": "स", "ض": "ज़", "ط": "त", "ظ": "ज़",
    "غ": "ग़", "ف": "फ़", "ق": "क़", "ک": "क", "گ": "ग", "ل": "ल", "م": "म", "ن": "न", "ہ": "ह", "ھ": "ह",
}
# A consonant followed by ھ (do-chashmi he) is aspirated.
_ASPIRATED = {"ب": "भ", "پ": "फ", "ت": "थ", "ٹ": "ठ", "ج": "झ", "چ": "छ", "د": "ध", "ڈ": "ढ", "ک": "ख", "گ": "घ", "ڑ": "ढ़"}
# Arabic code points Whisper sometimes writes for their Urdu look-alikes.
_VARIANTS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ە": "ہ", "ۃ": "ہ", "ۂ": "ہ", "ۓ": "ے", "أ": "ا", "إ": "ا",
                           "ٱ": "ا", "ؤ": "و", "\u200c": None, "\u200d": None})
_SHORT_VOWELS = {"\u0650": "ि", "\u064f": "ु"}  # zer, pesh; zabar is the inherent vowel
_DIACRITICS = regex.compile("[\u064b-\u065f\u0670\u06e1]")


def _one_form(word: str) -> str:
    return unicodedata.normalize("NFC", word).translate(_VARIANTS)


def spelling_key(word: str) -> str:
    """The word as Urdu spells it without vowel marks, in one form per letter."""
    return _DIACRITICS.sub("", _one_form(word))


@lru_cache(maxsize=1)
def lexicon() -> dict[str, str]:
    """Urdu spelling → the most frequent Hindi word with that spelling."""
    import wordfreq
    from aksharamukha import transliterate

    words = [w for w in wordfreq.top_n_list("hi", LEXICON_SIZE) if all("\u0900" <= ch <= "\u097f" for ch in w)]
    # One call for the whole list: aksharamukha's start-up cost dominates a per-word call.
    urdu = transliterate.process("Devanagari", "Urdu", "\n".join(words), nativize=True,
                                 post_options=["UrduRemoveShortVowels"]).split("\n")
    index: dict[str, str] = {}
    for hindi, spelt in zip(words, urdu, strict=True):
        index.setdefault(spelling_key(spelt), hindi)
    log.debug("Hindustani lexicon: %d Urdu spellings of %d Hindi words", len(index), len(words))
    return index


def to_devanagari(word: str) -> str:
    """One word (letters only, no punctuation) in Urdu letters, in Devanagari."""
    key = spelling_key(word)
    # the letter rules keep the vowel marks (zer, pesh, shadda) where Whisper wrote them
    return _WORDS.get(key) or lexicon().get(key) or _by_letters(_one_form(word))


def _by_letters(word: str) -> str:
    out: list[tuple[str, str]] = []  # (kind, text): "c" consonant, "v" vowel, "n" nasal, "x" other

    def after_consonant() -> bool:
        return bool(out) and out[-1][0] == "c"

    i, n = 0, len(word)
    while i < n:
        ch, following = word[i], word[i + 1] if i + 1 < n else ""
        final = i + 1 == n or (i + 2 == n and following == "ں")
        if ch in _SHORT_VOWELS:
            if after_consonant():
                out.append(("v", _SHORT_VOWELS[ch]))
        elif ch == "\u0651" and after_consonant():  # shadda doubles the consonant
            out.append(("c", "्" + out[-1][1]))
        elif ch in _ASPIRATED and following == "ھ":
            out.append(("c", _ASPIRATED[ch]))
            i += 1
        elif ch == "آ":
            out.append(("v", "आ"))
        elif ch == "ا":
            if after_consonant():
                out.append(("v", "ा"))
            elif not out and following not in ("و", "ی", "ے"):
                out.append(("v", "अ"))
            elif out:
                out.append(("v", "आ"))
            else:
                out.append(("x", ""))  # only carries the vowel letter after it
        elif ch == "ع":
            if not out:
                out.append(("v", "" if following in ("ا", "و", "ی") else "अ"))
        elif ch in ("ء", "ئ"):
            glide = {"ی": "ई", "ے": "ए", "و": "ओ"}.get(following)
            out.append(("v", glide or "इ"))
            i += 1 if glide else 0
        elif ch == "و":
            if not out or (after_consonant() and following == "ا"):
                out.append(("c", "व"))
            elif after_consonant():
                out.append(("v", "ो"))
            else:
                out.append(("v", "ओ") if final or out[-1][0] == "x" else ("c", "व"))
        elif ch in ("ی", "ے"):
            if not out:
                out.append(("c", "य"))
            elif ch == "ی" and after_consonant() and following == "ا":
                out.extend([("v", "ि"), ("c", "य")])
            elif after_consonant():
                out.append(("v", "े" if ch == "ے" else "ी"))
            elif out[-1][0] == "x":
                out.append(("v", "ए" if ch == "ے" or not final else "ई"))
            else:
                out.append(("v", "ए") if ch == "ے" else (("v", "ई") if final else ("c", "य")))
        elif ch == "ں":
            out.append(("n", "ं"))
        elif ch == "ہ" and final and after_consonant():
            out.append(("v", "ा"))
        elif ch in _CONSONANTS:
            out.append(("c", _CONSONANTS[ch]))
        else:
            out.append(("x", ch))
        i += 1
    return unicodedata.normalize("NFC", "".join(text for _, text in out))
