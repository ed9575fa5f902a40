"""Long audio read a window at a time: the streamed VAD against faster-whisper's whole-array one, and
speech decoded in bounded chunks against one decode of it all."""

from __future__ import annotations

import re
import wave
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import jiwer
import numpy as np
import pytest

from cpwhisperx.asr import longform
from cpwhisperx.asr.blocks import plan_blocks
from cpwhisperx.asr.faster_whisper import FasterWhisperBackend
from cpwhisperx.asr.lockstep import _by_prompt_shape
from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.config import Settings
from cpwhisperx.media import SAMPLE_RATE, WavReader, read_wav
from cpwhisperx.models import resolve
from cpwhisperx.music import music_profile, music_regions
from cpwhisperx.samples import librivox_clips
from cpwhisperx.speech_detection import WINDOW, VadParameters, detect_speech, speech_probabilities
from cpwhisperx.transcript import Segment, Transcript

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


# --- chunked long-form decoding ---------------------------------------------------------------

SMALL = longform.ChunkLimits(speech_seconds=20.0, span_seconds=28.0)


def fresh_backend() -> FasterWhisperBackend:
    """A model of its own, as each run has: once a model has sampled (temperature fallback), its
    random numbers no longer start from the seed, and a second decode on it may differ."""
    return FasterWhisperBackend(str(resolve("base").path), "cpu", "int8", 0)


@pytest.fixture(scope="module")
def backend() -> FasterWhisperBackend:
    return fresh_backend()


@pytest.fixture(scope="module")
def speech_regions_s(speech_wav: Path) -> list[tuple[float, float]]:
    with WavReader(speech_wav) as reader:
        return [(round(a / SAMPLE_RATE, 3), round(b / SAMPLE_RATE, 3)) for a, b in detect_speech(reader, PROJECT_DEFAULTS)]


def english_options() -> DecodeOptions:
    return replace(DecodeOptions.from_settings(Settings()), language="en", beam_size=1, best_of=1)  # greedy: quick


def reference_words() -> str:
    return " ".join(clip.reference for clip in librivox_clips() * 2)


def plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "").split())


def test_speech_in_one_chunk_decodes_as_one_piece(speech_wav: Path, speech_regions_s: list[tuple[float, float]]) -> None:
    options = english_options()
    whole = fresh_backend().transcribe(read_wav(speech_wav), speech_regions_s, options, lambda _: None)
    with WavReader(speech_wav) as reader:
        assert len(longform.plan_chunks(reader, speech_regions_s, longform.DEFAULT_LIMITS)) == 1
        chunked = longform.transcribe(fresh_backend(), reader, speech_regions_s, options, lambda _: None)
    assert chunked.model_dump() == whole.model_dump()


class OptionsRecorder:
    """The real backend, noting the options each chunk is decoded with."""

    def __init__(self, backend: FasterWhisperBackend) -> None:
        self.backend = backend
        self.name = backend.name
        self.options: list[DecodeOptions] = []
        self.detect_language = backend.detect_language

    def transcribe(self, audio: np.ndarray, regions: list[tuple[float, float]] | None, options: DecodeOptions,
                   progress: Callable[[float], None], offset: int = 0) -> Transcript:
        self.options.append(options)
        return self.backend.transcribe(audio, regions, options, progress, offset)


def test_chunks_join_into_one_transcript(backend: FasterWhisperBackend, speech_wav: Path,
                                         speech_regions_s: list[tuple[float, float]]) -> None:
    recorder = OptionsRecorder(backend)
    done: list[float] = []
    options = replace(english_options(), initial_prompt="Sense and Sensibility.")
    with WavReader(speech_wav) as reader:
        chunks = longform.plan_chunks(reader, speech_regions_s, SMALL)
        transcript = longform.transcribe(recorder, reader, speech_regions_s, options, done.append, SMALL)
        duration = reader.duration
    assert len(chunks) >= 3
    for chunk in chunks:
        assert chunk.regions and sum(e - s for s, e in chunk.regions) <= 20.0 and (chunk.end - chunk.start) / SAMPLE_RATE <= 28.0
    assert [r for chunk in chunks for r in chunk.regions or []] == speech_regions_s
    assert [seg.id for seg in transcript.segments] == list(range(len(transcript.segments)))
    assert transcript.duration == round(duration, 3) and done[-1] == duration and done == sorted(done)
    # times are the media's: every segment lies in the chunk that decoded it, words in order
    starts = [seg.start for seg in transcript.segments]
    assert starts == sorted(starts)
    for seg in transcript.segments:
        assert any(c.start / SAMPLE_RATE - 0.05 <= seg.start and seg.end <= c.end / SAMPLE_RATE + 0.05 for c in chunks), seg
    assert jiwer.wer(plain(reference_words()), plain(transcript.text)) < 0.1, transcript.text
    # each chunk continues from the user's prompt and the tokens decoded before it, as one decode would
    first, second = recorder.options[:2]
    assert first.initial_prompt == second.initial_prompt == "Sense and Sensibility." and first.previous_tokens == ()
    in_first_chunk = [seg for seg in transcript.segments if seg.end <= chunks[0].end / SAMPLE_RATE + 0.05]
    assert second.previous_tokens == tuple(token for seg in in_first_chunk for token in seg.tokens) != ()
    assert "tokens" not in transcript.to_json()


