"""Indic text without audio: script check and repair per language, romanisation, normalisation."""

from __future__ import annotations

import unicodedata

import pytest

from cpwhisperx.asr.script_check import ScriptPolicy, repair_segments
from cpwhisperx.asr.script_tokens import scripts_written
from cpwhisperx.scripts import STEERING_PROMPTS, expected_script, expected_share, letter_scripts, steering_prompt
from cpwhisperx.textnorm import normalise
from cpwhisperx.transcript import Segment, Transcript, Word
from cpwhisperx.transliteration import romanise, to_expected_script

INDIC = ["hi", "mr", "ne", "gu", "pa", "bn", "as", "ta", "te", "kn", "ml", "or"]
URDU_TEXT = "یہ خبر آج کی ہے اور سرکار نے کسانوں کے لیے کام کیا"
LATIN_TEXT = "yah khabar aaj ki hai aur sarkar ne kisanon ke liye kaam kiya"
DEVANAGARI_TEXT = "यह ख़बर आज की है और सरकार ने किसानों के लिए काम किया"


def transcript_of(text: str, language: str) -> Transcript:
    words = [Word(start=i * 0.4, end=i * 0.4 + 0.3, text=" " + w) for i, w in enumerate(text.split())]
    return Transcript(language=language, duration=30.0, segments=[Segment(id=0, start=0.0, end=len(words) * 0.4, text=text, words=words)])


def repair(text: str, language: str, redecode=None):  # type: ignore[no-untyped-def]
    return repair_segments(transcript_of(text, language), lambda lang: ScriptPolicy.for_language(lang, 0.9, False), redecode)


@pytest.mark.parametrize("language", INDIC)
def test_right_script_is_left_alone(language: str) -> None:
    text = STEERING_PROMPTS[language]
    repaired, repairs = repair(text, language)
    assert repairs == [] and repaired.segments[0].text == text


@pytest.mark.parametrize("language", INDIC)
@pytest.mark.parametrize("wrong", [URDU_TEXT, LATIN_TEXT], ids=["perso-arabic", "latin"])
def test_wrong_script_is_transliterated(language: str, wrong: str) -> None:
    assert expected_share(wrong, language) == 0.0
    repaired, repairs = repair(wrong, language)
    segment = repaired.segments[0]
    assert len(repairs) == 1 and repairs[0]["method"] == "transliterate"
    assert repairs[0]["share_before"] == 0.0 and repairs[0]["share_after"] == 1.0
    assert expected_share(segment.text, language) == 1.0
    # words are repaired with the text, so subtitles (built from words) agree with the transcript
    assert all(expected_share(w.text, language) == 1.0 for w in segment.words)
    assert len(segment.text.split()) == len(wrong.split())


@pytest.mark.parametrize("wrong", [DEVANAGARI_TEXT, LATIN_TEXT], ids=["devanagari", "latin"])
def test_urdu_repair_writes_perso_arabic(wrong: str) -> None:
    repaired, repairs = repair(wrong, "ur")
    assert repairs[0]["method"] == "transliterate"
    assert expected_share(repaired.segments[0].text, "ur") == 1.0


def test_urdu_to_devanagari_reads_as_hindi() -> None:
    expected = unicodedata.normalize("NFC", "यह ख़बर आज की है और सरकार ने")
    assert to_expected_script("یہ خبر آج کی ہے اور سرکار نے", "hi") == expected
    assert to_expected_script("بھارتی فوج", "hi").startswith("भारती ")


def test_latin_is_decoded_again_and_the_new_decode_checked() -> None:
    """Latin letters may be an English translation, not the words said: decoded again first."""
    good = lambda seg, lang, policy: seg.model_copy(update={"text": DEVANAGARI_TEXT})  # noqa: E731
    repaired, repairs = repair(LATIN_TEXT, "hi", good)
    assert repairs[0]["method"] == "redecode" and repaired.segments[0].text == DEVANAGARI_TEXT
    in_urdu = lambda seg, lang, policy: seg.model_copy(update={"text": URDU_TEXT})  # noqa: E731
    repaired, repairs = repair(LATIN_TEXT, "hi", in_urdu)
    assert repairs[0]["method"] == "redecode" and repaired.segments[0].text.startswith("यह ख़बर आज की है")
    still_wrong = lambda seg, lang, policy: seg.model_copy(update={"text": "this news is of today"})  # noqa: E731
    repaired, repairs = repair(LATIN_TEXT, "hi", still_wrong)
    assert repairs[0]["method"] == "transliterate" and repairs[0]["redecoded"] == "this news is of today"
    assert expected_share(repaired.segments[0].text, "hi") == 1.0


@pytest.mark.parametrize(("wrong", "language"), [(URDU_TEXT, "hi"), (DEVANAGARI_TEXT, "ur"), ("ਇਹ ਖ਼ਬਰ ਅੱਜ ਦੀ ਹੈ", "hi"), (DEVANAGARI_TEXT, "gu")])
def test_faithful_scripts_are_converted_without_decoding_again(wrong: str, language: str) -> None:
    calls = []
    repaired, repairs = repair(wrong, language, lambda seg, lang, policy: calls.append(seg))
    assert calls == [] and repairs[0]["method"] == "transliterate"
    assert expected_share(repaired.segments[0].text, language) == 1.0


def test_unvocalised_urdu_reads_as_hindi_words() -> None:
    """Urdu leaves short vowels unwritten; the Hindi lexicon and the vowel-letter rules put them back."""
    assert to_expected_script("اس کے بعد موسم ایک بار پھر بدلے گا اور بادل چھانے کی سمبھاونا ہے۔", "hi") == \
        "इस के बाद मौसम एक बार फिर बदले गा और बादल छाने की सम्भावना है।"
    assert to_expected_script("کسانوں اور مزدوروں کی کوشش", "hi") == "किसानों और मज़दूरों की कोशिश"
    # not in the lexicon: the vowel letters still read as vowels (و → ो, ی → ी, ں → ं)
    assert to_expected_script("کوتستانوں", "hi") == "कोतसतानों"


