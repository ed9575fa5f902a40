"""Cue layout rules, checked on the cues and again on the written files."""

from __future__ import annotations

import random
from pathlib import Path

import pysubs2
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
