"""Every configuration key in one place: type, default, documentation, validation and precedence.

Precedence, lowest first: built-in defaults → ``config/.env.pipeline`` of the working directory
(or the file named by ``CPWX_CONFIG``) → the job's ``.env.pipeline`` → environment variables →
explicit overrides (``--set KEY=VALUE``).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cpwhisperx.errors import ConfigError
from cpwhisperx.subtitle_rules import own_line_lengths

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
ComputeType = Literal[
    "auto", "int8", "int8_float16", "int8_float32", "int8_bfloat16", "int16",
    "float16", "bfloat16", "float32",
]
SubtitleFormat = Literal["srt", "vtt", "ass", "ttml", "ebu-tt-d"]
MULTILINGUAL_HINT = "set WHISPER_MODEL to a multilingual model: base (bundled), small, medium, large-v3 or large-v3-turbo"


# The line limits of the broadcast guides for scripts denser or wider than Latin (see the key's description).
LINE_LENGTH_BY_LANGUAGE: dict[str, int] = own_line_lengths()
LINE_LENGTH_RANGE = (10, 200)


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseModel):
    """The effective configuration of a job. Field names are the configuration keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    LOG_LEVEL: LogLevel = Field("INFO", description="Console and pipeline-log verbosity; stage.log always keeps DEBUG.")
    OUTPUT_DIR: str = Field("out", description="Root of the job directories (out/YYYY/MM/DD/<user>/<job-id>/), relative to the working directory unless absolute.")
    SOURCE_LANGUAGE: str = Field("auto", description="Spoken language as a Whisper code (hi, en, …) or `auto` to detect it.")
    LANGUAGE_CANDIDATES: list[str] = Field([], description="With SOURCE_LANGUAGE=auto, the Whisper languages the film can contain (e.g. hi,en): detection picks among them only, which keeps Hindi from being taken for Urdu.")
    TARGET_LANGUAGES: list[str] = Field([], description="Comma-separated languages to translate into (translate and subtitle workflows): Whisper codes or BCP 47 tags (or, bg, zh-Hant, ks-Deva) of any language a translation engine translates into: NLLB-200's 202, IndicTrans2's, installed Apertium pairs', Bergamot's en/pt.")
    SHOT_CHANGE_DETECTION: bool = Field(True, description="Find the shot changes of a video (FFmpeg's scdet on frames scaled to 160 pixels; decoding the video costs about 9 CPU seconds a minute of 1080p H.264, 15 to 20 minutes of CPU for a 2-hour film; with CACHE_ENABLED once per video, as the audio is) for the subtitle timing rules (SUBTITLE_SHOT_CHANGE_WINDOW). Off, the video is not decoded and cue times still land on its frames. A video FFmpeg cannot decode is timed the same way, with a warning. Audio alone has no shot changes.")
    SHOT_CHANGE_THRESHOLD: float = Field(10.0, gt=0, le=100, description="scdet's score (0-100, the picture's change between two frames) above which a frame starts a new shot; lower finds softer cuts and more false ones.")
    DEMUX_AUDIO_STREAM: Literal["auto"] | Annotated[int, Field(ge=0)] = Field("auto", description="Which audio stream to transcribe, counted among the audio streams from 0. `auto`: the stream whose language tag is SOURCE_LANGUAGE, else the one the file marks as default, else the first; with several streams the run says which it took.")

    VAD_ENABLED: bool = Field(True, description="Detect speech regions with Silero VAD and transcribe only those.")
    VAD_THRESHOLD: float = Field(0.5, gt=0, lt=1, description="Speech probability above which a 32 ms window counts as speech.")
    VAD_MIN_SPEECH_DURATION_MS: int = Field(0, ge=0, description="Speech regions shorter than this are dropped.")
    VAD_MAX_SPEECH_DURATION_S: float = Field(30.0, gt=0, description="Longer speech regions are split at a pause, so that a region fits in one of Whisper's 30 s windows.")
    VAD_MIN_SILENCE_DURATION_MS: int = Field(2000, ge=0, description="A pause must last this long to end a speech region.")
    VAD_SPEECH_PAD_MS: int = Field(400, ge=0, description="Padding added on both sides of each speech region.")

    WHISPER_BACKEND: Literal["auto", "faster-whisper", "whisperx", "mlx"] = Field("auto", description="ASR backend. This version has one, faster-whisper (CTranslate2), which `auto` selects. `whisperx` and `mlx` are not built in this version: asking for them falls back to faster-whisper with a warning, or stops with exit code 3 when WHISPER_BACKEND_STRICT=true.")
    WHISPER_BACKEND_STRICT: bool = Field(False, description="Stop with exit code 3 instead of falling back when the requested backend or device is not available.")
    WHISPER_MODEL: str = Field("base", description="Model name (tiny … large-v3, large-v3-turbo), a Hugging Face repo id, or a local CTranslate2 model directory.")
    WHISPER_DEVICE: Literal["auto", "cpu", "cuda", "mps"] = Field("auto", description="Device for ASR; `auto` uses CUDA when visible, else the CPU. `mps` (Apple GPUs) is not built in this version: it falls back to the CPU with a warning, or stops with exit code 3 when WHISPER_BACKEND_STRICT=true.")
    WHISPER_COMPUTE_TYPE: ComputeType = Field("auto", description="CTranslate2 compute type; `auto` is float16 on CUDA and int8 on the CPU.")
    WHISPER_CPU_THREADS: int = Field(0, ge=0, description="CPU threads for ASR; 0 lets CTranslate2 choose.")
    WHISPER_BEAM_SIZE: int = Field(5, ge=1, le=32, description="Beam width for decoding at temperature 0.")
    WHISPER_BEST_OF: int = Field(5, ge=1, le=32, description="Candidates sampled at temperatures above 0.")
    WHISPER_PATIENCE: float = Field(1.0, gt=0, description="Beam search patience factor.")
    WHISPER_TEMPERATURE: list[float] = Field([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], min_length=1, description="Comma-separated temperatures tried in turn when a decode fails the compression-ratio or log-probability check.")
    WHISPER_COMPRESSION_RATIO_THRESHOLD: float = Field(2.4, gt=0, description="A decode whose gzip compression ratio is above this is retried at the next temperature.")
    WHISPER_LOG_PROB_THRESHOLD: float = Field(-1.0, description="A decode whose average log-probability is below this is retried at the next temperature.")
    WHISPER_NO_SPEECH_THRESHOLD: float = Field(0.6, ge=0, le=1, description="A window whose no-speech probability is above this (with a low log-probability) is treated as silence.")
    WHISPER_INITIAL_PROMPT: str = Field("", description="Text given to the model as preceding context (style, names, script).")
    WHISPER_SCRIPT_PROMPT: bool = Field(True, description="For Indic languages (and Urdu), when WHISPER_INITIAL_PROMPT is empty, prompt Whisper with a sentence in the language's own script so that it writes in that script (not for Hindi decoded through Urdu: see HINDI_DECODE_SCRIPT).")
    HINDI_DECODE_SCRIPT: Literal["auto", "urdu", "devanagari"] = Field("auto", description="How Hindi speech is decoded. `urdu`: with Whisper's Urdu language token (spoken Hindi and Urdu are one language, and small models write it far more accurately in Urdu letters), then read into Devanagari with a Hindi lexicon. `devanagari`: as Hindi, steered by the script prompt. `auto`: `urdu` for the tiny and base models, unless HINGLISH_ENGLISH_WORDS=latin; `devanagari` otherwise.")
    SCRIPT_CHECK: bool = Field(True, description="Check every segment is written in its language's script (Hindi in Devanagari, …) and repair those that are not: text in a script that converts faithfully (another Indic script; Urdu letters for Hindi) is transliterated; other text (Latin, which may be a translation) is decoded again allowing only the right script, and transliterated if it still fails.")
    SCRIPT_MIN_SHARE: float = Field(0.9, gt=0, le=1, description="A segment with a smaller share of letters in its language's script is repaired.")
    SCRIPT_REDECODE: bool = Field(True, description="Repair a segment in a script that does not convert faithfully (Latin in a Hindi transcript) by decoding it again with other scripts' tokens suppressed before falling back to transliteration.")
    HINGLISH_ENGLISH_WORDS: Literal["native", "latin"] = Field("native", description="English words spoken inside Hindi (or another Indic language): `native` writes them in the language's script (पोस्टमैन), `latin` leaves them in Latin letters (postman).")
    LANGUAGE_PER_SEGMENT: bool = Field(False, description="Identify the language of every segment among LANGUAGE_CANDIDATES (or all languages) and decode code-switched segments in their own language.")
    LANGUAGE_SWITCH_MIN_PROBABILITY: float = Field(0.7, gt=0, le=1, description="With LANGUAGE_PER_SEGMENT, a segment is taken to be in another language only when detection gives that language at least this probability.")
    NUMBERS: Literal["digits", "words"] = Field("digits", description="Numbers in the transcript: `digits` (ASCII digits; native digits such as ४२ become 42) or `words` (spelt out in the language: बयालीस).")
    WHISPER_HOTWORDS: str = Field("", description="Words or names to bias decoding towards: given to the decoder before every 30 s window, ahead of the text that came before it (and of WHISPER_INITIAL_PROMPT). Glossary names are added here when GLOSSARY_ASR_BIAS=true.")
    WHISPER_CONDITION_ON_PREVIOUS_TEXT: bool = Field(True, description="Feed each window the text of the previous one; turn off if the output loops.")
    WHISPER_BATCH_SIZE: int = Field(1, ge=1, le=128, description="Above 1, decode this many windows at a time: the blocks of speech (independent by design) side by side, each window as sequential decoding decodes it (unfinished segments carried into the next window, the text before it as prompt, temperature fallback for the windows that fail their checks). Faster where batches pay (a GPU); on a CPU of few cores about as fast as sequential. Without speech regions, per-language runs and the translate task, the speech is cut into that many stretches, each starting without the text before it; the run warns of it.")
    WHISPER_LANGUAGE_DETECTION_SEGMENTS: int = Field(1, ge=1, le=10, description="How many 30 s windows language detection looks at when the source language is `auto`.")
    MODELS_DIR: str = Field("", description="Model cache directory; empty means ~/.cache/cp-whisperx/models (or $XDG_CACHE_HOME/cp-whisperx/models).")

    TMDB_ENABLED: bool = Field(False, description="Look the film up on TMDB (needs TMDB_API_KEY in the environment or config/secrets.json) and add cast and character names to the glossary.")
    TMDB_REQUIRED: bool = Field(False, description="Stop with exit code 4 when the TMDB look-up fails, instead of a warning and a skipped stage.")
    TMDB_BASE_URL: str = Field("https://api.themoviedb.org/3", description="TMDB API v3 base URL.")
    TMDB_TITLE: str = Field("", description="Film title to search for; empty means parse it from the file name.")
    TMDB_YEAR: int = Field(0, ge=0, le=2100, description="Release year to search for; 0 means parse it from the file name (or search without one).")
    TMDB_TIMEOUT: float = Field(10.0, gt=0, description="Seconds to wait for each TMDB answer.")
    TMDB_MAX_RETRIES: int = Field(3, ge=0, le=10, description="Retries after a rate limit (429) or a server error, honouring Retry-After.")
    TMDB_MAX_CAST: int = Field(30, ge=1, le=500, description="Most cast members taken from the credits.")

    GLOSSARY_PATHS: list[str] = Field([], description="Comma-separated glossary files (TSV or CSV: term, type, aliases, one column per target language).")
    GLOSSARY_ASR_BIAS: bool = Field(True, description="Give glossary names to Whisper as hotwords.")
    GLOSSARY_ASR_MAX_TERMS: int = Field(30, ge=0, le=200, description="Most glossary terms passed to Whisper (the prompt window is short).")
    GLOSSARY_CORRECT_ASR: bool = Field(True, description="Replace aliases and close misspellings of glossary names in the ASR text by the canonical term.")

    HALLUCINATION_ENABLED: bool = Field(True, description="Flag and drop hallucinated segments.")
    HALLUCINATION_MIN_SPEECH_OVERLAP: float = Field(0.2, ge=0, le=1, description="A segment whose span overlaps detected speech by less than this share is dropped.")
    HALLUCINATION_MAX_REPEATS: int = Field(4, ge=2, description="A phrase repeated this many times in a row within a segment, or a segment text repeated this many times in a row, is a repetition loop.")
    HALLUCINATION_COMPRESSION_RATIO_THRESHOLD: float = Field(2.4, gt=0, description="A segment whose compression ratio is above this is dropped.")
    HALLUCINATION_LOG_PROB_THRESHOLD: float = Field(-1.0, description="With a no-speech probability above HALLUCINATION_NO_SPEECH_THRESHOLD, a segment whose average log-probability is below this is dropped.")
    HALLUCINATION_NO_SPEECH_THRESHOLD: float = Field(0.6, ge=0, le=1, description="See HALLUCINATION_LOG_PROB_THRESHOLD.")

    DIARIZATION_ENABLED: Literal["auto", "true", "false"] = Field("auto", description="Find who speaks when (stage diarization) and label every word and segment with its speaker. `auto`: in the subtitle workflow only; `true`: in every workflow; `false`: never.")
    DIARIZATION_BACKEND: Literal["builtin", "sherpa-onnx"] = Field("builtin", description="Diarization engine. `builtin`: MFCC statistics of the speech, clustered, no model to download; `sherpa-onnx`: sherpa-onnx (install the `sherpa` extra) with the ONNX models of DIARIZATION_SHERPA_SEGMENTATION_MODEL and DIARIZATION_SHERPA_EMBEDDING_MODEL.")
    DIARIZATION_NUM_SPEAKERS: int = Field(0, ge=0, le=64, description="How many speakers the film has, when known; 0 estimates it, between DIARIZATION_MIN_SPEAKERS and DIARIZATION_MAX_SPEAKERS.")
    DIARIZATION_MIN_SPEAKERS: int = Field(1, ge=1, le=64, description="Fewest speakers an estimate may give.")
    DIARIZATION_MAX_SPEAKERS: int = Field(8, ge=1, le=64, description="Most speakers an estimate may give.")
    DIARIZATION_SHERPA_SEGMENTATION_MODEL: str = Field("", description="Path of the sherpa-onnx speaker segmentation model (.onnx, e.g. pyannote segmentation 3.0 exported for sherpa-onnx).")
    DIARIZATION_SHERPA_EMBEDDING_MODEL: str = Field("", description="Path of the sherpa-onnx speaker embedding model (.onnx, e.g. a 3D-Speaker or WeSpeaker model).")
    DIARIZATION_SPEAKER_NAMES: str = Field("", description="A speakers.tsv naming the diarized speakers: one row a speaker, its label (SPEAKER_1, …), a tab and the name; lines starting with # are comments. The .txt transcript shows the names, the .json keeps each label in `speaker` and adds the name as `speaker_name`; empty: labels only.")

    LYRICS_MODE: Literal["mark", "drop", "keep"] = Field("mark", description="Song lyrics in subtitles: `mark` sets them in italics between ♪, `drop` leaves them out, `keep` shows them as dialogue.")
    LYRICS_MUSIC_THRESHOLD: float = Field(0.5, gt=0, lt=1, description="Music score (0–1, from the audio) above which a window counts as music or singing.")
    LYRICS_MIN_MUSIC_SHARE: float = Field(0.6, gt=0, le=1, description="A segment is lyrics when at least this share of its span is music-dominated.")
    LYRICS_REPEAT_MIN_WORDS: int = Field(3, ge=1, description="A line of at least this many words heard again in a music-tinged stretch counts as a refrain.")

    SUBTITLE_FORMATS: list[SubtitleFormat] = Field(["srt", "vtt"], description="Subtitle formats written next to the .txt and .json transcript: `srt`, `vtt`, `ass`, `ttml` (TTML in the W3C IMSC 1.1 Text Profile, {stem}.{lang}.ttml) and `ebu-tt-d` (EBU-TT-D, EBU Tech 3380, {stem}.{lang}.ebu-tt-d.xml). The video's tracks are made from srt (else ass, else vtt); the Timed Text files are deliveries beside it.")
    SUBTITLE_SDH: bool = Field(False, description="Also write subtitles for the deaf and hard of hearing per language, {stem}.{lang}.sdh.{ext} in every SUBTITLE_FORMATS format, muxed as a track of their own (`English SDH`, hearing-impaired flag). As the Netflix SDH guides write them: the speaker in brackets at every change of speaker once diarized (`[Asha]` where DIARIZATION_SPEAKER_NAMES names the label, else `[speaker 1]`), song lyrics between ♪ whatever LYRICS_MODE says, and a `[music]` tag (in the track's language where known) over music without speech.")
    MUX_FORCED_LANGUAGES: list[str] = Field([], description="Languages to write a forced-narrative file for, {stem}.{lang}.forced.{ext}, muxed as a track of its own with the forced flag (`English (forced)`): only the dialogue spoken in another language than the film's and the track's (the segments LANGUAGE_PER_SEGMENT found code-switched), taken from the track language's translation, so a language needs to be in TARGET_LANGUAGES; the film's own language gets none, as nothing translates the foreign lines into it. On-screen text is not included: nothing reads the picture.")
    HINDI_OUTPUT_SCRIPT: Literal["devanagari", "latin"] = Field("devanagari", description="Script of Hindi transcripts and subtitles: `devanagari`, or `latin` for the casual romanisation Hinglish readers use (नमस्ते → namaste). Translation still reads the Devanagari transcript.")
    SUBTITLE_MAX_LINE_LENGTH: int = Field(42, ge=LINE_LENGTH_RANGE[0], le=LINE_LENGTH_RANGE[1], description="Most characters (grapheme clusters) on one subtitle line, in the languages without their own limit in SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE.")
    SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE: dict[str, int] = Field(
        dict(LINE_LENGTH_BY_LANGUAGE),
        description="Most characters on one line per language, instead of SUBTITLE_MAX_LINE_LENGTH: comma-separated "
                    "`language:characters` items, each replacing that language's default while the others keep theirs. "
                    "Defaults from the Netflix Timed Text Style Guides: 16 for Chinese (also Cantonese) and Korean, 35 for Thai; "
                    "16 for Japanese, the common vendor limit (Netflix asks 13 for horizontal subtitles: `ja:13`). A half-width "
                    "letter or space counts as one character, which the guides count as half. The README's rules table lists them.")
    SUBTITLE_MAX_LINES: int = Field(2, ge=1, le=4, description="Most lines in one cue.")
    SUBTITLE_MIN_DURATION: float = Field(5 / 6, gt=0, description="Shortest time a cue stays on screen, in seconds (5/6 s = 20 frames at 24 fps).")
    SUBTITLE_MAX_DURATION: float = Field(7.0, gt=1, description="Longest time a cue stays on screen, in seconds.")
    SUBTITLE_AUDIENCE: Literal["adult", "children", "sdh"] = Field("adult", description="Whose reading speed the subtitles keep: the per-language limits of the streaming guides for `adult`, `children` (lower: 13 cps in English, 17 in Hindi) or `sdh` programmes (the guides give SDH the adult reading speeds); the README's rules table lists them. SUBTITLE_MAX_CPS and SUBTITLE_MAX_CPS_BY_LANGUAGE override them.")
    SUBTITLE_MAX_CPS: float = Field(0.0, ge=0, description="Highest reading speed, in characters per second, for every language; met by extending a cue into free time before splitting it. 0: each language's limit for SUBTITLE_AUDIENCE from the guides (adults: 17 in English and languages without their own, 22 in Hindi, 9 in Chinese, 12 in Korean, 4 in Japanese).")
    SUBTITLE_MAX_CPS_BY_LANGUAGE: dict[str, float] = Field({}, description="Highest reading speed per language, instead of SUBTITLE_MAX_CPS and the guides' limit: comma-separated `language:cps` items (e.g. `hi:20,ja:5`).")
    SUBTITLE_MIN_GAP: float = Field(0.083, ge=0, description="Least time between two cues, in seconds (2 frames at 24 fps). On a video it is the nearest whole number of frames (2 at 24, 25 and 30 fps), except across a shot change, where a cue ends 2 frames before the cut and the next may start on it.")
    SUBTITLE_SHOT_CHANGE_WINDOW: float = Field(0.5, ge=0, le=2, description="On videos, how near a shot change (in seconds; half a second is the guides' 12 frames at 24 fps) a cue's in-time moves onto it and its out-time to 2 frames before it; a cue whose speech ends before a cut no longer runs across it. Cue times are always whole frames of the video. 0 turns the shot-change rules off, but the video is still decoded to find the cuts: SHOT_CHANGE_DETECTION=false skips that.")
    SUBTITLE_PAUSE_SPLIT: float = Field(1.0, gt=0, description="A pause in speech at least this long always ends a cue.")
    SUBTITLE_MAX_LEAD: float = Field(0.5, ge=0, description="How far a cue may appear before its speech starts, to win reading time.")
    SUBTITLE_MAX_DELAY: float = Field(0.5, ge=0, description="How far a cue may appear after its speech starts. Speech faster than SUBTITLE_MAX_CPS for long gets cues above that reading speed (reported) rather than cues that drift behind the voice.")

    TRANSLATION_ROUTES: str = Field(
        "indic-en:indictrans2,en-indic:indictrans2,indic-indic:indictrans2,en-pt:bergamot,pt-en:bergamot,*-*:nllb,*-*:apertium,*-en:whisper",
        description="Engine per language pair, first match with an installed engine wins: PAIR:ENGINE items where PAIR is "
                    "src-tgt with language codes (a code covers its regional and script variants: zh covers zh-Hant), `indic` for any of "
                    "IndicTrans2's 22 Indian languages, `*` for any. Engines: indictrans2, nllb, apertium, bergamot, whisper "
                    "(English from the audio).")
    TRANSLATION_DEVICE: Literal["auto", "cpu", "cuda"] = Field("auto", description="Device for neural translation engines.")
    TRANSLATION_BEAM_SIZE: int = Field(4, ge=1, le=16, description="Beam width of neural translation engines.")
    TRANSLATION_BATCH_SIZE: int = Field(16, ge=1, le=256, description="Sentences per batch for neural translation engines.")
    TRANSLATION_NLLB_MODEL: str = Field("", description="Directory of an NLLB-200 model converted to CTranslate2, with its tokenizer files.")
    TRANSLATION_INDICTRANS2_MODEL: str = Field("", description="Directory holding the IndicTrans2 models as subfolders en-indic, indic-en, indic-indic.")
    BATCH_WORKERS: int = Field(0, ge=0, le=256, description="`cpwx batch`: films run at once, each worker a process holding its own model. 0 chooses: on the CPU one single-thread worker per core (on 2 cores 9 % faster than one worker on both, see the README), fewer when memory is short; on CUDA one per GPU.")
    BATCH_THREADS_PER_WORKER: int = Field(0, ge=0, le=256, description="`cpwx batch`: CPU threads each worker's ASR uses (WHISPER_CPU_THREADS for its films, unless a film sets that). 0 shares the cores evenly among the workers.")
    BATCH_MAX_WORKER_MEMORY_GB: float = Field(0, ge=0, description="`cpwx batch`: a worker whose resident memory goes above this many gigabytes is stopped, and its film fails with a message saying so (the other films go on); 0 means no bound. With 0 workers chosen automatically, the bound (or 1.5 GB a worker) also limits how many start.")
    BATCH_ENGINE: Literal["local", "ray"] = Field("local", description="`cpwx batch`: `local` runs worker processes on this machine; `ray` runs one model-holding actor per worker slot of a Ray cluster (extra [ray]), media and jobs on storage every node sees.")
    BATCH_RAY_ADDRESS: str = Field("", description="The Ray cluster to join: `auto` (the one this machine is part of), host:port of its head, or ray://host:port; empty: the cluster started on this machine, else a new local one.")
    BATCH_RAY_STORAGE: Literal["auto", "shared", "ship"] = Field("auto", description="Ray engine: how actors reach the media and the job directories. `shared`: on storage every node mounts at the same path (an actor that does not see the batch folder stops the batch); `ship`: each film's job and media go to the actor through Ray's object store and its files come back after every stage; `auto`: in place where the actor sees the batch folder, shipped where it does not.")
    BATCH_GPUS_PER_WORKER: float = Field(1.0, ge=0, le=64, description="Ray engine: GPUs each actor takes when the cluster has GPUs (0.5 puts two on one GPU); the slots are the cluster's GPUs over this.")
    BATCH_MAX_ATTEMPTS: int = Field(2, ge=1, le=10, description="`cpwx batch`: times a film is started when its worker is lost mid-film (the process killed or the node gone); each new attempt resumes from the film's last finished stage.")

    CACHE_ENABLED: bool = Field(True, description="Reuse cached results, in every cache: ASR, VAD, translations, translation memory; `--no-cache` turns it off for a job.")
    CACHE_DIR: str = Field("", description="Result cache directory; empty means ~/.cache/cp-whisperx/cache.")
    CACHE_TTL_DAYS: float = Field(90, ge=0, description="Cache entries not used for this many days are removed after each successful run and by `cpwx cache cleanup`; 0 means no age limit.")
    CACHE_MAX_SIZE_GB: float = Field(10, ge=0, description="After each successful run and by `cpwx cache cleanup`, the least recently used cache entries are removed until the cache holds at most this many gigabytes; 0 means no size limit.")

    MUX_CONTAINER: Literal["mkv", "mp4"] = Field("mkv", description="Container of the soft-subtitled video: `mkv` (SRT tracks) or `mp4` (mov_text tracks).")
    MUX_DEFAULT_LANGUAGE: str = Field("", description="The language whose subtitle track players show unasked (the default flag): empty picks the first of TARGET_LANGUAGES that has a track, else the spoken language; `none` flags no track.")
    MUX_DEFAULT_TRACK: Literal["full", "sdh", "forced"] = Field("full", description="Which of the default language's tracks carries the default flag: `full` (all dialogue), `sdh` or `forced` (see SUBTITLE_SDH, MUX_FORCED_LANGUAGES); the full track when that language has none of the kind.")

    @field_validator("WHISPER_TEMPERATURE", "SUBTITLE_FORMATS", "TARGET_LANGUAGES", "GLOSSARY_PATHS", "LANGUAGE_CANDIDATES",
                     "MUX_FORCED_LANGUAGES", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE", mode="before")
    @classmethod
    def _line_lengths(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        given: dict[str, int] = {}
        for item in _split_list(value):
            language, sep, chars = item.partition(":")
            if not sep or not chars.strip().isdigit():
                raise ValueError(f"'{item}' is not of the form language:characters (e.g. zh:16)")
            given[language.strip().lower()] = int(chars)
        return {**LINE_LENGTH_BY_LANGUAGE, **given}

    @field_validator("SUBTITLE_MAX_CPS_BY_LANGUAGE", mode="before")
    @classmethod
    def _reading_speeds(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        given: dict[str, float] = {}
        for item in _split_list(value):
            language, sep, cps = item.partition(":")
            try:
                speed = float(cps)
            except ValueError:
                speed = math.nan
            if not sep or math.isnan(speed):
                raise ValueError(f"'{item}' is not of the form language:cps (e.g. hi:20)")
            given[language.strip().lower()] = speed
        return given

    @field_validator("SUBTITLE_MAX_CPS_BY_LANGUAGE")
    @classmethod
    def _reading_speeds_valid(cls, value: dict[str, float]) -> dict[str, float]:
        from cpwhisperx.languages import get_language

        for language, cps in value.items():
            if not cps > 1:
                raise ValueError(f"{language}:{cps:g}: a reading speed is above 1 character per second")
        return {get_language(language).code: cps for language, cps in value.items()}

    @field_validator("SUBTITLE_MAX_CPS")
    @classmethod
    def _reading_speed(cls, value: float) -> float:
        if 0 < value <= 1:
            raise ValueError("give 0 (the guides' limit for each language) or a reading speed above 1")
        return value

    @field_validator("SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE")
    @classmethod
    def _line_lengths_valid(cls, value: dict[str, int]) -> dict[str, int]:
        from cpwhisperx.languages import get_language

        low, high = LINE_LENGTH_RANGE
        for language, chars in value.items():
            if not low <= chars <= high:
                raise ValueError(f"{language}:{chars}: a line holds between {low} and {high} characters")
        return {get_language(language).code: chars for language, chars in value.items()}

    @field_validator("WHISPER_TEMPERATURE")
    @classmethod
    def _temperatures_in_range(cls, value: list[float]) -> list[float]:
        if any(not 0.0 <= t <= 1.0 or math.isnan(t) for t in value):
            raise ValueError("every temperature must lie between 0 and 1")
        return value

    @field_validator("MUX_FORCED_LANGUAGES")
    @classmethod
    def _forced_languages(cls, value: list[str]) -> list[str]:
        from cpwhisperx.languages import get_language

        return list(dict.fromkeys(get_language(code).code for code in value))

    @field_validator("MUX_DEFAULT_LANGUAGE")
    @classmethod
    def _default_language(cls, value: str) -> str:
        from cpwhisperx.languages import get_language

        value = value.strip()
        return value.lower() if value.lower() in ("", "none") else get_language(value).code

    @field_validator("TARGET_LANGUAGES")
    @classmethod
    def _served_targets(cls, value: list[str]) -> list[str]:
        from cpwhisperx.translate import target_language

        return list(dict.fromkeys(target_language(code).code for code in value))

    @field_validator("LANGUAGE_CANDIDATES")
    @classmethod
    def _whisper_candidates(cls, value: list[str]) -> list[str]:
        from cpwhisperx.languages import whisper_language

        return list(dict.fromkeys(whisper_language(code).code for code in value))

    @field_validator("TRANSLATION_ROUTES")
    @classmethod
    def _routes(cls, value: str) -> str:
        from cpwhisperx.translate import parse_routes

        parse_routes(value)
        return value

    @model_validator(mode="after")
    def _speaker_counts(self) -> Settings:
        low, high, exact = self.DIARIZATION_MIN_SPEAKERS, self.DIARIZATION_MAX_SPEAKERS, self.DIARIZATION_NUM_SPEAKERS
        if low > high:
            raise ConfigError(f"DIARIZATION_MIN_SPEAKERS={low} is above DIARIZATION_MAX_SPEAKERS={high}",
                              hint="make the minimum at most the maximum")
        if exact and not low <= exact <= high:
            raise ConfigError(f"DIARIZATION_NUM_SPEAKERS={exact} is outside DIARIZATION_MIN_SPEAKERS={low} … DIARIZATION_MAX_SPEAKERS={high}",
                              hint="widen the range, or set DIARIZATION_NUM_SPEAKERS=0 to estimate the count")
        return self

    @model_validator(mode="after")
    def _forced_tracks_translated(self) -> Settings:
        missing = [code for code in self.MUX_FORCED_LANGUAGES if code not in self.TARGET_LANGUAGES]
        if missing:
            raise ConfigError(f"MUX_FORCED_LANGUAGES={','.join(missing)}: a forced track shows the translation of the lines "
                              "spoken in other languages, and there is none without the language in TARGET_LANGUAGES",
                              hint=f"add {','.join(missing)} to TARGET_LANGUAGES")
        return self

    @model_validator(mode="after")
    def _languages_the_model_knows(self) -> Settings:
        from cpwhisperx.models import is_english_only

        others = [code for code in (self.SOURCE_LANGUAGE, *self.LANGUAGE_CANDIDATES) if code not in ("auto", "en")]
        if others and is_english_only(self.WHISPER_MODEL):
            what = f"SOURCE_LANGUAGE={self.SOURCE_LANGUAGE}" if self.SOURCE_LANGUAGE not in ("auto", "en") \
                else f"LANGUAGE_CANDIDATES={','.join(self.LANGUAGE_CANDIDATES)}"
            raise ConfigError(f"WHISPER_MODEL={self.WHISPER_MODEL} knows English only, but {what}", hint=MULTILINGUAL_HINT)
        return self

    @field_validator("SOURCE_LANGUAGE")
    @classmethod
    def _whisper_source(cls, value: str) -> str:
        from cpwhisperx.languages import whisper_language

        return "auto" if value.strip().lower() == "auto" else whisper_language(value).code


KEYS: tuple[str, ...] = tuple(Settings.model_fields)
SECRET_KEYS: tuple[str, ...] = ("TMDB_API_KEY", "HF_TOKEN")
# Settings that change how fast a stage runs, never what it writes: a change of them does not make
# a finished stage run again (a batch worker runs a film's ASR on fewer threads than `cpwx run`).
SPEED_ONLY_KEYS: frozenset[str] = frozenset({"WHISPER_CPU_THREADS"})


_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments; values may be quoted; no ${VAR} expansion (a prompt or title
    holding "${...}" is kept as written). A line that is not KEY=VALUE stops with its file and line
    number; the line itself is never repeated, since the file may not be a configuration file."""
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"'{path}' is not a text file (not UTF-8)", hint="give a .env.pipeline file of KEY=VALUE lines") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None and not binding.error:
            continue  # a blank line or a comment
        if binding.error or binding.key is None or binding.value is None or not _KEY_NAME.fullmatch(binding.key):
            raise ConfigError(f"'{path}', line {_first_written_line(binding.original.string, binding.original.line)}: not a KEY=VALUE line",
                              hint="write KEY=VALUE (quote a value holding spaces or #), or begin the line with # to make it a comment")
        values[binding.key] = binding.value
    return values


def _first_written_line(chunk: str, line: int) -> int:
    """The parser's chunk may begin with the blank lines before the one that is wrong."""
    for part in chunk.split("\n"):
        if part.strip():
            break
        line += 1
    return line


def check_keys(values: Mapping[str, Any], origin: str) -> None:
    for key in values:
        if key in SECRET_KEYS:
            raise ConfigError(f"{key} is a secret and is not read from {origin}: configuration is recorded in every job",
                              hint=f"export {key}=… in the environment, or put it in config/secrets.json")
        if key not in Settings.model_fields:
            close = difflib.get_close_matches(key.upper(), KEYS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else "`cpwx config keys` lists every key"
            raise ConfigError(f"unknown configuration key '{key}' (in {origin})", hint=hint)


def user_config_path(cwd: Path | None = None) -> Path:
    named = os.environ.get("CPWX_CONFIG")
    if named:
        return Path(named)
    return (cwd or Path.cwd()) / "config" / ".env.pipeline"


def load_config(
    job_env: Path | None = None,
    overrides: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The effective settings after the whole precedence chain, validated."""
    merged: dict[str, Any] = {}
    user_file = user_config_path(cwd)
    if os.environ.get("CPWX_CONFIG") and not user_file.is_file():
        raise ConfigError(f"CPWX_CONFIG names '{user_file}', which is not a file", hint="point CPWX_CONFIG at an existing .env.pipeline file or unset it")
    for path in (user_file, job_env):
        if path is not None and path.is_file():
            values = parse_env_file(path)
            check_keys(values, str(path))
            merged.update(values)
    env = os.environ if environ is None else environ
    merged.update({key: env[key] for key in KEYS if key in env})
    if overrides:
        check_keys(overrides, "--set")
        merged.update(overrides)
    return validate(merged)


def validate(values: Mapping[str, Any]) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "?"
            shown = values.get(key, err.get("input"))
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{key}={shown!s}: {message}")
        doc = Settings.model_fields[str(exc.errors()[0]["loc"][0])].description if exc.errors()[0]["loc"] else ""
        raise ConfigError("invalid configuration value: " + "; ".join(problems), hint=f"{exc.errors()[0]['loc'][0]}: {doc}") from None


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """`KEY=VALUE` strings from the command line."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"'--set {pair}' is not of the form KEY=VALUE", hint="write e.g. --set WHISPER_BEAM_SIZE=1")
        result[key.strip()] = value
    return result


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}:{format_value(v)}" for k, v in value.items())
    return str(value)


def to_env_text(settings: Settings) -> str:
    """The settings as an .env.pipeline file, each key under its documentation."""
    lines = ["# cp-whisperx effective configuration (secrets are never written here)"]
    for key, field in Settings.model_fields.items():
        lines.append(f"# {field.description}")
        lines.append(f"{key}={json.dumps(format_value(getattr(settings, key)), ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def config_subset(settings: Settings, keys: Iterable[str]) -> dict[str, Any]:
    """The keys a stage uses: exact names, or prefixes ending in `_`."""
    wanted = tuple(keys)
    return {
        key: getattr(settings, key)
        for key in KEYS
        if key in wanted or any(p.endswith("_") and key.startswith(p) for p in wanted)
    }


def config_hash(subset: Mapping[str, Any]) -> str:
    payload = json.dumps(subset, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def reference_markdown() -> str:
    """The configuration reference of the docs, generated from the settings model."""
    rows = ["# Configuration reference", "",
            "Generated by `cpwx config keys > docs/configuration.md`; do not edit by hand.", "",
            "Precedence, lowest first: built-in defaults → `config/.env.pipeline` (or the file named by "
            "`CPWX_CONFIG`) → the job's `.env.pipeline` → environment variables → `--set KEY=VALUE`.",
            "Secrets (`TMDB_API_KEY`, `HF_TOKEN`) come from the environment or `config/secrets.json` and are "
            "never written to job files or logs.", "",
            "| key | default | allowed | purpose |", "|---|---|---|---|"]
    for key, field in Settings.model_fields.items():
        rows.append(f"| `{key}` | `{format_value(field.default)}` | {_allowed(field.annotation)} | {field.description} |")
    return "\n".join(rows) + "\n"


def _allowed(annotation: Any) -> str:
    import types
    from typing import Union, get_args, get_origin

    if get_origin(annotation) in (Union, types.UnionType):
        return " or ".join(_allowed(part) for part in get_args(annotation))
    if get_origin(annotation) is Annotated:
        return _allowed(get_args(annotation)[0])
    if get_origin(annotation) is Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(annotation))
    if get_origin(annotation) is dict:
        return "comma-separated `language:cps`" if get_args(annotation)[1] is float else "comma-separated `language:characters`"
    if get_origin(annotation) is list:
        inner = get_args(annotation)[0]
        return "comma-separated " + (_allowed(inner) if get_origin(inner) is Literal else getattr(inner, "__name__", str(inner)))
    return getattr(annotation, "__name__", str(annotation))

