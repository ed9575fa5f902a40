"""Pure logic of the stages: word alignment, hallucination verdicts, batching windows."""

from __future__ import annotations

import pytest

from cpwhisperx.hallucination import Thresholds, judge, repetition_loop
from cpwhisperx.stages.alignment import align, clamp_into_regions
from cpwhisperx.transcript import Segment, Transcript, Word

T = Thresholds(min_speech_overlap=0.2, max_repeats=4, compression_ratio=2.4, log_prob=-1.0, no_speech=0.6)


def seg(i: int, start: float, end: float, text: str, **extra: float) -> Segment:
    return Segment(id=i, start=start, end=end, text=text, avg_logprob=extra.get("lp", -0.2),
                   compression_ratio=extra.get("cr", 1.2), no_speech_prob=extra.get("ns", 0.01))


def test_words_clamped_into_segment_and_speech_and_monotonic() -> None:
    words = [Word(start=0.5, end=1.4, text=" a"), Word(start=1.2, end=1.6, text=" b"), Word(start=3.0, end=3.3, text=" c"),
             Word(start=4.9, end=6.5, text=" d")]
    transcript = Transcript(language="en", duration=10, segments=[Segment(id=0, start=1.0, end=6.0, text="a b c d", words=words)])
    aligned, moved = align(transcript, regions=[(1.0, 2.0), (4.0, 6.0)])
    got = [(w.start, w.end) for w in aligned.segments[0].words]
    assert got[0] == (1.0, 1.4)               # into the segment
    assert got[1][0] >= got[0][1]              # monotonic
    assert 4.0 <= got[2][0] <= got[2][1] <= 6.0 or 1.0 <= got[2][0] <= got[2][1] <= 2.0  # moved into speech
    assert got[3] == (4.9, 6.0)
    assert moved >= 3
    assert aligned.segments[0].start == got[0][0] and aligned.segments[0].end == got[-1][1]


def test_clamp_keeps_words_inside_speech() -> None:
    assert clamp_into_regions(1.2, 1.5, [(1.0, 2.0)]) == (1.2, 1.5)
    assert clamp_into_regions(2.5, 2.7, [(1.0, 2.0), (5.0, 6.0)]) == pytest.approx((1.8, 2.0))


def test_short_real_words_are_kept() -> None:
    segments = [seg(0, 1.0, 1.3, "जी"), seg(1, 2.0, 2.2, "Oh."), seg(2, 3.0, 3.2, "हाँ")]
    assert judge(segments, "hi", [(0.8, 3.5)], T) == {}


def test_loops_phrases_and_thresholds() -> None:
    segments = [
        seg(0, 1, 3, "Thank you. " * 6),
        seg(1, 4, 6, "Subtitles by the Amara.org community"),
        seg(2, 7, 9, "कृपया हमारे चैनल को सब्सक्राइब करें"),
        seg(3, 10, 12, "words far from any speech"),
        seg(4, 13, 15, "a a a a a a a a a a", cr=3.1),
        seg(5, 16, 18, "quiet nonsense", ns=0.9, lp=-1.5),
        seg(6, 19, 20, "धन्यवाद", ns=0.5),
        seg(7, 21, 22, "धन्यवाद", ns=0.01, lp=-0.1),
    ]
    regions = [(0.5, 9.5), (12.5, 22.5)]
    verdicts = judge(segments, "hi", regions, T)
    assert "repetition loop" in verdicts[0]
    assert "amara.org" in verdicts[1]
    assert "सब्सक्राइब" in verdicts[2]
    assert "outside detected speech" in verdicts[3]
    assert "compression ratio" in verdicts[4]
    assert "no-speech probability" in verdicts[5]
    assert "weak speech evidence" in verdicts[6]
    assert 7 not in verdicts  # a confident "thank you" is dialogue


def test_echo_of_the_steering_prompt_over_noise_is_dropped() -> None:
    # what base wrote on 30 s of white noise with language=hi and the Devanagari steering prompt
    echo = "आज की मुख्य ख़बरें प्रकार है।"
    assert "steering prompt" in judge([seg(0, 1, 3, echo, ns=0.976, lp=-0.59)], "hi", None, T)[0]
    assert judge([seg(0, 1, 3, echo, ns=0.02, lp=-0.3)], "hi", None, T) == {}  # a news reader's clear opening
    assert judge([seg(0, 1, 3, "मौसम एक बार फिर बदलेगा", ns=0.9, lp=-0.9)], "hi", None, T) == {}


def test_english_phrases_do_not_judge_hindi() -> None:
    assert judge([seg(0, 1, 2, "thank you", ns=0.5)], "hi", None, T) == {}
    assert judge([seg(0, 1, 2, "thank you", ns=0.5)], "en", None, T)


def test_repeated_segments_are_a_loop() -> None:
    segments = [seg(i, i, i + 0.9, "I am here.") for i in range(5)] + [seg(5, 5, 5.9, "Go now.")]
    verdicts = judge(segments, "en", None, T)
    assert sorted(verdicts) == [1, 2, 3, 4]  # the first copy stays, every repeat goes
    three = [seg(i, i, i + 0.9, "Help me.") for i in range(3)]
    assert judge(three, "en", None, T) == {}  # under HALLUCINATION_MAX_REPEATS: real speech


def test_repetition_loop_needs_many_single_words() -> None:
    assert repetition_loop("no, no, no, no", 4) is None
    assert repetition_loop("no " * 8, 4) is not None
    assert repetition_loop("go to the shop go to the shop go to the shop go to the shop", 4) is not None
