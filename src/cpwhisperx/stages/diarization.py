"""Stage 08: who speaks when — speaker turns of the speech, and every word and segment labelled."""

from __future__ import annotations

from collections import defaultdict

from cpwhisperx.diarize import SpeakerCount, get_backend, relabel
from cpwhisperx.diarize.assign import assign_speakers
from cpwhisperx.media import WavReader
from cpwhisperx.stageio import StageIO, file_record
from cpwhisperx.stages.vad import load_regions
from cpwhisperx.transcript import Transcript

TURNS_FILE = "turns.json"
TRANSCRIPT_FILE = "transcript.json"


def run(io: StageIO) -> None:
    s = io.settings
    backend = get_backend(s)
    # A replaced model file runs the stage again.
    io.inputs.extend(file_record(path.resolve(), io.job.dir, "model") for path in backend.model_files)
    transcript = Transcript.load(io.input("alignment", TRANSCRIPT_FILE, "transcript"))
    regions = load_regions(io)
    count = SpeakerCount.from_settings(s)
    # The backend reads from the file what it hears (the builtin one 30 s of a region at a time): a long film is never held whole.
    with WavReader(io.input("demux", "audio.wav", "audio")) as reader:
        if regions is None:
            # Without VAD the transcript's segments say where the speech is: silence, music or noise
            # Whisper heard nothing in is nobody's turn.
            io.log.info("no speech regions (VAD off): the transcript's segments are diarized")
            regions = [(seg.start, min(seg.end, reader.duration)) for seg in transcript.segments if seg.end > seg.start]
        turns = relabel(backend.diarize(reader, regions, count)) if regions else []
    if not turns:
        io.log.info("no speech to diarize: no turns, the transcript keeps no speakers")
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    seconds: dict[str, float] = defaultdict(float)
    for turn in turns:
        seconds[turn.speaker] += turn.end - turn.start
    io.write_json(TURNS_FILE, {"backend": backend.name, "speakers": speakers,
                               "turns": [{"start": t.start, "end": t.end, "speaker": t.speaker} for t in turns]}, "speaker_turns")
    labelled = assign_speakers(transcript, turns)
    io.write_text(TRANSCRIPT_FILE, labelled.to_json(), "transcript", language=labelled.language)
    io.metrics.update({"backend": backend.name, "speakers": len(speakers), "turns": len(turns),
                       "speech_seconds_by_speaker": {k: round(seconds[k], 2) for k in speakers},
                       "speaker_count": "given" if count.exact else f"estimated within {count.minimum}–{count.maximum}",
                       "segments": len(labelled.segments)})
    io.log.info("%d speaker(s) in %d turn(s) (%s backend)", len(speakers), len(turns), backend.name)
