"""Speech regions with the Silero VAD model faster-whisper ships as ONNX, streamed from the WAV.

The audio is read in blocks; the model's recurrent state and the few samples of context it sees
before each window are carried from one block to the next, so the speech probabilities are those
of the whole file at once, while memory stays the same whatever the length of the media. The
probabilities (one float per 32 ms) are then turned into regions with the semantics of
faster-whisper's `get_speech_timestamps`: hysteresis between two thresholds, a minimum pause to
end a region, over-long regions split at a pause, and padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cpwhisperx.media import SAMPLE_RATE, WavReader

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cpwhisperx.config import Settings

WINDOW = 512  # samples the model judges at a time (32 ms)
CONTEXT = 64  # samples before each window that the model sees with it
BLOCK_WINDOWS = 1875  # 60 s of audio per model call
STATE_SHAPE = (1, 1, 128)
# A pause at least this long (in seconds) is where an over-long region may be split.
SPLIT_PAUSE_SECONDS = 0.098


@dataclass(frozen=True)
class VadParameters:
    threshold: float = 0.5
    min_speech_duration_ms: int = 0
    max_speech_duration_s: float = math.inf
    min_silence_duration_ms: int = 2000
    speech_pad_ms: int = 400
    # Below this a window is silence; between it and `threshold` it continues what came before.
    neg_threshold: float | None = None

    @classmethod
    def from_settings(cls, s: Settings) -> VadParameters:
        return cls(threshold=s.VAD_THRESHOLD, min_speech_duration_ms=s.VAD_MIN_SPEECH_DURATION_MS,
                   max_speech_duration_s=s.VAD_MAX_SPEECH_DURATION_S, min_silence_duration_ms=s.VAD_MIN_SILENCE_DURATION_MS,
                   speech_pad_ms=s.VAD_SPEECH_PAD_MS)


def detect_speech(reader: WavReader, parameters: VadParameters, block_windows: int = BLOCK_WINDOWS) -> list[tuple[int, int]]:
    """Speech regions as sample ranges [start, end)."""
    probabilities = speech_probabilities(reader, block_windows)
    return speech_regions(probabilities, reader.samples, parameters)


def _model_blocks(reader: WavReader, block_windows: int) -> Iterator[np.ndarray]:
    """The audio as (windows, WINDOW) blocks, with the zero padding the model is given at the end:
    up to the next whole window, and a whole window more when the audio ends on a window boundary."""
    size = block_windows * WINDOW
    position = 0
    while True:
        samples = reader.read(position, position + size)
        position += len(samples)
        if len(samples) == size:
            yield samples.reshape(-1, WINDOW)
            continue
        last = np.zeros(len(samples) + WINDOW - len(samples) % WINDOW, np.float32)
        last[:len(samples)] = samples
        # faster-whisper blanks the context part of the final window before it reaches the model
        last[-CONTEXT:] = 0.0
        yield last.reshape(-1, WINDOW)
        return


def speech_probabilities(reader: WavReader, block_windows: int = BLOCK_WINDOWS) -> np.ndarray:
    """One speech probability per 512-sample window, equal to the whole file's in one call."""
    from faster_whisper.vad import get_vad_model

    session = get_vad_model().session
    h, c = np.zeros(STATE_SHAPE, np.float32), np.zeros(STATE_SHAPE, np.float32)
    context = np.zeros(CONTEXT, np.float32)
    found: list[np.ndarray] = []
    for windows in _model_blocks(reader, block_windows):
        before = np.empty((len(windows), CONTEXT), np.float32)
        before[0] = context
        before[1:] = windows[:-1, -CONTEXT:]
        context = windows[-1, -CONTEXT:].copy()
        probabilities, h, c = session.run(None, {"input": np.concatenate([before, windows], axis=1), "h": h, "c": c})
        found.append(np.asarray(probabilities, np.float32).reshape(-1))
    return np.concatenate(found)


def speech_regions(probabilities: np.ndarray, total_samples: int, parameters: VadParameters,
                   sample_rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """Padded speech regions, in samples, from the per-window probabilities."""
    regions = _unpadded_regions(probabilities, total_samples, parameters, sample_rate)
    return _pad(regions, total_samples, sample_rate * parameters.speech_pad_ms / 1000)


def _unpadded_regions(probabilities: np.ndarray, total_samples: int, p: VadParameters, rate: int) -> list[tuple[int, int]]:
    on = p.threshold
    off = p.neg_threshold if p.neg_threshold is not None else max(p.threshold - 0.15, 0.01)
    pad = rate * p.speech_pad_ms / 1000
    min_speech = rate * p.min_speech_duration_ms / 1000
    min_silence = rate * p.min_silence_duration_ms / 1000
    # the longest region before padding, so that the padded one stays within the maximum
    max_speech = rate * p.max_speech_duration_s - WINDOW - 2 * pad
    split_pause = rate * SPLIT_PAUSE_SECONDS

    regions: list[tuple[int, int]] = []
    start: int | None = None  # where the open region began; None while in silence
    pause_start: int | None = None  # where the pause now running inside the open region began
    split_at: int | None = None  # start of the last pause inside the open region long enough to split at
    resumed_at: int | None = None  # where speech came back after that pause

    def close_pauses() -> None:
        nonlocal pause_start, split_at, resumed_at
        pause_start = split_at = resumed_at = None

    for index, probability in enumerate(probabilities.tolist()):
        position = index * WINDOW
        speech = probability >= on
        if speech and pause_start is not None:
            pause_start = None
            if split_at is not None and (resumed_at is None or resumed_at < split_at):
                resumed_at = position
        if speech and start is None:
            start = position
            continue
        if start is not None and position - start > max_speech:
            if split_at is None:  # no pause to split at: cut right here
                regions.append((start, position))
                start = None
                close_pauses()
                continue
            regions.append((start, split_at))
            # speech that came back after the pause opens the next region; otherwise it is silence
            start = resumed_at if resumed_at is not None and resumed_at >= split_at else None
            close_pauses()
        if probability < off and start is not None:
            if pause_start is None:
                pause_start = position
            if position - pause_start > split_pause:
                split_at = pause_start
            if position - pause_start < min_silence:
                continue
            if pause_start - start > min_speech:
                regions.append((start, pause_start))
            start = None
            close_pauses()
    if start is not None and total_samples - start > min_speech:
        regions.append((start, total_samples))
    return regions


def _pad(regions: list[tuple[int, int]], total_samples: int, pad: float) -> list[tuple[int, int]]:
    """Each region widened by `pad` on both sides; a gap narrower than two pads is shared equally."""
    if not regions:
        return []
    starts = [start for start, _ in regions]
    ends = [end for _, end in regions]
    starts[0] = int(max(0, regions[0][0] - pad))
    for i in range(len(regions) - 1):
        gap = regions[i + 1][0] - regions[i][1]
        if gap < 2 * pad:
            ends[i] = regions[i][1] + gap // 2
            starts[i + 1] = int(max(0, regions[i + 1][0] - gap // 2))
        else:
            ends[i] = int(min(total_samples, regions[i][1] + pad))
            starts[i + 1] = int(max(0, regions[i + 1][0] - pad))
    ends[-1] = int(min(total_samples, regions[-1][1] + pad))
    return list(zip(starts, ends, strict=True))
