"""Stage 09: mark sung or music-dominated segments, from the audio itself and from repeated lines."""

from __future__ import annotations

from collections import Counter

from cpwhisperx.hallucination import normalise
from cpwhisperx.media import SAMPLE_RATE, WavReader
from cpwhisperx.music import MUSIC_FILE, music_profile, music_regions, music_share
from cpwhisperx.stageio import StageIO
from cpwhisperx.transcript import Transcript

BLOCK_SAMPLES = 60 * SAMPLE_RATE


def run(io: StageIO) -> None:
    s = io.settings
    with WavReader(io.input("demux", "audio.wav", "audio")) as reader:
        times, scores = music_profile(reader.blocks(BLOCK_SAMPLES), SAMPLE_RATE)
    source = "diarization" if io.has_input("diarization", "transcript.json") else "alignment"
    transcript = Transcript.load(io.input(source, "transcript.json", "transcript"))
    regions = music_regions(times, scores, threshold=s.LYRICS_MUSIC_THRESHOLD)
    lines = Counter(normalise(seg.text) for seg in transcript.segments if len(seg.text.split()) >= s.LYRICS_REPEAT_MIN_WORDS)
    segments = []
    for seg in transcript.segments:
        share = music_share(times, scores, seg.start, seg.end, s.LYRICS_MUSIC_THRESHOLD)
        refrain = lines.get(normalise(seg.text), 0) >= 2
        reason = None
        if share >= s.LYRICS_MIN_MUSIC_SHARE:
            reason = f"music-dominated audio over {share:.0%} of the segment"
        elif refrain and share >= s.LYRICS_MIN_MUSIC_SHARE / 2:
            reason = f"repeated line (refrain) with music over {share:.0%} of the segment"
        flags = {**seg.flags, "music_share": f"{share:.2f}"}
        if reason:
            flags["lyrics"] = reason
            io.log.info("lyrics: segment %d [%.2f–%.2f] %r: %s", seg.id, seg.start, seg.end, seg.text, reason)
        segments.append(seg.model_copy(update={"flags": flags}))
    io.write_text("transcript.json", transcript.model_copy(update={"segments": segments}).to_json(), "transcript", language=transcript.language)
    io.write_json(MUSIC_FILE, {"threshold": s.LYRICS_MUSIC_THRESHOLD,
                               "regions": [{"start": r.start, "end": r.end, "score": r.score} for r in regions],
                               "profile": {"times": [round(float(t), 2) for t in times], "scores": [round(float(x), 3) for x in scores]}},
                  "music_profile")
    io.metrics.update({"music_regions": len(regions), "music_seconds": round(sum(r.end - r.start for r in regions), 2),
                       "lyric_segments": sum("lyrics" in seg.flags for seg in segments), "segments": len(segments)})

