"""Cue layout rules, checked on the cues and again on the written files."""

from __future__ import annotations

import random
from pathlib import Path

import pysubs2
import regex
import pytest

from cpwhisperx.compliance import facts_from_file, measure
from cpwhisperx.layout import LayoutRules, break_lines, graphemes, layout, tokens_from
from cpwhisperx.stages.subtitle_generation import facts
from cpwhisperx.subtitles import write_subtitles
from cpwhisperx.transcript import Segment, Transcript, Word

RULES = LayoutRules()
HINDI = ("मैं कल सुबह अपने दोस्त के साथ बाज़ार गया था और वहाँ हमने बहुत सारी चीज़ें खरीदीं। "
         "फिर हम घर लौटे, खाना खाया और देर रात तक बातें करते रहे। "
         "उसने कहा कि अगले हफ़्ते हम पहाड़ों पर घूमने चलेंगे क्योंकि मौसम बहुत अच्छा रहेगा।")


def speech(text: str, language: str, words_per_second: float = 2.6, pause_every: int = 12, seed: int = 1) -> Transcript:
    """Words laid out in time like real speech: steady rate, a pause now and then."""
    rng = random.Random(seed)
    t, words = 0.5, []
    for number, word in enumerate(text.split()):
        length = max(0.12, len(word) / (words_per_second * 5) * rng.uniform(0.7, 1.3))
        words.append(Word(start=round(t, 3), end=round(t + length, 3), text=" " + word))
        t += length + rng.uniform(0.02, 0.12)
        if (number + 1) % pause_every == 0 or word.endswith(("।", ".")):
            t += rng.uniform(0.4, 1.4)
    return Transcript(language=language, duration=t + 1, segments=[Segment(id=0, start=words[0].start, end=words[-1].end, text=text, words=words)])


def test_graphemes_count_what_a_reader_sees() -> None:
    assert graphemes("नमस्ते") == 3 and len("नमस्ते") == 6  # न म स्ते: the conjunct is one cluster
    assert graphemes("क्षत्रिय") == 3
    assert graphemes("hello") == 5


def test_hindi_layout_keeps_every_limit_by_graphemes() -> None:
    transcript = speech(HINDI * 3, "hi")
    cues = layout(transcript, RULES)
    report = measure(facts(cues), RULES)
    assert report["all_within"], report
    for cue in cues:
        assert all(graphemes(line) <= 42 for line in cue.lines)
    # Code-point counting would break many of these lines: the rule is really by graphemes.
    assert any(len(line) > 42 for cue in cues for line in cue.lines)
    joined = " ".join(cue.text for cue in cues)
    assert joined.split() == (HINDI * 3).split()


def test_lines_break_at_natural_points_and_balance() -> None:
    tokens = tokens_from(speech("We met at the old station, and then we drove home together.", "en"))
    assert break_lines(tokens, RULES, "en") == ["We met at the old station,", "and then we drove home together."]
    tokens = tokens_from(speech("She was waiting for the bus in front of the big white house", "en"))
    lines = break_lines(tokens, RULES, "en")
    assert lines is not None and len(lines) == 2
    assert lines[0].split()[-1] not in ("the", "of", "for", "in") and lines[1].split()[0] in ("in", "for", "of")


FAST = " ".join(["this is quite a fast speaker who never really stops for breath at all"] * 12)


def test_fast_speech_gets_reading_time_and_no_overlaps() -> None:
    cues = layout(speech(FAST, "en", words_per_second=3.6, pause_every=12), RULES)
    report = measure(facts(cues), RULES)
    assert report["all_within"], report
    assert all(b.start >= a.end + 0.083 - 1e-9 for a, b in zip(cues, cues[1:], strict=False))
    # some cues are read faster than 17 cps over their speech alone: extending them did it
    assert any(graphemes(c.text) / (c.speech_end - c.speech_start) > RULES.max_cps for c in cues)


def test_speech_too_fast_to_read_stays_in_step_and_is_reported() -> None:
    """25 characters a second for minutes: cues keep in step with the voice (each starts at most
    SUBTITLE_MAX_DELAY after its speech) and the report shows the reading speed it could not keep."""
    transcript = speech(" ".join([FAST] * 3), "en", words_per_second=4.5, pause_every=40)
    cues = layout(transcript, RULES)
    assert max(c.start - c.speech_start for c in cues) <= RULES.max_delay + 0.011
    assert all(b.start >= a.end + 0.083 - 1e-9 for a, b in zip(cues, cues[1:], strict=False))
    report = measure(facts(cues), RULES)
    assert report["violations"]["reading_speed"] > 0
    assert all(report["violations"][limit] == 0 for limit in ("line_length", "line_count", "min_duration", "max_duration", "gap"))
    drifting = layout(transcript, LayoutRules(max_delay=1000.0))  # what an unbounded push would do
    assert max(c.start - c.speech_start for c in drifting) > 2.0


