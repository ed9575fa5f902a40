"""Languages written without spaces between words, through the real command and the real model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pysubs2
import pytest
import regex

from conftest import cpwx, job_dirs, manifest
from cpwhisperx.layout import graphemes

CJK = r"[\p{Han}\p{Hiragana}\p{Katakana}]"
MANDARIN = "我们今天去北京。天气很好，我们很高兴。你想喝茶吗？我想喝一杯绿茶。"


@pytest.fixture(scope="module")
def mandarin_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four Mandarin sentences spoken by espeak-ng. Its `cmn` voice reads the characters missing from
    its small dictionary as pinyin spelt out in English (Whisper hears digits); `cmn-latn-pinyin` is
    the same Mandarin voice reading them as pinyin."""
    path = tmp_path_factory.mktemp("mandarin") / "mandarin clip.wav"
    subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "140", "-w", str(path), MANDARIN], check=True)
    return path


def test_mandarin_subtitles_add_no_space_between_characters(mandarin_clip: Path, tmp_path: Path) -> None:
    result = cpwx("transcribe", str(mandarin_clip), "-s", "zh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    whisper = json.loads((job / "06_asr" / "transcript.json").read_text(encoding="utf-8"))
    written = [seg["text"] for seg in whisper["segments"]] + [w["text"] for seg in whisper["segments"] for w in seg["words"]]
    whisper_text = "".join(seg["text"] for seg in whisper["segments"])
    assert len(regex.findall(CJK, whisper_text)) >= 15, whisper_text  # base heard Chinese
    out = job / "12_subtitle_generation"
    for fmt in ("srt", "vtt"):
        lines = [line for event in pysubs2.load(str(out / f"mandarin clip.zh.{fmt}"), encoding="utf-8")
                 for line in event.plaintext.split("\n")]
        for line in lines:
            assert graphemes(line) <= 16, line
            for pair in regex.finditer(CJK + r"\s+" + CJK, line, overlapped=True):
                assert any(pair.group(0) in text for text in written), f"space Whisper did not write: {pair.group(0)!r} in {line!r}"
        # nothing lost or reordered
        assert regex.sub(r"\s", "", "".join(lines)) == regex.sub(r"\s", "", whisper_text)
    report = manifest(job, "12_subtitle_generation")["metrics"]["compliance"]["zh"]
    assert report["limits"]["line_length"] == 16  # the limit for Chinese, not SUBTITLE_MAX_LINE_LENGTH
    assert report["within"]["line_length"] == 1.0 and report["within"]["line_count"] == 1.0, report
