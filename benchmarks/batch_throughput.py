"""Catalogue throughput: 8 films of 30–90 s of real speech, `cpwx batch` against 8 separate
`cpwx transcribe` runs one after another, and whether their transcripts are the same.

    .venv/bin/python benchmarks/batch_throughput.py [--configs auto,1x2,2x1] [--work DIR]

The films: 4 English ones from the LibriVox sample recordings (the sample film at 30, 50, 70 and
90 s) and 4 Hindi ones joined from `../shared/data/hindi-dev` clips, each Hindi film marked `hi` in
the manifest. Caching is off in every run, so each one recognises all of its audio. Each batch
configuration (workers × threads per worker; `auto` is what `cpwx batch` chooses) is run in a
fresh folder, all in one run of this script: the ratios compare like with like. The separate
runs' transcripts are kept in WORK/serial_transcripts.json for `batch_ray.py`.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

from common import hindi_films, run_transcribe, transcript_text

from cpwhisperx.media import tool_path
from cpwhisperx.samples import build_sample_film

NO_CACHE = ("--set", "CACHE_ENABLED=false")


def build_films(folder: Path) -> list[tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    english = []
    for seconds in (30, 50, 70, 90):
        path = folder / f"english-{seconds}s.mp4"
        build_sample_film(path, min_duration=seconds)
        english.append((path, "en"))
    return english + [(path, "hi") for path, _ in hindi_films(folder, 4)]


def duration(path: Path) -> float:
    out = subprocess.run([tool_path("ffprobe"), "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def run_batch(manifest: Path, workdir: Path, config: str) -> tuple[float, dict[str, str], dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    extra = [] if config == "auto" else ["--workers", config.split("x")[0], "--threads-per-worker", config.split("x")[1]]
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cpwhisperx", "batch", str(manifest), *NO_CACHE, *extra], cwd=workdir,
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"cpwx batch failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    (record_path,) = (workdir / "out" / "batches").glob("*/batch.json")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    texts = {Path(e["media"]).name: transcript_text(Path(e["job_dir"])) for e in record["films"]}
    return elapsed, texts, record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cpwx-bench-batch"))
    parser.add_argument("--configs", default="auto", help="comma-separated batch configurations: auto, or WORKERSxTHREADS")
    args = parser.parse_args()
    films = build_films(args.work / "films")
    manifest = args.work / "films" / "films.csv"
    manifest.write_text("media,source_language\n" + "".join(f"{p.name},{lang}\n" for p, lang in films), encoding="utf-8")
    audio = sum(duration(p) for p, _ in films)
    print(f"{len(films)} films, {audio:.0f} s of audio ({', '.join(f'{duration(p):.0f}' for p, _ in films)} s)")

    run_stamp = time.strftime("%Y%m%d-%H%M%S")
    serial_seconds, serial_texts = 0.0, {}
    for path, language in films:
        seconds, job = run_transcribe(path, args.work / f"serial-{run_stamp}" / path.stem, "-s", language, *NO_CACHE)
        serial_seconds += seconds
        serial_texts[path.name] = transcript_text(job)
        print(f"  cpwx transcribe {path.name}: {seconds:.1f} s")
    (args.work / "serial_transcripts.json").write_text(json.dumps(serial_texts, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"8 separate `cpwx transcribe` runs: {serial_seconds:.1f} s ({audio / serial_seconds:.2f}× real time)")
    for config in args.configs.split(","):
        seconds, texts, record = run_batch(manifest, args.work / f"batch-{config}-{run_stamp}", config)
        same = sum(texts[name] == serial_texts[name] for name in serial_texts)
        peaks = [e["peak_memory_mb"] for e in record["films"] if e.get("peak_memory_mb")]
        print(f"cpwx batch ({config}: {record['workers']} workers × {record['threads_per_worker']} threads): {seconds:.1f} s "
              f"({audio / seconds:.2f}× real time), throughput {serial_seconds / seconds:.2f}× the separate runs; "
              f"identical transcripts: {same}/{len(serial_texts)}; peak worker memory {max(peaks):.0f} MB")
        for name in serial_texts:
            if texts[name] != serial_texts[name]:
                print(f"  differs: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
