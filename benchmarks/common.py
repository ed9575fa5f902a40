"""Helpers shared by the benchmark scripts: running the real command, and English text scoring."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

from cpwhisperx.media import SAMPLE_RATE, tool_path

HINDI_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "hindi-dev"
TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}


def normalise_english(text: str) -> str:
    """Lower-case, titles and numbers spelt out as the references spell them, no punctuation."""
    from num2words import num2words

    text = text.lower().replace("-", " ")
    text = re.sub(r"\b(mr|mrs|dr|st)\.", lambda m: TITLES[m.group(1)], text)
    text = re.sub(r"\d+", lambda m: " " + num2words(int(m.group())).replace("-", " ").replace(",", "") + " ", text)
    text = re.sub(r"[^\w\s']", " ", text).replace("'", "")
    return re.sub(r"\s+", " ", text).strip()


def run_transcribe(media: Path, workdir: Path, *extra: str) -> tuple[float, Path]:
    """`cpwx transcribe` in a child process; its wall time and its job directory."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cpwhisperx", "transcribe", str(media), *extra], cwd=workdir,
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"cpwx transcribe failed ({result.returncode}):\n{result.stderr}")
    (job,) = sorted(p.parent for p in (workdir / "out").glob("*/*/*/*/job-*/job.json"))[-1:]
    return elapsed, job


def transcript_text(job: Path) -> str:
    (txt,) = (job / "12_subtitle_generation").glob("*.txt")
    return txt.read_text(encoding="utf-8")


def asr_seconds(job: Path) -> float:
    """How long the ASR stage decoded (its transcribe_seconds: language detection and decoding)."""
    return float(json.loads((job / "06_asr" / "manifest.json").read_text(encoding="utf-8"))["metrics"]["transcribe_seconds"])


def hindi_films(folder: Path, count: int) -> list[tuple[Path, str]]:
    """The hindi-dev clips in `count` groups, each joined with short pauses into one film; each
    film with its reference text (the clips' references in order)."""
    with (HINDI_DEV / "manifest.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    films = []
    for index in range(count):
        group = rows[index::count]
        out = folder / f"hindi-{index + 1}.m4a"
        films.append((out, " ".join(row["reference_text"] for row in group)))
        if out.is_file():
            continue
        pause = np.zeros(int(0.8 * SAMPLE_RATE), "<i2")
        pieces = []
        for row in group:
            with wave.open(str(HINDI_DEV / row["file"]), "rb") as clip:
                pieces += [np.frombuffer(clip.readframes(clip.getnframes()), "<i2"), pause]
        wav = folder / f"hindi-{index + 1}.wav"
        with wave.open(str(wav), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(SAMPLE_RATE)
            handle.writeframes(np.concatenate(pieces).tobytes())
        subprocess.run([tool_path("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "96k", str(out)],
                       check=True)
        wav.unlink()
    return films