def test_long_single_word_is_the_only_excuse() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-more"
    cues = layout(speech(f"He said {word} twice.", "en"), RULES)
    report = measure(facts(cues), RULES)
    assert report["violations"]["line_length"] == 0
    assert any(line == word for cue in cues for line in cue.lines)


def test_lyrics_are_italic_with_notes(tmp_path: Path) -> None:
    transcript = speech("la la land is where we sing our song tonight", "en")
    transcript.segments[0].flags["lyrics"] = "test"
    cues = layout(transcript, RULES)
    path = tmp_path / "song.srt"
    write_subtitles(cues, path, "srt")
    text = path.read_text(encoding="utf-8")
    assert "<i>♪ la la land" in text and "♪</i>" in text
    assert measure(facts_from_file(path), RULES)["all_within"]


@pytest.mark.parametrize("fmt", ["srt", "vtt", "ass"])
def test_formats_written_and_numbered(tmp_path: Path, fmt: str) -> None:
    cues = layout(speech(HINDI, "hi"), RULES)
    path = tmp_path / f"film.hi.{fmt}"
    write_subtitles(cues, path, fmt)
    loaded = pysubs2.load(str(path), encoding="utf-8")
    assert [e.plaintext.replace("\n", " ") for e in loaded] == [c.text for c in cues]
    if fmt == "srt":
        numbers = [int(block.split("\n")[0]) for block in path.read_text(encoding="utf-8").strip().split("\n\n")]
        assert numbers == list(range(1, len(cues) + 1))


def test_changed_limits_are_obeyed() -> None:
    rules = LayoutRules(max_line_length=30, max_lines=1, max_cps=15)
    cues = layout(speech(HINDI * 2, "hi"), rules)
    report = measure(facts(cues), rules)
    assert report["all_within"], report
    assert all(len(c.lines) == 1 for c in cues)


def test_words_without_a_leading_space_do_not_run_together() -> None:
    segments = [Segment(id=0, start=0.0, end=1.0, text="Hello there", words=[Word(start=0.0, end=0.5, text=" Hello"), Word(start=0.5, end=1.0, text=" there")]),
                Segment(id=1, start=1.1, end=2.0, text="friend", words=[Word(start=1.1, end=2.0, text="friend")])]
    assert [cue.text for cue in layout(Transcript(language="en", duration=3, segments=segments), RULES)] == ["Hello there friend"]


def test_a_word_without_a_leading_space_inside_a_segment_continues_the_one_before() -> None:
    # as Whisper's word timestamps split "ill-disposed"
    words = [Word(start=0.0, end=0.3, text=" an"), Word(start=0.3, end=0.5, text=" ill"), Word(start=0.5, end=1.0, text="-disposed"),
             Word(start=1.0, end=1.4, text=" man.")]
    segments = [Segment(id=0, start=0.0, end=1.4, text="an ill-disposed man.", words=words)]
    assert [cue.text for cue in layout(Transcript(language="en", duration=2, segments=segments), RULES)] == ["an ill-disposed man."]


# --- languages written without spaces ---------------------------------------------------------

CJK_CHAR = r"[\p{Han}\p{Hiragana}\p{Katakana}]"
# Mandarin as Whisper writes its words: no leading spaces, punctuation on the word before it.
CHINESE_WORDS = ["我们", "今天", "去", "北京", "，", "天气", "很", "好", "。", "我们", "先", "去", "天安门", "广场", "看", "升旗",
                 "，", "然后", "去", "故宫", "博物院", "参观", "。", "你", "想", "喝", "茶", "吗", "？", "我", "想", "喝", "一杯",
                 "绿茶", "，", "不", "要", "糖", "。"]
# Japanese cut where kinsoku forbids a break: a small kana, a prolonged sound mark, brackets.
JAPANESE_WORDS = ["今日", "は", "ちょ", "っと", "寒い", "です", "ね", "。", "「", "コーヒ", "ー", "を", "飲み", "ましょう", "」", "と",
                  "彼", "は", "言", "った", "。", "駅", "の", "前", "に", "新しい", "カフェ", "が", "でき", "ました", "。"]


