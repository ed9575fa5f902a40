"""Helpers shared by the benchmark scripts: running the real command, and English text scoring."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

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
    (txt,) = (job / "11_subtitle_generation").glob("*.txt")
    return txt.read_text(encoding="utf-8")
