"""Mel-frequency cepstral coefficients in numpy: the acoustic description of a voice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cpwhisperx.diarize import AudioSource

SAMPLE_RATE = 16000
FRAME = 400      # 25 ms
HOP = 160        # 10 ms
FFT_SIZE = 512
MEL_BANDS = 40
LOW_HZ, HIGH_HZ = 60.0, 7600.0
FRAMES_PER_SECOND = SAMPLE_RATE / HOP
BLOCK_FRAMES = 3000  # 30 s described at a time


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(bands: int = MEL_BANDS) -> np.ndarray:
    """Triangular filters, (bands, FFT_SIZE // 2 + 1)."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(LOW_HZ), _hz_to_mel(HIGH_HZ), bands + 2))
    bins = np.fft.rfftfreq(FFT_SIZE, 1 / SAMPLE_RATE)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def dct_matrix(count: int, bands: int = MEL_BANDS) -> np.ndarray:
    """Orthonormal DCT-II rows 1..count (c0, the loudness, says little about who speaks)."""
    n = np.arange(bands)
    rows = np.arange(1, count + 1)[:, None]
    return (np.sqrt(2.0 / bands) * np.cos(np.pi * rows * (2 * n + 1) / (2 * bands))).astype(np.float32)


def region_features(audio: AudioSource, start: int, end: int, coefficients: int = 19,
                    block_frames: int = BLOCK_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """MFCCs with their deltas (frames, 2 * coefficients) and log energy (frames,) of samples
    [start, end) of 16 kHz audio, one frame per 10 ms. The samples are read and described
    `block_frames` frames at a time, each block with the samples its frames and pre-emphasis reach
    into, so that a long region costs one block of audio; the result is that of the whole at once."""
    end = min(end, audio.samples)
    length = end - start
    if length < FRAME:
        return np.zeros((0, 2 * coefficients), np.float32), np.zeros(0, np.float32)
    count = 1 + (length - FRAME) // HOP
    features = np.empty((count, 2 * coefficients), np.float32)
    energy = np.empty(count, np.float32)
    for first in range(0, count, block_frames):
        last = min(count, first + block_frames)
        lo, hi = start + first * HOP, start + (last - 1) * HOP + FRAME
        if first == 0:
            samples = audio.read(lo, hi)
            emphasised = np.append(samples[0], samples[1:] - 0.97 * samples[:-1]).astype(np.float32)
        else:
            samples = audio.read(lo - 1, hi)   # the sample before the block, for its pre-emphasis
            emphasised = (samples[1:] - 0.97 * samples[:-1]).astype(np.float32)
        features[first:last, :coefficients], energy[first:last] = _frame_features(emphasised, last - first, coefficients)
    for first in range(0, count, block_frames):
        last = min(count, first + block_frames)
        features[first:last, coefficients:] = _deltas(features[:, :coefficients], first, last)
    return features, energy


def _frame_features(emphasised: np.ndarray, count: int, coefficients: int) -> tuple[np.ndarray, np.ndarray]:
    frames = np.lib.stride_tricks.as_strided(emphasised, (count, FRAME), (emphasised.strides[0] * HOP, emphasised.strides[0]))
    frames = frames * np.hamming(FRAME).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, FFT_SIZE)) ** 2
    log_mel = np.log(power @ mel_filterbank().T + 1e-8)
    energy = np.log(power.sum(axis=1) + 1e-8)
    return (log_mel @ dct_matrix(coefficients).T).astype(np.float32), energy.astype(np.float32)


def _deltas(features: np.ndarray, first: int, last: int, width: int = 2) -> np.ndarray:
    """Regression deltas over ±width frames of frames [first, last), the edge frames of the whole
    repeated beyond its ends."""
    reach = features[np.clip(np.arange(first - width, last + width), 0, len(features) - 1)]
    length = last - first
    weights = np.arange(1, width + 1)
    total = sum(w * (reach[width + w:length + width + w] - reach[width - w:length + width - w]) for w in weights)
    return (total / (2 * (weights ** 2).sum())).astype(np.float32)