def test_batched_streams_decode_as_sequential_decoding(speech_wav: Path, speech_regions_s: list[tuple[float, float]]) -> None:
    """Blocks decoded side by side, several windows a batch, give what each decoded alone gives:
    unfinished segments carried into the next window, context carried from chunk to chunk."""
    sequential, batched = english_options(), replace(english_options(), batch_size=8)
    limits = longform.ChunkLimits(speech_seconds=40.0, span_seconds=60.0)
    regions = speech_regions_s
    blocks = [regions[:4], regions[4:], regions[1:3]]  # streams need not be neighbours
    with WavReader(speech_wav) as reader:
        first = longform.plan_chunks(reader, blocks[0], limits)
        # the first block: a chunk of more than one window, then a chunk continuing its text
        assert len(first) == 2 and sum(e - s for s, e in first[0].regions or []) > 30.0
        alone = [longform.decode_chunks(fresh_backend(), reader, block, sequential, lambda _: None, limits)[0] for block in blocks]
        done: list[float] = []
        together = {index: segments for index, segments, _, _ in
                    longform.decode_streams(fresh_backend(), reader, blocks, batched, done.append, limits)}
    assert sorted(together) == list(range(len(blocks))) and done
    for index, segments in enumerate(alone):
        assert [seg.text for seg in together[index]] == [seg.text for seg in segments], index
        assert [seg.start for seg in together[index]] == pytest.approx([seg.start for seg in segments], abs=0.05)
        assert [len(seg.words) for seg in together[index]] == [len(seg.words) for seg in segments]
    text = " ".join(seg.text for seg in together[0] + together[1])
    assert jiwer.wer(plain(reference_words()), plain(text)) < 0.1, text


def test_batched_windows_failing_their_checks_fall_back(speech_wav: Path, speech_regions_s: list[tuple[float, float]]) -> None:
    # no average log-probability passes 0: every window is decoded again at each temperature,
    # and keeps the most probable of its attempts, marked with the last temperature
    options = replace(english_options(), batch_size=4, temperatures=(0.0, 0.6), log_prob_threshold=0.0, best_of=2)
    blocks = [list(block.regions) for block in plan_blocks(speech_regions_s, radius=10.0)]
    backend = fresh_backend()
    with WavReader(speech_wav) as reader:
        found = {index: segments for index, segments, _, _ in longform.decode_streams(backend, reader, blocks, options, lambda _: None)}
    segments = [seg for index in sorted(found) for seg in found[index]]
    assert segments and {seg.temperature for seg in segments} == {0.6}
    assert not backend.reusable  # it sampled
    assert jiwer.wer(plain(reference_words()), plain(" ".join(seg.text for seg in segments))) < 0.15


def test_batched_prompts_are_decoded_by_shape_never_cut() -> None:
    sot, prev = 50258, 50361
    prompts = [[prev, 1, 2, 3, sot, 1000], [sot, 1000], [prev, 4, 5, 6, sot, 1000], [prev, 7, sot, 1000]]
    assert _by_prompt_shape(prompts, [sot] * 4) == [[0, 2], [1], [3]]


