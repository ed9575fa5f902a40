"""The sherpa-onnx diarization backend: pyannote's segmentation and a speaker embedding model, both
as ONNX files run by sherpa-onnx (the `sherpa` extra), then agglomerative clustering of the embeddings.

sherpa-onnx ends the whole process when a model lacks the metadata it reads, so the files are
checked with onnxruntime before sherpa-onnx sees them.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from pathlib import Path
from typing import Any

import numpy as np

from cpwhisperx.config import Settings
from cpwhisperx.diarize import AudioSource, SpeakerCount, Turn, audio_source, join_spans, merge_turns, relabel
from cpwhisperx.errors import ConfigError, InvalidInput, ResourceMissing
from cpwhisperx.hardware import cpu_count

log = logging.getLogger("cpwhisperx.diarize.sherpa")

SAMPLE_RATE = 16000
# sherpa-onnx's own default: the cosine distance below which two stretches are one speaker.
CLUSTER_THRESHOLD = 0.5
MIN_DURATION_ON = 0.3   # shorter speech found by the segmentation is dropped (sherpa-onnx's default)
MIN_DURATION_OFF = 0.5  # shorter pauses within one speaker's speech are bridged (sherpa-onnx's default)
# A turn cut by a region's edge to less than this is an artefact of the cut, not speech.
MIN_PIECE_S = 0.05
SEGMENTATION_METADATA = ("sample_rate", "window_size", "receptive_field_size", "receptive_field_shift",
                         "num_speakers", "powerset_max_classes", "num_classes")
EMBEDDING_METADATA = {
    "wespeaker": ("framework", "output_dim", "sample_rate", "normalize_samples", "language"),
    "3d-speaker": ("framework", "output_dim", "sample_rate", "normalize_samples", "language"),
    "nemo": ("framework", "output_dim", "feat_dim", "sample_rate", "window_size_ms", "window_stride_ms", "language"),
}
SEGMENTATION_HINT = ("set DIARIZATION_SHERPA_SEGMENTATION_MODEL to the model.onnx of a pyannote segmentation model exported "
                     "for sherpa-onnx (sherpa-onnx-pyannote-segmentation-3-0)")
EMBEDDING_HINT = ("set DIARIZATION_SHERPA_EMBEDDING_MODEL to a speaker embedding model exported for sherpa-onnx "
                  "(a 3D-Speaker, WeSpeaker or NeMo .onnx)")


class SherpaDiarizer:
    name = "sherpa-onnx"

    def __init__(self, segmentation_model: Path, embedding_model: Path, threads: int = 1) -> None:
        sherpa_onnx = _import_sherpa()
        self._sherpa = sherpa_onnx
        self._segmentation = sherpa_onnx.OfflineSpeakerSegmentationModelConfig(
            pyannote=sherpa_onnx.OfflineSpeakerSegmentationPyannoteModelConfig(model=str(segmentation_model)), num_threads=threads)
        self._embedding = sherpa_onnx.SpeakerEmbeddingExtractorConfig(model=str(embedding_model), num_threads=threads)
        self._diarizer = sherpa_onnx.OfflineSpeakerDiarization(self._config(num_clusters=-1))
        self.model_files = (segmentation_model, embedding_model)

    def diarize(self, audio: AudioSource | np.ndarray, regions: list[tuple[float, float]], count: SpeakerCount) -> list[Turn]:
        source = audio_source(audio)
        duration = source.samples / SAMPLE_RATE
        usable = sorted((max(0.0, a), min(duration, b)) for a, b in regions if min(duration, b) > max(0.0, a))
        if not usable:
            return []
        # Only the stretch from the first speech to the last is read: a film's silent ends cost nothing.
        # It is heard at once, since sherpa-onnx clusters the speakers of one recording only.
        first, last = int(usable[0][0] * SAMPLE_RATE), int(np.ceil(usable[-1][1] * SAMPLE_RATE))
        samples = np.ascontiguousarray(source.read(first, last), dtype=np.float32)
        offset = first / SAMPLE_RATE
        segments = self._segments(samples, count)
        found = [(start + offset, end + offset, speaker) for start, end, speaker in segments]
        pieces = _inside(found, usable)
        turns = [Turn(round(a, 3), round(b, 3), f"S{speaker}") for a, b, speaker in pieces]
        result = merge_turns(relabel(turns))
        log.info("sherpa-onnx diarization: %d turn(s), %d speaker(s)", len(result), len({t.speaker for t in result}))
        return result

    def _segments(self, samples: np.ndarray, count: SpeakerCount) -> list[tuple[float, float, int]]:
        clusters = count.exact if count.exact is not None else -1
        segments = self._run(samples, clusters)
        if count.exact is None:
            speakers = len({speaker for _, _, speaker in segments})
            # sherpa-onnx clusters by a distance threshold or into a given number: a count outside
            # the range asked for is clustered again into the nearest bound.
            bound = count.maximum if speakers > count.maximum else count.minimum if 0 < speakers < count.minimum else None
            if bound is not None:
                log.info("sherpa-onnx found %d speaker(s), outside %d…%d: clustering into %d",
                         speakers, count.minimum, count.maximum, bound)
                segments = self._run(samples, bound)
        return segments

    def _run(self, samples: np.ndarray, num_clusters: int) -> list[tuple[float, float, int]]:
        self._diarizer.set_config(self._config(num_clusters))
        result = self._diarizer.process(samples).sort_by_start_time()
        return [(float(s.start), float(s.end), int(s.speaker)) for s in result]

    def _config(self, num_clusters: int) -> Any:
        sherpa_onnx = self._sherpa
        return sherpa_onnx.OfflineSpeakerDiarizationConfig(
            segmentation=self._segmentation, embedding=self._embedding,
            clustering=sherpa_onnx.FastClusteringConfig(num_clusters=num_clusters, threshold=CLUSTER_THRESHOLD),
            min_duration_on=MIN_DURATION_ON, min_duration_off=MIN_DURATION_OFF)


def create(settings: Settings) -> SherpaDiarizer:
    segmentation = _model_path(settings.DIARIZATION_SHERPA_SEGMENTATION_MODEL, "DIARIZATION_SHERPA_SEGMENTATION_MODEL", SEGMENTATION_HINT)
    embedding = _model_path(settings.DIARIZATION_SHERPA_EMBEDDING_MODEL, "DIARIZATION_SHERPA_EMBEDDING_MODEL", EMBEDDING_HINT)
    _import_sherpa()
    _check_segmentation(segmentation)
    _check_embedding(embedding)
    return SherpaDiarizer(segmentation, embedding, threads=cpu_count())


def _import_sherpa() -> Any:
    try:
        import sherpa_onnx
    except ImportError as exc:
        raise ResourceMissing("the sherpa-onnx diarization backend needs sherpa-onnx, which is not installed",
                              hint="pip install 'cp-whisperx[sherpa]', or set DIARIZATION_BACKEND=builtin") from exc
    return sherpa_onnx


def _model_path(value: str, key: str, hint: str) -> Path:
    if not value:
        raise ConfigError(f"DIARIZATION_BACKEND=sherpa-onnx needs {key}", hint=hint)
    path = Path(value).expanduser()
    if not path.is_file():
        raise InvalidInput(f"{key}={value}: no such file", hint=hint)
    return path


def _metadata(path: Path, key: str, hint: str) -> dict[str, str]:
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a file that is not a model
        raise InvalidInput(f"{key}={path} is not an ONNX model onnxruntime can load: {exc}", hint=hint) from exc
    return dict(session.get_modelmeta().custom_metadata_map)


def _check_segmentation(path: Path) -> None:
    key = "DIARIZATION_SHERPA_SEGMENTATION_MODEL"
    metadata = _metadata(path, key, SEGMENTATION_HINT)
    _require(metadata, SEGMENTATION_METADATA, key, path, SEGMENTATION_HINT)
    if metadata["powerset_max_classes"] not in ("1", "2"):
        raise InvalidInput(f"{key}={path}: sherpa-onnx reads at most 2 overlapping speakers, the model has "
                           f"powerset_max_classes={metadata['powerset_max_classes']}", hint=SEGMENTATION_HINT)
    _same_rate(metadata, key, path, SEGMENTATION_HINT)


def _check_embedding(path: Path) -> None:
    key = "DIARIZATION_SHERPA_EMBEDDING_MODEL"
    metadata = _metadata(path, key, EMBEDDING_HINT)
    framework = metadata.get("framework", "")
    if framework not in EMBEDDING_METADATA:
        raise InvalidInput(f"{key}={path}: metadata 'framework' is '{framework}', sherpa-onnx reads "
                           + ", ".join(EMBEDDING_METADATA), hint=EMBEDDING_HINT)
    _require(metadata, EMBEDDING_METADATA[framework], key, path, EMBEDDING_HINT)
    _same_rate(metadata, key, path, EMBEDDING_HINT)


def _require(metadata: dict[str, str], keys: tuple[str, ...], key: str, path: Path, hint: str) -> None:
    missing = [name for name in keys if not metadata.get(name)]
    if missing:
        raise InvalidInput(f"{key}={path} lacks the metadata sherpa-onnx reads: {', '.join(missing)}", hint=hint)


def _same_rate(metadata: dict[str, str], key: str, path: Path, hint: str) -> None:
    if metadata["sample_rate"] != str(SAMPLE_RATE):
        raise InvalidInput(f"{key}={path} is for {metadata['sample_rate']} Hz audio; diarization hears {SAMPLE_RATE} Hz", hint=hint)


def _inside(segments: list[tuple[float, float, int]], regions: list[tuple[float, float]]) -> list[tuple[float, float, int]]:
    """The parts of `segments` that lie inside `regions`."""
    union = join_spans(regions)
    ends = [b for _, b in union]
    pieces = []
    for start, end, speaker in segments:
        index = bisect_right(ends, start)  # the first region that ends after the segment starts
        while index < len(union) and union[index][0] < end:
            lo, hi = max(start, union[index][0]), min(end, union[index][1])
            if hi - lo >= MIN_PIECE_S:
                pieces.append((lo, hi, speaker))
            index += 1
    return pieces
