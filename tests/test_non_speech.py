"""Audio with no speech yields no cues; sung parts over music are marked, speech kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import cpwx, job_dirs, manifest

CHORDS = ("aevalsrc=" + "+".join(
    f"0.12*sin(2*PI*{f}*t)*(1-between(mod(t\\,2)\\,1.9\\,2))*lt(mod(t\\,8)\\,{limit})"
    for f, limit in ((261.63, 4), (329.63, 4), (392.0, 4), (220.0, 8), (277.18, 8), (349.23, 8)))
    + ":s=16000:d=60")


def cue_count(job: Path) -> int:
    (srt,) = (job / "11_subtitle_generation").glob("*.srt")
    return sum(1 for block in srt.read_text(encoding="utf-8").split("\n\n") if block.strip())


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("silence.wav", "anullsrc=r=16000:cl=mono"),
        ("white_noise.wav", "anoisesrc=r=16000:c=white:a=0.3"),
        ("chords.wav", CHORDS),
    ],
)
def test_no_speech_no_cues(name: str, source: str, make_media: Callable[..., Path], tmp_path: Path) -> None:
    media = make_media(name, "-f", "lavfi", "-i", source, "-t", "60", "-ac", "1", "-ar", "16000")
    result = cpwx("subtitle", str(media), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    assert cue_count(job) == 0, (job / "11_subtitle_generation").glob("*.srt")
    mkv = job / "12_mux" / f"{Path(name).stem}_subtitled.mkv"
    assert mkv.is_file()
    record = json.loads((job / "job.json").read_text())
    assert record["status"] == "success"
    dropped = json.loads((job / "09_hallucination_removal" / "hallucinations.json").read_text())
    for segment in dropped:
        assert segment["flags"]["hallucination"]
    assert manifest(job, "11_subtitle_generation")["status"] == "success"