def test_context_carried_as_one_decode_would() -> None:
    def seg(tokens: list[int], temperature: float) -> Segment:
        return Segment(id=0, start=0.0, end=1.0, text="x", temperature=temperature, tokens=tokens)

    def prompt(context: longform.Context) -> tuple[str | None, tuple[int, ...]]:
        carried = context.options(options)
        return carried.initial_prompt, carried.previous_tokens

    options = replace(english_options(), initial_prompt="Names: Elinor.")
    context = longform.Context(options)
    context.extend([seg([1, 2], 0.0), seg([3], 0.2)])
    assert prompt(context) == ("Names: Elinor.", (1, 2, 3))
    context.extend([seg([4, 5], 0.8), seg([6], 0.0)])  # a window decoded hot resets the prompt
    assert prompt(context) == (None, (6,))
    context = longform.Context(options)
    context.extend([seg(list(range(300)), 0.0)])  # only the last 223 tokens are read: the prompt has scrolled out
    assert prompt(context) == (None, tuple(range(77, 300)))
    unconditioned = longform.Context(replace(options, condition_on_previous_text=False))
    unconditioned.extend([seg([1], 0.0)])  # only the first window is prompted
    assert prompt(unconditioned) == (None, ())
    batched = longform.Context(replace(options, batch_size=8))  # batched streams carry their text as one decode does
    batched.extend([seg([1], 0.0)])
    assert prompt(batched) == ("Names: Elinor.", (1,))


def test_without_speech_regions_chunks_are_cut_in_pauses(backend: FasterWhisperBackend, speech_pcm: np.ndarray,
                                                          tmp_path: Path) -> None:
    path = write_wav(tmp_path / "head.wav", speech_pcm[:int(28.5 * SAMPLE_RATE)])  # four readings, ending in a pause
    limits = longform.ChunkLimits(speech_seconds=12.0, span_seconds=12.0)
    with WavReader(path) as reader:
        chunks = longform.plan_chunks(reader, None, limits)
        assert len(chunks) == 3 and chunks[0].start == 0 and chunks[-1].end == reader.samples
        for before, after in zip(chunks, chunks[1:], strict=False):
            assert before.end == after.start and after.start - before.start <= 12 * SAMPLE_RATE
            assert not speech_pcm[after.start - 400:after.start + 400].any()  # in a pause, not in a word
        transcript = longform.transcribe(backend, reader, None, english_options(), lambda _: None, limits)
        whole = fresh_backend().transcribe(read_wav(path), None, english_options(), lambda _: None)
    assert plain(transcript.text) == plain(whole.text)
    assert len(transcript.segments) == len(whole.segments)
    for chunked_segment, whole_segment in zip(transcript.segments, whole.segments, strict=True):  # in the media's time line
        assert abs(chunked_segment.start - whole_segment.start) < 1.0 and abs(chunked_segment.end - whole_segment.end) < 1.0


def test_language_detection_reads_only_the_speech_it_looks_at(backend: FasterWhisperBackend, speech_wav: Path,
                                                             speech_regions_s: list[tuple[float, float]]) -> None:
    whole = backend.detect_language(read_wav(speech_wav), speech_regions_s, [], 1)
    with WavReader(speech_wav) as reader:
        head = longform.speech_head(reader, speech_regions_s, longform.WHISPER_WINDOW_SAMPLES)
        assert len(head) == longform.WHISPER_WINDOW_SAMPLES
        assert longform.detect_language(backend, reader, speech_regions_s, [], 1) == whole


def test_music_profile_streamed_equals_the_whole_array(speech_wav: Path) -> None:
    whole = read_wav(speech_wav)
    tone = (0.3 * np.sin(np.arange(12 * SAMPLE_RATE) * 2 * np.pi * 440 / SAMPLE_RATE)).astype(np.float32)  # music-like
    audio = np.concatenate([whole[:20 * SAMPLE_RATE], tone, whole[20 * SAMPLE_RATE:]])
    times, scores = music_profile([audio])
    assert music_regions(times, scores) and len(scores) > 100
    for block in (333, 16000, 10 * SAMPLE_RATE):
        streamed = music_profile(audio[i:i + block] for i in range(0, len(audio), block))
        assert np.array_equal(streamed[0], times) and np.array_equal(streamed[1], scores), block
    for short in (100, 400, 3 * SAMPLE_RATE + 77):  # under one frame, one frame, under one window
        assert all(np.array_equal(a, b) for a, b in zip(music_profile([audio[:short]]), music_profile([audio[:short][:37], audio[:short][37:]]), strict=True))
