"""Long audio read a window at a time: the streamed VAD against faster-whisper's whole-array one."""

from __future__ import annotations

import wave
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from cpwhisperx.config import Settings
from cpwhisperx.media import SAMPLE_RATE, WavReader, read_wav
from cpwhisperx.samples import librivox_clips
from cpwhisperx.speech_detection import WINDOW, VadParameters, detect_speech, speech_probabilities

PAUSES = (0.3, 2.5, 0.8, 4.0, 1.2, 0.5, 3.1, 0.9, 2.2, 1.6)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(samples.astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def speech_pcm() -> np.ndarray:
    """About 70 s of real speech: the LibriVox readings twice, with pauses of 0.3 to 4 s."""
    pieces = []
    for clip, pause in zip(librivox_clips() * 2, PAUSES, strict=True):
        with wave.open(str(clip.path), "rb") as handle:
            pieces += [np.frombuffer(handle.readframes(handle.getnframes()), "<i2"), np.zeros(int(pause * SAMPLE_RATE), "<i2")]
    return np.concatenate(pieces)


@pytest.fixture(scope="module")
def speech_wav(speech_pcm: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("speech") / "speech.wav", speech_pcm)


def whole_array_regions(path: Path, parameters: VadParameters) -> list[tuple[int, int]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(read_wav(path), VadOptions(**asdict(parameters)), sampling_rate=SAMPLE_RATE)
    return [(t["start"], t["end"]) for t in stamps]


def test_reader_windows_are_the_whole_file_sliced(speech_wav: Path) -> None:
    whole = read_wav(speech_wav)
    with WavReader(speech_wav) as reader:
        assert reader.samples == len(whole)
        assert np.array_equal(np.concatenate(list(reader.blocks(12345))), whole)
        assert np.array_equal(reader.read_seconds(12.3456, 20.01), whole[int(12.3456 * SAMPLE_RATE):int(20.01 * SAMPLE_RATE)])
        assert len(reader.read(len(whole) - 10, len(whole) + 1000)) == 10 and len(reader.read(len(whole) + 5, len(whole) + 9)) == 0


PROJECT_DEFAULTS = VadParameters.from_settings(Settings())
# Short pauses end regions, which are split at 6 s, dropped under 0.3 s, and padded little.
FINE = VadParameters(threshold=0.4, min_speech_duration_ms=300, max_speech_duration_s=6.0, min_silence_duration_ms=250,
                     speech_pad_ms=120)


@pytest.mark.parametrize("parameters", [PROJECT_DEFAULTS, FINE], ids=["project defaults", "fine"])
def test_streamed_vad_equals_faster_whisper_on_the_whole_array(speech_wav: Path, parameters: VadParameters) -> None:
    expected = whole_array_regions(speech_wav, parameters)
    assert len(expected) >= (8 if parameters is FINE else 3)
    if parameters is FINE:  # the split at the maximum length is exercised
        assert any(end - start > 5 * SAMPLE_RATE for start, end in expected)
    with WavReader(speech_wav) as reader:
        for block_windows in (37, 100):  # 1.2 s and 3.2 s blocks: dozens of block boundaries
            assert detect_speech(reader, parameters, block_windows) == expected, block_windows


@pytest.mark.parametrize("windows_short", [0, 1, 3])
def test_streamed_vad_at_the_end_of_the_audio(speech_pcm: np.ndarray, tmp_path: Path, windows_short: int) -> None:
    """Audio that ends on a block or window boundary, or speaking up to its last sample."""
    block_windows = 50
    length = (len(speech_pcm) // (block_windows * WINDOW)) * block_windows * WINDOW - windows_short * WINDOW - (7 if windows_short == 3 else 0)
    path = write_wav(tmp_path / "cut.wav", speech_pcm[:length])
    with WavReader(path) as reader:
        assert detect_speech(reader, FINE, block_windows) == whole_array_regions(path, FINE)


def test_streamed_probabilities_are_the_whole_array_ones(speech_pcm: np.ndarray, tmp_path: Path) -> None:
    from faster_whisper.vad import get_vad_model

    # ends inside speech, 500 samples into its last window
    path = write_wav(tmp_path / "cut.wav", speech_pcm[:int(5.0 * SAMPLE_RATE) // WINDOW * WINDOW + 500])
    audio = read_wav(path)
    expected = get_vad_model()(np.pad(audio, (0, WINDOW - len(audio) % WINDOW)))
    with WavReader(path) as reader:
        assert np.array_equal(speech_probabilities(reader, 9), expected)
