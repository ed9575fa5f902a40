"""The language tables: Whisper's, NLLB's and IndicTrans2's own lists, names and ISO codes from
langcodes, and the codes each engine is given for a language."""

from __future__ import annotations

import langcodes
import pytest
from langcodes.data_dicts import MACROLANGUAGES

from cpwhisperx.languages import (INDICTRANS2_CODES, WHISPER_CODES, UnknownLanguage, canonical_code, get_language, indictrans2_code,
                                  is_indic, listed_languages, nllb_code, nllb_codes, whisper_language)
from cpwhisperx.scripts import BLOCKS, ISO_15924, expected_script


def test_whisper_codes_are_whispers_own() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert WHISPER_CODES == tuple(_LANGUAGE_CODES)


def test_nllb_codes_are_the_nllb_tokenizers() -> None:
    tokenization_nllb = pytest.importorskip("transformers.models.nllb.tokenization_nllb")
    assert nllb_codes() == tuple(tokenization_nllb.FAIRSEQ_LANGUAGE_CODES)
    assert len(nllb_codes()) == 202


def test_indictrans2_codes_are_known_to_its_toolkit() -> None:
    evaluator = pytest.importorskip("IndicTransToolkit.evaluator")
    assert set(INDICTRANS2_CODES) <= set(evaluator.IndicEvaluator()._flores_codes)
    assert len({code.partition("_")[0] for code in INDICTRANS2_CODES} - {"eng"}) == 22  # the scheduled languages of India


# Matroska's language element: ISO 639-2 bibliographic codes.
MATROSKA = {"de": "ger", "fr": "fre", "zh": "chi", "nl": "dut", "el": "gre", "fa": "per", "cs": "cze", "cy": "wel", "eu": "baq",
            "hy": "arm", "ka": "geo", "is": "ice", "mk": "mac", "mi": "mao", "ms": "may", "ro": "rum", "sk": "slo", "bo": "tib",
            "sq": "alb", "my": "bur", "en": "eng", "hi": "hin", "jw": "jav", "tl": "tgl", "yue": "yue", "or": "ori", "bg": "bul",
            "zh-Hant": "chi", "ks-Deva": "kas"}


@pytest.mark.parametrize(("code", "tag"), MATROSKA.items())
def test_bibliographic_tags(code: str, tag: str) -> None:
    assert get_language(code).iso639_2 == tag


def test_every_whisper_language_has_names_and_iso_codes() -> None:
    for code in WHISPER_CODES:
        language = get_language(code)
        assert language.code == code and language.whisper and language.name and language.name[0].isupper()
        assert len(language.iso639_2) == len(language.iso639_3) == 3 and language.iso639_2.isalpha()
        # terminological and bibliographic codes name the same language
        assert langcodes.Language.get(language.iso639_3).language == langcodes.Language.get(language.iso639_2).language
    assert get_language("de").iso639_3 == "deu" and get_language("tl").name == "Tagalog" and get_language("or").name == "Odia"


# Whisper's code or a user's tag → the FLORES-200 code NLLB translates it with: the macrolanguages
# NLLB serves through one member, the scripts, Whisper's own codes, and what NLLB lacks.
NLLB = {"ar": "arb_Arab", "fa": "pes_Arab", "ms": "zsm_Latn", "sw": "swh_Latn", "no": "nob_Latn", "ne": "npi_Deva",
        "az": "azj_Latn", "mn": "khk_Cyrl", "uz": "uzn_Latn", "yi": "ydd_Hebr", "ps": "pbt_Arab", "sq": "als_Latn",
        "or": "ory_Orya", "lv": "lvs_Latn", "et": "est_Latn", "mg": "plt_Latn", "om": "gaz_Latn", "zh": "zho_Hans",
        "zh-Hant": "zho_Hant", "zh-TW": "zho_Hant", "yue": "yue_Hant", "jw": "jav_Latn", "tl": "tgl_Latn", "sr": "srp_Cyrl",
        "ko": "kor_Hang", "nn": "nno_Latn", "bs": "bos_Latn", "hr": "hrv_Latn", "fa-AF": "prs_Arab",
        "ks": "kas_Arab", "ks-Deva": "kas_Deva", "sat": "sat_Beng", "ak": "aka_Latn", "tw": "twi_Latn", "ku": "kmr_Latn",
        "bg": "bul_Cyrl", "sk": "slk_Latn", "lt": "lit_Latn", "af": "afr_Latn", "am": "amh_Ethi", "he": "heb_Hebr",
        "haw": None, "br": None, "la": None, "sr-Latn": None, "hi-Latn": None, "yue-Hans": None, "knc": None}


@pytest.mark.parametrize(("code", "flores"), NLLB.items())
def test_nllb_codes_for_languages(code: str, flores: str | None) -> None:
    assert nllb_code(code) == flores


