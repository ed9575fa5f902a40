"""What an ASR result depends on, as a cache key: the audio, the model's files, the backend, the
device and compute type, and every setting that changes what is decoded."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.cache import ResultCache, cache_key
from cpwhisperx.config import Settings

# Settings of the asr stage that change its transcript before number normalisation and glossary
# correction (which run after the cache, on every run). Backend, device, compute type and model
# enter the key as resolved (the model by the digest of its files), not as asked for.
RESULT_SETTINGS: tuple[str, ...] = (
    "SOURCE_LANGUAGE", "LANGUAGE_CANDIDATES", "WHISPER_BEAM_SIZE", "WHISPER_BEST_OF", "WHISPER_PATIENCE", "WHISPER_TEMPERATURE",
    "WHISPER_COMPRESSION_RATIO_THRESHOLD", "WHISPER_LOG_PROB_THRESHOLD", "WHISPER_NO_SPEECH_THRESHOLD", "WHISPER_INITIAL_PROMPT",
    "WHISPER_SCRIPT_PROMPT", "HINDI_DECODE_SCRIPT", "SCRIPT_CHECK", "SCRIPT_MIN_SHARE", "SCRIPT_REDECODE", "HINGLISH_ENGLISH_WORDS",
    "LANGUAGE_PER_SEGMENT", "LANGUAGE_SWITCH_MIN_PROBABILITY", "WHISPER_HOTWORDS", "WHISPER_CONDITION_ON_PREVIOUS_TEXT",
    "WHISPER_BATCH_SIZE", "WHISPER_LANGUAGE_DETECTION_SEGMENTS", "GLOSSARY_ASR_BIAS", "GLOSSARY_ASR_MAX_TERMS",
)
# Settings of the asr stage that enter the key in another form.
RESOLVED_SETTINGS = {
    "WHISPER_BACKEND": "enters as the backend chosen", "WHISPER_DEVICE": "enters as the device chosen",
    "WHISPER_COMPUTE_TYPE": "enters as the compute type chosen", "WHISPER_MODEL": "enters as the digest of the model's files",
}
# The asr stage's other settings, and why a change of them keeps the cached result.
OUTSIDE_KEY_SETTINGS = {
    "WHISPER_BACKEND_STRICT": "decides only whether a fallback is allowed", "WHISPER_CPU_THREADS": "changes speed, not the result",
    "NUMBERS": "numbers are normalised after the cache", "GLOSSARY_CORRECT_ASR": "glossary correction runs after the cache",
    "CACHE_ENABLED": "decides whether the cache is used at all",
}


def model_digest(model_dir: Path, cache_root: Path, enabled: bool) -> str:
    """sha256 over the model's files; remembered per file size and modification time, so that a
    model is read in full once, not on every run."""
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    stamp = [(p.relative_to(model_dir).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    remembered = ResultCache(cache_root, "models", enabled)
    key = cache_key("model-digest", str(model_dir.resolve()), stamp)
    if isinstance(found := remembered.get(key), str):
        return found
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(model_dir).as_posix().encode())
        with path.open("rb") as handle:
            while piece := handle.read(1 << 22):
                digest.update(piece)
    remembered.put(key, digest.hexdigest())
    return digest.hexdigest()


def asr_result_key(settings: Settings, *, audio_digest: str, regions: list[tuple[float, float]] | None, model_digest: str,
                   backend: str, device: str, compute_type: str, hotwords: str | None) -> str:
    chosen: dict[str, Any] = {name: getattr(settings, name) for name in RESULT_SETTINGS}
    # 2: speech decoded block by block (asr.blocks), not in chunks carrying context across them
    return cache_key("asr", 2, audio_digest, regions, model_digest, backend, device, compute_type, hotwords, chosen)


# Settings that decide which language is decoded: a block's key holds the language decoded instead.
LANGUAGE_CHOICE_SETTINGS = frozenset({"SOURCE_LANGUAGE", "LANGUAGE_CANDIDATES", "WHISPER_LANGUAGE_DETECTION_SEGMENTS"})


def block_settings_key(settings: Settings, *, model_digest: str, backend: str, device: str, compute_type: str,
                       options: DecodeOptions, language: str | None) -> str:
    """What a block's result depends on besides its audio: the key of its namespace. `language`
    is the transcript's, `options.language` the one decoded (Hindi may be decoded as Urdu and
    read into Devanagari: the two must not share results with Urdu decoded as Urdu)."""
    chosen: dict[str, Any] = {name: getattr(settings, name) for name in RESULT_SETTINGS if name not in LANGUAGE_CHOICE_SETTINGS}
    return cache_key("asr-block", 1, model_digest, backend, device, compute_type, language, options.language, options.initial_prompt,
                     options.hotwords, chosen)
