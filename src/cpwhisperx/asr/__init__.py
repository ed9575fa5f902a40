"""ASR backends: a registry, and the selection and fallback rules of SPEC §6."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from cpwhisperx.errors import ResourceMissing
from cpwhisperx.hardware import cuda_device_count, importable, supported_compute_types

if TYPE_CHECKING:
    import numpy as np

    from cpwhisperx.asr.lockstep import StreamSource
    from cpwhisperx.asr.options import DecodeOptions
    from cpwhisperx.transcript import Segment, Transcript


class AsrBackend(Protocol):
    name: str
    multilingual: bool
    # False once the backend has drawn random numbers (temperature fallback): its generator no
    # longer starts from the seed, so a later job would decode otherwise than in a process of its own.
    reusable: bool

    def detect_language(self, audio: np.ndarray, regions: list[tuple[float, float]] | None, candidates: list[str],
                        windows: int) -> tuple[str, float, list[tuple[str, float]]]: ...

    def transcribe(
        self,
        audio: np.ndarray,
        regions: list[tuple[float, float]] | None,
        options: DecodeOptions,
        progress: Callable[[float], None],
        offset: int = 0,
    ) -> Transcript:
        """Decode `audio`, which holds the media from sample `offset` on: only the speech `regions`
        (media times) when given, else all of it. Times (segments, words, progress) are media times.
        Segments carry their Whisper `tokens`, so that a later call can continue the decode through
        `options.previous_tokens`."""
        ...

    def transcribe_streams(self, sources: Sequence[StreamSource], options: DecodeOptions,
                           progress: Callable[[float], None]) -> Iterator[tuple[int, list[Segment], str, float]]:
        """Independent streams of chunks decoded side by side, `options.batch_size` windows at a
        time, each as `transcribe` would decode its chunks one after the other; (index, segments in
        media times, language, its probability) of each stream as it finishes."""
        ...


@dataclass(frozen=True)
class BackendSpec:
    name: str
    module: str
    requires: str  # the import that must succeed
    devices: tuple[str, ...]
    install_hint: str


REGISTRY: dict[str, BackendSpec] = {
    "faster-whisper": BackendSpec("faster-whisper", "cpwhisperx.asr.faster_whisper", "faster_whisper", ("cpu", "cuda"), "pip install faster-whisper"),
}
# Named in the configuration but not built in this version: asking for them falls back to
# faster-whisper on the CPU with a warning, or stops with exit code 3 in strict mode.
NOT_BUILT = {"whisperx": "the whisperX backend is not built in this version", "mlx": "the MLX backend is not built in this version"}
NOT_BUILT_DEVICES = {"mps": "no backend of this version runs on Apple GPUs (mps is not built)"}


@dataclass
class Selection:
    backend: str
    device: str
    compute_type: str
    warnings: list[str] = field(default_factory=list)


def backend_available(name: str) -> str | None:
    """None when usable, else why not."""
    if name in NOT_BUILT:
        return NOT_BUILT[name]
    spec = REGISTRY[name]
    return None if importable(spec.requires) else f"the Python package for {name} is not installed ({spec.install_hint})"


def select(backend: str, device: str, compute_type: str, strict: bool) -> Selection:
    warnings: list[str] = []

    def fallback(message: str) -> None:
        if strict:
            raise ResourceMissing(message + " and WHISPER_BACKEND_STRICT=true", hint="install what is missing, choose another WHISPER_BACKEND/WHISPER_DEVICE, or set WHISPER_BACKEND_STRICT=false to fall back")
        warnings.append(message + "; falling back")

    chosen = "faster-whisper" if backend == "auto" else backend
    if backend != "auto" and (why := backend_available(backend)) is not None:
        fallback(f"WHISPER_BACKEND={backend} is not available: {why}")
        chosen = "faster-whisper"
    if (why := backend_available(chosen)) is not None:
        raise ResourceMissing(f"no ASR backend is available: {why}", hint="pip install faster-whisper")

    cuda = cuda_device_count() > 0
    chosen_device = device
    if device == "auto":
        chosen_device = "cuda" if cuda else "cpu"
    elif device == "cuda" and not cuda:
        fallback("WHISPER_DEVICE=cuda but no CUDA device is visible")
        chosen_device = "cpu"
    elif device in NOT_BUILT_DEVICES:
        fallback(f"WHISPER_DEVICE={device} is not available: {NOT_BUILT_DEVICES[device]}")
        chosen_device = "cpu"
    elif device not in REGISTRY[chosen].devices:
        fallback(f"WHISPER_DEVICE={device} is not supported by the {chosen} backend")
        chosen_device = "cpu"

    chosen_type = compute_type
    if compute_type == "auto":
        chosen_type = "float16" if chosen_device == "cuda" else "int8"
    else:
        supported = supported_compute_types(chosen_device)
        if supported and compute_type not in supported:
            default = "float16" if chosen_device == "cuda" else "int8"
            fallback(f"WHISPER_COMPUTE_TYPE={compute_type} is not supported on {chosen_device} (supported: {', '.join(sorted(supported))}); using {default}")
            chosen_type = default
    return Selection(chosen, chosen_device, chosen_type, warnings)


# Models a long-lived process (a batch worker) keeps between jobs; empty and unused in a one-job run.
_KEPT: dict[tuple[str, str, str, str, int], AsrBackend] = {}
_keeping = False


def keep_models() -> None:
    """From now on, this process loads each model once and gives it to every later job."""
    global _keeping
    _keeping = True


def create(selection: Selection, model_path: str, cpu_threads: int) -> AsrBackend:
    key = (selection.backend, model_path, selection.device, selection.compute_type, cpu_threads)
    kept = _KEPT.get(key)
    if kept is not None and kept.reusable:
        return kept
    module = importlib.import_module(REGISTRY[selection.backend].module)
    backend: AsrBackend = module.create(model_path, selection.device, selection.compute_type, cpu_threads)
    if _keeping:
        _KEPT[key] = backend
    return backend
