"""Writing systems: which script each language is written in, and how much of a text is in it.

Whisper, the small models above all, often writes Hindi in Urdu or Latin letters even when told
the language. A prompt written in the expected script steers it back; the share of letters in the
expected script measures the result.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from cpwhisperx.languages import canonical_code, get_language

# Unicode blocks of the scripts that matter here (first, last code point).
BLOCKS: dict[str, tuple[tuple[int, int], ...]] = {
    "Devanagari": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "Bengali": ((0x0980, 0x09FF),),
    "Gurmukhi": ((0x0A00, 0x0A7F),),
    "Gujarati": ((0x0A80, 0x0AFF),),
    "Oriya": ((0x0B00, 0x0B7F),),
    "Tamil": ((0x0B80, 0x0BFF),),
    "Telugu": ((0x0C00, 0x0C7F),),
    "Kannada": ((0x0C80, 0x0CFF),),
    "Malayalam": ((0x0D00, 0x0D7F),),
    "Sinhala": ((0x0D80, 0x0DFF),),
    "Arabic": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "Latin": ((0x0041, 0x005A), (0x0061, 0x007A), (0x00C0, 0x024F), (0x1E00, 0x1EFF)),
    "Cyrillic": ((0x0400, 0x04FF),),
    "Greek": ((0x0370, 0x03FF),),
    "Hebrew": ((0x0590, 0x05FF),),
    "Thai": ((0x0E00, 0x0E7F),),
    "Lao": ((0x0E80, 0x0EFF),),
    "Khmer": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "Myanmar": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
    "Han": ((0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
            (0xF900, 0xFAFF), (0x20000, 0x323AF)),
    "Hiragana": ((0x3041, 0x309F),),
    "Katakana": ((0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "Hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)),
}
# Languages written without spaces between words (Whisper codes): their text keeps the spaces
# Whisper wrote and gains none. Thai, Lao, Khmer and Burmese end a phrase or sentence with a space;
# Chinese and Japanese never put one between two of their characters.
UNSPACED_LANGUAGES = frozenset({"ja", "zh", "yue", "th", "lo", "km", "my"})
PHRASE_SPACED_LANGUAGES = frozenset({"th", "lo", "km", "my"})
UNSPACED_SCRIPTS = frozenset({"Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar"})
# The Brahmic scripts of India and Sri Lanka: text converts between them letter for letter.
INDIC_SCRIPTS = frozenset({"Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada",
                           "Malayalam", "Sinhala"})
# ISO 15924 codes of the scripts above (the names are Unicode's script property values).
ISO_15924: dict[str, str] = {
    "Deva": "Devanagari", "Beng": "Bengali", "Guru": "Gurmukhi", "Gujr": "Gujarati", "Orya": "Oriya", "Taml": "Tamil",
    "Telu": "Telugu", "Knda": "Kannada", "Mlym": "Malayalam", "Sinh": "Sinhala", "Arab": "Arabic", "Latn": "Latin",
    "Cyrl": "Cyrillic", "Grek": "Greek", "Hebr": "Hebrew", "Thai": "Thai", "Laoo": "Lao", "Khmr": "Khmer", "Mymr": "Myanmar",
}


@lru_cache(maxsize=512)
def expected_script(language: str) -> str | None:
    """The script a language is written in (CLDR's likely script), among those measured here."""
    code = canonical_code(language)
    return ISO_15924.get(get_language(code).script or "") if code else None


# One natural sentence per language, in its own script ("this is written in <language>"): given to
# Whisper as the preceding text, it makes the decoder continue in that script.
STEERING_PROMPTS: dict[str, str] = {
    "hi": "यह हिंदी में लिखा गया है। आज की मुख्य ख़बरें इस प्रकार हैं।",
    "mr": "हे मराठीत लिहिले आहे.",
    "ne": "यो नेपालीमा लेखिएको छ।",
    "gu": "આ ગુજરાતીમાં લખેલું છે.",
    "pa": "ਇਹ ਪੰਜਾਬੀ ਵਿੱਚ ਲਿਖਿਆ ਗਿਆ ਹੈ।",
    "bn": "এটি বাংলায় লেখা।",
    "as": "এইটো অসমীয়াত লিখা হৈছে।",
    "or": "ଏହା ଓଡ଼ିଆରେ ଲେଖାଯାଇଛି।",
    "ta": "இது தமிழில் எழுதப்பட்டது.",
    "te": "ఇది తెలుగులో వ్రాయబడింది.",
    "kn": "ಇದು ಕನ್ನಡದಲ್ಲಿ ಬರೆಯಲಾಗಿದೆ.",
    "ml": "ഇത് മലയാളത്തിൽ എഴുതിയതാണ്.",
    "ur": "یہ اردو میں لکھا گیا ہے۔",
}

# With HINGLISH_ENGLISH_WORDS=latin: the same steering, with English words left in Latin letters.
CODE_MIXED_PROMPTS: dict[str, str] = {
    "hi": "यह हिंदी में लिखा गया है। आज की meeting में हमने नए project और office के बारे में बात की।",
}


def steering_prompt(language: str, latin_words: bool = False) -> str | None:
    return (CODE_MIXED_PROMPTS.get(language) if latin_words else None) or STEERING_PROMPTS.get(language)


def script_of(char: str) -> str | None:
    point = ord(char)
    for script, ranges in BLOCKS.items():
        if any(lo <= point <= hi for lo, hi in ranges):
            return script
    return None


def written_without_spaces(language: str | None) -> bool:
    return language in UNSPACED_LANGUAGES


def _spaced_script_alnum(char: str) -> bool:
    return char.isalnum() and script_of(char) not in UNSPACED_SCRIPTS


def space_needed(left: str, right: str) -> bool:
    """Whether two pieces of a text written without spaces need one where they meet: only where
    letters or digits of a spaced script (a Latin name, a number) would otherwise run together."""
    if not left or not right or left[-1].isspace() or right[0].isspace():
        return False
    return _spaced_script_alnum(left[-1]) and _spaced_script_alnum(right[0])


def join_text(pieces: Iterable[str], language: str | None) -> str:
    """Consecutive pieces of one text (segments, shares of a translation) in one string: with a
    space between them, except in Chinese and Japanese, where a space would be one nobody wrote."""
    parts = [piece.strip() for piece in pieces if piece.strip()]
    if language not in UNSPACED_LANGUAGES or language in PHRASE_SPACED_LANGUAGES:
        return " ".join(parts)
    text = ""
    for part in parts:
        text += (" " if space_needed(text, part) else "") + part
    return text


def letter_scripts(text: str) -> Counter[str]:
    """How many letters of each script the text holds (marks and digits are not letters)."""
    counts: Counter[str] = Counter()
    for char in unicodedata.normalize("NFC", text):
        if unicodedata.category(char).startswith("L"):
            counts[script_of(char) or "Other"] += 1
    return counts


def expected_share(text: str, language: str) -> float | None:
    """Share of letters in the language's expected script; None when unknown or no letters."""
    script = expected_script(language)
    counts = letter_scripts(text)
    total = sum(counts.values())
    if script is None or total == 0:
        return None
    return counts[script] / total


def script_report(text: str, language: str) -> dict[str, object]:
    counts = letter_scripts(text)
    share = expected_share(text, language)
    return {"expected_script": expected_script(language), "letters": sum(counts.values()),
            "expected_share": round(share, 4) if share is not None else None, "by_script": dict(counts.most_common())}
