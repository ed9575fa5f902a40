"""Batched decoding that keeps the accuracy of sequential decoding.

Independent streams of speech (the blocks of a film, or stretches of one long recording) are
decoded side by side: every round takes each unfinished stream's next 30-second window, encodes
the windows as one batch and decodes them as one batch. Within its stream, each window is decoded
as faster-whisper's sequential decoding does it: from where the last complete segment ended (an
unfinished last segment is decoded again in the next window, not dropped), prompted with the
stream's text so far, with temperature fallback for a window that fails the compression-ratio or
log-probability check (only those windows, batched among themselves), the no-speech check, and
word timestamps per window.

CTranslate2 decodes a batch only when the start-of-transcript token stands at the same place in
every prompt: the windows of a round are encoded together, and decoded together by prompt length
(streams a few windows in all carry Whisper's most, 223 tokens of previous text).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from inspect import signature
from typing import TYPE_CHECKING, Any, Protocol

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import Segment as WhisperSegment
from faster_whisper.transcribe import Word as WhisperWord
from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens
from faster_whisper.utils import get_end

from cpwhisperx.media import SAMPLE_RATE

if TYPE_CHECKING:
    from cpwhisperx.asr.longform import Chunk
    from cpwhisperx.asr.options import DecodeOptions
    from cpwhisperx.transcript import Segment

log = logging.getLogger("cpwhisperx.asr.lockstep")
# faster-whisper's own defaults for what the project does not configure, read from its signature
# so that both decoders stay alike.
_DEFAULTS = {name: p.default for name, p in signature(WhisperModel.transcribe).parameters.items()}
PROMPT_RESET_TEMPERATURE: float = _DEFAULTS["prompt_reset_on_temperature"]


class StreamSource(Protocol):
    """One stream: its chunks of media, decoded one after the other with the text carried over."""

    chunks: Sequence[Chunk]

    def read(self, chunk: Chunk) -> np.ndarray: ...

    def options(self, base: DecodeOptions) -> DecodeOptions: ...

    def extend(self, segments: list[Segment]) -> None: ...


class Converter(Protocol):
    def __call__(self, segments: list[WhisperSegment], chunks: list[dict[str, int]] | None, shift: float,
                 options: DecodeOptions) -> list[Segment]: ...


@dataclass
class _Decoded:
    result: Any  # ctranslate2 WhisperGenerationResult
    avg_logprob: float
    temperature: float
    compression_ratio: float


@dataclass
class _Stream:
    index: int
    source: StreamSource
    tokenizer: Tokenizer
    options: DecodeOptions
    pending: deque[Chunk]
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    chunk: Chunk | None = None
    mapping: list[dict[str, int]] | None = None
    media_time: float = 0.0  # where the chunk begins, for progress
    shift: float = 0.0
    seek: int = 0
    all_tokens: list[int] = field(default_factory=list)
    prompt_reset_since: int = 0
    last_speech_timestamp: float = 0.0
    found: list[WhisperSegment] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    language_probability: float = 1.0

    @property
    def content_frames(self) -> int:
        return int(self.features.shape[-1]) - 1

    @property
    def chunk_done(self) -> bool:
        return self.seek >= self.content_frames


class LockstepDecoder:
    def __init__(self, model: WhisperModel, prompt: Callable[[DecodeOptions], str | list[int] | None],
                 suppress: Callable[[DecodeOptions], list[int]], speech: Callable[..., tuple[list[dict[str, int]] | None, np.ndarray]],
                 convert: Converter) -> None:
        self.model = model
        self._prompt, self._suppress, self._speech, self._convert = prompt, suppress, speech, convert
        # Set once a window was sampled (temperature fallback): the model's generator moved on.
        self.sampled = False

    def decode(self, sources: Sequence[StreamSource], options: DecodeOptions,
               progress: Callable[[float], None]) -> Iterator[tuple[int, list[Segment], str, float]]:
        """(stream index, segments in media times, language, its probability) for each stream, as
        each finishes; at most `options.batch_size` streams are held at once."""
        waiting = deque(enumerate(sources))
        active: list[_Stream] = []
        while waiting or active:
            while waiting and len(active) < options.batch_size:
                index, source = waiting.popleft()
                stream = self._open(index, source, options)
                if stream is None:
                    yield index, [], options.language or "und", 1.0
                else:
                    active.append(stream)
            for batch in _batches(active, options.batch_size):
                self._step(batch)
            still = []
            for stream in active:
                if stream.chunk_done and not self._next_chunk(stream):
                    yield stream.index, stream.segments, stream.tokenizer.language_code, stream.language_probability
                else:
                    still.append(stream)
            active = still
            if active:
                progress(min(s.media_time for s in active))

    def _open(self, index: int, source: StreamSource, options: DecodeOptions) -> _Stream | None:
        pending = deque(source.chunks)
        if not pending:
            return None
        multilingual = bool(self.model.model.is_multilingual)
        stream = _Stream(index=index, source=source, tokenizer=self._tokenizer(options.task, options.language or "en"),
                         options=options, pending=pending)
        if not self._next_chunk(stream):
            return None
        if options.language is None and multilingual:  # detected on the stream's first chunk, as sequential decoding does
            code, probability, _ = self.model.detect_language(
                features=stream.features, language_detection_segments=options.language_detection_segments,
                language_detection_threshold=_DEFAULTS["language_detection_threshold"])
            stream.tokenizer, stream.language_probability = self._tokenizer(options.task, code), float(probability)
        return stream

    def _tokenizer(self, task: str, language: str) -> Tokenizer:
        return Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task=task, language=language)

    def _next_chunk(self, stream: _Stream) -> bool:
        """The stream's finished chunk handed over, its next one loaded; False when none is left."""
        if stream.chunk is not None:
            decoded = self._convert(stream.found, stream.mapping, stream.shift, stream.options)
            stream.source.extend(decoded)
            stream.segments.extend(decoded)
        while stream.pending:
            stream.chunk = stream.pending.popleft()
            stream.options = stream.source.options(stream.options)
            audio = stream.source.read(stream.chunk)
            stream.mapping, speech = self._speech(audio, stream.chunk.regions, stream.chunk.start)
            stream.shift = 0.0 if stream.mapping else stream.chunk.start / SAMPLE_RATE
            stream.features = self.model.feature_extractor(speech)
            stream.media_time = stream.chunk.start / SAMPLE_RATE
            stream.seek, stream.last_speech_timestamp, stream.found = 0, 0.0, []
            prompt = self._prompt(stream.options)
            if isinstance(prompt, str):
                stream.all_tokens = stream.tokenizer.encode(" " + prompt.strip())
            else:
                stream.all_tokens = list(prompt or [])
            stream.prompt_reset_since = 0
            if not stream.chunk_done:
                return True
            stream.source.extend([])
        stream.chunk = None
        return False

    def _prompt_tokens(self, stream: _Stream) -> list[int]:
        return self.model.get_prompt(stream.tokenizer, stream.all_tokens[stream.prompt_reset_since:], without_timestamps=False,
                                     hotwords=stream.options.hotwords)

    def _step(self, batch: list[_Stream]) -> None:
        """One window of each stream in `batch`, encoded and decoded together."""
        frames = self.model.feature_extractor.nb_max_frames
        sizes = [min(frames, s.content_frames - s.seek) for s in batch]
        features = np.stack([pad_or_trim(s.features[:, s.seek:s.seek + size]) for s, size in zip(batch, sizes, strict=True)])
        encoded = _Encoded(self.model, features)
        prompts = [self._prompt_tokens(s) for s in batch]
        decoded: dict[int, _Decoded] = {}
        for same_shape in _by_prompt_shape(prompts, [s.tokenizer.sot for s in batch]):
            decoded.update(self._generate_with_fallback(encoded, prompts, batch, same_shape))
        for number, (stream, size) in enumerate(zip(batch, sizes, strict=True)):
            self._advance(stream, size, decoded[number], encoded, number)

    def _generate_with_fallback(self, encoded: _Encoded, prompts: list[list[int]], batch: list[_Stream],
                                numbers: list[int]) -> dict[int, _Decoded]:
        """faster-whisper's temperature fallback for the windows `numbers` of the batch, those still
        failing decoded together at each next temperature."""
        options = batch[0].options
        tokenizer = batch[0].tokenizer
        max_initial = int(round(_DEFAULTS["max_initial_timestamp"] / self.model.time_precision))
        suppress = get_suppressed_tokens(tokenizer, self._suppress(options))
        tried: dict[int, list[_Decoded]] = {i: [] for i in numbers}
        passing: dict[int, list[_Decoded]] = {i: [] for i in numbers}
        chosen: dict[int, _Decoded] = {}
        todo = list(numbers)
        temperature = 0.0
        for temperature in options.temperatures:
            if not todo:
                break
            if temperature > 0:
                self.sampled = True
                kwargs: dict[str, Any] = {"beam_size": 1, "num_hypotheses": options.best_of, "sampling_topk": 0,
                                          "sampling_temperature": temperature}
            else:
                kwargs = {"beam_size": options.beam_size, "patience": options.patience}
            results = self.model.model.generate(
                encoded.subset(todo), [prompts[i] for i in todo], length_penalty=_DEFAULTS["length_penalty"],
                repetition_penalty=_DEFAULTS["repetition_penalty"], no_repeat_ngram_size=_DEFAULTS["no_repeat_ngram_size"],
                max_length=self.model.max_length, return_scores=True, return_no_speech_prob=True,
                suppress_blank=_DEFAULTS["suppress_blank"], suppress_tokens=suppress, max_initial_timestamp_index=max_initial, **kwargs)
            left = []
            for i, result in zip(todo, results, strict=True):
                tokens = result.sequences_ids[0]
                cumulative = result.scores[0] * (len(tokens) ** _DEFAULTS["length_penalty"])
                outcome = _Decoded(result, cumulative / (len(tokens) + 1), temperature,
                                   get_compression_ratio(tokenizer.decode(tokens).strip()))
                tried[i].append(outcome)
                fails = False
                if outcome.compression_ratio > options.compression_ratio_threshold:
                    fails = True
                else:
                    passing[i].append(outcome)
                if outcome.avg_logprob < options.log_prob_threshold:
                    fails = True
                if result.no_speech_prob > options.no_speech_threshold and outcome.avg_logprob < options.log_prob_threshold:
                    fails = False  # silence
                if fails:
                    left.append(i)
                else:
                    chosen[i] = outcome
            todo = left
        for i in todo:  # every temperature failed: the most probable result, marked with the last temperature
            best = max(passing[i] or tried[i], key=lambda o: o.avg_logprob)
            chosen[i] = _Decoded(best.result, best.avg_logprob, temperature, best.compression_ratio)
        return chosen

    def _advance(self, stream: _Stream, size: int, outcome: _Decoded, encoded: _Encoded, number: int) -> None:
        """What sequential decoding does with one window's result: its segments kept, the stream
        moved on to the end of its last complete segment."""
        options = stream.options
        if outcome.result.no_speech_prob > options.no_speech_threshold and not outcome.avg_logprob > options.log_prob_threshold:
            stream.seek += size
            return
        extractor = self.model.feature_extractor
        time_offset = stream.seek * extractor.time_per_frame
        previous_seek = stream.seek
        current, seek, single_ending = self.model._split_segments_by_timestamps(
            tokenizer=stream.tokenizer, tokens=outcome.result.sequences_ids[0], time_offset=time_offset, segment_size=size,
            segment_duration=size * extractor.time_per_frame, seek=stream.seek)
        if options.word_timestamps:
            self.model.add_word_timestamps([current], stream.tokenizer, encoded.item(number), size, _DEFAULTS["prepend_punctuations"],
                                           _DEFAULTS["append_punctuations"], last_speech_timestamp=stream.last_speech_timestamp)
            if not single_ending:
                last_word_end = get_end(current)
                if last_word_end is not None and last_word_end > time_offset:
                    seek = round(last_word_end * self.model.frames_per_second)
            last_word_end = get_end(current)
            if last_word_end is not None:
                stream.last_speech_timestamp = last_word_end
        stream.seek = seek
        for segment in current:
            text = stream.tokenizer.decode(segment["tokens"])
            if segment["start"] == segment["end"] or not text.strip():
                continue
            stream.all_tokens.extend(segment["tokens"])
            stream.found.append(WhisperSegment(
                id=len(stream.found) + 1, seek=previous_seek, start=segment["start"], end=segment["end"], text=text,
                tokens=segment["tokens"], temperature=outcome.temperature, avg_logprob=outcome.avg_logprob,
                compression_ratio=outcome.compression_ratio, no_speech_prob=outcome.result.no_speech_prob,
                words=[WhisperWord(**w) for w in segment["words"]] if options.word_timestamps else None))
        if not options.condition_on_previous_text or outcome.temperature > PROMPT_RESET_TEMPERATURE:
            stream.prompt_reset_since = len(stream.all_tokens)


