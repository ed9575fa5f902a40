"""Who speaks when: speaker turns of a recording, and the backends that find them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cpwhisperx.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from cpwhisperx.config import Settings


@dataclass(frozen=True)
class Turn:
    """A stretch of time in which one speaker talks (seconds); labels are "SPEAKER_1", "SPEAKER_2", …"""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class SpeakerCount:
    """How many speakers to find: `exact` when known, else between `minimum` and `maximum`."""

    exact: int | None = None
    minimum: int = 1
    maximum: int = 8

    @classmethod
    def from_settings(cls, settings: Settings) -> SpeakerCount:
        exact = settings.DIARIZATION_NUM_SPEAKERS or None
        return cls(exact, settings.DIARIZATION_MIN_SPEAKERS, settings.DIARIZATION_MAX_SPEAKERS)

    def candidates(self, most: int) -> range:
        """The counts worth trying when at most `most` distinct items can be told apart."""
        if self.exact is not None:
            return range(min(self.exact, most), min(self.exact, most) + 1)
        low = min(self.minimum, most)
        return range(low, max(low, min(self.maximum, most)) + 1)


class AudioSource(Protocol):
    """16 kHz mono audio read a stretch at a time (a `cpwhisperx.media.WavReader`), so that a
    backend holds only the part it works on, never the whole of a long film."""

    samples: int

    def read(self, start: int, end: int) -> np.ndarray:
        """float32 samples [start, end), clipped to the audio."""
        ...


class ArrayAudio:
    """Audio already in memory, read as an `AudioSource`."""

    def __init__(self, audio: np.ndarray) -> None:
        self._audio = audio
        self.samples = len(audio)

    def read(self, start: int, end: int) -> np.ndarray:
        return self._audio[max(0, start):max(0, end)]


def audio_source(audio: AudioSource | np.ndarray) -> AudioSource:
    """`audio` as an `AudioSource`: an array is wrapped, a reader given as it is."""
    return audio if hasattr(audio, "samples") and hasattr(audio, "read") else ArrayAudio(audio)  # type: ignore[return-value]


class DiarizationBackend(Protocol):
    name: str
    model_files: tuple[Path, ...]   # the files it reads its models from: inputs of the stage

    def diarize(self, audio: AudioSource | np.ndarray, regions: list[tuple[float, float]], count: SpeakerCount) -> list[Turn]:
        """Turns of float32 mono 16 kHz `audio` (read a region at a time from a source, or an array),
        lying inside the speech `regions` (seconds)."""
        ...


BackendFactory = Callable[["Settings"], DiarizationBackend]

# name → "module:factory", imported only when that backend is asked for (heavy backends stay unloaded).
BACKENDS: dict[str, str] = {
    "builtin": "cpwhisperx.diarize.builtin:create",
    "sherpa-onnx": "cpwhisperx.diarize.sherpa_backend:create",
}
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory | str) -> None:
    """Make a backend known by name: a factory, or "module:factory" imported when first used."""
    if isinstance(factory, str):
        BACKENDS[name] = factory
        _FACTORIES.pop(name, None)
    else:
        _FACTORIES[name] = factory


def get_backend(settings: Settings) -> DiarizationBackend:
    name = settings.DIARIZATION_BACKEND
    factory = _FACTORIES.get(name)
    if factory is None:
        target = BACKENDS.get(name)
        if not target:
            raise ConfigError(f"unknown diarization backend '{name}'", hint="DIARIZATION_BACKEND is one of " + ", ".join(sorted({*BACKENDS, *_FACTORIES})))
        module_name, _, attribute = target.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        _FACTORIES[name] = factory
    return factory(settings)


def label_in_order(labels: list[int]) -> dict[int, str]:
    """SPEAKER_1, SPEAKER_2, … for cluster ids in the order they first appear."""
    names: dict[int, str] = {}
    for label in labels:
        if label not in names:
            names[label] = f"SPEAKER_{len(names) + 1}"
    return names


def join_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The spans in time order, those that overlap or touch joined into one."""
    joined: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if joined and a <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], b))
        else:
            joined.append((a, b))
    return joined


def merge_turns(turns: list[Turn], gap: float = 0.0) -> list[Turn]:
    """Turns in time order, neighbours of one speaker no more than `gap` apart joined."""
    merged: list[Turn] = []
    for turn in sorted(turns, key=lambda t: (t.start, t.end)):
        if merged and merged[-1].speaker == turn.speaker and turn.start - merged[-1].end <= gap:
            merged[-1] = Turn(merged[-1].start, max(merged[-1].end, turn.end), turn.speaker)
        else:
            merged.append(turn)
    return merged


def relabel(turns: list[Turn]) -> list[Turn]:
    """The same turns with speakers renamed SPEAKER_1, SPEAKER_2, … in order of first appearance."""
    ordered = sorted(turns, key=lambda t: (t.start, t.end))
    ids = {speaker: index for index, speaker in enumerate(dict.fromkeys(t.speaker for t in ordered))}
    names = label_in_order([ids[t.speaker] for t in ordered])
    return [Turn(t.start, t.end, names[ids[t.speaker]]) for t in ordered]
