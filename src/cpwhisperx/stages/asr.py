"""Stage 06: Whisper transcription with the selected backend."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from cpwhisperx import asr
from cpwhisperx.asr import longform
from cpwhisperx.asr.block_cache import BlockCache
from cpwhisperx.asr.blocks import plan_blocks
from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.asr.result_key import asr_result_key, block_settings_key, model_digest
from cpwhisperx.asr.script_check import ScriptPolicy, repair_segments, shift_words
from cpwhisperx.cache import ResultCache, cache_dir
from cpwhisperx.config import MULTILINGUAL_HINT, Settings
from cpwhisperx.errors import InvalidInput
from cpwhisperx.fingerprint import audio_digest, chromaprint_problem
from cpwhisperx.glossary import asr_prompt, correct_transcript
from cpwhisperx.media import WavReader
from cpwhisperx.models import ResolvedModel, resolve
from cpwhisperx.progress import ProgressReporter
from cpwhisperx.scripts import script_report, steering_prompt
from cpwhisperx.stageio import StageIO
from cpwhisperx.stages.glossary_load import load_glossary
from cpwhisperx.stages.vad import load_regions
from cpwhisperx.textnorm import normalise_transcript
from cpwhisperx.transcript import Segment, Transcript

TRANSCRIPT_FILE = "transcript.json"
# The blocks the speech was decoded in, and which of them a cached result served.
BLOCKS_FILE = "blocks.json"
SPAN_MARGIN = 0.1
MIN_SWITCH_SECONDS = 1.0
# Language identification window for code-switched speech: long enough for base to tell Hindi from
# English, short enough to find a switch inside one speech region.
SWITCH_WINDOW_SECONDS = 4.0
# Multilingual models that write Hindi speech mostly in Urdu letters (base: under 5 % Devanagari on
# Hindi news), and far more accurately so than when pushed into Devanagari.
URDU_LETTER_MODELS = frozenset({"tiny", "base"})
# Metrics of the decode itself, not repeated from a cached result.
TIMING_METRICS = frozenset({"model_load_seconds", "transcribe_seconds", "real_time_factor"})
io_log = logging.getLogger("cpwhisperx.stages.asr")


def run(io: StageIO) -> None:
    with WavReader(io.input("demux", "audio.wav", "audio")) as reader:
        _run(io, reader)


def _run(io: StageIO, reader: WavReader) -> None:
    s = io.settings
    regions = load_regions(io)
    selection = asr.select(s.WHISPER_BACKEND, s.WHISPER_DEVICE, s.WHISPER_COMPUTE_TYPE, s.WHISPER_BACKEND_STRICT)
    for warning in selection.warnings:
        io.warn(warning)
    io.device = selection.device
    model = resolve(s.WHISPER_MODEL, s.MODELS_DIR)
    options = DecodeOptions.from_settings(s)
    glossary = load_glossary(io)
    if glossary.terms and s.GLOSSARY_ASR_BIAS and s.GLOSSARY_ASR_MAX_TERMS:
        names = asr_prompt(glossary, s.GLOSSARY_ASR_MAX_TERMS)
        options = replace(options, hotwords=", ".join(filter(None, [options.hotwords, names])))
        io.log.info("glossary hotwords: %s", names)
    io.extra["asr"] = {"backend": selection.backend, "device": selection.device, "compute_type": selection.compute_type,
                       "model": {"name": model.name, "path": str(model.path), "source": model.source},
                       "batched": options.batch_size > 1}
    io.log.info("backend %s on %s (%s), model %s from %s", selection.backend, selection.device, selection.compute_type, model.name, model.source)
    duration = reader.duration
    language_info: dict[str, object] = {"requested": s.SOURCE_LANGUAGE, "candidates": s.LANGUAGE_CANDIDATES}
    cache = ResultCache(cache_dir(s.CACHE_DIR), "asr", s.CACHE_ENABLED)
    key = None
    if cache.enabled:
        digest = audio_digest(io.recorded("demux", "audio.wav", "pcm_sha256"), reader)
        key = asr_result_key(s, audio_digest=digest, regions=regions,
                             model_digest=model_digest(model.path, cache_dir(s.CACHE_DIR), s.CACHE_ENABLED),
                             backend=selection.backend, device=selection.device, compute_type=selection.compute_type,
                             hotwords=options.hotwords)
    cached = _cached_result(cache, key)
    reuse = _reuse_figures(regions, reused=cached is not None, seconds_saved=cached["seconds"] if cached else 0.0)
    if cached is not None:
        transcript = Transcript.model_validate(cached["transcript"])
        language_info.update(cached["language"])
        io.extra.update(cached["extra"])
        if cached["script_repairs"] is not None:
            io.write_json("script_repairs.json", cached["script_repairs"], "script_repairs")
        io.metrics.update({name: value for name, value in cached["metrics"].items() if name not in TIMING_METRICS})
        io.log.info("the same audio was transcribed with the same settings before: its result is reused, the model is not loaded")
    else:
        clock = time.perf_counter()
        blocks_root = cache_dir(s.CACHE_DIR) if cache.enabled else None
        transcript, repairs, reuse = _decode(io, reader, regions, selection, model, options, language_info, blocks_root)
        if key:
            cache.put(key, {"transcript": transcript.model_dump(mode="json"), "language": language_info,
                            "extra": {name: io.extra[name] for name in ("language_runs", "region_languages") if name in io.extra},
                            "script_repairs": repairs, "metrics": dict(io.metrics),
                            "seconds": round(time.perf_counter() - clock, 3)})
    io.cache = {"used": cache.enabled, "hit": cached is not None, "key": key, **reuse, "writable": cache.writable}
    for problem in cache.problems:
        io.warn(problem)
    cache.record_stats()
    transcript = normalise_transcript(transcript, s.NUMBERS)
    language_info.update({"used": transcript.language, "probability": transcript.language_probability})
    io.extra["language"] = language_info
    if glossary.terms and s.GLOSSARY_CORRECT_ASR:
        transcript, corrections = correct_transcript(transcript, glossary)
        io.write_json("glossary_corrections.json", [asdict(c) for c in corrections], "glossary_corrections")
        io.metrics["glossary_corrections"] = len(corrections)
        for c in corrections:
            io.log.info("glossary: '%s' → '%s' (%s: %s) in segment %d at %.2f s", c.found, c.term, c.kind, c.evidence, c.segment, c.start)
    io.extra["script"] = _script_reports(transcript)
    io.write_text(TRANSCRIPT_FILE, transcript.to_json(), "transcript", language=transcript.language)
    io.metrics.update({"audio_seconds": round(duration, 3), "segments": len(transcript.segments),
                       "words": sum(len(seg.words) for seg in transcript.segments)})



def _cached_result(cache: ResultCache, key: str | None) -> dict[str, Any] | None:
    """The cached result, when its entry holds one this version can read (else a miss)."""
    found = cache.get(key) if key else None
    if found is None:
        return None
    try:
        Transcript.model_validate(found["transcript"])
        if not all(isinstance(found[name], dict) for name in ("language", "extra", "metrics")):
            raise TypeError("not a result of this version")
        float(found["seconds"])
    except (KeyError, TypeError, ValueError) as exc:
        io_log.warning("the cached ASR result %s cannot be read (%s); decoding again", key, exc)
        return None
    return found  # type: ignore[no-any-return]


def _reuse_figures(regions: list[tuple[float, float]] | None, *, reused: bool, seconds_saved: float) -> dict[str, Any]:
    """The cache figures of a run that reused all its speech or none of it."""
    count, speech = len(regions or []), round(sum(end - start for start, end in regions or []), 3)
    return {"regions_reused": count if reused else 0, "regions_decoded": 0 if reused else count,
            "speech_seconds_reused": speech if reused else 0.0, "speech_seconds_decoded": 0.0 if reused else speech,
            "seconds_saved": seconds_saved}


class _ModelLoader:
    """The backend, loaded on first use: a run whose every block is cached loads no model."""

    def __init__(self, io: StageIO, selection: asr.Selection, model: ResolvedModel, language: str | None) -> None:
        self.io, self.selection, self.model, self.language = io, selection, model, language
        self.backend: asr.AsrBackend | None = None

    def __call__(self) -> asr.AsrBackend:
        if self.backend is None:
            loaded = time.perf_counter()
            self.backend = asr.create(self.selection, str(self.model.path), self.io.settings.WHISPER_CPU_THREADS)
            self.io.metrics["model_load_seconds"] = round(time.perf_counter() - loaded, 3)
            if not self.backend.multilingual and self.language not in (None, "en"):
                raise InvalidInput(f"the model '{self.model.name}' knows English only, but the speech is to be transcribed as "
                                   f"'{self.language}'", hint=MULTILINGUAL_HINT)
        return self.backend


def _decode(io: StageIO, reader: WavReader, regions: list[tuple[float, float]] | None, selection: asr.Selection,
            model: ResolvedModel, options: DecodeOptions, language_info: dict[str, object],
            blocks_root: Path | None) -> tuple[Transcript, list[dict[str, object]] | None, dict[str, Any]]:
    """The transcript before number normalisation and glossary correction, the script repairs made
    (None when the script check is off) and what was reused of cached blocks (`blocks_root`: the
    cache that keeps them, None without one)."""
    repairs = None
    s = io.settings
    duration = reader.duration
    reuse = _reuse_figures(regions, reused=False, seconds_saved=0.0)
    if regions == []:
        io.warn("no speech to transcribe: the transcript is empty")
        return Transcript(language=options.language or "und", language_probability=None, duration=round(duration, 3)), None, reuse
    load = _ModelLoader(io, selection, model, options.language)
    if options.language is None:
        # Detected here rather than inside decoding, so the candidates and the script prompt apply.
        language, probability, ranked = longform.detect_language(load(), reader, regions, s.LANGUAGE_CANDIDATES,
                                                                   s.WHISPER_LANGUAGE_DETECTION_SEGMENTS)
        options = replace(options, language=language)
        language_info.update({"detected": language, "probability": round(probability, 4), "ranking": ranked})
        io.log.info("detected language %s (probability %.2f%s)", language, probability,
                    f" among {','.join(s.LANGUAGE_CANDIDATES)}" if s.LANGUAGE_CANDIDATES else "")
    via_urdu = hindi_via_urdu(s, model.name)
    main_language = options.language
    options = language_options(options, main_language, s, via_urdu)
    language_info["decoded_as"] = options.language
    if options.language != main_language:
        io.log.info("%s is decoded with Whisper's '%s' token and read into its own script (HINDI_DECODE_SCRIPT=%s)",
                    main_language, options.language, s.HINDI_DECODE_SCRIPT)
    if options.initial_prompt and not s.WHISPER_INITIAL_PROMPT:
        io.log.info("script steering prompt for %s: %s", main_language, options.initial_prompt)
    started = time.perf_counter()
    repair = _script_repairer(io, load, reader, options, via_urdu) if s.SCRIPT_CHECK else None
    if regions is None or s.LANGUAGE_PER_SEGMENT:
        for lost in options.batched_tradeoffs():
            io.warn(f"WHISPER_BATCH_SIZE={options.batch_size}: {lost}")
        runs = _language_runs(io, load(), reader, regions, main_language) if s.LANGUAGE_PER_SEGMENT else []
        with ProgressReporter("transcribing", duration, io.log) as bar:
            if s.LANGUAGE_PER_SEGMENT:
                transcript = _transcribe_runs(io, load(), reader, runs, options, main_language, via_urdu, bar.update)
            else:
                transcript = longform.transcribe(load(), reader, regions, options, bar.update).model_copy(update={"language": main_language})
        if repair:
            with ProgressReporter("checking each segment's script (decoding again where needed)", len(transcript.segments), io.log,
                                  unit="segments") as bar:
                transcript, repairs = repair(transcript, bar.update)
    else:
        store = _block_cache(io, blocks_root, load, options, main_language) if blocks_root else None
        with ProgressReporter("transcribing", duration, io.log) as bar:
            segments, repairs, reuse = _transcribe_blocks(io, load, reader, regions, options, main_language, repair, store, bar.update)
        transcript = Transcript(language=main_language or "und", duration=round(duration, 3),
                                segments=[seg.model_copy(update={"id": number}) for number, seg in enumerate(segments)])
    if repairs is not None:
        _record_repairs(io, repairs)
    if "probability" in language_info:
        transcript = transcript.model_copy(update={"language_probability": language_info["probability"]})
    wall = time.perf_counter() - started
    io.metrics.update({"transcribe_seconds": round(wall, 3), "real_time_factor": round(wall / duration, 4) if duration else None})
    return transcript, repairs, reuse


def _block_cache(io: StageIO, root: Path, load: _ModelLoader, options: DecodeOptions, language: str | None) -> BlockCache:
    s = io.settings
    problem = chromaprint_problem()
    if problem:
        io.warn(f"other cuts of this film are found again only where their audio is sample for sample the same: {problem}")
    key = block_settings_key(s, model_digest=model_digest(load.model.path, root, True), backend=load.selection.backend,
                             device=load.selection.device, compute_type=load.selection.compute_type, options=options,
                             language=language)
    return BlockCache(root, key, enabled=True, fingerprints=problem is None)


Repairer = Callable[[Transcript, Callable[[float], None]], tuple[Transcript, list[dict[str, object]]]]


def _transcribe_blocks(io: StageIO, load: _ModelLoader, reader: WavReader, regions: list[tuple[float, float]],
                       options: DecodeOptions, language: str | None, repair: Repairer | None, store: BlockCache | None,
                       progress: Callable[[float], None]) -> tuple[list[Segment], list[dict[str, object]] | None, dict[str, Any]]:
    """The speech decoded block by block, each block on its own (see `asr.blocks`), taken from the
    cache where the same audio was decoded with the same settings before."""
    segments: list[Segment] = []
    repairs: list[dict[str, object]] | None = [] if repair else None
    figures = {"blocks_reused": 0, "blocks_decoded": 0, "regions_reused": 0, "regions_decoded": 0,
               "speech_seconds_reused": 0.0, "speech_seconds_decoded": 0.0, "seconds_saved": 0.0}
    blocks = plan_blocks(regions)
    io.log.info("%d speech regions in %d blocks", len(regions), len(blocks))
    probes = [store.probe(block, reader.read_seconds(block.start, block.end)) if store else None for block in blocks]
    found = [store.find(probe) if store and probe else None for probe in probes]
    results: dict[int, tuple[list[Segment], list[dict[str, object]] | None]] = {}
    missing = [number for number, hit in enumerate(found) if hit is None]
    clock = time.perf_counter()
    # with WHISPER_BATCH_SIZE above 1 the blocks are decoded side by side, finishing in any order
    for index, decoded, _, _ in longform.decode_streams(load(), reader, [list(blocks[n].regions) for n in missing], options, progress) \
            if missing else ():
        number = missing[index]
        part, part_repairs = [seg.model_copy(update={"id": n}) for n, seg in enumerate(decoded)], None
        if repair:
            block_transcript, part_repairs = repair(Transcript(language=language or "und", duration=round(reader.duration, 3),
                                                               segments=part), lambda _: None)
            part = block_transcript.segments
        probe = probes[number]
        if store and probe:
            store.put(probe, part, part_repairs, time.perf_counter() - clock)
        clock = time.perf_counter()
        results[number] = (part, part_repairs)
    plan = []
    for number, block in enumerate(blocks):
        hit = found[number]
        if hit is not None:
            part, part_repairs, done = hit.segments, hit.repairs, "reused"
            figures["seconds_saved"] += hit.seconds
            io.log.debug("block %.2f–%.2f s reused (matched by %s)", block.start, block.end, hit.match)
        else:
            (part, part_repairs), done = results[number], "decoded"
        plan.append({"start": block.start, "end": block.end, "regions": len(block.regions), "speech_seconds": round(block.speech_seconds, 3),
                     "result": hit.match if hit else "decoded", "seconds_saved": hit.seconds if hit else 0.0})
        figures[f"blocks_{done}"] += 1
        figures[f"regions_{done}"] += len(block.regions)
        figures[f"speech_seconds_{done}"] += block.speech_seconds
        if repairs is not None:
            repairs.extend({**r, "segment": len(segments) + int(r["segment"])} for r in part_repairs or [])  # type: ignore[call-overload]
        segments.extend(part)
    progress(blocks[-1].end if blocks else 0.0)
    if repairs is not None:
        io.log.info("script check: each segment of the %d blocks decoded checked, %d repaired (cached blocks keep their repairs)",
                    figures["blocks_decoded"], len(repairs))
    io.write_json(BLOCKS_FILE, plan, "blocks")
    if store:
        for problem in store.problems:
            io.warn(problem)
        store.record_stats()
        io.log.info("%d of %d blocks reused (%.1f s of %.1f s of speech), %.1f s of decoding saved", figures["blocks_reused"], len(blocks),
                    figures["speech_seconds_reused"], figures["speech_seconds_reused"] + figures["speech_seconds_decoded"],
                    figures["seconds_saved"])
    return segments, repairs, {name: round(value, 3) if isinstance(value, float) else value for name, value in figures.items()}


def _decode_span(backend: asr.AsrBackend, reader: WavReader, segment: Segment, options: DecodeOptions) -> Segment | None:
    """One segment decoded again on its own audio (with a little margin), as one segment."""
    start = max(0.0, segment.start - SPAN_MARGIN)
    end = min(reader.duration, segment.end + SPAN_MARGIN)
    result = backend.transcribe(reader.read_seconds(start, end), None, options, lambda _: None)
    parts = [part for part in result.segments if part.text.strip()]
    if not parts:
        return None
    return segment.model_copy(update={
        "text": " ".join(part.text.strip() for part in parts),
        "words": shift_words([w for part in parts for w in part.words], start),
        "avg_logprob": round(sum(p.avg_logprob or 0.0 for p in parts) / len(parts), 4),
        "compression_ratio": max(p.compression_ratio or 0.0 for p in parts),
        "no_speech_prob": min(p.no_speech_prob or 0.0 for p in parts),
        "temperature": max(p.temperature or 0.0 for p in parts),
    })


def hindi_via_urdu(s: Settings, model_name: str) -> bool:
    if s.HINDI_DECODE_SCRIPT == "auto":
        return model_name in URDU_LETTER_MODELS and s.HINGLISH_ENGLISH_WORDS == "native"
    return s.HINDI_DECODE_SCRIPT == "urdu"


def language_options(options: DecodeOptions, language: str | None, s: Settings, via_urdu: bool) -> DecodeOptions:
    """How speech in `language` is decoded: Hindi through Whisper's Urdu token when `via_urdu` (the
    script check reads it into Devanagari), any other language in itself, prompted with a sentence
    in its own script unless the user gave a prompt."""
    if language == "hi" and via_urdu:
        return replace(options, language="ur")
    latin_words = s.HINGLISH_ENGLISH_WORDS == "latin"
    prompt = s.WHISPER_INITIAL_PROMPT or (steering_prompt(language, latin_words) if language and s.WHISPER_SCRIPT_PROMPT else None)
    return replace(options, language=language, initial_prompt=prompt or None)


def _language_runs(io: StageIO, backend: asr.AsrBackend, reader: WavReader, regions: list[tuple[float, float]] | None,
                   main_language: str | None) -> list[tuple[str, list[tuple[float, float]]]]:
    """Code-switched speech: the language of every stretch of speech, identified among the
    candidates; consecutive stretches in one language make one run."""
    s = io.settings
    main = main_language or "en"
    duration = reader.duration
    spans = regions if regions is not None else [(t, min(t + 30.0, duration)) for t in np.arange(0.0, duration, 30.0).tolist()]
    pieces = _pieces(spans, SWITCH_WINDOW_SECONDS)
    runs: list[tuple[str, list[tuple[float, float]]]] = []
    detections = []
    with ProgressReporter("identifying the language of each stretch of speech", len(pieces), io.log, unit="stretches") as bar:
        for number, (start, end) in enumerate(pieces):
            language = runs[-1][0] if runs else main
            if end - start >= MIN_SWITCH_SECONDS:
                found, probability, _ = backend.detect_language(reader.read_seconds(start, end), None, s.LANGUAGE_CANDIDATES, 1)
                language = found if probability >= s.LANGUAGE_SWITCH_MIN_PROBABILITY else main
                detections.append({"start": round(start, 3), "end": round(end, 3), "language": found, "probability": round(probability, 4)})
            if runs and runs[-1][0] == language:
                runs[-1][1].append((start, end))
            else:
                runs.append((language, [(start, end)]))
            bar.update(number + 1)
    io.extra["language_runs"] = [{"language": language, "start": r[0][0], "end": r[-1][1]} for language, r in runs]
    io.extra["region_languages"] = detections
    return runs


def _transcribe_runs(io: StageIO, backend: asr.AsrBackend, reader: WavReader, runs: list[tuple[str, list[tuple[float, float]]]],
                     options: DecodeOptions, main_language: str | None, via_urdu: bool, progress: Callable[[float], None]) -> Transcript:
    """Each run of speech decoded in its own language, with its own prompt."""
    s = io.settings
    main = main_language or "en"
    duration = reader.duration
    segments: list[Segment] = []
    for language, run_regions in runs:
        part = longform.transcribe(backend, reader, run_regions, language_options(options, language, s, via_urdu),
                                   lambda t, last=run_regions[-1][1]: progress(min(t, last)))
        segments.extend(seg.model_copy(update={"language": None if language == main else language}) for seg in part.segments)
        if language != main:
            io.log.info("%s speech from %.2f s to %.2f s", language, run_regions[0][0], run_regions[-1][1])
    progress(duration)
    io.metrics["code_switched_segments"] = sum(seg.language is not None for seg in segments)
    ordered = sorted(segments, key=lambda seg: seg.start)
    return Transcript(language=main, duration=round(duration, 3),
                      segments=[seg.model_copy(update={"id": number}) for number, seg in enumerate(ordered)])


def _pieces(spans: list[tuple[float, float]], length: float) -> list[tuple[float, float]]:
    """Speech regions cut into pieces of about `length` seconds, so a switch of language inside one
    region is found; a short remainder joins the piece before it."""
    pieces = []
    for start, end in spans:
        count = max(1, round((end - start) / length))
        step = (end - start) / count
        pieces.extend((start + i * step, end if i == count - 1 else start + (i + 1) * step) for i in range(count))
    return pieces


def _script_repairer(io: StageIO, load: _ModelLoader, reader: WavReader, options: DecodeOptions, via_urdu: bool) -> Repairer:
    """Checks each segment's script, decoding again (or transliterating) those in the wrong one."""
    s = io.settings
    latin_words = s.HINGLISH_ENGLISH_WORDS == "latin"

    def policy_for(language: str) -> ScriptPolicy | None:
        return ScriptPolicy.for_language(language, s.SCRIPT_MIN_SHARE, latin_words)

    def redecode(segment: Segment, language: str, policy: ScriptPolicy) -> Segment | None:
        span = language_options(options, language, s, via_urdu)
        # Hindi decoded through Urdu is constrained to Urdu letters, which then convert faithfully.
        allowed = frozenset({"Arabic"}) if span.language == "ur" and language == "hi" else policy.allowed
        return _decode_span(load(), reader, segment, replace(span, allowed_scripts=allowed, batch_size=1, condition_on_previous_text=False))

    def repair(transcript: Transcript, progress: Callable[[float], None]) -> tuple[Transcript, list[dict[str, object]]]:
        return repair_segments(transcript, policy_for, redecode if s.SCRIPT_REDECODE else None, progress)

    return repair


def _record_repairs(io: StageIO, repairs: list[dict[str, object]]) -> None:
    for repair in repairs:
        io.log.info("script repair (%s) of segment %s at %.2f s: %r → %r", repair["method"], repair["segment"], repair["start"],
                    repair["before"], repair["after"])
    io.write_json("script_repairs.json", repairs, "script_repairs")
    io.metrics["script_repairs"] = len(repairs)
    io.metrics["script_repairs_by_method"] = {m: sum(r["method"] == m for r in repairs) for m in ("redecode", "transliterate")}


def _script_reports(transcript: Transcript) -> dict[str, object]:
    """The transcript's script report, with one per language when segments are in several."""
    by_language: dict[str, list[str]] = {}
    for segment in transcript.segments:
        by_language.setdefault(segment.language or transcript.language, []).append(segment.text)
    report = script_report(transcript.text, transcript.language) if len(by_language) <= 1 else \
        script_report("\n".join(by_language.get(transcript.language, [])), transcript.language)
    report["by_language"] = {language: script_report("\n".join(texts), language) for language, texts in by_language.items()}
    return report
