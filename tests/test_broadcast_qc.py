"""A 3-minute film of three voices and ten shot changes at known times, subtitled by the real command:
speakers against the known turns, cues against the rules of their language and the cuts, the
delivery files against their schemas, and the QC report in a real browser."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pysubs2
import pytest

from conftest import cpwx, job_dirs, manifest
from speakers import ESPEAK_VOICES, SENTENCES, Conversation, conversation, synthetic_voices
from test_qc_report import browser, lane_box, pixels_of, screenshot  # noqa: F401  (browser: the fixture)

from cpwhisperx.diarize import Turn
from cpwhisperx.diarize.der import diarization_error, one_speaker
from cpwhisperx.layout import dialogue_dashes, graphemes
from cpwhisperx.qc.timeline import SHOT, SPEECH, language_colour, speaker_colour
from cpwhisperx.subtitle_rules import rules_from
from cpwhisperx.config import Settings

FPS = 25
# Ten cuts: some fall in pauses, some inside speech.
CUTS = (14.0, 31.2, 47.6, 63.0, 80.4, 97.8, 113.2, 130.6, 147.0, 163.4)
PATTERNS = ("testsrc2", "smptebars", "rgbtestsrc", "color=c=0x2060a0", "smptehdbars", "mandelbrot",
            "yuvtestsrc", "color=c=0xc04020", "pal100bars", "color=c=0x40a040", "testsrc")
# Another 18 sentences, so that no voice says a line twice.
MORE_SENTENCES = (
    "The doctor said he should rest for a week and drink plenty of water.",
    "Our neighbours painted their door bright yellow, and the whole street talked about it.",
    "The library stays open late on Fridays, so the students can finish their work.",
    "When the power went out, we lit candles and told stories until midnight.",
    "The fishermen came back early because the sea was far too rough.",
    "I have kept the same bicycle for twenty years, and it still rides well.",
    "The bakery on the corner sells the best bread in the whole town.",
    "Her brother missed the last bus and had to walk home in the rain.",
    "The teacher asked every child to bring one question to the next lesson.",
    "A letter from the bank arrived this morning, asking for a signature.",
    "The garden looks different every season, but it is loveliest in spring.",
    "They planted a young oak tree in the square to mark the new year.",
    "The old clock in the hall stopped at exactly three in the afternoon.",
    "We will need a bigger table if the whole family comes for lunch.",
    "The museum has a room full of maps that sailors drew centuries ago.",
    "He forgot his umbrella on the train, and it was never found again.",
    "The concert was cancelled at the last minute because the singer was ill.",
    "She learned to swim in the lake behind her grandfather's house.",
)


@dataclass(frozen=True)
class QcFilm:
    job: Path
    film: Path
    reference: list[Turn]


def make_film(folder: Path, speech: Conversation) -> Path:
    """The conversation over eleven shots of different test patterns, cut at CUTS, 25 fps."""
    wav = speech.write_wav(folder / "speech.wav")
    bounds = [0.0, *CUTS, speech.duration]
    frames = [round(b * FPS) - round(a * FPS) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts = [f"{source}{':' if '=' in source else '='}size=320x180:rate={FPS},trim=end_frame={count},setpts=PTS-STARTPTS,format=yuv420p[v{n}]"
             for n, (source, count) in enumerate(zip(PATTERNS, frames, strict=True))]
    graph = ";".join(parts) + ";" + "".join(f"[v{n}]" for n in range(len(parts))) + f"concat=n={len(parts)}:v=1:a=0[video]"
    film = folder / "three voices.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-filter_complex", graph, "-i", str(wav),
                    "-map", "[video]", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "96k",
                    "-shortest", str(film)], check=True)
    return film


@pytest.fixture(scope="module")
def qc_film(tmp_path_factory: pytest.TempPathFactory) -> QcFilm:
    folder = tmp_path_factory.mktemp("qc-film")
    voices = synthetic_voices("espeak-ng", ESPEAK_VOICES[:3], sentences=SENTENCES + MORE_SENTENCES, per_voice=10)
    speech = conversation(voices, turns=30, pause=2.2, seed=3)
    assert 170 < speech.duration < 200, speech.duration
    film = make_film(folder, speech)
    result = cpwx("subtitle", str(film), "-s", "en", "--set", "SUBTITLE_FORMATS=srt,vtt,ttml,ebu-tt-d", cwd=folder)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(folder)
    return QcFilm(job, film, speech.turns)


def cues_of(film: QcFilm, suffix: str = "en.srt") -> list[pysubs2.SSAEvent]:
    (path,) = (film.job / "12_subtitle_generation").glob(f"*.{suffix}")
    return [e for e in pysubs2.load(str(path), encoding="utf-8") if e.plaintext.strip()]


def words_of(film: QcFilm) -> list[dict]:
    (path,) = (film.job / "12_subtitle_generation").glob("*.en.json")
    return [w | {"speaker": seg.get("speaker")} if w.get("speaker") is None else w
            for seg in json.loads(path.read_text(encoding="utf-8"))["segments"] for w in seg["words"]]


def test_speakers_found_better_than_one_speaker_by_half(qc_film: QcFilm) -> None:
    turns = json.loads((qc_film.job / "08_diarization" / "turns.json").read_text(encoding="utf-8"))
    hypothesis = [Turn(t["start"], t["end"], t["speaker"]) for t in turns["turns"]]
    found = diarization_error(qc_film.reference, hypothesis, collar=0.25).rate
    naive = diarization_error(qc_film.reference, one_speaker(qc_film.reference), collar=0.25).rate
    assert found <= naive / 2, f"DER {found:.1%} against {naive:.1%} for one speaker"
    assert len(turns["speakers"]) == 3


def test_the_cuts_are_found_on_their_frames(qc_film: QcFilm) -> None:
    shots = json.loads((qc_film.job / "01_demux" / "shot_changes.json").read_text(encoding="utf-8"))
    assert shots["frame_rate"] == FPS
    assert [round(t * FPS) for t in shots["shot_changes"]] == [round(c * FPS) for c in CUTS]


def test_every_cue_keeps_the_rules_of_its_language(qc_film: QcFilm) -> None:
    report = manifest(qc_film.job, "12_subtitle_generation")["metrics"]["compliance"]["en"]
    rules = rules_from(Settings(), "en")
    assert report["limits"]["reading_speed"] == rules.max_cps == 17
    assert report["all_within"], report["violations"]
    assert report["timing"]["all_within"], report["timing"]["violations"]
    for event in cues_of(qc_film):
        duration = (event.end - event.start) / 1000
        lines = event.plaintext.split("\n")
        assert len(lines) <= rules.max_lines and all(graphemes(line) <= rules.max_line_length for line in lines), lines
        assert rules.min_duration - 0.001 <= duration <= rules.max_duration, (event.start, event.end)
        assert graphemes(" ".join(lines)) / duration <= rules.max_cps + 1e-6, event.plaintext
        for time in (event.start, event.end):  # whole frames
            assert abs(time / 1000 * FPS - round(time / 1000 * FPS)) * 1000 / FPS <= 1.0, time


def test_no_cue_crosses_a_cut_its_speech_does_not_cross(qc_film: QcFilm) -> None:
    words = words_of(qc_film)
    crossings = 0
    for event in cues_of(qc_film):
        start, end = event.start / 1000, event.end / 1000
        inside = [w for w in words if w["start"] < end and w["end"] > start]
        for cut in CUTS:
            if start < cut < end:
                crossings += 1
                assert inside and inside[0]["start"] < cut < inside[-1]["end"], (cut, event.plaintext)
    assert crossings < len(CUTS)  # some cuts fall in pauses and split no cue


def test_a_cue_holds_two_speakers_only_with_dashes(qc_film: QcFilm) -> None:
    words = words_of(qc_film)
    first, second = dialogue_dashes("en")
    assert {w["speaker"] for w in words} >= {"SPEAKER_1", "SPEAKER_2", "SPEAKER_3"}
    for event in cues_of(qc_film):
        start, end = event.start / 1000, event.end / 1000
        speakers = {w["speaker"] for w in words if w["start"] >= start - 0.05 and w["end"] <= end + 0.05}
        if len(speakers) > 1:
            lines = event.plaintext.split("\n")
            assert len(speakers) == 2 and len(lines) == 2, event.plaintext
            assert lines[0].startswith(first) and lines[1].startswith(second), event.plaintext


def test_delivery_files_validate(qc_film: QcFilm) -> None:
    from test_timed_text import ebu_tt_d_schema, imsc_schema

    (ttml,) = (qc_film.job / "12_subtitle_generation").glob("*.en.ttml")
    (ebu,) = (qc_film.job / "12_subtitle_generation").glob("*.en.ebu-tt-d.xml")
    imsc_schema().validate(str(ttml))
    ebu_tt_d_schema().validate(str(ebu))
    assert ttml.read_text(encoding="utf-8").count("<p ") == len(cues_of(qc_film))


def test_qc_report_shows_the_timeline(browser, qc_film: QcFilm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    qc = json.loads((qc_film.job / "13_mux" / "qc.json").read_text(encoding="utf-8"))
    assert qc["shot_changes"] == len(CUTS)
    picture = screenshot(browser, qc_film.job / "13_mux" / "qc_report.html", tmp_path / "qc_report_three_voices.png")
    for layer, colours in {"speech": [SPEECH], "cues-en": [language_colour(0)], "shots": [SHOT],
                           "speakers": [speaker_colour(0), speaker_colour(1), speaker_colour(2)]}.items():
        box = lane_box(browser, "overview", layer)
        for colour in colours:
            assert pixels_of(picture, box, colour) >= 10, (layer, colour)
