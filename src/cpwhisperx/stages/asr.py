"""Stage 06: Whisper transcription with the selected backend."""

from __future__ import annotations

import time
from dataclasses import replace

from cpwhisperx import asr
from cpwhisperx.asr.options import DecodeOptions
from cpwhisperx.media import read_wav
from cpwhisperx.glossary import asr_prompt, correct_transcript
from cpwhisperx.models import resolve
from cpwhisperx.progress import ProgressReporter
from cpwhisperx.scripts import STEERING_PROMPTS, script_report
from cpwhisperx.stageio import StageIO
from cpwhisperx.stages.glossary_load import load_glossary
from cpwhisperx.stages.vad import load_regions
from cpwhisperx.transcript import Transcript

TRANSCRIPT_FILE = "transcript.json"


def run(io: StageIO) -> None:
    s = io.settings
    audio = read_wav(io.input("demux", "audio.wav", "audio"))
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
    duration = len(audio) / 16000
    language_info: dict[str, object] = {"requested": s.SOURCE_LANGUAGE, "candidates": s.LANGUAGE_CANDIDATES}
    if regions == []:
        io.warn("no speech to transcribe: the transcript is empty")
        transcript = Transcript(language=options.language or "und", language_probability=None, duration=round(duration, 3))
    else:
        loaded = time.perf_counter()
        backend = asr.create(selection, str(model.path), s.WHISPER_CPU_THREADS)
        io.metrics["model_load_seconds"] = round(time.perf_counter() - loaded, 3)
        if options.language is None:
            # Detected here rather than inside decoding, so the candidates and the script prompt apply.
            language, probability, ranked = backend.detect_language(audio, regions, s.LANGUAGE_CANDIDATES, s.WHISPER_LANGUAGE_DETECTION_SEGMENTS)
            options = replace(options, language=language)
            language_info.update({"detected": language, "probability": round(probability, 4), "ranking": ranked})
            io.log.info("detected language %s (probability %.2f%s)", language, probability,
                        f" among {','.join(s.LANGUAGE_CANDIDATES)}" if s.LANGUAGE_CANDIDATES else "")
        if s.WHISPER_SCRIPT_PROMPT and not options.initial_prompt and options.language in STEERING_PROMPTS:
            options = replace(options, initial_prompt=STEERING_PROMPTS[options.language])
            io.log.info("script steering prompt for %s: %s", options.language, options.initial_prompt)
        if options.batch_size > 1:
            io.log.info("batched decoding (batch size %d): one temperature, no conditioning on previous text", options.batch_size)
        started = time.perf_counter()
        with ProgressReporter("transcribing", duration, io.log) as bar:
            transcript = backend.transcribe(audio, regions, options, bar.update)
        if "probability" in language_info:
            transcript = transcript.model_copy(update={"language_probability": language_info["probability"]})
        wall = time.perf_counter() - started
        io.metrics.update({"transcribe_seconds": round(wall, 3), "real_time_factor": round(wall / duration, 4) if duration else None})
    language_info.update({"used": transcript.language, "probability": transcript.language_probability})
    io.extra["language"] = language_info
    if glossary.terms and s.GLOSSARY_CORRECT_ASR:
        transcript, corrections = correct_transcript(transcript, glossary)
        io.write_json("glossary_corrections.json", [c.__dict__ for c in corrections], "glossary_corrections")
        io.metrics["glossary_corrections"] = len(corrections)
        for c in corrections:
            io.log.info("glossary: '%s' → '%s' (%s match) in segment %d at %.2f s", c.found, c.term, c.kind, c.segment, c.start)
    io.extra["script"] = script_report(transcript.text, transcript.language)
    io.write_text(TRANSCRIPT_FILE, transcript.to_json(), "transcript", language=transcript.language)
    io.metrics.update({"audio_seconds": round(duration, 3), "segments": len(transcript.segments),
                       "words": sum(len(seg.words) for seg in transcript.segments)})