def unspaced_speech(words: list[str], language: str, per_char: float = 0.22, words_per_segment: int = 12) -> Transcript:
    """Whisper's words of a language written without spaces, in segments of a dozen words."""
    segments, t = [], 0.5
    for number in range(0, len(words), words_per_segment):
        timed = []
        for word in words[number:number + words_per_segment]:
            length = per_char * graphemes(word.strip())
            timed.append(Word(start=round(t, 3), end=round(t + length, 3), text=word))
            t += length + 0.03
        segments.append(Segment(id=len(segments), start=timed[0].start, end=timed[-1].end, text="".join(w.text for w in timed), words=timed))
        t += 0.3
    return Transcript(language=language, duration=t + 1, segments=segments)


def cjk_rules(length: int = 16) -> LayoutRules:
    return LayoutRules(max_line_length=length)


def test_chinese_keeps_the_text_as_whisper_wrote_it() -> None:
    transcript = unspaced_speech(CHINESE_WORDS, "zh")
    cues = layout(transcript, cjk_rules())
    written = "".join(CHINESE_WORDS)
    assert "".join(cue.text for cue in cues) == written
    for cue in cues:
        assert not regex.search(CJK_CHAR + r"\s+" + CJK_CHAR, " / ".join(cue.lines)), cue.lines
        assert all(graphemes(line) <= 16 and line in written for line in cue.lines), cue.lines
        assert " " not in cue.text
    assert measure(facts(cues), cjk_rules(), "zh")["all_within"]


def test_chinese_lines_break_after_punctuation() -> None:
    tokens = tokens_from(unspaced_speech(["我们", "今天", "去", "北京", "，", "天气", "很", "好", "，", "我们", "很", "高兴", "。"], "zh"))
    assert break_lines(tokens, cjk_rules(), "zh") == ["我们今天去北京，", "天气很好，我们很高兴。"]


def test_chinese_without_word_times_breaks_between_characters() -> None:
    text = "我们今天去北京，天气很好。我们先去天安门广场看升旗，然后去故宫博物院参观。"
    transcript = Transcript(language="zh", duration=12, segments=[Segment(id=0, start=0.0, end=10.0, text=text)])
    cues = layout(transcript, cjk_rules())
    assert "".join(cue.text for cue in cues) == text
    assert all(graphemes(line) <= 16 for cue in cues for line in cue.lines)
    assert all(line[-1] in "，。" for cue in cues for line in cue.lines[:-1])  # each line before the last ends a clause


def test_chinese_word_longer_than_a_line_is_cut_inside() -> None:
    word = "中华人民共和国全国人民代表大会常务委员会"  # 20 characters, one word to Whisper
    transcript = unspaced_speech(["他", "在", word, "工作", "。"], "zh")
    cues = layout(transcript, cjk_rules())
    assert "".join(cue.text for cue in cues) == "他在" + word + "工作。"
    assert all(graphemes(line) <= 16 for cue in cues for line in cue.lines)


@pytest.mark.parametrize("width", range(6, 15))
def test_japanese_lines_follow_kinsoku(width: int) -> None:
    """No line starts with a small kana, a prolonged sound mark, closing punctuation or bracket, and
    none ends with an opening bracket, at any line length."""
    cues = layout(unspaced_speech(JAPANESE_WORDS, "ja"), cjk_rules(width))
    assert "".join(cue.text for cue in cues) == "".join(JAPANESE_WORDS)
    for cue in cues:
        for line in cue.lines:
            assert graphemes(line) <= width, line
            assert line[0] not in "っッーゃ」。、" and line[-1] != "「", cue.lines


def test_japanese_does_not_break_before_a_small_kana() -> None:
    tokens = tokens_from(unspaced_speech(["今日", "は", "ちょ", "っと", "寒い", "です", "ね"], "ja"))
    # the balanced break would fall before っ
    assert break_lines(tokens, cjk_rules(8), "ja") == ["今日はちょっと", "寒いですね"]


