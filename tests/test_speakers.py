"""Speakers through transcripts and subtitles: words to turns, names, the .txt labels, two-speaker cues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpwhisperx.compliance import CueFacts, facts_from_file, measure
from cpwhisperx.diarize import Turn
from cpwhisperx.diarize.assign import assign_speakers
from cpwhisperx.diarize.names import apply_names, display_name, read_speaker_names
from cpwhisperx.errors import InvalidInput
from cpwhisperx.layout import LayoutRules, graphemes, layout
from cpwhisperx.stages.subtitle_generation import facts
from cpwhisperx.subtitles import plain_text, write_subtitles
from cpwhisperx.transcript import Segment, Transcript, Word

RULES = LayoutRules()


def timed_words(text: str, start: float, seconds_per_word: float = 0.32, gap: float = 0.04) -> list[Word]:
    words, t = [], start
    for word in text.split():
        words.append(Word(start=round(t, 3), end=round(t + seconds_per_word, 3), text=" " + word))
        t += seconds_per_word + gap
    return words


def segment(number: int, words: list[Word], **fields: object) -> Segment:
    return Segment(id=number, start=words[0].start, end=words[-1].end, text="".join(w.text for w in words).strip(), words=words,
                   **fields)  # type: ignore[arg-type]


# --- assigning speakers ------------------------------------------------------------------------

def test_each_word_gets_the_speaker_it_overlaps_most_or_the_nearest() -> None:
    words = [Word(start=0.0, end=1.0, text=" mostly"), Word(start=5.0, end=5.4, text=" later")]
    transcript = Transcript(language="en", duration=6, segments=[Segment(id=0, start=0.0, end=1.0, text="mostly", words=words[:1]),
                                                                 Segment(id=1, start=5.0, end=5.4, text="later", words=words[1:])])
    # SPEAKER_1 overlaps the first word 0.3 s, SPEAKER_2 0.6 s in two turns; no turn touches the second word
    turns = [Turn(0.0, 0.3, "SPEAKER_1"), Turn(0.3, 0.6, "SPEAKER_2"), Turn(0.7, 1.0, "SPEAKER_2"), Turn(0.6, 0.7, "SPEAKER_1"),
             Turn(1.2, 4.0, "SPEAKER_1"), Turn(6.0, 9.0, "SPEAKER_3")]
    result = assign_speakers(transcript, turns)
    assert [w.speaker for s in result.segments for w in s.words] == ["SPEAKER_2", "SPEAKER_3"]  # 5.4 is nearer 6.0 than 4.0
    assert [s.speaker for s in result.segments] == ["SPEAKER_2", "SPEAKER_3"]


def test_a_segment_is_split_where_the_speaker_changes() -> None:
    first, second = timed_words("Are you coming?", 0.5), timed_words("In a minute.", 1.7)
    third = timed_words("Good.", 3.5)
    transcript = Transcript(language="en", duration=5, segments=[
        segment(0, first + second, avg_logprob=-0.2, no_speech_prob=0.01, flags={"restored": "speech"}),
        segment(1, third)])
    turns = [Turn(0.4, 1.55, "SPEAKER_1"), Turn(1.6, 2.9, "SPEAKER_2"), Turn(3.4, 4.2, "SPEAKER_1")]
    result = assign_speakers(transcript, turns)
    assert [(s.id, s.speaker, s.text) for s in result.segments] == [
        (0, "SPEAKER_1", "Are you coming?"), (1, "SPEAKER_2", "In a minute."), (2, "SPEAKER_1", "Good.")]
    one, two = result.segments[:2]
    assert (one.start, one.end, two.start, two.end) == (first[0].start, first[-1].end, second[0].start, second[-1].end)
    assert all(s.flags == {"restored": "speech"} and s.avg_logprob == -0.2 and s.no_speech_prob == 0.01 for s in (one, two))
    assert all(w.speaker == s.speaker for s in result.segments for w in s.words)
    assert transcript.segments[0].speaker is None  # the input is left as it was


def test_a_split_in_a_language_written_without_spaces_adds_none() -> None:
    texts = ["我们", "今天", "去", "北京", "，", "买", "iPhone", " 15", "吗", "？"]
    words = [Word(start=round(0.3 * n, 3), end=round(0.3 * n + 0.25, 3), text=text) for n, text in enumerate(texts)]
    transcript = Transcript(language="zh", duration=4, segments=[Segment(id=0, start=0.0, end=2.95, text="".join(texts), words=words)])
    result = assign_speakers(transcript, [Turn(0.0, 1.4, "SPEAKER_1"), Turn(1.5, 3.0, "SPEAKER_2")])
    assert [s.text for s in result.segments] == ["我们今天去北京，", "买iPhone 15吗？"]
    assert [s.speaker for s in result.segments] == ["SPEAKER_1", "SPEAKER_2"]


def test_without_turns_the_transcript_is_unchanged_and_a_wordless_segment_goes_by_overlap() -> None:
    transcript = Transcript(language="en", duration=9, segments=[Segment(id=0, start=1.0, end=4.0, text="Translated text.")])
    assert assign_speakers(transcript, []) == transcript
    assert assign_speakers(transcript, []).segments[0].speaker is None
    result = assign_speakers(transcript, [Turn(0.0, 1.5, "SPEAKER_1"), Turn(1.5, 5.0, "SPEAKER_2")])
    assert result.segments[0].speaker == "SPEAKER_2" and result.segments[0].text == "Translated text."


def test_transcripts_written_before_speakers_still_load() -> None:
    old = {"version": 1, "language": "en", "duration": 2.0, "segments": [
        {"id": 0, "start": 0.0, "end": 1.0, "text": "Hello", "words": [{"start": 0.0, "end": 1.0, "text": " Hello", "probability": 0.9}]}]}
    transcript = Transcript.model_validate_json(json.dumps(old))
    assert transcript.segments[0].speaker is None and transcript.segments[0].words[0].speaker is None
    written = json.loads(assign_speakers(transcript, [Turn(0.0, 1.0, "SPEAKER_1")]).to_json())
    assert written["segments"][0]["speaker"] == "SPEAKER_1" and written["segments"][0]["words"][0]["speaker"] == "SPEAKER_1"
    assert written["segments"][0]["words"][0]["probability"] == 0.9


# --- speakers.tsv ------------------------------------------------------------------------------

def test_speaker_names_file(tmp_path: Path) -> None:
    path = tmp_path / "speakers.tsv"
    path.write_text("\ufeff# the interview\n\nSPEAKER_1\tAsha Rao\n  # a note\nSPEAKER_02\tThe Interviewer  \n", encoding="utf-8")
    names = read_speaker_names(path)
    assert names == {"SPEAKER_1": "Asha Rao", "SPEAKER_2": "The Interviewer"}
    assert display_name("SPEAKER_2", names) == "The Interviewer" and display_name("SPEAKER_3", names) == "SPEAKER_3"


@pytest.mark.parametrize(("row", "problem"), [
    ("SPEAKER_1 Asha", "no tab"), ("Asha\tSPEAKER_1", "not a speaker label"), ("SPEAKER_0\tNobody", "not a speaker label"),
    ("SPEAKER_1\t  ", "no name"), ("SPEAKER_1\tAsha\tRao", "more than one tab"), ("SPEAKER_1\tAgain", "named twice"),
])
def test_bad_rows_name_the_file_and_line(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "speakers.tsv"
    path.write_text(f"# names\nSPEAKER_1\tAsha\n{row}\n" if problem == "named twice" else f"# names\n\n{row}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_speaker_names(path)
    assert problem in caught.value.message and f"{path}, line 3" in caught.value.message
    assert caught.value.hint


def test_a_missing_names_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not found"):
        read_speaker_names(tmp_path / "nowhere.tsv")


# --- the .txt transcript ------------------------------------------------------------------------

def dialogue() -> Transcript:
    parts = [("SPEAKER_1", "Are you coming?"), ("SPEAKER_1", "We are late."), ("SPEAKER_2", "In a minute."), ("SPEAKER_1", "Hurry.")]
    segments = [Segment(id=n, start=2.0 * n, end=2.0 * n + 1.5, text=f" {text}", speaker=who) for n, (who, text) in enumerate(parts)]
    return Transcript(language="en", duration=9, segments=segments)


def test_txt_labels_each_turn_and_is_unchanged_without_speakers() -> None:
    plain = Transcript(language="en", duration=3, segments=[Segment(id=0, start=0, end=1, text=" One."),
                                                            Segment(id=1, start=1, end=2, text=" Two.")])
    assert plain_text(plain) == "One.\nTwo.\n"
    assert plain_text(dialogue()) == "SPEAKER_1: Are you coming? We are late.\nSPEAKER_2: In a minute.\nSPEAKER_1: Hurry.\n"
    named = apply_names(dialogue(), {"SPEAKER_2": "Ravi"})
    assert plain_text(named) == "SPEAKER_1: Are you coming? We are late.\nRavi: In a minute.\nSPEAKER_1: Hurry.\n"
    assert [s.speaker for s in named.segments] == [s.speaker for s in dialogue().segments]  # the label stays in the .json
    assert json.loads(named.to_json())["segments"][2]["speaker_name"] == "Ravi"
    chinese = Transcript(language="zh", duration=3, segments=[Segment(id=0, start=0, end=1, text="我们走吧。", speaker="SPEAKER_1"),
                                                              Segment(id=1, start=1, end=2, text="好的。", speaker="SPEAKER_1")])
    assert plain_text(chinese) == "SPEAKER_1: 我们走吧。好的。\n"


# --- subtitles ----------------------------------------------------------------------------------

QUICK = [("Are you coming?", "In a minute."), ("Where are the keys?", "On the table."), ("Is it raining?", "Not yet."),
         ("Did you call her?", "Twice.")]
LONG = [("I have been thinking about everything you told me yesterday at the station.",
         "You were right about him, and I should have listened to you much earlier.")]


def conversation(exchanges: list[tuple[str, str]], answer_after: float = 0.2, seconds_per_word: float = 0.32,
                 between: float = 1.8) -> Transcript:
    """Exchanges of two speakers, as Whisper gives them (one segment each, across the change of
    speaker) and as the diarization stage leaves them (assign_speakers with the turns)."""
    segments: list[Segment] = []
    turns: list[Turn] = []
    t = 0.5
    for question, answer in exchanges:
        asked = timed_words(question, t, seconds_per_word)
        answered = timed_words(answer, asked[-1].end + answer_after, seconds_per_word)
        segments.append(segment(len(segments), asked + answered))
        turns += [Turn(asked[0].start - 0.05, asked[-1].end + 0.05, "SPEAKER_1"),
                  Turn(answered[0].start - 0.05, answered[-1].end + 0.1, "SPEAKER_2")]
        t = answered[-1].end + between
    return assign_speakers(Transcript(language="en", duration=t + 1, segments=segments), turns)


def assert_speakers_kept_apart(cues: list, language: str = "en") -> None:  # type: ignore[type-arg]
    for cue in cues:
        assert len(cue.speakers) <= 2
        if len(cue.speakers) == 2:
            assert len(cue.lines) == 2 and all(graphemes(line) <= RULES.max_line_length for line in cue.lines), cue.lines


def test_a_quick_exchange_of_short_lines_shares_a_cue_with_dashes() -> None:
    transcript = conversation(QUICK)
    cues = layout(transcript, RULES)
    assert [c.lines for c in cues] == [[f"-{q}", f"-{a}"] for q, a in QUICK]
    assert all(c.speakers == ("SPEAKER_1", "SPEAKER_2") for c in cues)
    report = measure(facts(cues), RULES, "en")
    assert report["all_within"], report
    assert all(graphemes(" ".join(c.lines)) / (c.end - c.start) <= RULES.max_cps for c in cues)


def test_dialogue_dashes_follow_the_language() -> None:
    french = conversation([("Tu viens ?", "J'arrive.")]).model_copy(update={"language": "fr"})
    assert layout(french, RULES)[0].lines == ["- Tu viens ?", "- J'arrive."]
    dutch = conversation([("Kom je?", "Zo meteen.")]).model_copy(update={"language": "nl"})
    assert layout(dutch, RULES)[0].lines == ["Kom je?", "-Zo meteen."]


def test_long_turns_and_slow_answers_get_cues_of_their_own() -> None:
    transcript = conversation(LONG + QUICK[:1], answer_after=0.2)
    cues = layout(transcript, RULES)
    assert_speakers_kept_apart(cues)
    assert all(len(c.speakers) == 1 for c in cues[:-1]) and cues[-1].lines == ["-Are you coming?", "-In a minute."]
    long_cues = [c for c in cues if c.speakers == ("SPEAKER_1",)]
    assert " ".join(c.text for c in long_cues) == LONG[0][0]
    # a dash opens a whole turn only: never the end of one begun in the cue before
    words = timed_words("Well, I went down to the old market by the river, and then I came home.", 0.5)
    reply = timed_words("Why?", words[-1].end + 0.2)
    told = assign_speakers(Transcript(language="en", duration=9, segments=[segment(0, words + reply)]),
                           [Turn(0.4, words[-1].end + 0.05, "SPEAKER_1"), Turn(reply[0].start - 0.05, 9.0, "SPEAKER_2")])
    for rules in (RULES, LayoutRules(max_lines=2, max_line_length=30)):
        cues = layout(told, rules)
        assert [c.speakers for c in cues][-1] == ("SPEAKER_2",) and all(len(c.speakers) == 1 for c in cues), [c.lines for c in cues]
    # an answer 0.8 s later is no quick exchange: a cue of its own, no dashes
    slow = layout(conversation(QUICK[:2], answer_after=0.8), RULES)
    assert [c.lines for c in slow] == [[q] for pair in QUICK[:2] for q in pair]
    assert all(len(c.speakers) == 1 for c in slow)
    assert measure(facts(slow), RULES, "en")["all_within"]


def test_a_shared_cue_keeps_the_reading_speed() -> None:
    """Fast talk with no free time between the exchanges: two lines in one cue would be read too fast,
    so each speaker keeps a cue of their own; the last exchange, with time after it, shares one."""
    fast = [("Where were you all of last night?", "Out with friends from work, sorry.")]
    rules = LayoutRules(max_cps=15)
    cues = layout(conversation(fast * 3, seconds_per_word=0.2, answer_after=0.1, between=0.3), rules)
    assert_speakers_kept_apart(cues)
    assert [len(c.speakers) for c in cues] == [1, 1, 1, 1, 2]
    assert graphemes(" ".join(cues[-1].lines)) / (cues[-1].end - cues[-1].start) <= 15 + 1e-9
    report = measure(facts(cues), rules, "en")
    assert report["violations"]["speakers"] == 0 and 5 not in [item["cue"] for item in report["worst"]["reading_speed"]]
    # with a little more time to read, every exchange shares a cue, and all keep the reading speed
    relaxed = layout(conversation(fast * 3, seconds_per_word=0.3, answer_after=0.1, between=0.3), rules)
    assert [len(c.speakers) for c in relaxed] == [2, 2, 2] and measure(facts(relaxed), rules, "en")["all_within"]


def test_a_speaker_change_is_never_mixed_into_one_cue(tmp_path: Path) -> None:
    """Many short turns in quick succession (A, B, A, B, …): each cue holds one speaker, or two in the dash form."""
    words: list[Word] = []
    turns: list[Turn] = []
    t = 0.3
    for number in range(12):
        spoken = timed_words("Yes, I know that." if number % 2 else "Right, so what now?", t)
        turns.append(Turn(spoken[0].start, spoken[-1].end + 0.05, f"SPEAKER_{number % 2 + 1}"))
        words += spoken
        t = spoken[-1].end + 0.15
    transcript = assign_speakers(Transcript(language="en", duration=t + 1, segments=[segment(0, words)]), turns)
    assert len(transcript.segments) == 12
    cues = layout(transcript, RULES)
    assert_speakers_kept_apart(cues)
    assert measure(facts(cues), RULES, "en")["violations"]["speakers"] == 0
    assert " ".join(line.lstrip("-") for c in cues for line in c.lines) == " ".join(s.text for s in transcript.segments)
    path = tmp_path / "talk.srt"
    write_subtitles(cues, path, "srt")
    assert [f.lines for f in facts_from_file(path)] == [tuple(c.lines) for c in cues]


def test_compliance_counts_a_cue_mixing_speakers_without_dashes() -> None:
    both = ("SPEAKER_1", "SPEAKER_2")
    cues = [CueFacts(1, 0, 2500, ("Are you coming?", "In a minute."), both),
            CueFacts(2, 3000, 5500, ("-Are you coming?", "-In a minute."), both),
            CueFacts(3, 6000, 8500, ("-Are you coming? -Yes.",), both),
            CueFacts(4, 9000, 11500, ("Are you coming?", "In a minute.")),  # read back from a file: speakers unknown
            CueFacts(5, 12000, 14500, ("-One.", "-Two. -Three."), ("SPEAKER_1", "SPEAKER_2", "SPEAKER_3"))]
    report = measure(cues, RULES, "en")
    assert report["violations"]["speakers"] == 3 and not report["all_within"]
    assert sorted(item["cue"] for item in report["worst"]["speakers"]) == [1, 3, 5]
    french = measure([CueFacts(1, 0, 2500, ("- Tu viens ?", "- J'arrive."), both)], RULES, "fr")
    assert french["violations"]["speakers"] == 0


def test_a_sentence_to_translate_ends_where_the_speaker_changes() -> None:
    from cpwhisperx.translate.sentences import build_sentences

    question = Segment(id=0, start=0.0, end=1.2, text=" So you went to", speaker="SPEAKER_1")
    answer = Segment(id=1, start=1.3, end=2.0, text=" the station yes.", speaker="SPEAKER_2")
    assert [s.text for s in build_sentences([question, answer])] == ["So you went to", "the station yes."]
    same = answer.model_copy(update={"speaker": "SPEAKER_1"})
    assert [s.text for s in build_sentences([question, same])] == ["So you went to the station yes."]
