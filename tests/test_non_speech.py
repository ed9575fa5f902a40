"""Audio with no speech yields no cues; sung parts over music are marked, speech kept."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import cpwx, ffmpeg, job_dirs, manifest

CHORDS = ("aevalsrc=" + "+".join(
    f"0.12*sin(2*PI*{f}*t)*(1-between(mod(t\\,2)\\,1.9\\,2))*lt(mod(t\\,8)\\,{limit})"
    for f, limit in ((261.63, 4), (329.63, 4), (392.0, 4), (220.0, 8), (277.18, 8), (349.23, 8)))
    + ":s=16000:d=60")


def cue_count(job: Path) -> int:
    (srt,) = (job / "12_subtitle_generation").glob("*.srt")
    return sum(1 for block in srt.read_text(encoding="utf-8").split("\n\n") if block.strip())


@pytest.mark.parametrize(
    ("name", "source", "settings"),
    [
        ("silence.wav", "anullsrc=r=16000:cl=mono", []),
        ("white_noise.wav", "anoisesrc=r=16000:c=white:a=0.3", []),
        ("chords.wav", CHORDS, []),
        # Without VAD, Whisper decodes the music itself and invents text; none of it may become a cue.
        ("chords_no_vad.wav", CHORDS, ["--set", "VAD_ENABLED=false"]),
        # Hindi: what base invents on noise and music when told the speech is Hindi.
        ("noise_hi_no_vad.wav", "anoisesrc=r=16000:c=pink:a=0.1", ["-s", "hi", "--set", "VAD_ENABLED=false"]),
        ("chords_hi_no_vad.wav", CHORDS, ["-s", "hi", "--set", "VAD_ENABLED=false"]),
    ],
)
def test_no_speech_no_cues(name: str, source: str, settings: list[str], make_media: Callable[..., Path], tmp_path: Path) -> None:
    media = make_media(name, "-f", "lavfi", "-i", source, "-t", "60", "-ac", "1", "-ar", "16000")
    result = cpwx("subtitle", str(media), *settings, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    assert cue_count(job) == 0, (job / "12_subtitle_generation").glob("*.srt")
    mkv = job / "13_mux" / f"{Path(name).stem}_subtitled.mkv"
    assert mkv.is_file()
    record = json.loads((job / "job.json").read_text())
    assert record["status"] == "success"
    dropped = json.loads((job / "10_hallucination_removal" / "hallucinations.json").read_text())
    for segment in dropped:
        assert segment["flags"]["hallucination"]
    assert manifest(job, "12_subtitle_generation")["status"] == "success"
    qc = json.loads((job / "13_mux" / "qc.json").read_text(encoding="utf-8"))
    assert [section["cues"] for section in qc["languages"].values()] == [0]


LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
SONG = "Love is all around me, love is in the air tonight. Love is all around me, I can feel it in my heart."


@pytest.fixture(scope="module")
def speech_then_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two read sentences over quiet chords, then a synthetic voice singing over loud chords."""
    folder = tmp_path_factory.mktemp("song")
    subprocess.run(["espeak-ng", "-v", "en", "-s", "110", "-p", "60", "-w", str(folder / "voice.wav"), SONG], check=True)
    bed = ("aevalsrc=0.1*sin(2*PI*261.63*t)+0.1*sin(2*PI*329.63*t)+0.1*sin(2*PI*392*t)"
           "+0.1*sin(2*PI*220*t)*lt(mod(t\\,4)\\,2):s=16000:d=60")
    graph = ("[0][1]concat=n=2:v=0:a=1,apad=pad_dur=1[speech];[2]aresample=16000[song];"
             "[speech][song]concat=n=2:v=0:a=1[voice];[3]volume=0.08,atrim=0:14[quiet];"
             "[3]volume=0.9,atrim=14:40,asetpts=PTS-STARTPTS[loud];[quiet][loud]concat=n=2:v=0:a=1[music];"
             "[voice][music]amix=inputs=2:duration=longest:normalize=0")
    out = folder / "speech_then_song.wav"
    ffmpeg("-i", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870.wav"),
           "-i", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0890.wav"), "-i", str(folder / "voice.wav"),
           "-f", "lavfi", "-i", bed, "-filter_complex", graph, "-ac", "1", "-ar", "16000", str(out))
    return out


def test_speech_over_music_kept_and_song_marked(speech_then_song: Path, tmp_path: Path) -> None:
    result = cpwx("subtitle", str(speech_then_song), "-s", "en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    srt = (job / "12_subtitle_generation" / "speech_then_song.en.srt").read_text(encoding="utf-8")
    blocks = [b for b in srt.split("\n\n") if b.strip()]
    speech = [b for b in blocks if "<i>" not in b]
    sung = [b for b in blocks if "<i>♪" in b and "♪</i>" in b]
    assert "dashwood" in " ".join(speech).lower() and "selfish" in " ".join(speech).lower()
    assert sung and "love" in " ".join(sung).lower()
    assert all("love" not in b.lower() for b in speech)
    flagged = json.loads((job / "09_lyrics_detection" / "transcript.json").read_text())["segments"]
    assert all("lyrics" not in s["flags"] or s["start"] > 12 for s in flagged)
    assert any("music-dominated" in s["flags"].get("lyrics", "") for s in flagged)
    # the review page flags the sung cues, and no spoken one
    from cpwhisperx.jobs import Job
    from cpwhisperx.review.flags import cue_sheet

    sheet = cue_sheet(Job.load(job), "en", 0.5)["cues"]
    lyric = [" ".join(c["lines"]).lower() for c in sheet if {"kind": "lyrics"} in c["flags"]]
    assert len(lyric) == len(sung) and "love" in " ".join(lyric) and all("♪" not in text for text in lyric)
    assert all("love" not in " ".join(c["lines"]).lower() for c in sheet if {"kind": "lyrics"} not in c["flags"])

    dropped = cpwx("run", "--job-dir", str(job), "--set", "LYRICS_MODE=drop", cwd=tmp_path)
    assert dropped.returncode == 0 and "ran subtitle_generation, mux" in dropped.stdout
    srt = (job / "12_subtitle_generation" / "speech_then_song.en.srt").read_text(encoding="utf-8")
    assert "love" not in srt.lower() and "dashwood" in srt.lower()
