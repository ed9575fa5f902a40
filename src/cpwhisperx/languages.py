"""The languages Whisper knows: code, English name and ISO 639-2 tag (for subtitle tracks)."""

from __future__ import annotations

from dataclasses import dataclass
import difflib

from cpwhisperx.errors import InvalidInput


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    iso639_2: str


# (Whisper code, English name, ISO 639-2/B tag as Matroska expects it)
_TABLE: tuple[tuple[str, str, str], ...] = (
    ("af", "Afrikaans", "afr"), ("am", "Amharic", "amh"), ("ar", "Arabic", "ara"),
    ("as", "Assamese", "asm"), ("az", "Azerbaijani", "aze"), ("ba", "Bashkir", "bak"),
    ("be", "Belarusian", "bel"), ("bg", "Bulgarian", "bul"), ("bn", "Bengali", "ben"),
    ("bo", "Tibetan", "tib"), ("br", "Breton", "bre"), ("bs", "Bosnian", "bos"),
    ("ca", "Catalan", "cat"), ("cs", "Czech", "cze"), ("cy", "Welsh", "wel"),
    ("da", "Danish", "dan"), ("de", "German", "ger"), ("el", "Greek", "gre"),
    ("en", "English", "eng"), ("es", "Spanish", "spa"), ("et", "Estonian", "est"),
    ("eu", "Basque", "baq"), ("fa", "Persian", "per"), ("fi", "Finnish", "fin"),
    ("fo", "Faroese", "fao"), ("fr", "French", "fre"), ("gl", "Galician", "glg"),
    ("gu", "Gujarati", "guj"), ("ha", "Hausa", "hau"), ("haw", "Hawaiian", "haw"),
    ("he", "Hebrew", "heb"), ("hi", "Hindi", "hin"), ("hr", "Croatian", "hrv"),
    ("ht", "Haitian Creole", "hat"), ("hu", "Hungarian", "hun"), ("hy", "Armenian", "arm"),
    ("id", "Indonesian", "ind"), ("is", "Icelandic", "ice"), ("it", "Italian", "ita"),
    ("ja", "Japanese", "jpn"), ("jw", "Javanese", "jav"), ("ka", "Georgian", "geo"),
    ("kk", "Kazakh", "kaz"), ("km", "Khmer", "khm"), ("kn", "Kannada", "kan"),
    ("ko", "Korean", "kor"), ("la", "Latin", "lat"), ("lb", "Luxembourgish", "ltz"),
    ("ln", "Lingala", "lin"), ("lo", "Lao", "lao"), ("lt", "Lithuanian", "lit"),
    ("lv", "Latvian", "lav"), ("mg", "Malagasy", "mlg"), ("mi", "Maori", "mao"),
    ("mk", "Macedonian", "mac"), ("ml", "Malayalam", "mal"), ("mn", "Mongolian", "mon"),
    ("mr", "Marathi", "mar"), ("ms", "Malay", "may"), ("mt", "Maltese", "mlt"),
    ("my", "Burmese", "bur"), ("ne", "Nepali", "nep"), ("nl", "Dutch", "dut"),
    ("nn", "Norwegian Nynorsk", "nno"), ("no", "Norwegian", "nor"), ("oc", "Occitan", "oci"),
    ("pa", "Punjabi", "pan"), ("pl", "Polish", "pol"), ("ps", "Pashto", "pus"),
    ("pt", "Portuguese", "por"), ("ro", "Romanian", "rum"), ("ru", "Russian", "rus"),
    ("sa", "Sanskrit", "san"), ("sd", "Sindhi", "snd"), ("si", "Sinhala", "sin"),
    ("sk", "Slovak", "slo"), ("sl", "Slovenian", "slv"), ("sn", "Shona", "sna"),
    ("so", "Somali", "som"), ("sq", "Albanian", "alb"), ("sr", "Serbian", "srp"),
    ("su", "Sundanese", "sun"), ("sv", "Swedish", "swe"), ("sw", "Swahili", "swa"),
    ("ta", "Tamil", "tam"), ("te", "Telugu", "tel"), ("tg", "Tajik", "tgk"),
    ("th", "Thai", "tha"), ("tk", "Turkmen", "tuk"), ("tl", "Tagalog", "tgl"),
    ("tr", "Turkish", "tur"), ("tt", "Tatar", "tat"), ("uk", "Ukrainian", "ukr"),
    ("ur", "Urdu", "urd"), ("uz", "Uzbek", "uzb"), ("vi", "Vietnamese", "vie"),
    ("yi", "Yiddish", "yid"), ("yo", "Yoruba", "yor"), ("zh", "Chinese", "chi"),
    ("yue", "Cantonese", "yue"),
)

LANGUAGES: dict[str, Language] = {code: Language(code, name, iso) for code, name, iso in _TABLE}


class UnknownLanguage(InvalidInput, ValueError):
    """A language code Whisper does not know."""


def get_language(code: str) -> Language:
    """The language for a Whisper code (case-insensitive), or UnknownLanguage naming close codes."""
    key = code.strip().lower()
    if key in LANGUAGES:
        return LANGUAGES[key]
    by_name = {lang.name.lower(): lang for lang in LANGUAGES.values()}
    hint = ""
    if key in by_name:
        hint = f"; did you mean '{by_name[key].code}' ({by_name[key].name})?"
    else:
        close = difflib.get_close_matches(key, LANGUAGES, n=3, cutoff=0.5)
        if close:
            hint = "; close codes: " + ", ".join(f"{c} ({LANGUAGES[c].name})" for c in close)
    raise UnknownLanguage(f"unknown language code '{code}'{hint}", hint="use a Whisper language code such as hi, en, gu, ta")


def is_known(code: str) -> bool:
    return code.strip().lower() in LANGUAGES
