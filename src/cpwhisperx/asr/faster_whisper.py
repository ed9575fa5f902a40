"""The faster-whisper backend (CTranslate2), sequential or batched (see `lockstep`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.transcribe import restore_speech_timestamps

from cpwhisperx.asr.lockstep import LockstepDecoder, StreamSource
from cpwhisperx.asr.longform import Chunk
from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.asr.script_tokens import tokens_outside
from cpwhisperx.media import SAMPLE_RATE
from cpwhisperx.transcript import Segment, Transcript, Word

log = logging.getLogger("cpwhisperx.asr.faster_whisper")
# Temperature fallback samples: the seed makes a film's transcript the same from run to run.
# CTranslate2 seeds each thread's generator once, when it first samples; a model that has sampled
# is therefore not reused for another job (see `reusable`).
SAMPLING_SEED = 20240601


class FasterWhisperBackend:
    name = "faster-whisper"

    def __init__(self, model_path: str, device: str, compute_type: str, cpu_threads: int) -> None:
        self.model = WhisperModel(model_path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
        self.multilingual = bool(self.model.model.is_multilingual)
        self.reusable = True
        self._suppressed: dict[frozenset[str], list[int]] = {}

    def _suppress_tokens(self, allowed: frozenset[str] | None) -> list[int]:
        """faster-whisper's default suppression (-1), plus every token outside the allowed scripts."""
        if allowed is None:
            return [-1]
        if allowed not in self._suppressed:
            vocabulary = self.model.hf_tokenizer
            eot = vocabulary.token_to_id("<|endoftext|>")
            pieces = [vocabulary.id_to_token(i) or "" for i in range(eot)]
            self._suppressed[allowed] = tokens_outside(pieces, set(allowed))
        return [-1, *self._suppressed[allowed]]

    def _prompt(self, options: DecodeOptions) -> str | list[int] | None:
        """The initial prompt, followed by the tokens of an earlier decode this one continues."""
        if not options.previous_tokens:
            return options.initial_prompt
        # encoded as faster-whisper encodes a text prompt
        prompt = self.model.hf_tokenizer.encode(" " + options.initial_prompt.strip(), add_special_tokens=False).ids if options.initial_prompt else []
        return [*prompt, *options.previous_tokens]

    def detect_language(self, audio: np.ndarray, regions: list[tuple[float, float]] | None, candidates: list[str],
                        windows: int) -> tuple[str, float, list[tuple[str, float]]]:
        """The most likely language of the speech, among `candidates` when given; probabilities
        are renormalised over the candidates."""
        if not self.multilingual:
            return "en", 1.0, [("en", 1.0)]
        _, speech = _speech(audio, regions)
        _, _, ranked = self.model.detect_language(audio=speech, language_detection_segments=windows)
        if candidates:
            ranked = [(code, p) for code, p in ranked if code in candidates]
            total = sum(p for _, p in ranked) or 1.0
            ranked = [(code, p / total) for code, p in ranked]
        language, probability = ranked[0]
        return language, float(probability), [(code, round(float(p), 4)) for code, p in ranked[:5]]

    def transcribe(
        self,
        audio: np.ndarray,
        regions: list[tuple[float, float]] | None,
        options: DecodeOptions,
        progress: Callable[[float], None],
        offset: int = 0,
    ) -> Transcript:
        end = (offset + len(audio)) / SAMPLE_RATE
        if options.batch_size > 1:
            source = _OnePiece(audio, regions, offset, options)
            ((_, result, language, probability),) = self.transcribe_streams([source], options, lambda _: None)
            progress(end)
            return Transcript(language=language, language_probability=round(probability, 4), duration=round(end, 3), segments=result)
        chunks, speech = _speech(audio, regions, offset)
        common: dict[str, Any] = dict(
            language=options.language, task=options.task, beam_size=options.beam_size, best_of=options.best_of,
            patience=options.patience, compression_ratio_threshold=options.compression_ratio_threshold,
            log_prob_threshold=options.log_prob_threshold, no_speech_threshold=options.no_speech_threshold,
            initial_prompt=self._prompt(options), hotwords=options.hotwords, word_timestamps=options.word_timestamps,
            language_detection_segments=options.language_detection_segments,
            suppress_tokens=self._suppress_tokens(options.allowed_scripts),
        )
        ctranslate2.set_random_seed(SAMPLING_SEED)
        segments, info = self.model.transcribe(
            speech, vad_filter=False, temperature=list(options.temperatures),
            condition_on_previous_text=options.condition_on_previous_text, **common,
        )
        result = self._converted(segments, chunks, 0.0 if chunks else offset / SAMPLE_RATE, options, progress)
        progress(end)
        return Transcript(language=info.language, language_probability=round(float(info.language_probability), 4),
                          duration=round(end, 3), segments=result)

    def transcribe_streams(self, sources: Sequence[StreamSource], options: DecodeOptions,
                           progress: Callable[[float], None]) -> Iterator[tuple[int, list[Segment], str, float]]:
        """Independent streams decoded side by side, `options.batch_size` windows at a time, each
        as sequential decoding would decode it; (index, segments, language, probability) of each
        stream as it finishes."""
        ctranslate2.set_random_seed(SAMPLING_SEED)
        decoder = LockstepDecoder(
            self.model, prompt=self._prompt, suppress=lambda o: self._suppress_tokens(o.allowed_scripts), speech=_speech,
            convert=lambda found, chunks, shift, o: self._converted(found, chunks, shift, o, lambda _: None))
        try:
            yield from decoder.decode(sources, options, progress)
        finally:
            if decoder.sampled:
                self.reusable = False

    def _converted(self, segments: Any, chunks: list[dict[str, int]] | None, shift: float, options: DecodeOptions,
                   progress: Callable[[float], None]) -> list[Segment]:
        """faster-whisper's segments in the media's time line: through the speech `chunks` joined
        end to end when given, else moved by `shift` seconds."""
        if chunks:
            segments = restore_speech_timestamps(segments, chunks, SAMPLE_RATE)
            shift = 0.0
        result = []
        for number, seg in enumerate(segments):
            words = [Word(start=_shifted(w.start, shift), end=_shifted(w.end, shift), text=w.word, probability=round(w.probability, 4))
                     for w in (seg.words or [])]
            result.append(Segment(
                id=number, start=_shifted(seg.start, shift), end=_shifted(seg.end, shift), text=seg.text.strip(), words=words,
                avg_logprob=round(seg.avg_logprob, 4), compression_ratio=round(seg.compression_ratio, 4),
                no_speech_prob=round(seg.no_speech_prob, 4), temperature=seg.temperature, tokens=list(seg.tokens),
            ))
            progress(result[-1].end)
            if seg.temperature or _failed_checks(seg, options):
                self.reusable = False
        return result


