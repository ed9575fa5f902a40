"""SDH and forced-narrative tracks: what they hold, and how they are flagged in the muxed video."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pysubs2
import pytest

from cpwhisperx.layout import Cue, LayoutRules
from cpwhisperx.media import SubtitleTrack, mux_subtitles
from cpwhisperx.sdh import MusicRegion, sdh_cues
from cpwhisperx.stages.mux import chosen_files, default_track, track_title
from cpwhisperx.subtitles import write_subtitles
from cpwhisperx.tracks import forced_cues
from cpwhisperx.transcript import Segment, Transcript, Word
from conftest import cpwx, ffmpeg, job_dirs, manifest

RULES = LayoutRules()


def segment(number: int, start: float, end: float, text: str, speaker: str | None = None, name: str | None = None,
            lyrics: bool = False, language: str | None = None) -> Segment:
    parts = text.split()
    step = (end - start) / len(parts)
    words = [Word(start=start + i * step, end=start + (i + 1) * step - 0.02, text=" " + part, speaker=speaker)
             for i, part in enumerate(parts)]
    return Segment(id=number, start=start, end=end, text=" " + text, words=words, speaker=speaker, speaker_name=name,
                   flags={"lyrics": "sung"} if lyrics else {}, language=language)


def diarized_scene() -> Transcript:
    return Transcript(language="en", duration=30.0, segments=[
        segment(0, 0.0, 2.0, "Where were you last night?", "SPEAKER_1", "Asha"),
        segment(1, 2.6, 4.0, "I waited for hours.", "SPEAKER_1", "Asha"),
        segment(2, 5.5, 7.5, "At the station, like always.", "SPEAKER_2"),
        segment(3, 9.0, 12.0, "oh river carry me home", "SPEAKER_2", lyrics=True),
        segment(4, 18.0, 20.0, "Did you hear that song?", "SPEAKER_1", "Asha"),
    ])


def srt_texts(cues: list[Cue], tmp_path: Path) -> list[tuple[int, int, str]]:
    """The cues as an SRT file holds them, read back."""
    path = tmp_path / "film.en.sdh.srt"
    write_subtitles(cues, path, "srt", "en")
    return [(event.start, event.end, event.plaintext) for event in pysubs2.load(str(path))]


def test_sdh_names_each_new_speaker_marks_songs_and_tags_music(tmp_path: Path) -> None:
    music = [MusicRegion(8.5, 12.5), MusicRegion(13.0, 17.0)]
    events = srt_texts(sdh_cues(diarized_scene(), RULES, music), tmp_path)
    texts = [text.replace("\n", " ") for _, _, text in events]
    assert texts[0].startswith("[Asha] Where were you last night?")
    assert "I waited for hours." in " ".join(texts) and sum("[Asha]" in t for t in texts) == 2  # not again for her second line
    assert any(t.startswith("[speaker 2] At the station") for t in texts)
    (song,) = [t for t in texts if "river" in t]
    assert song.startswith("♪") and song.endswith("♪") and "[" not in song
    assert any(t.startswith("[Asha] Did you hear") for t in texts)
    # Music the song already covers gets no tag; the music without speech gets one, inside it.
    (tag,) = [(start, end) for start, end, text in events if text == "[music]"]
    assert 13000 <= tag[0] < tag[1] <= 17000
    # No cue holds two speakers, and none overlaps another.
    assert all(sum(t.count(who) for who in ("[Asha]", "[speaker 2]")) <= 1 for t in texts)
    assert all(a[1] <= b[0] for a, b in zip(events, events[1:]))


def test_sdh_without_diarization_has_no_speaker_ids() -> None:
    plain = Transcript(language="hi", duration=10.0, segments=[segment(0, 0.0, 2.0, "कहाँ थे तुम?"), segment(1, 3.0, 5.0, "स्टेशन पर।")])
    cues = sdh_cues(plain, RULES, [MusicRegion(6.0, 9.0)])
    assert [c.lines for c in cues] == [["कहाँ थे तुम?"], ["स्टेशन पर।"], ["[संगीत]"]]


def test_forced_track_holds_only_the_foreign_dialogue() -> None:
    """A Hindi film's English translation: the Spanish line needs reading to an English viewer;
    the Hindi lines and the line spoken in English do not."""
    english = Transcript(language="en", duration=20.0, segments=[
        segment(0, 0.0, 2.0, "Where are you going?"),
        segment(1, 3.0, 5.0, "Where is the station, please?", language="es"),
        segment(2, 6.0, 8.0, "Thank you very much.", language="en"),
        segment(3, 9.0, 11.0, "Come back soon."),
    ])
    cues = forced_cues(english, "hi", RULES)
    assert [c.text for c in cues] == ["Where is the station, please?"]
    assert 2.5 <= cues[0].start <= 3.0


def test_the_mux_picks_one_file_per_language_and_kind() -> None:
    records = [{"language": "en", "format": f, "path": f"x.{f}", **({"track": t} if t else {})}
               for f in ("vtt", "srt", "ttml", "ebu-tt-d") for t in ("", "sdh", "forced")]
    chosen = chosen_files(records)
    assert sorted(chosen) == [("en", "forced"), ("en", "full"), ("en", "sdh")]
    assert {record["format"] for record in chosen.values()} == {"srt"}


@pytest.mark.parametrize(("language", "kind", "expected"), [
    ("", "full", ("en", "full")),          # the first target language's full track
    ("", "forced", ("en", "forced")),
    ("hi", "sdh", ("hi", "sdh")),
    ("hi", "forced", ("hi", "full")),      # Hindi has no forced track: its full one
    ("none", "full", None),
])
def test_default_track_is_the_one_asked_for(language: str, kind: str, expected: tuple[str, str] | None) -> None:
    tracks = [("hi", "full"), ("hi", "sdh"), ("en", "full"), ("en", "sdh"), ("en", "forced")]
    assert default_track(tracks, language, kind, ["en"], ["hi", "en"]) == expected


def test_muxed_tracks_carry_their_titles_and_dispositions(tmp_path: Path) -> None:
    video = tmp_path / "film.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=3", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
           "-c:v", "mpeg4", "-c:a", "aac", "-shortest", str(video))
    cue = [Cue(0.5, 2.0, ["Hello."])]
    files = {}
    for kind in ("full", "sdh", "forced"):
        files[kind] = tmp_path / f"film.en.{kind}.srt"
        write_subtitles(cue, files[kind], "srt")
    tracks = [SubtitleTrack(files["full"], "eng", track_title("English", "full"), False),
              SubtitleTrack(files["sdh"], "eng", track_title("English", "sdh"), False, hearing_impaired=True),
              SubtitleTrack(files["forced"], "eng", track_title("English", "forced"), True, forced=True)]
    out = tmp_path / "film_subtitled.mkv"
    mux_subtitles(video, tracks, "mkv", out)
    probe = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-select_streams", "s", str(out)],
                           capture_output=True, text=True, check=True)
    streams = json.loads(probe.stdout)["streams"]
    shown = [(s["tags"]["title"], s["tags"]["language"], s["disposition"]["default"], s["disposition"]["forced"],
              s["disposition"]["hearing_impaired"]) for s in streams]
    assert shown == [("English", "eng", 0, 0, 0), ("English SDH", "eng", 0, 0, 1), ("English (forced)", "eng", 1, 1, 0)]


def test_subtitle_stage_writes_sdh_and_timed_text_files(job_copy: Path) -> None:
    result = cpwx("run", "--job-dir", str(job_copy), "--from", "subtitle_generation", "--set", "SUBTITLE_SDH=true",
                  "--set", "SUBTITLE_FORMATS=srt,ttml,ebu-tt-d", cwd=job_copy.parent)
    assert result.returncode == 0, result.stderr
    stage = job_copy / "12_subtitle_generation"
    outputs = {Path(r["path"]).name: r for r in manifest(job_copy, "12_subtitle_generation")["outputs"]}
    (sdh,) = [name for name in outputs if name.endswith(".sdh.srt")]
    stem_lang = sdh.removesuffix(".sdh.srt")
    for suffix in ("srt", "ttml", "ebu-tt-d.xml", "sdh.ttml", "sdh.ebu-tt-d.xml"):
        name = f"{stem_lang}.{suffix}"
        assert (stage / name).is_file() and name in outputs, name
    assert outputs[f"{stem_lang}.ebu-tt-d.xml"]["format"] == "ebu-tt-d" and outputs[sdh]["track"] == "sdh"
    root = ET.parse(stage / f"{stem_lang}.ttml").getroot()
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == stem_lang.rsplit(".", 1)[1]
    assert len(list(root.iter("{http://www.w3.org/ns/ttml}p"))) == outputs[f"{stem_lang}.srt"]["cues"]


def test_subtitle_workflow_muxes_the_sdh_track_as_asked(sample_film: Path, tmp_path: Path) -> None:
    result = cpwx("subtitle", str(sample_film), "-s", "en", "--set", "SUBTITLE_SDH=true", "--set", "SUBTITLE_FORMATS=srt,ttml",
                  "--set", "MUX_DEFAULT_TRACK=sdh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    generated = manifest(job, "12_subtitle_generation")
    assert any(r["path"].endswith("09_lyrics_detection/music.json") for r in generated["inputs"])
    probe = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-select_streams", "s",
                            str(job / "13_mux" / "sample_film_subtitled.mkv")], capture_output=True, text=True, check=True)
    shown = [(s["tags"]["title"], s["disposition"]["default"], s["disposition"]["hearing_impaired"])
             for s in json.loads(probe.stdout)["streams"]]
    assert shown == [("English", 0, 0), ("English SDH", 1, 1)]
