"""The fixed stage order, and what each stage needs: its module, config keys and when it is off."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cpwhisperx.config import Settings
    from cpwhisperx.jobs import Job
    from cpwhisperx.stageio import StageIO

STAGE_ORDER: tuple[str, ...] = (
    "demux", "tmdb", "glossary_load", "source_separation", "vad", "asr", "alignment",
    "diarization", "lyrics_detection", "hallucination_removal", "translation", "subtitle_generation", "mux",
)

SkipRule = Callable[["Job", "Settings"], "str | None"]


def _always(reason: str) -> SkipRule:
    return lambda job, settings: reason


def _unless_workflow(*workflows: str) -> SkipRule:
    return lambda job, settings: None if job.record.workflow in workflows else f"not part of the {job.record.workflow} workflow"


def _diarization_off(job: Job, settings: Settings) -> str | None:
    enabled, workflow = settings.DIARIZATION_ENABLED, job.record.workflow
    if enabled == "false":
        return "off: DIARIZATION_ENABLED=false"
    if enabled == "auto" and workflow != "subtitle":
        return f"off in the {workflow} workflow (DIARIZATION_ENABLED=auto diarizes subtitle jobs; set it to true to diarize this one)"
    return None


@dataclass(frozen=True)
class StageSpec:
    name: str
    config_keys: tuple[str, ...] = ()
    skip_rule: SkipRule | None = None

    @property
    def number(self) -> int:
        return stage_number(self.name)

    def skip_reason(self, job: Job, settings: Settings) -> str | None:
        return self.skip_rule(job, settings) if self.skip_rule else None

    def runner(self) -> Callable[[StageIO], None]:
        module = importlib.import_module(f"cpwhisperx.stages.{self.name}")
        return module.run  # type: ignore[no-any-return]


STAGES: tuple[StageSpec, ...] = (
    # The source language picks the audio stream of a file with several (DEMUX_AUDIO_STREAM=auto).
    StageSpec("demux", ("DEMUX_", "SOURCE_LANGUAGE", "CACHE_ENABLED", "SHOT_CHANGE_")),
    StageSpec("tmdb", ("TMDB_",), skip_rule=lambda job, s: None if s.TMDB_ENABLED else "off: TMDB_ENABLED=false"),
    # With the cache on, the names earlier jobs of the film confirmed may fill a glossary of their own.
    StageSpec("glossary_load", ("GLOSSARY_PATHS", "CACHE_ENABLED"),
              skip_rule=lambda job, s: None if s.GLOSSARY_PATHS or s.TMDB_ENABLED or s.CACHE_ENABLED
              else "no glossary files configured, TMDB off and the cache (where learned names are) off"),
    StageSpec("source_separation", skip_rule=_always("off: vocal separation is not available in this version")),
    StageSpec("vad", ("VAD_", "CACHE_ENABLED"), skip_rule=lambda job, s: None if s.VAD_ENABLED else "off: VAD_ENABLED=false (the whole audio is transcribed)"),
    StageSpec("asr", ("WHISPER_", "SOURCE_LANGUAGE", "LANGUAGE_CANDIDATES", "GLOSSARY_ASR_BIAS", "GLOSSARY_ASR_MAX_TERMS", "GLOSSARY_CORRECT_ASR",
                            "SCRIPT_", "HINDI_DECODE_SCRIPT", "HINGLISH_ENGLISH_WORDS", "LANGUAGE_PER_SEGMENT", "LANGUAGE_SWITCH_", "NUMBERS", "CACHE_ENABLED")),
    StageSpec("alignment"),
    StageSpec("diarization", ("DIARIZATION_BACKEND", "DIARIZATION_NUM_SPEAKERS", "DIARIZATION_MIN_SPEAKERS", "DIARIZATION_MAX_SPEAKERS",
                              "DIARIZATION_SHERPA_"), skip_rule=_diarization_off),
    StageSpec("lyrics_detection", ("LYRICS_MUSIC_THRESHOLD", "LYRICS_MIN_MUSIC_SHARE", "LYRICS_REPEAT_MIN_WORDS"), skip_rule=_unless_workflow("subtitle")),
    StageSpec("hallucination_removal", ("HALLUCINATION_",), skip_rule=lambda job, s: None if s.HALLUCINATION_ENABLED else "off: HALLUCINATION_ENABLED=false"),
    StageSpec("translation", ("TRANSLATION_", "TARGET_LANGUAGES", "CACHE_ENABLED", "NUMBERS"),
              skip_rule=lambda job, s: None if s.TARGET_LANGUAGES and job.record.workflow in ("translate", "subtitle") else "no target languages"),
    StageSpec("subtitle_generation", ("SUBTITLE_", "LYRICS_MODE", "TARGET_LANGUAGES", "HINDI_OUTPUT_SCRIPT", "DIARIZATION_SPEAKER_NAMES",
                                                "MUX_FORCED_LANGUAGES")),
    StageSpec("mux", ("MUX_", "TARGET_LANGUAGES"), skip_rule=_unless_workflow("subtitle")),
)


def stage_number(name: str) -> int:
    return STAGE_ORDER.index(name) + 1


def get_stage(name: str) -> StageSpec:
    for spec in STAGES:
        if spec.name == name:
            return spec
    import difflib

    from cpwhisperx.errors import InvalidInput

    close = difflib.get_close_matches(name, STAGE_ORDER, n=1)
    raise InvalidInput(f"unknown stage '{name}'", hint=(f"did you mean {close[0]}? " if close else "") + "stages: " + ", ".join(STAGE_ORDER))
