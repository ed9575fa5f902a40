"""The sherpa-onnx diarization backend's real loading and diarization path, on tiny ONNX models the
tests build, shaped like pyannote's segmentation-3.0 and a WeSpeaker export (tests/sherpa_tiny.py),
diarizing real speech of two readers.
"""

from __future__ import annotations

import json
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import cpwx, manifest

pytest.importorskip("sherpa_onnx", reason="the sherpa extra is not installed")
pytest.importorskip("onnx", reason="building the tiny models needs the testmodels extra")

from sherpa_tiny import build_tiny_sherpa_models  # noqa: E402

from cpwhisperx.config import Settings  # noqa: E402
from cpwhisperx.diarize import SpeakerCount, Turn, get_backend  # noqa: E402
from cpwhisperx.diarize.sherpa_backend import SherpaDiarizer  # noqa: E402
from cpwhisperx.errors import ConfigError, ExitCode, InvalidInput, ResourceMissing  # noqa: E402
from cpwhisperx.transcript import Transcript  # noqa: E402

RATE = 16000
DATA = Path("/usr/share/pocketsphinx/test/data")
# Reader A (LibriVox), reader B (the card names), reader A again, with pauses between.
CLIPS = [("A", "librivox/sense_and_sensibility_01_austen_64kb-0870.wav"), ("B", "cards/005.wav"),
         ("B", "cards/002.wav"), ("A", "librivox/sense_and_sensibility_01_austen_64kb-0890.wav")]
PAUSE_S = 1.0
Recording = tuple[np.ndarray, list[tuple[float, float, str]]]  # the audio, and (start, end, reader) of each reading


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), "<i2").astype(np.float32) / 32768


@pytest.fixture(scope="module")
def conversation() -> Recording:
    """The audio, and where each reader speaks in it: the speech regions a VAD would give."""
    pieces, regions, position = [np.zeros(int(PAUSE_S * RATE), np.float32)], [], PAUSE_S
    for reader, name in CLIPS:
        samples = _read(DATA / name)
        regions.append((position, position + len(samples) / RATE, reader))
        pieces += [samples, np.zeros(int(PAUSE_S * RATE), np.float32)]
        position += len(samples) / RATE + PAUSE_S
    return np.concatenate(pieces), regions


