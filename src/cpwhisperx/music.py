"""Tells music-dominated or sung audio from ordinary speech, from the audio alone.

Speech is a chain of syllables and pauses: its loudness envelope swings widely several times a
second. Music, singing over music, and noise keep a steady floor of sound. Two measures per
2-second window capture that and need no language knowledge:

- the spread (interquartile range) of the log RMS envelope: above 0.6 for read speech, even with
  music 20 dB under it; under 0.4 for chords (short breaks between them included), sung lines
  over music, or noise;
- the low-energy ratio: the share of 10 ms frames quieter than half the window's mean RMS
  (0.2–0.5 for speech, near 0 for music).

Windows too quiet to judge score 0: silence is neither speech nor music.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# The lyrics stage's file of music regions, which the SDH track and the QC report read too.
MUSIC_FILE = "music.json"

SAMPLE_RATE = 16000
FRAME_S, HOP_S = 0.025, 0.010
SILENT_RMS = 0.003
# Logistic centres and widths, set on LibriVox, read card names, Hindi news, chords and noise.
SPREAD_CENTRE, SPREAD_WIDTH = 0.5, 0.05
LOW_ENERGY_CENTRE, LOW_ENERGY_WIDTH = 0.10, 0.03
SPREAD_WEIGHT = 0.75
WINDOWS_PER_BATCH = 2000


@dataclass(frozen=True)
class MusicRegion:
    start: float
    end: float
    score: float


def frame_rms(blocks: Iterable[np.ndarray], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """RMS of 25 ms frames every 10 ms over consecutive blocks of the audio, equal to that of the
    whole audio at once: the running sum of squares is carried across blocks in the same order."""
    size, hop = int(FRAME_S * sample_rate), int(HOP_S * sample_rate)
    sums = np.zeros(1)  # sums[i]: sum of the squares of the samples before the i-th one from `start`
    found: list[np.ndarray] = []
    for block in blocks:
        if not len(block):
            continue
        running = np.cumsum(np.concatenate([sums[-1:], block.astype(np.float64) ** 2]))
        sums = np.concatenate([sums[:-1], running])
        count = (len(sums) - 1 - size) // hop + 1 if len(sums) - 1 >= size else 0
        if count:
            starts = np.arange(count) * hop
            found.append(np.sqrt((sums[starts + size] - sums[starts]) / size + 1e-12))
            sums = sums[count * hop:]  # the next frame starts here
    if not found:  # shorter than one frame: the frame is completed with silence
        found.append(np.sqrt(sums[-1:] / size + 1e-12))
    return np.concatenate(found)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def music_profile(blocks: Iterable[np.ndarray], sample_rate: int = SAMPLE_RATE, window_s: float = 2.0,
                  hop_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Window centre times (s) and a music score in [0, 1] per window (1: music or singing dominates),
    from the audio given as consecutive blocks (a whole array is one block)."""
    rms = frame_rms(blocks, sample_rate)
    per_window, step = max(1, int(window_s / HOP_S)), max(1, int(hop_s / HOP_S))
    if len(rms) < per_window:
        rms = np.pad(rms, (0, per_window - len(rms)))
    starts = np.arange(0, len(rms) - per_window + 1, step)
    all_windows = np.lib.stride_tricks.sliding_window_view(rms, per_window)
    score = np.empty(len(starts))
    for first in range(0, len(starts), WINDOWS_PER_BATCH):  # each window on its own: batches keep memory flat
        windows = all_windows[starts[first:first + WINDOWS_PER_BATCH]]
        mean = windows.mean(axis=1)
        quartiles = np.percentile(np.log(windows + 1e-4), [25, 75], axis=1)
        spread = quartiles[1] - quartiles[0]
        low_energy = (windows < 0.5 * mean[:, None]).mean(axis=1)
        batch = (SPREAD_WEIGHT * _logistic((SPREAD_CENTRE - spread) / SPREAD_WIDTH)
                 + (1 - SPREAD_WEIGHT) * _logistic((LOW_ENERGY_CENTRE - low_energy) / LOW_ENERGY_WIDTH))
        batch[mean < SILENT_RMS] = 0.0
        score[first:first + len(batch)] = batch
    times = (starts + per_window / 2) * HOP_S
    return times, score


def music_regions(times: np.ndarray, scores: np.ndarray, threshold: float = 0.5, min_duration_s: float = 3.0) -> list[MusicRegion]:
    """Merged stretches of a music profile whose score stays above `threshold` for at least `min_duration_s`."""
    regions: list[MusicRegion] = []
    run: list[int] = []
    for index in [*range(len(scores)), -1]:
        if index >= 0 and scores[index] > threshold:
            run.append(index)
            continue
        if run:
            start, end = max(0.0, times[run[0]] - 1.0), times[run[-1]] + 1.0
            if end - start >= min_duration_s:
                regions.append(MusicRegion(round(float(start), 2), round(float(end), 2), round(float(scores[run].mean()), 3)))
            run = []
    return regions


def music_share(times: np.ndarray | list[float], scores: np.ndarray | list[float], start: float, end: float, threshold: float = 0.5) -> float:
    """Share of the windows centred inside [start, end] whose score is above `threshold`."""
    t, s = np.asarray(times), np.asarray(scores)
    inside = (t >= start) & (t <= end)
    if not inside.any():
        if len(t) == 0:
            return 0.0
        inside = np.abs(t - (start + end) / 2) == np.abs(t - (start + end) / 2).min()
    return float((s[inside] > threshold).mean())
