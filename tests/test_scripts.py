"""Script measurement and steering prompts for Indic languages."""

from __future__ import annotations

import pytest

from cpwhisperx.scripts import STEERING_PROMPTS, expected_script, expected_share, letter_scripts, script_report


@pytest.mark.parametrize(("language", "right", "wrong"), [
    ("hi", "नमस्ते दोस्तों", "نمستے دوستوں"),
    ("gu", "નમસ્તે મિત્રો", "namaste mitro"),
    ("ta", "வணக்கம் நண்பர்களே", "வணக்கம் friends"),
    ("ur", "آپ کیسے ہیں", "आप कैसे हैं"),
])
def test_expected_share(language: str, right: str, wrong: str) -> None:
    assert expected_share(right, language) == 1.0
    assert expected_share(wrong, language) < 0.6


def test_marks_and_digits_are_not_letters() -> None:
    counts = letter_scripts("कि 123, ठीक है।")
    assert counts == {"Devanagari": sum(1 for ch in "कि ठीक है" if ch not in " ि ी ै")}


def test_every_steering_prompt_is_in_its_own_script() -> None:
    for language, prompt in STEERING_PROMPTS.items():
        assert expected_share(prompt, language) == 1.0, language
        assert expected_script(language)


def test_report() -> None:
    report = script_report("यह hindi है", "hi")
    assert report["expected_script"] == "Devanagari" and report["by_script"] == {"Latin": 5, "Devanagari": 3}
    assert report["expected_share"] == 0.375


def test_detection_among_candidates_then_devanagari(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from conftest import REPO, cpwx, job_dirs

    clip = REPO / "tests" / "data" / "hindi" / "noa_jaipur_2021418105240_sent_26.wav"
    result = cpwx("transcribe", str(clip), "--set", "LANGUAGE_CANDIDATES=hi,en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    data = json.loads((job / "06_asr" / "manifest.json").read_text(encoding="utf-8"))
    assert data["language"]["detected"] == "hi" and data["language"]["candidates"] == ["hi", "en"]
    assert {code for code, _ in data["language"]["ranking"]} <= {"hi", "en"}
    assert data["script"]["expected_script"] == "Devanagari" and data["script"]["expected_share"] >= 0.99
    assert (job / "12_subtitle_generation" / f"{clip.stem}.hi.srt").is_file()


def test_pieces_of_a_text_join_with_a_space_only_where_the_language_writes_one() -> None:
    from cpwhisperx.scripts import join_text, script_of

    assert join_text(["我们走吧。", " 好的", "iPhone", "15"], "zh") == "我们走吧。好的iPhone 15"
    assert join_text(["ไปกันเถอะ", "ครับ"], "th") == "ไปกันเถอะ ครับ"  # Thai ends a phrase with a space
    assert join_text(["Let's go.", "Fine"], "en") == "Let's go. Fine"
    assert [script_of(c) for c in "中かカ한ລក"] == ["Han", "Hiragana", "Katakana", "Hangul", "Lao", "Khmer"]