@pytest.fixture(scope="module")
def tiny_sherpa(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_tiny_sherpa_models(tmp_path_factory.mktemp("sherpa"))


def _settings(models: tuple[Path, Path], **keys: object) -> Settings:
    segmentation, embedding = models
    return Settings(DIARIZATION_BACKEND="sherpa-onnx", DIARIZATION_SHERPA_SEGMENTATION_MODEL=str(segmentation),
                    DIARIZATION_SHERPA_EMBEDDING_MODEL=str(embedding), **keys)


def _assert_well_formed(turns: list[Turn], regions: list[tuple[float, float]]) -> None:
    assert turns, "no turn found"
    assert turns == sorted(turns, key=lambda t: (t.start, t.end))
    for turn in turns:
        assert turn.end > turn.start
        assert any(a - 1e-3 <= turn.start and turn.end <= b + 1e-3 for a, b in regions), f"{turn} lies outside the speech regions"
    first_seen = list(dict.fromkeys(t.speaker for t in turns))
    assert first_seen == [f"SPEAKER_{i}" for i in range(1, len(first_seen) + 1)]


def _speaker_of_reader(turns: list[Turn], regions: list[tuple[float, float, str]]) -> dict[str, set[str]]:
    """Each reader's speakers, counting a turn for the reader whose region holds it."""
    found: dict[str, set[str]] = {}
    for turn in turns:
        reader = next(r for a, b, r in regions if a - 1e-3 <= turn.start and turn.end <= b + 1e-3)
        found.setdefault(reader, set()).add(turn.speaker)
    return found


def test_sherpa_loads_tiny_models_and_tells_two_readers_apart(tiny_sherpa: tuple[Path, Path], conversation: Recording) -> None:
    audio, regions = conversation
    backend = get_backend(_settings(tiny_sherpa))
    assert isinstance(backend, SherpaDiarizer) and backend.name == "sherpa-onnx"
    spans = [(a, b) for a, b, _ in regions]
    turns = backend.diarize(audio, spans, SpeakerCount())
    _assert_well_formed(turns, spans)
    # The speech the model found covers most of the readings.
    covered = sum(t.end - t.start for t in turns)
    assert covered > 0.6 * sum(b - a for a, b in spans), turns
    assert _speaker_of_reader(turns, regions) == {"A": {"SPEAKER_1"}, "B": {"SPEAKER_2"}}, turns


def test_sherpa_honours_the_speaker_count(tiny_sherpa: tuple[Path, Path], conversation: Recording) -> None:
    audio, regions = conversation
    spans = [(a, b) for a, b, _ in regions]
    backend = SherpaDiarizer(*tiny_sherpa, threads=1)  # one thread: the six runs stay quick on a busy machine

    def speakers(count: SpeakerCount) -> set[str]:
        turns = backend.diarize(audio, spans, count)
        _assert_well_formed(turns, spans)
        return {t.speaker for t in turns}

    assert speakers(SpeakerCount(exact=1)) == {"SPEAKER_1"}
    assert speakers(SpeakerCount(exact=2)) == {"SPEAKER_1", "SPEAKER_2"}
    assert speakers(SpeakerCount(minimum=1, maximum=1)) == {"SPEAKER_1"}  # two found, clustered again into one
    assert len(speakers(SpeakerCount(minimum=3, maximum=4))) >= 2  # three clusters asked; the labels stay SPEAKER_1…n
    # Settings carry the count as the stage passes it.
    assert SpeakerCount.from_settings(_settings(tiny_sherpa, DIARIZATION_NUM_SPEAKERS=1)) == SpeakerCount(exact=1)


def test_sherpa_turns_stay_inside_the_regions_given(tiny_sherpa: tuple[Path, Path], conversation: Recording) -> None:
    audio, regions = conversation
    backend = get_backend(_settings(tiny_sherpa))
    reader_b = [(a, b) for a, b, reader in regions if reader == "B"]
    # half of the second reading only: the rest of the recording is not speech for this call
    part = [reader_b[0], (regions[3][0], regions[3][0] + 2.0)]
    turns = backend.diarize(audio, part, SpeakerCount())
    _assert_well_formed(turns, part)
    assert backend.diarize(audio, [], SpeakerCount()) == []
    assert backend.diarize(audio, [(len(audio) / RATE + 1, len(audio) / RATE + 2)], SpeakerCount()) == []


def test_sherpa_model_paths_are_checked_before_loading(tiny_sherpa: tuple[Path, Path], tmp_path: Path) -> None:
    segmentation, embedding = tiny_sherpa
    with pytest.raises(ConfigError) as unset:
        get_backend(Settings(DIARIZATION_BACKEND="sherpa-onnx", DIARIZATION_SHERPA_EMBEDDING_MODEL=str(embedding)))
    assert "DIARIZATION_SHERPA_SEGMENTATION_MODEL" in str(unset.value) and unset.value.hint
    assert unset.value.exit_code == ExitCode.INVALID_INPUT
    with pytest.raises(InvalidInput, match="DIARIZATION_SHERPA_EMBEDDING_MODEL=.*no such file") as absent:
        get_backend(_settings((segmentation, tmp_path / "missing.onnx")))
    assert "fix: set DIARIZATION_SHERPA_EMBEDDING_MODEL" in str(absent.value)
    # sherpa-onnx would end the process on a model without its metadata; the check answers first.
    with pytest.raises(InvalidInput, match="lacks the metadata sherpa-onnx reads: .*window_size"):
        get_backend(_settings((embedding, embedding)))
    with pytest.raises(InvalidInput, match="framework"):
        get_backend(_settings((segmentation, segmentation)))
    not_a_model = tmp_path / "notes.onnx"
    not_a_model.write_text("not a model")
    with pytest.raises(InvalidInput, match="not an ONNX model"):
        get_backend(_settings((segmentation, not_a_model)))


def test_sherpa_missing_extra_names_it(tiny_sherpa: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sherpa_onnx", None)  # what `import sherpa_onnx` meets without the extra
    with pytest.raises(ResourceMissing, match="sherpa-onnx") as missing:
        get_backend(_settings(tiny_sherpa))
    assert "cp-whisperx[sherpa]" in str(missing.value) and missing.value.exit_code == ExitCode.RESOURCE_MISSING


def test_sherpa_backend_in_the_diarization_stage_of_a_job(tiny_sherpa: tuple[Path, Path], job_copy: Path) -> None:
    """The sample film (a LibriVox reader, then a reader of card names) diarized by `cpwx run`."""
    segmentation, embedding = tiny_sherpa
    keys = ["--set", "DIARIZATION_ENABLED=true", "--set", "DIARIZATION_BACKEND=sherpa-onnx",
            "--set", f"DIARIZATION_SHERPA_EMBEDDING_MODEL={embedding}"]
    unset = cpwx("run", "--job-dir", str(job_copy), "--from", "diarization", *keys, cwd=job_copy.parent)
    assert unset.returncode == ExitCode.INVALID_INPUT and "DIARIZATION_SHERPA_SEGMENTATION_MODEL" in unset.stderr, unset.stderr
    keys += ["--set", f"DIARIZATION_SHERPA_SEGMENTATION_MODEL={segmentation}"]
    result = cpwx("run", "--job-dir", str(job_copy), "--from", "diarization", *keys, cwd=job_copy.parent)
    assert result.returncode == 0, result.stderr
    stage = manifest(job_copy, "08_diarization")
    assert stage["status"] == "success" and stage["metrics"]["backend"] == "sherpa-onnx"
    turns = json.loads((job_copy / "08_diarization" / "turns.json").read_text(encoding="utf-8"))
    assert turns["backend"] == "sherpa-onnx" and turns["speakers"] == [f"SPEAKER_{i}" for i in range(1, len(turns["speakers"]) + 1)]
    regions = [(r["start"], r["end"]) for r in json.loads((job_copy / "05_vad" / "speech.json").read_text(encoding="utf-8"))["regions"]]
    _assert_well_formed([Turn(t["start"], t["end"], t["speaker"]) for t in turns["turns"]], regions)
    labelled = Transcript.load(job_copy / "08_diarization" / "transcript.json")
    assert {s.speaker for s in labelled.segments} <= set(turns["speakers"]) and all(s.speaker for s in labelled.segments)
