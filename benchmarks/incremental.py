"""Incremental re-runs on the sample film: a second run, and a run with one ASR setting changed.

    .venv/bin/python benchmarks/incremental.py

Prints the wall time of the first run, of an unchanged second run (target < 10 % of the first),
and which stages `--set WHISPER_BEAM_SIZE=1` runs again (target: asr and what follows only).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import run_transcribe

from cpwhisperx.samples import build_sample_film


def run_again(job: Path, *extra: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cpwhisperx", "run", "--job-dir", str(job), *extra],
                            capture_output=True, text=True, check=True)
    return time.perf_counter() - started, result.stdout


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        film = Path(tmp) / "sample_film.mp4"
        build_sample_film(film)
        first, job = run_transcribe(film, Path(tmp) / "work")
        second, out = run_again(job)
        changed, changed_out = run_again(job, "--set", "WHISPER_BEAM_SIZE=1")
    ran = re.search(r"ran ([^;\n]*)", out).group(1)  # type: ignore[union-attr]
    ran_changed = re.search(r"ran ([^;\n]*)", changed_out).group(1)  # type: ignore[union-attr]
    print(f"first run:                    {first:6.2f} s")
    print(f"second run, nothing changed:  {second:6.2f} s  = {second / first:.1%} of the first (target < 10 %); ran: {ran}")
    print(f"WHISPER_BEAM_SIZE=1:          {changed:6.2f} s; ran: {ran_changed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