def test_stray_letters_are_transliterated_without_decoding_again() -> None:
    text = "पर प्र बóleच के चोनी दोने कि बादल जाने कि सबबारे है और मौसम एक बार फिर बदलेगा"  # base on Hindi news
    calls = []
    repaired, repairs = repair(text, "hi", lambda seg, lang, policy: calls.append(seg))
    assert calls == [] and repairs[0]["method"] == "transliterate"
    assert 0.9 <= repairs[0]["share_before"] < 1.0 and repairs[0]["share_after"] == 1.0
    assert "बओलेच" in repaired.segments[0].text


def test_policy_allows_english_words_only_as_a_minority() -> None:
    hinglish = ScriptPolicy.for_language("hi", 0.9, latin_words=True)
    strict = ScriptPolicy.for_language("hi", 0.9, latin_words=False)
    assert hinglish is not None and strict is not None
    mixed = "आज की meeting में नए project पर बात हुई और सबने अपनी राय दी"
    assert not hinglish.needs_repair(mixed) and strict.needs_repair(mixed)
    assert hinglish.needs_repair(LATIN_TEXT)  # romanised Hindi is not English words
    assert to_expected_script(mixed, "hi", hinglish.kept) == mixed
    assert "Latin" not in letter_scripts(to_expected_script(mixed, "hi"))


def test_code_mixed_prompt_keeps_english_in_latin() -> None:
    mixed, native = steering_prompt("hi", latin_words=True), steering_prompt("hi")
    assert mixed and native and "Latin" in letter_scripts(mixed) and "Latin" not in letter_scripts(native)
    hinglish = ScriptPolicy.for_language("hi", 0.9, latin_words=True)
    assert hinglish is not None and hinglish.share(mixed) == 1.0 and hinglish.allowed == {"Devanagari", "Latin"}


def test_languages_without_a_policy_are_not_checked() -> None:
    assert ScriptPolicy.for_language("en", 0.9, False) is None
    assert repair("hello there", "en")[1] == []


@pytest.mark.parametrize(("devanagari", "roman"), [
    ("नमस्ते", "namaste"), ("सरकार", "sarkar"), ("किसानों", "kisanon"), ("हैं", "hain"), ("में", "mein"),
    ("हम", "ham"), ("कृत संकल्प", "krit sankalp"), ("कहाँ?", "kahan?"), ("ज़िंदगी", "zindgi"), ("है।", "hai."),
])
def test_romanisation_of_known_words(devanagari: str, roman: str) -> None:
    assert romanise(devanagari, "hi") == roman


def test_romanisation_leaves_latin_and_has_no_diacritics() -> None:
    out = romanise("आज की meeting में मुख्य ख़बरें इस प्रकार हैं।", "hi")
    assert out == "aj ki meeting mein mukhya khabren is prakar hain."
    assert out.isascii()


def test_token_scripts_count_partial_characters() -> None:
    assert scripts_written("क".encode()) == {"Devanagari"}
    assert scripts_written(" the".encode()) == {"Latin"}
    assert scripts_written("ک".encode()[:1]) == {"Arabic"}  # lead byte of an Arabic letter
    assert scripts_written("ক".encode()[:2]) == {"Bengali"}
    assert scripts_written(b" 42,") == set()
    assert scripts_written("۔".encode()) == {"Arabic"}  # the Urdu full stop is not a letter, but Urdu
    assert scripts_written("।".encode()) == set()  # the danda ends sentences in several scripts


@pytest.mark.parametrize(("text", "language", "numbers", "expected"), [
    ("यह ठीक है. अब आगे|", "hi", "digits", "यह ठीक है। अब आगे।"),
    ("यह ठीक है ।। ", "hi", "digits", "यह ठीक है॥ "),
    ("कुल ४२ लोग , 3.5 किलो", "hi", "digits", "कुल 42 लोग, 3.5 किलो"),
    ("कुल 42 लोग", "hi", "words", "कुल बयालीस लोग"),
    ("पंद्रह फरवरी को 1,500 लोग", "hi", "words", "पंद्रह फरवरी को एक हज़ार पाँच सौ लोग"),
    ("ஆம். 21 பேர்", "ta", "digits", "ஆம். 21 பேர்"),
    ("it is 21.", "en", "words", "it is twenty-one."),
])
def test_normalisation(text: str, language: str, numbers: str, expected: str) -> None:
    assert normalise(text, language, numbers) == expected  # type: ignore[arg-type]


def test_nukta_forms_become_one() -> None:
    precomposed, decomposed = "\u095b", "\u091c\u093c"  # ज़ written two ways
    assert normalise(f"{precomposed}िंदगी", "hi") == normalise(f"{decomposed}िंदगी", "hi") == f"{decomposed}िंदगी"


def test_every_indic_language_has_a_script_and_prompt() -> None:
    for language in INDIC + ["ur"]:
        assert expected_script(language) and expected_share(STEERING_PROMPTS[language], language) == 1.0


def test_urdu_vowel_marks_are_read_where_written() -> None:
    from cpwhisperx.hindustani import to_devanagari

    assert to_devanagari("کِتستانوں") == "कितसतानों"  # zer: the short i Urdu usually leaves out
    assert to_devanagari("مُکتّر") == "मुकत्तर"  # pesh, and shadda doubling the consonant
