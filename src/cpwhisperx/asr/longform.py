"""Long media decoded in bounded chunks with any backend, so memory stays flat in its length.

Whisper's features for a whole film would be computed at once; instead, consecutive speech
regions are grouped into chunks bounded in speech seconds and in span, only each chunk's samples
are read from the WAV, and the chunk is decoded on its own. Times come back in the media's time
line, segments are numbered anew. Each chunk is prompted with what one continuous decode would have
had as context at that point, so the seams behave alike.
Media whose speech fits in one chunk is decoded exactly as in one piece.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from cpwhisperx.media import SAMPLE_RATE, WavReader
from cpwhisperx.transcript import Segment, Transcript

if TYPE_CHECKING:
    from cpwhisperx.asr import AsrBackend
    from cpwhisperx.asr.options import DecodeOptions

log = logging.getLogger("cpwhisperx.asr.longform")

# Measured (base, beam 5): decoding one chunk peaks higher the more speech it holds (log-mel
# features and their STFT intermediates), about 0.8 MB per second: 385 MB at 30 s, 434 at 90 s,
# 477 at 150 s, 504 at 180 s. A chunk no longer than the speech of 2 minutes of media (102 s of
# it in `benchmarks/memory.py`) keeps longer media at the peak of short media: with 120 s, 20 min
# / 2 min = 0.94 and 1.11 in two runs (with 150 s: 1.19 and 1.31). Such media stays one chunk,
# decoded exactly as in one piece.
CHUNK_SPEECH_SECONDS = 120.0
# Sparse speech: a chunk never reads more than this much of the media.
CHUNK_SPAN_SECONDS = 300.0
# Without speech regions, or in a region longer than a chunk, a cut is made at the quietest point
# of this stretch before the limit, rather than in the middle of a word.
QUIET_SEARCH_SECONDS = 10.0
QUIET_WINDOW_SECONDS = 0.1
QUIET_STEP_SAMPLES = 160
WHISPER_WINDOW_SECONDS = 30.0
WHISPER_WINDOW_SAMPLES = int(WHISPER_WINDOW_SECONDS) * SAMPLE_RATE
# faster-whisper's prompt_reset_on_temperature: a window decoded hotter than this is not context.
PROMPT_RESET_TEMPERATURE = 0.5
# Whisper reads at most this many tokens of context (half its 448-token window, less one).
CONTEXT_TOKENS = 223


@dataclass(frozen=True)
class ChunkLimits:
    speech_seconds: float = CHUNK_SPEECH_SECONDS
    span_seconds: float = CHUNK_SPAN_SECONDS


DEFAULT_LIMITS = ChunkLimits()

@dataclass(frozen=True)
class Chunk:
    start: int  # first sample of the media read for this chunk
    end: int  # one past the last
    # The speech regions decoded in it (media times); None: all of [start, end) is decoded.
    regions: list[tuple[float, float]] | None


def plan_chunks(reader: WavReader, regions: list[tuple[float, float]] | None, limits: ChunkLimits) -> list[Chunk]:
    speech_limit = int(limits.speech_seconds * SAMPLE_RATE)
    if regions is None:
        cuts = _cut_points(reader, 0, reader.samples, speech_limit)
        return [Chunk(a, b, None) for a, b in zip(cuts, cuts[1:], strict=False)]
    pieces: list[tuple[float, float]] = []
    for start, end in regions:
        first, last = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        if last - first <= speech_limit:
            pieces.append((start, end))
            continue
        cuts = _cut_points(reader, first, last, speech_limit)
        pieces.extend((start if a == first else a / SAMPLE_RATE, end if b == last else b / SAMPLE_RATE)
                      for a, b in zip(cuts, cuts[1:], strict=False))
    span_limit = int(limits.span_seconds * SAMPLE_RATE)
    chunks: list[Chunk] = []
    group: list[tuple[float, float]] = []
    speech = 0
    for start, end in pieces:
        length = int(end * SAMPLE_RATE) - int(start * SAMPLE_RATE)
        if group and (speech + length > speech_limit or int(end * SAMPLE_RATE) - int(group[0][0] * SAMPLE_RATE) > span_limit):
            chunks.append(_chunk_of(group))
            group, speech = [], 0
        group.append((start, end))
        speech += length
    if group:
        chunks.append(_chunk_of(group))
    return chunks


def _chunk_of(regions: list[tuple[float, float]]) -> Chunk:
    return Chunk(int(regions[0][0] * SAMPLE_RATE), int(regions[-1][1] * SAMPLE_RATE), regions)


def _cut_points(reader: WavReader, start: int, end: int, limit: int) -> list[int]:
    """[start, …, end] with no two neighbours more than `limit` samples apart, each inner cut at the
    quietest moment of the stretch before the limit."""
    cuts = [start]
    search = min(int(QUIET_SEARCH_SECONDS * SAMPLE_RATE), limit // 2)
    while end - cuts[-1] > limit:
        bound = cuts[-1] + limit
        cuts.append(bound - search + _quietest(reader.read(bound - search, bound)))
    return [*cuts, end]


def _quietest(samples: np.ndarray) -> int:
    """The centre of the quietest 100 ms of `samples`, as an index into it."""
    size = int(QUIET_WINDOW_SECONDS * SAMPLE_RATE)
    if len(samples) <= size:
        return len(samples) // 2
    energy = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    starts = np.arange(0, len(samples) - size + 1, QUIET_STEP_SAMPLES)
    loudness = energy[starts + size] - energy[starts]
    # the latest of equally quiet moments, so that chunks stay as long as allowed
    best = len(loudness) - 1 - int(np.argmin(loudness[::-1]))
    return int(starts[best]) + size // 2


class Context:
    """What one decode of the whole would carry into the next chunk's first window: the initial
    prompt and the tokens decoded since (timestamps included: a prompt of bare text makes Whisper
    drop its timestamps and run segments together), until a window decoded hotter than
    PROMPT_RESET_TEMPERATURE resets it. Without conditioning on previous text, only the first
    window is prompted."""

    def __init__(self, options: DecodeOptions) -> None:
        self.initial_prompt = options.initial_prompt
        self.conditioned = options.condition_on_previous_text
        self.tokens: list[int] = []

    def options(self, options: DecodeOptions) -> DecodeOptions:
        return replace(options, initial_prompt=self.initial_prompt, previous_tokens=tuple(self.tokens))

    def extend(self, segments: Iterable[Segment]) -> None:
        if not self.conditioned:
            self.initial_prompt, self.tokens = None, []
            return
        for segment in segments:
            if (segment.temperature or 0.0) > PROMPT_RESET_TEMPERATURE:
                self.initial_prompt, self.tokens = None, []
            else:
                self.tokens.extend(segment.tokens)
        if len(self.tokens) >= CONTEXT_TOKENS:  # the initial prompt has scrolled out of what Whisper reads
            self.initial_prompt, self.tokens = None, self.tokens[-CONTEXT_TOKENS:]


def transcribe(backend: AsrBackend, reader: WavReader, regions: list[tuple[float, float]] | None, options: DecodeOptions,
               progress: Callable[[float], None], limits: ChunkLimits = DEFAULT_LIMITS) -> Transcript:
    """The speech `regions` (all the audio when None) decoded chunk by chunk."""
    segments, language, probability = decode_chunks(backend, reader, regions, options, progress, limits)
    progress(reader.duration)
    return Transcript(language=language or "und", language_probability=probability, duration=round(reader.duration, 3),
                      segments=[seg.model_copy(update={"id": number}) for number, seg in enumerate(segments)])


@dataclass
class ChunkStream:
    """Chunks decoded one after the other, the text of each carried into the next (a stream of
    batched decoding)."""

    reader: WavReader
    chunks: list[Chunk]
    context: Context

    def read(self, chunk: Chunk) -> np.ndarray:
        return self.reader.read(chunk.start, chunk.end)

    def options(self, base: DecodeOptions) -> DecodeOptions:
        return self.context.options(base)

    def extend(self, segments: list[Segment]) -> None:
        self.context.extend(segments)


def decode_streams(backend: AsrBackend, reader: WavReader, region_lists: list[list[tuple[float, float]]], options: DecodeOptions,
                   progress: Callable[[float], None], limits: ChunkLimits = DEFAULT_LIMITS
                   ) -> Iterator[tuple[int, list[Segment], str | None, float | None]]:
    """Independent lists of speech regions (blocks), each decoded on its own: (index, segments in
    media times, language, probability) of each. With WHISPER_BATCH_SIZE above 1 they are decoded
    side by side and come in the order they finish; else one after the other."""
    if options.batch_size <= 1:
        for index, regions in enumerate(region_lists):
            yield index, *decode_chunks(backend, reader, regions, options, progress, limits)
        return
    streams = [ChunkStream(reader, plan_chunks(reader, regions, limits), Context(options)) for regions in region_lists]
    yield from backend.transcribe_streams(streams, options, progress)


def decode_chunks(backend: AsrBackend, reader: WavReader, regions: list[tuple[float, float]] | None, options: DecodeOptions,
                  progress: Callable[[float], None], limits: ChunkLimits = DEFAULT_LIMITS) -> tuple[list[Segment], str | None, float | None]:
    """The segments of the speech `regions` (all the audio when None), in media times, and the
    language decoded (detected on the first chunk when not given) with its probability."""
    if options.batch_size > 1:
        return _decode_side_by_side(backend, reader, regions, options, progress, limits)
    context = Context(options)
    language, probability = options.language, None
    segments: list[Segment] = []
    chunks = plan_chunks(reader, regions, limits)
    if len(chunks) > 1:
        log.info("decoding in %d chunks of at most %.0f s of speech", len(chunks), limits.speech_seconds)
    for number, chunk in enumerate(chunks, start=1):
        log.debug("chunk %d/%d: %.2f–%.2f s", number, len(chunks), chunk.start / SAMPLE_RATE, chunk.end / SAMPLE_RATE)
        audio = reader.read(chunk.start, chunk.end)
        chunk_options = replace(context.options(options), language=language)
        part = backend.transcribe(audio, chunk.regions, chunk_options, progress, offset=chunk.start)
        del audio
        if language is None:  # detected on the first chunk, as one decode would on its first window
            language = part.language
        if probability is None:
            probability = part.language_probability
        context.extend(part.segments)
        segments.extend(part.segments)
    return segments, language, probability


def _decode_side_by_side(backend: AsrBackend, reader: WavReader, regions: list[tuple[float, float]] | None,
                         options: DecodeOptions, progress: Callable[[float], None],
                         limits: ChunkLimits) -> tuple[list[Segment], str | None, float | None]:
    """One stretch of speech as up to `options.batch_size` streams decoded side by side: cut into
    chunks of about a window each, consecutive chunks making a stream. Each stream but the first
    starts without the text before it."""
    if options.language is None:  # one language for all the streams, as one decode would find it on its first window
        language, _, _ = detect_language(backend, reader, regions, [], options.language_detection_segments)
        options = replace(options, language=language)
    speech = sum(end - start for start, end in regions) if regions is not None else reader.duration
    share = max(WHISPER_WINDOW_SECONDS, speech / options.batch_size)
    chunks = plan_chunks(reader, regions, replace(limits, speech_seconds=min(limits.speech_seconds, share)))
    count = min(options.batch_size, len(chunks))
    bounds = [round(i * len(chunks) / count) for i in range(count + 1)] if count else [0]
    streams = [ChunkStream(reader, chunks[a:b], Context(options)) for a, b in zip(bounds, bounds[1:], strict=False)]
    found: dict[int, tuple[list[Segment], str, float]] = {}
    for index, segments, language, probability in backend.transcribe_streams(streams, options, progress):
        found[index] = (segments, language, probability)
    if not found:
        return [], options.language, None
    _, language, probability = found[0]
    return [seg for index in sorted(found) for seg in found[index][0]], options.language or language, probability


def speech_head(reader: WavReader, regions: list[tuple[float, float]] | None, samples: int) -> np.ndarray:
    """The first `samples` of the speech regions (of the audio when None), joined end to end."""
    if regions is None:
        return reader.read(0, samples)
    pieces, total = [], 0
    for start, end in regions:
        if total >= samples:
            break
        pieces.append(reader.read_seconds(start, end))
        total += len(pieces[-1])
    return np.concatenate(pieces)[:samples] if pieces else np.zeros(0, np.float32)


def detect_language(backend: AsrBackend, reader: WavReader, regions: list[tuple[float, float]] | None, candidates: list[str],
                    windows: int) -> tuple[str, float, list[tuple[str, float]]]:
    """The backend's language detection on the first `windows` 30-second windows of speech: all
    that it looks at, read without the rest."""
    return backend.detect_language(speech_head(reader, regions, windows * WHISPER_WINDOW_SAMPLES), None, candidates, windows)