class _Encoded:
    """A batch's encoder output, and the items of it that alignment and fallback need one by one
    (copied through the host's memory: a few MB a window, far less than encoding it again)."""

    def __init__(self, model: WhisperModel, features: np.ndarray) -> None:
        self.count = len(features)
        self.whole = model.encode(features)
        self._host: ctranslate2.StorageView | None = None
        self._items: dict[int, ctranslate2.StorageView] = {}

    def item(self, number: int) -> ctranslate2.StorageView:
        if self.count == 1:
            return self.whole
        if number not in self._items:
            self._items[number] = self._rows([number])
        return self._items[number]

    def subset(self, numbers: list[int]) -> ctranslate2.StorageView:
        return self.whole if len(numbers) == self.count else self._rows(numbers)

    def _rows(self, numbers: list[int]) -> ctranslate2.StorageView:
        on_cpu = self.whole.device == "cpu"
        # NumPy has no bfloat16: such outputs go through float32 and back
        wide = self.whole.dtype == ctranslate2.DataType.bfloat16
        if self._host is None:
            host = self.whole if on_cpu else self.whole.to_device(ctranslate2.Device.cpu)
            self._host = host.to(ctranslate2.DataType.float32) if wide else host
        rows = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.asarray(self._host)[numbers]))
        if wide:
            rows = rows.to(ctranslate2.DataType.bfloat16)
        return rows if on_cpu else rows.to_device(ctranslate2.Device.cuda)


def _batches(streams: list[_Stream], size: int) -> list[list[_Stream]]:
    """Streams grouped so that each group decodes with the same settings, `size` at most a group."""
    groups: dict[tuple[Any, ...], list[_Stream]] = {}
    for stream in streams:
        o = stream.options
        key = (o.beam_size, o.best_of, o.patience, o.temperatures, o.compression_ratio_threshold, o.log_prob_threshold,
               o.no_speech_threshold, o.allowed_scripts, o.word_timestamps, o.condition_on_previous_text, o.hotwords)
        groups.setdefault(key, []).append(stream)
    return [members[i:i + size] for members in groups.values() for i in range(0, len(members), size)]


def _by_prompt_shape(prompts: list[list[int]], sots: list[int]) -> list[list[int]]:
    """The prompts' numbers grouped by where their start-of-transcript token stands."""
    shapes: dict[int, list[int]] = {}
    for number, (prompt, sot) in enumerate(zip(prompts, sots, strict=True)):
        shapes.setdefault(prompt.index(sot), []).append(number)
    return list(shapes.values())
