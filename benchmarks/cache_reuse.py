"""Results reused across jobs: the same media in a new job, on the sample film and on a 2-hour film.

    .venv/bin/python benchmarks/cache_reuse.py [--long-hours 2] [--long-model tiny.en]

Each case runs `cpwx transcribe` in a fresh job twice, on a fresh CACHE_DIR, and prints the wall
times and their ratio (target ≤ 5 % on a film of 2 minutes or more: the 10-minute case; on the
62-second sample film the second run is mostly the fixed cost of starting Python and FFmpeg) and
the second run of the long film (target ≤ 10 s). The long film repeats the sample film's real speech, as AAC; its first run is long (it
decodes every hour), so the model for it can be chosen: the cached run does not load one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from common import run_transcribe

from cpwhisperx.samples import build_sample_film


def _asr_cache(job: Path) -> dict[str, object]:
    return json.loads((job / "06_asr" / "manifest.json").read_text(encoding="utf-8"))["cache"]  # type: ignore[no-any-return]


def _case(name: str, media: Path, work: Path, *extra: str) -> None:
    first, first_job = run_transcribe(media, work / "first", *extra)
    second, second_job = run_transcribe(media, work / "second", *extra)
    same = (first_job / "06_asr" / "transcript.json").read_text() == (second_job / "06_asr" / "transcript.json").read_text()
    cache = _asr_cache(second_job)
    print(f"{name}: first run {first:.1f} s, second run (new job) {second:.2f} s = {100 * second / first:.1f} % of the first; "
          f"asr cache hit {cache['hit']}, {cache['seconds_saved']} s of decoding saved; transcripts identical: {same}")


def _repeated(film: Path, seconds: float, out: Path) -> Path:
    """The film's real speech repeated for `seconds`, as AAC at 96 kbit/s."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(film), "-vn", "-t", str(seconds),
                    "-c:a", "aac", "-b:a", "96k", str(out)], check=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--film-minutes", type=float, default=10.0, help="length of the middle case, the sample film repeated")
    parser.add_argument("--long-hours", type=float, default=2.0, help="length of the long film (0: skip it)")
    parser.add_argument("--long-model", default="tiny.en", help="model for the long film's first run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["CACHE_DIR"] = str(work / "cache")
        film = work / "sample_film.mp4"
        build_sample_film(film)
        _case("sample film (62 s)", film, work / "sample", "-s", "en")
        if args.film_minutes > 0:
            _case(f"{args.film_minutes:g}-minute film", _repeated(film, args.film_minutes * 60, work / "film.m4a"), work / "film", "-s", "en")
        if args.long_hours > 0:
            long_film = _repeated(film, args.long_hours * 3600, work / "long_film.m4a")
            _case(f"{args.long_hours:g}-hour film", long_film, work / "long", "-s", "en", "--set", f"WHISPER_MODEL={args.long_model}",
                  "--set", "WHISPER_BEAM_SIZE=1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
