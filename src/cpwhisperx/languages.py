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

    @property
    def iso639_3(self) -> str:
        """The terminological code (what Apertium and most tools use) where it differs from the bibliographic."""
        return _TERMINOLOGICAL.get(self.iso639_2, self.iso639_2)


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

_TERMINOLOGICAL = {
    "alb": "sqi", "arm": "hye", "baq": "eus", "bur": "mya", "chi": "zho", "cze": "ces", "dut": "nld", "fre": "fra",
    "geo": "kat", "ger": "deu", "gre": "ell", "ice": "isl", "mac": "mkd", "mao": "mri", "may": "msa", "per": "fas",
    "rum": "ron", "slo": "slk", "tib": "bod", "wel": "cym",
}
# Languages of India (and neighbours) that IndicTrans2 serves, with their FLORES-200 codes.
INDIC_FLORES: dict[str, str] = {
    "as": "asm_Beng", "bn": "ben_Beng", "gu": "guj_Gujr", "hi": "hin_Deva", "kn": "kan_Knda", "ml": "mal_Mlym",
    "mr": "mar_Deva", "ne": "npi_Deva", "pa": "pan_Guru", "sa": "san_Deva", "sd": "snd_Arab", "ta": "tam_Taml",
    "te": "tel_Telu", "ur": "urd_Arab",
}
# FLORES-200 codes (NLLB) for the other Whisper languages NLLB knows.
FLORES: dict[str, str] = {
    **INDIC_FLORES, "en": "eng_Latn", "es": "spa_Latn", "pt": "por_Latn", "fr": "fra_Latn", "de": "deu_Latn",
    "it": "ita_Latn", "nl": "nld_Latn", "ru": "rus_Cyrl", "uk": "ukr_Cyrl", "pl": "pol_Latn", "cs": "ces_Latn",
    "ar": "arb_Arab", "fa": "pes_Arab", "tr": "tur_Latn", "zh": "zho_Hans", "ja": "jpn_Jpan", "ko": "kor_Hang",
    "vi": "vie_Latn", "th": "tha_Thai", "id": "ind_Latn", "ms": "zsm_Latn", "sw": "swh_Latn", "he": "heb_Hebr",
    "el": "ell_Grek", "ro": "ron_Latn", "hu": "hun_Latn", "sv": "swe_Latn", "da": "dan_Latn", "fi": "fin_Latn",
    "no": "nob_Latn", "ca": "cat_Latn", "si": "sin_Sinh", "my": "mya_Mymr", "km": "khm_Khmr",
}


def is_indic(code: str) -> bool:
    return code in INDIC_FLORES


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
