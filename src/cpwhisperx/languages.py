"""Languages: which ones Whisper and the translation engines know, their names and ISO 639 codes.

Which languages exist for whom comes from the engines' own lists: Whisper's codes, the 202
FLORES-200 codes of NLLB-200 (package data) and IndicTrans2's. Everything said about a language
(English name, ISO 639-2/B and 639-3 codes, likely script, which codes name the same language)
comes from langcodes, that is from CLDR and the IANA subtag registry.

A language is named by its *code*: Whisper's code where Whisper knows the language (so `jw`, not
`jv`), else the shortest BCP 47 tag (`or`, `ace`, `ks-Deva`, `zh-Hant`, `fa-AF`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import langcodes

# langcodes' own CLDR and registry tables, read directly: `maximize()` answers Latin for a language
# CLDR has no likely script for, and the registry's macrolanguages have no other accessor.
from langcodes.data_dicts import LIKELY_SUBTAGS, MACROLANGUAGES

from cpwhisperx.errors import InvalidInput

# Whisper's languages, in Whisper's order (the list in its tokenizer).
WHISPER_CODES: tuple[str, ...] = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el", "en",
    "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy", "id", "is",
    "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn",
    "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si", "sk",
    "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "uk", "ur", "uz",
    "vi", "yi", "yo", "zh", "yue",
)
# IndicTrans2's languages: the 22 scheduled languages of India (some in two scripts) and English.
INDICTRANS2_CODES: tuple[str, ...] = (
    "asm_Beng", "ben_Beng", "brx_Deva", "doi_Deva", "gom_Deva", "guj_Gujr", "hin_Deva", "kan_Knda", "kas_Arab",
    "kas_Deva", "mai_Deva", "mal_Mlym", "mar_Deva", "mni_Beng", "mni_Mtei", "npi_Deva", "ory_Orya", "pan_Guru",
    "san_Deva", "sat_Olck", "snd_Arab", "snd_Deva", "tam_Taml", "tel_Telu", "urd_Arab", "eng_Latn",
)
ENGLISH_FLORES = "eng_Latn"

# The script a model really writes where its code says another: NLLB-200 shipped Santali as
# sat_Beng, but its Santali is Ol Chiki (FLORES later renamed it sat_Olck).
_WRITTEN_SCRIPT = {"sat_Beng": "Olck"}
# ISO 15924 scripts made of others: CLDR writes Korean as Kore (Hangul with Han), NLLB as Hang.
_SCRIPT_PARTS = {"Kore": frozenset({"Hang"})}
# CLDR's language distance up to which two tags name the same language (regional variants score
# 4-5; the closest distinct languages, such as Croatian and Bosnian, 8).
_SAME_LANGUAGE = 5
# Rank of a member of the wanted macrolanguage (Pashto: Southern Pashto), after any closer match.
_MEMBER = _SAME_LANGUAGE + 1


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    iso639_2: str  # bibliographic (ger, fre, chi), what Matroska's language element wants
    iso639_3: str  # terminological (deu, fra, zho), what Apertium's pair names use
    script: str | None  # ISO 15924: the code's own script, else the language's likely script

    @property
    def whisper(self) -> bool:
        return self.code in WHISPER_CODES


class UnknownLanguage(InvalidInput, ValueError):
    """A language code that names no language, or none that the place it was given for knows."""


@cache
def nllb_codes() -> tuple[str, ...]:
    """NLLB-200's FLORES-200 codes, in NLLB's order."""
    text = resources.files("cpwhisperx").joinpath("data/nllb_languages.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _parse(code: str) -> langcodes.Language | None:
    text = code.strip().replace("_", "-")
    try:
        tag = langcodes.Language.get(text)
    except langcodes.LanguageTagError:
        return None
    return tag if tag.language and tag.is_valid() else None


def likely_script(tag: langcodes.Language) -> str | None:
    """The tag's script, else the one CLDR finds likely for its language (and region); None when
    CLDR has no data (langcodes' `maximize` would answer Latin then, from its world default)."""
    if tag.script:
        return tag.script
    keys = [f"{tag.language}-{tag.territory}"] if tag.territory else []
    for key in [*keys, str(tag.language)]:
        if key in LIKELY_SUBTAGS:
            return langcodes.Language.get(LIKELY_SUBTAGS[key], normalize=False).script
    return None


def _compatible(wanted: str | None, written: str | None) -> bool:
    if wanted is None or written is None or wanted == written:
        return True
    return written in _SCRIPT_PARTS.get(wanted, ()) or wanted in _SCRIPT_PARTS.get(written, ())


def _closest(tag: langcodes.Language, offered: Sequence[tuple[str, str | None]], members: bool) -> tuple[int, int] | None:
    """(index, distance) of the offered (language, script) that names `tag`'s language written in
    its script: CLDR's distance with the scripts aligned, then, when `members`, an individual
    language of the wanted macrolanguage; the same language subtag wins ties."""
    wanted_script = likely_script(tag)
    best: tuple[int, bool, int] | None = None
    ranked: list[tuple[tuple[int, bool], str | None]] = []
    for index, (language, written) in enumerate(offered):
        if not _compatible(wanted_script, written):
            continue
        script = wanted_script or written
        desired = tag.update_dict({"script": script}) if script else tag
        candidate = langcodes.Language.get(language).update_dict({"script": script} if script else {})
        distance = langcodes.tag_distance(desired, candidate)
        if distance > _SAME_LANGUAGE:
            if not (members and MACROLANGUAGES.get(str(candidate.language)) == tag.language):
                continue
            distance = _MEMBER
        key = (distance, candidate.language != tag.language, index)
        ranked.append((key[:2], written))
        if best is None or key < best:
            best = key
    if best is None:
        return None
    if wanted_script is None and len({written for rank, written in ranked if rank == best[:2]}) > 1:
        return None  # no likely script known, and offered in two (knc: Arabic and Latin): the tag must say which
    return best[2], best[0]


def _engine_offer(codes: Iterable[str]) -> tuple[tuple[str, str | None], ...]:
    return tuple((code.partition("_")[0], _WRITTEN_SCRIPT.get(code, code.partition("_")[2])) for code in codes)


@cache
def _whisper_offer() -> tuple[tuple[str, str | None], ...]:
    return tuple((code, likely_script(langcodes.Language.get(code))) for code in WHISPER_CODES)


@lru_cache(maxsize=1024)
def canonical_code(code: str) -> str | None:
    """cp-whisperx's code for a language code or tag (any case, `_` or `-`): the Whisper code of
    the same language (`jv`, `arb`, `hi-Deva` → `jw`, `ar`, `hi`), else the standardised tag
    without a script that goes without saying; None when it names no language."""
    key = code.strip().lower()
    if key in WHISPER_CODES:
        return key
    tag = _parse(code)
    if tag is None:
        return None
    match = _closest(tag, _whisper_offer(), members=False)
    if match is not None and match[1] == 0:
        return WHISPER_CODES[match[0]]
    plain = tag.update_dict({"script": None})
    if tag.script and likely_script(plain) == tag.script:
        tag = plain
    return tag.to_tag()


def _engine_code(code: str, offered_codes: Sequence[str]) -> str | None:
    canonical = canonical_code(code)
    tag = _parse(canonical) if canonical else None
    if tag is None:
        return None
    match = _closest(tag, _engine_offer(offered_codes), members=True)
    return offered_codes[match[0]] if match else None


@lru_cache(maxsize=1024)
def nllb_code(code: str) -> str | None:
    """The FLORES-200 code NLLB translates the language with (`ar` → arb_Arab, `ps` → pbt_Arab),
    or None when NLLB does not know it."""
    return _engine_code(code, nllb_codes())


@lru_cache(maxsize=1024)
def indictrans2_code(code: str) -> str | None:
    """The FLORES-style code IndicTrans2 uses for the language (`or` → ory_Orya), or None."""
    return _engine_code(code, INDICTRANS2_CODES)


def is_indic(code: str) -> bool:
    """A language of India that IndicTrans2 serves (English is its other side, not Indic)."""
    return indictrans2_code(code) not in (None, ENGLISH_FLORES)


def listed(code: str) -> bool:
    """Whisper, NLLB or IndicTrans2 knows the language."""
    canonical = canonical_code(code)
    return canonical is not None and (canonical in WHISPER_CODES or nllb_code(canonical) is not None
                                      or indictrans2_code(canonical) is not None)


@lru_cache(maxsize=1024)
def _describe(code: str) -> Language:
    # Whisper's codes as ISO has them: langcodes would read `tl` as Filipino (CLDR's alias).
    tag = langcodes.Language.get(code, normalize=code not in WHISPER_CODES)
    return Language(code, tag.display_name(), tag.to_alpha3(variant="B"), tag.to_alpha3(), likely_script(langcodes.Language.get(code)))


def get_language(code: str) -> Language:
    """The language a code or tag names, whoever knows it; UnknownLanguage naming close codes."""
    canonical = canonical_code(code)
    if canonical is None:
        raise UnknownLanguage(f"unknown language code '{code}'{suggestion(code, listed_languages(), listed)}",
                              hint="use a language code such as hi, en, gu, ta, or a BCP 47 tag such as zh-Hant")
    return _describe(canonical)


def whisper_language(code: str) -> Language:
    """A language Whisper transcribes (a spoken or candidate language)."""
    canonical = canonical_code(code)
    if canonical is None:
        raise UnknownLanguage(f"unknown language code '{code}'{suggestion(code, whisper_languages(), lambda c: c in WHISPER_CODES)}",
                              hint="use a Whisper language code such as hi, en, gu, ta")
    language = _describe(canonical)
    if not language.whisper:
        raise UnknownLanguage(f"Whisper does not transcribe {language.name} ('{code}')",
                              hint="the spoken language is one of Whisper's; other languages can be target languages")
    return language


def whisper_languages() -> list[Language]:
    return [_describe(code) for code in WHISPER_CODES]


@cache
def listed_languages() -> tuple[Language, ...]:
    """Every language Whisper, NLLB or IndicTrans2 knows, by code."""
    codes = dict.fromkeys(WHISPER_CODES)
    for engine, engine_codes in ((nllb_code, nllb_codes()), (indictrans2_code, INDICTRANS2_CODES)):
        for engine_code in engine_codes:
            language, _, script = engine_code.partition("_")
            # The most common name that leads to this code: its macrolanguage (or for ory), the bare
            # language, the language with its script.
            macrolanguage = MACROLANGUAGES.get(str(langcodes.Language.get(language).language))
            tagged = f"{language}-{_WRITTEN_SCRIPT.get(engine_code, script)}"
            for candidate in (canonical_code(macrolanguage or language), canonical_code(language), canonical_code(tagged)):
                if candidate and engine(candidate) == engine_code:
                    codes[candidate] = None
                    break
    return tuple(_describe(code) for code in codes)


def suggestion(code: str, pool: Iterable[Language], allowed: Callable[[str], bool]) -> str:
    """'; did you mean …' with the language a name points at (in English or in the language
    itself) when `allowed`, else the closest names and codes of `pool`."""
    pool = list(pool)
    by_code = {language.code: language for language in pool}
    key = code.strip().lower()
    try:
        named = canonical_code(langcodes.find(key).to_tag())
    except LookupError:
        named = None
    if named and allowed(named):
        return f"; did you mean '{named}' ({_describe(named).name})?"
    by_name = {language.name.lower(): language.code for language in pool}
    close = difflib.get_close_matches(key, by_name, n=1, cutoff=0.75)
    if close:
        return f"; did you mean '{by_name[close[0]]}' ({by_code[by_name[close[0]]].name})?"
    codes = difflib.get_close_matches(key, by_code, n=3, cutoff=0.5)
    return "; close codes: " + ", ".join(f"{c} ({by_code[c].name})" for c in codes) if codes else ""