@dataclass
class _OnePiece:
    """Audio already read, as a stream of one chunk."""

    audio: np.ndarray
    regions: list[tuple[float, float]] | None
    offset: int
    base: DecodeOptions

    @property
    def chunks(self) -> list[Chunk]:
        return [Chunk(self.offset, self.offset + len(self.audio), self.regions)]

    def read(self, chunk: Chunk) -> np.ndarray:
        return self.audio

    def options(self, base: DecodeOptions) -> DecodeOptions:
        return self.base

    def extend(self, segments: list[Segment]) -> None:
        pass


def _failed_checks(seg: Any, options: DecodeOptions) -> bool:
    """Whether a window failed the checks that start temperature fallback: its text may be the
    best of sampled attempts even when that best one was decoded at temperature 0."""
    return bool(seg.compression_ratio > options.compression_ratio_threshold or seg.avg_logprob <= options.log_prob_threshold)


def _shifted(time: float, shift: float) -> float:
    return round(time + shift, 3) if shift else time


def _speech(audio: np.ndarray, regions: list[tuple[float, float]] | None,
            offset: int = 0) -> tuple[list[dict[str, int]] | None, np.ndarray]:
    """Only the speech, joined end to end (what faster-whisper's own vad_filter decodes), with the
    sample ranges in the media that map times back; `audio` holds the media from sample `offset`."""
    if regions is None:
        return None, audio
    chunks = [{"start": int(s * SAMPLE_RATE), "end": int(e * SAMPLE_RATE)} for s, e in regions]
    pieces = [audio[max(0, c["start"] - offset):max(0, c["end"] - offset)] for c in chunks]
    speech = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return chunks, speech


def create(model_path: str, device: str, compute_type: str, cpu_threads: int) -> FasterWhisperBackend:
    return FasterWhisperBackend(model_path, device, compute_type, cpu_threads)