def test_every_nllb_and_indictrans2_code_is_reached_by_its_own_language() -> None:
    """Each engine code has a language code that leads back to it, and that language is the code's
    own (never another language): same language subtag, a CLDR match, or its macrolanguage."""
    reached = {nllb_code(language.code) for language in listed_languages()}
    assert reached >= set(nllb_codes())
    assert {indictrans2_code(language.code) for language in listed_languages()} >= set(INDICTRANS2_CODES)
    for language in listed_languages():
        for flores in filter(None, (nllb_code(language.code), indictrans2_code(language.code))):
            ours = str(langcodes.Language.get(language.code).language)
            theirs = str(langcodes.Language.get(flores.partition("_")[0]).language)
            assert ours == theirs or langcodes.tag_distance(ours, theirs) <= 5 or MACROLANGUAGES.get(theirs) == ours, (language.code, flores)


def test_indic_languages_of_indictrans2() -> None:
    assert indictrans2_code("or") == "ory_Orya" and indictrans2_code("sat") == "sat_Olck" and indictrans2_code("kok") == "gom_Deva"
    assert indictrans2_code("mni-Mtei") == "mni_Mtei" and indictrans2_code("sd") == "snd_Arab" and indictrans2_code("en") == "eng_Latn"
    assert all(is_indic(code) for code in ("hi", "or", "as", "ur", "brx", "doi", "mai", "ks", "sat"))
    assert not is_indic("en") and not is_indic("fr") and indictrans2_code("fr") is None


def test_codes_and_tags_become_one_code() -> None:
    assert [canonical_code(c) for c in ("HI", "hin", "hin_Deva", "hi-Deva", "jv", "arb", "npi", "iw", "fil", "zh-Hans", "sr-Cyrl")] == \
        ["hi", "hi", "hi", "hi", "jw", "ar", "ne", "he", "tl", "zh", "sr"]
    assert [canonical_code(c) for c in ("or", "ks-Arab", "ks_Deva", "zh-Hant", "ZH-tw", "sat-Olck")] == ["or", "ks", "ks-Deva", "zh-Hant", "zh-TW", "sat"]
    assert canonical_code("xx") is None and canonical_code("englsh") is None and canonical_code("und") is None


def test_odia_is_a_target_not_a_spoken_language() -> None:
    assert get_language("or").code == "or"
    with pytest.raises(UnknownLanguage, match=r"Whisper does not transcribe Odia \('or'\)"):
        whisper_language("or")
    assert whisper_language("jv").code == "jw"


@pytest.mark.parametrize(("code", "fragment"), [("englsh", "did you mean 'en' (English)"), ("hindi", "did you mean 'hi' (Hindi)"),
                                                 ("odia", "did you mean 'or' (Odia)"), ("xx", "unknown language code 'xx'")])
def test_misspelt_codes_get_suggestions(code: str, fragment: str) -> None:
    with pytest.raises(UnknownLanguage) as caught:
        get_language(code)
    assert fragment in str(caught.value)


# What the hand-kept table said before the scripts came from CLDR.
FORMER_SCRIPTS = {
    "hi": "Devanagari", "mr": "Devanagari", "ne": "Devanagari", "sa": "Devanagari", "gu": "Gujarati", "pa": "Gurmukhi",
    "bn": "Bengali", "as": "Bengali", "or": "Oriya", "ta": "Tamil", "te": "Telugu", "kn": "Kannada", "ml": "Malayalam",
    "si": "Sinhala", "ur": "Arabic", "sd": "Arabic", "fa": "Arabic", "ar": "Arabic", "ps": "Arabic", "ru": "Cyrillic",
    "uk": "Cyrillic", "bg": "Cyrillic", "el": "Greek", "he": "Hebrew", "yi": "Hebrew", "th": "Thai", "en": "Latin",
    "es": "Latin", "pt": "Latin", "fr": "Latin", "de": "Latin", "it": "Latin", "nl": "Latin",
}


def test_expected_scripts_come_from_cldr() -> None:
    assert {language: expected_script(language) for language in FORMER_SCRIPTS} == FORMER_SCRIPTS
    assert expected_script("sr") == "Cyrillic" and expected_script("jw") == "Latin" and expected_script("ks-Deva") == "Devanagari"
    assert expected_script("zh") is None and expected_script("ja") is None  # scripts not measured here
    assert expected_script("lo") == "Lao" and expected_script("km") == "Khmer" and expected_script("my") == "Myanmar"
    # Han, kana and Hangul are measured as blocks too (languages written without spaces), not as one expected script
    assert set(ISO_15924.values()) == set(BLOCKS) - {"Han", "Hiragana", "Katakana", "Hangul"}


def test_iso_15924_codes_name_the_unicode_scripts() -> None:
    import regex

    for code, name in ISO_15924.items():
        letters = [chr(point) for lo, hi in BLOCKS[name] for point in range(lo, hi + 1) if regex.match(r"\p{L}", chr(point))]
        by_code = [bool(regex.match(rf"\p{{Script={code}}}", letter)) for letter in letters]
        assert sum(by_code) > len(letters) / 2 and by_code == [bool(regex.match(rf"\p{{Script={name}}}", letter)) for letter in letters], name
