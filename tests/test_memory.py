"""Per-stage peak memory: each stage's own figure, and the process's figure left as outside tools see it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import job_dirs, manifest

from cpwhisperx.memory import PeakMemory, current_rss_mb, process_peak_mb

# Runs the command given after it and prints the largest resident set size of its children, as
# `/usr/bin/time -v` reports it.
RUSAGE_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run([sys.executable, *sys.argv[1:]], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
sys.exit(code)
"""
MB = 1024 * 1024


def test_stage_peaks_leave_the_process_peak_as_outside_tools_see_it(short_clip: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", RUSAGE_WRAPPER, "-m", "cpwhisperx", "transcribe", str(short_clip)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    seen_outside = float(result.stdout.strip().splitlines()[-1])
    (job,) = job_dirs(tmp_path)
    peaks = {d: manifest(job, d)["resources"]["peak_memory_mb"] for d in ("01_demux", "05_vad", "06_asr", "07_alignment")}
    # the model's weights count in asr only, and the process's peak is asr's, not the last stage's
    assert peaks["01_demux"] < peaks["06_asr"] and peaks["07_alignment"] < peaks["06_asr"], peaks
    assert seen_outside >= peaks["06_asr"] - 2, (seen_outside, peaks)
    assert seen_outside <= max(peaks.values()) + 5, (seen_outside, peaks)


def test_peak_below_an_earlier_peak_is_sampled() -> None:
    earlier = np.ones(300 * MB // 8)  # raises the process's peak well above what follows
    del earlier
    before = current_rss_mb()
    process_peak = process_peak_mb()
    assert before is not None and process_peak is not None
    with PeakMemory() as meter:
        block = np.ones(100 * MB // 8)
        time.sleep(0.2)  # sampling sees what a stage holds for longer than its interval
        del block
    assert meter.peak_mb is not None
    assert before + 90 <= meter.peak_mb <= before + 130, (before, meter.peak_mb)
    assert process_peak_mb() == process_peak  # nothing was reset


def test_new_process_peak_is_the_exact_peak() -> None:
    with PeakMemory() as meter:
        block = np.ones((int(process_peak_mb() or 0) + 200) * MB // 8)
        del block
    assert meter.peak_mb == process_peak_mb()