def test_japanese_without_word_times_breaks_between_phrases() -> None:
    """No word times (a translation into Japanese): lines break after punctuation, else where a
    kanji or katakana word follows hiragana, never inside 楽しかった (not even after its small tsu)."""
    text = "「今日はとても楽しかった！」と彼女は言いました。コーヒーを飲みながら、ゆっくり話しましょう。駅の前に新しいカフェができました。"
    cues = layout(Transcript(language="ja", duration=12, segments=[Segment(id=0, start=0.0, end=10.0, text=text)]), cjk_rules(13))
    lines = [line for cue in cues for line in cue.lines]
    assert "".join(lines) == text
    assert all(graphemes(line) <= 13 for line in lines), lines
    assert any("楽しかった" in line for line in lines) and any("カフェ" in line for line in lines), lines
    assert "駅の前に新しい" in lines, lines


THAI = "สวัสดีครับ ผมชื่อสมชาย วันนี้อากาศดีมาก เราจะไปเที่ยวทะเลกันที่หัวหิน แล้วกลับมากินข้าวเย็นที่บ้านคุณแม่"


def thai_words() -> list[str]:
    """Thai as Whisper's tokens give it: pieces of words, some beginning with a vowel sign, a space
    only where the text has one."""
    pieces: list[str] = []
    for phrase_number, phrase in enumerate(THAI.split(" ")):
        chunks = [phrase[i:i + 3] for i in range(0, len(phrase), 3)]
        pieces += [(" " if phrase_number and n == 0 else "") + chunk for n, chunk in enumerate(chunks)]
    return pieces


def test_thai_breaks_between_words_never_inside_a_character() -> None:
    import unicodedata

    words = thai_words()
    assert any(unicodedata.category(w[0]) == "Mn" for w in words)  # the test has the hard case
    transcript = unspaced_speech(words, "th", per_char=0.09, words_per_segment=40)
    rules = LayoutRules(max_line_length=35)
    cues = layout(transcript, rules)
    lines = [line for cue in cues for line in cue.lines]
    assert sum(len(cue.lines) for cue in cues) > 1
    assert all(line in THAI and graphemes(line) <= 35 for line in lines), lines
    assert all(unicodedata.category(line[0]) not in ("Mn", "Mc") for line in lines)
    # every break at one of the spaces Whisper wrote: the lines are its phrases
    assert all(line.split(" ")[0] in THAI.split(" ") and line.split(" ")[-1] in THAI.split(" ") for line in lines), lines


def test_thai_without_word_times_breaks_at_written_spaces() -> None:
    transcript = Transcript(language="th", duration=12, segments=[Segment(id=0, start=0.0, end=10.0, text=THAI)])
    lines = [line for cue in layout(transcript, LayoutRules(max_line_length=35)) for line in cue.lines]
    assert " ".join(lines) == THAI


def test_segments_meet_without_a_space_in_chinese_and_with_one_after_other_languages() -> None:
    segments = [Segment(id=0, start=0.0, end=1.0, text="我们走吧。", words=[Word(start=0.0, end=1.0, text="我们走吧。")]),
                Segment(id=1, start=1.1, end=2.0, text="好的", words=[Word(start=1.1, end=2.0, text="好的")]),
                Segment(id=2, start=2.1, end=2.6, text="OK", language="en", words=[Word(start=2.1, end=2.6, text="OK")]),
                Segment(id=3, start=2.7, end=3.2, text="买iPhone", words=[Word(start=2.7, end=2.9, text="买"), Word(start=2.9, end=3.2, text="iPhone")]),
                Segment(id=4, start=3.3, end=3.6, text="15", words=[Word(start=3.3, end=3.6, text="15")])]
    tokens = tokens_from(Transcript(language="zh", duration=4, segments=segments))
    assert "".join(t.text for t in tokens) == "我们走吧。好的 OK 买iPhone 15"


def test_unspaced_reading_speed_and_long_lines_are_measured_without_spaces() -> None:
    from cpwhisperx.compliance import CueFacts

    line = "一二三四五六七八九十一二三四五六七"  # 17 characters, no space: no excuse of one long word
    report = measure([CueFacts(1, 0, 2000, (line[:9], line[9:])), CueFacts(2, 2100, 4100, (line,))], cjk_rules(), "zh")
    assert report["violations"]["line_length"] == 1 and report["worst"]["line_length"][0]["cue"] == 2
    assert report["violations"]["reading_speed"] == 0  # 17 characters in 2 s is 8.5 cps, with no space counted
    cue = layout(unspaced_speech(CHINESE_WORDS[:9], "zh"), cjk_rules(8))[0]
    assert len(cue.lines) == 2 and cue.text == "".join(cue.lines)
