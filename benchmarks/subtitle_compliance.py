"""Cue-layout compliance of `cpwx subtitle` on the sample film and a 2-minute real-speech film.

    .venv/bin/python benchmarks/subtitle_compliance.py

For each film: the manifest's per-limit share, and the same measured again on the written SRT.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cpwhisperx.compliance import LIMITS, facts_from_file, measure
from cpwhisperx.layout import LayoutRules
from cpwhisperx.samples import build_sample_film


def subtitle(media: Path, workdir: Path) -> Path:
    workdir.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "cpwhisperx", "subtitle", str(media), "-s", "en"], cwd=workdir, check=True,
                   capture_output=True, text=True)
    (job,) = [p.parent for p in (workdir / "out").glob("*/*/*/*/job-*/job.json")]
    return job


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        films = {"sample film (62 s)": Path(tmp) / "sample_film.mp4", "2-minute film (122 s)": Path(tmp) / "long_film.mkv"}
        build_sample_film(films["sample film (62 s)"])
        build_sample_film(films["2-minute film (122 s)"], repeat=2, min_duration=125.0)
        print(f"{'film':<24} {'source':<9} {'cues':>4} " + " ".join(f"{limit:>13}" for limit in LIMITS))
        for number, (label, film) in enumerate(films.items()):
            job = subtitle(film, Path(tmp) / str(number))
            manifest = json.loads((job / "12_subtitle_generation" / "manifest.json").read_text())
            report = manifest["metrics"]["compliance"]["en"]
            (srt,) = (job / "12_subtitle_generation").glob("*.srt")
            again = measure(facts_from_file(srt), LayoutRules())
            for source, data in (("manifest", report), ("SRT", again)):
                print(f"{label:<24} {source:<9} {data['cues']:>4} " + " ".join(f"{data['within'][limit]:>13.1%}" for limit in LIMITS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
