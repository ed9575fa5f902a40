"""Peak memory of `cpwx transcribe` against the length of the media: 2, 20 and 120 minutes of speech.

    .venv/bin/python benchmarks/memory.py [--minutes 2,20,120] [--set KEY=VALUE ...] [--long-set KEY=VALUE ...]

Each file is real LibriVox speech (the five Sense and Sensibility readings, joined with pauses of
0.6 to 3 s) repeated with FFmpeg to the length, encoded as FLAC. `cpwx transcribe` runs on it in
a child process; its peak RSS is the child's own rusage (what `/usr/bin/time -v` reports), and
each stage's peak is the `resources.peak_memory_mb` of its manifest. `--set` applies to every
length; `--long-set` adds to it for files longer than 20 minutes (by default tiny.en with beam 1,
as a 120-minute run with base takes hours on two cores).
Targets: 20 min / 2 min ≤ 1.3, 120 min / 2 min ≤ 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from cpwhisperx.media import SAMPLE_RATE, tool_path
from cpwhisperx.samples import librivox_clips

STAGES = ("01_demux", "05_vad", "06_asr", "07_alignment", "10_hallucination_removal", "12_subtitle_generation")
LONG_DEFAULT = ["WHISPER_MODEL=tiny.en", "WHISPER_BEAM_SIZE=1", "WHISPER_BEST_OF=1"]
PAUSES = (0.6, 1.4, 3.0, 0.9, 2.2)


def speech_round(out: Path) -> float:
    """The LibriVox readings with pauses between them, as one WAV; its length in seconds."""
    pieces = []
    for clip, pause in zip(librivox_clips(), PAUSES, strict=True):
        with wave.open(str(clip.path), "rb") as handle:
            pieces.append(np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2"))
        pieces.append(np.zeros(int(pause * SAMPLE_RATE), "<i2"))
    samples = np.concatenate(pieces)
    with wave.open(str(out), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(samples.tobytes())
    return len(samples) / SAMPLE_RATE


def speech_file(minutes: int, round_wav: Path, out_dir: Path) -> Path:
    out = out_dir / f"speech_{minutes}min.flac"
    subprocess.run([tool_path("ffmpeg"), "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(round_wav),
                    "-t", str(minutes * 60), "-c:a", "flac", str(out)], check=True)
    return out


def transcribe_peak(media: Path, workdir: Path, options: list[str]) -> tuple[float, float, Path]:
    """Wall seconds, the child's peak RSS in MB, and the job directory of one `cpwx transcribe`."""
    workdir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "cpwhisperx", "transcribe", str(media)]
    for option in options:
        args += ["--set", option]
    started = time.perf_counter()
    with open(workdir / "stderr.txt", "wb") as stderr:
        child = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=stderr)
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the largest of all runs so far.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"cpwx transcribe failed ({child.returncode}):\n{(workdir / 'stderr.txt').read_text()[-3000:]}")
    (job,) = sorted(p.parent for p in (workdir / "out").glob("*/*/*/*/job-*/job.json"))[-1:]
    peak_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / (1024 * 1024)
    return elapsed, peak_mb, job


def stage_peaks(job: Path) -> dict[str, float]:
    peaks = {}
    for stage in STAGES:
        manifest = job / stage / "manifest.json"
        if manifest.is_file():
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if data["status"] == "success":
                peaks[stage] = data["resources"]["peak_memory_mb"]
    return peaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", default="2,20,120", help="comma-separated lengths in minutes (default 2,20,120)")
    parser.add_argument("--set", dest="common", action="append", default=[], metavar="KEY=VALUE", help="for every length")
    parser.add_argument("--long-set", dest="long", action="append", default=None, metavar="KEY=VALUE",
                        help=f"added for lengths over 20 minutes (default: {' '.join(LONG_DEFAULT)})")
    parser.add_argument("--keep", type=Path, help="keep the media and the jobs in this directory")
    args = parser.parse_args()
    lengths = sorted({int(m) for m in args.minutes.split(",") if m.strip()})
    long_options = LONG_DEFAULT if args.long is None else args.long
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        round_seconds = speech_round(root / "round.wav")
        print(f"speech: the five LibriVox readings with pauses, {round_seconds:.1f} s, repeated to each length (FLAC)")
        results: dict[tuple[int, tuple[str, ...]], float] = {}
        runs = [(minutes, tuple(args.common + (long_options if minutes > 20 else []))) for minutes in lengths]
        if any(minutes > 20 for minutes in lengths) and long_options and 2 in lengths:
            runs.insert(1, (2, tuple(args.common + long_options)))  # the 2-minute reference for the long runs' ratio
        for minutes, options in runs:
            media = speech_file(minutes, root / "round.wav", root)
            seconds, peak, job = transcribe_peak(media, root / f"run_{minutes}min_{len(results)}", list(options))
            results[(minutes, options)] = peak
            shown = " ".join(f"{stage.split('_', 1)[1]} {mb:.0f}" for stage, mb in stage_peaks(job).items())
            print(f"{minutes:>4} min  peak RSS {peak:7.1f} MB  ({seconds:7.1f} s; --set {' '.join(options) or '(defaults)'})", flush=True)
            print(f"          stage peaks (MB): {shown}", flush=True)
    for (minutes, options), peak in results.items():
        if minutes > 2 and (2, options) in results:
            target = 1.3 if minutes <= 20 else 1.5
            print(f"ratio {minutes}/2 min ({' '.join(options) or 'defaults'}): {peak / results[(2, options)]:.3f} (target ≤ {target})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
