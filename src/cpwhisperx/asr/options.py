"""Decoding options passed down to a backend as one typed object."""

from __future__ import annotations

from dataclasses import dataclass

from cpwhisperx.config import Settings


@dataclass(frozen=True)
class DecodeOptions:
    language: str | None
    task: str
    beam_size: int
    best_of: int
    patience: float
    temperatures: tuple[float, ...]
    compression_ratio_threshold: float
    log_prob_threshold: float
    no_speech_threshold: float
    initial_prompt: str | None
    hotwords: str | None
    condition_on_previous_text: bool
    batch_size: int
    language_detection_segments: int
    word_timestamps: bool = True
    # When set, tokens writing letters of any other script are suppressed (script repair).
    allowed_scripts: frozenset[str] | None = None
    # Whisper tokens decoded before this audio (segments' `tokens`): the decode continues from them,
    # after the initial prompt, as one decode of both would.
    previous_tokens: tuple[int, ...] = ()

    @classmethod
    def from_settings(cls, s: Settings, task: str = "transcribe") -> DecodeOptions:
        return cls(
            language=None if s.SOURCE_LANGUAGE == "auto" else s.SOURCE_LANGUAGE,
            task=task,
            beam_size=s.WHISPER_BEAM_SIZE,
            best_of=s.WHISPER_BEST_OF,
            patience=s.WHISPER_PATIENCE,
            temperatures=tuple(s.WHISPER_TEMPERATURE),
            compression_ratio_threshold=s.WHISPER_COMPRESSION_RATIO_THRESHOLD,
            log_prob_threshold=s.WHISPER_LOG_PROB_THRESHOLD,
            no_speech_threshold=s.WHISPER_NO_SPEECH_THRESHOLD,
            initial_prompt=s.WHISPER_INITIAL_PROMPT or None,
            hotwords=s.WHISPER_HOTWORDS or None,
            condition_on_previous_text=s.WHISPER_CONDITION_ON_PREVIOUS_TEXT,
            batch_size=s.WHISPER_BATCH_SIZE,
            language_detection_segments=s.WHISPER_LANGUAGE_DETECTION_SEGMENTS,
        )

    def batched_tradeoffs(self) -> list[str]:
        """What batched decoding of one stretch of speech (no speech regions, a language run, the
        translate task) changes, in words for the run's warnings; blocks of speech regions are
        independent and lose nothing."""
        if self.batch_size <= 1 or not self.condition_on_previous_text:
            return []
        return [f"the speech is cut into up to {self.batch_size} stretches decoded side by side; each but the first starts "
                "without the text before it (WHISPER_CONDITION_ON_PREVIOUS_TEXT)"]
