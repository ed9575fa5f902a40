"""Stage 10: flag and drop hallucinated segments, recording why each went."""

from __future__ import annotations

from collections import Counter

from cpwhisperx.hallucination import Thresholds, judge
from cpwhisperx.review.cues import load_restored, restored_path
from cpwhisperx.stageio import StageIO, file_record
from cpwhisperx.stages.vad import load_regions
from cpwhisperx.transcript import Transcript

KEPT_FILE = "transcript.json"
DROPPED_FILE = "hallucinations.json"


def run(io: StageIO) -> None:
    s = io.settings
    source = next(stage for stage in ("lyrics_detection", "diarization", "alignment") if stage == "alignment" or io.has_input(stage, "transcript.json"))
    transcript = Transcript.load(io.input(source, "transcript.json", "transcript"))
    shares = {seg.id: float(seg.flags["music_share"]) for seg in transcript.segments if "music_share" in seg.flags}
    regions = load_regions(io)
    thresholds = Thresholds(s.HALLUCINATION_MIN_SPEECH_OVERLAP, s.HALLUCINATION_MAX_REPEATS,
                            s.HALLUCINATION_COMPRESSION_RATIO_THRESHOLD, s.HALLUCINATION_LOG_PROB_THRESHOLD,
                            s.HALLUCINATION_NO_SPEECH_THRESHOLD)
    verdicts = judge(transcript.segments, transcript.language, regions, thresholds, shares or None)
    restored = reviewed_restorations(io)
    kept, dropped = [], []
    for seg in transcript.segments:
        if seg.id in verdicts and restored.get(seg.id) == seg.text:
            kept.append(seg.model_copy(update={"flags": {**seg.flags, "restored": verdicts[seg.id]}}))
            io.log.info("kept segment %d [%.2f–%.2f] %r: a reviewer restored it (%s)", seg.id, seg.start, seg.end, seg.text, verdicts[seg.id])
        elif seg.id in verdicts:
            dropped.append(seg.model_copy(update={"flags": {**seg.flags, "hallucination": verdicts[seg.id]}}))
            io.log.info("dropped segment %d [%.2f–%.2f] %r: %s", seg.id, seg.start, seg.end, seg.text, verdicts[seg.id])
        else:
            kept.append(seg)
    io.write_text(KEPT_FILE, transcript.model_copy(update={"segments": kept}).to_json(), "transcript", language=transcript.language)
    io.write_json(DROPPED_FILE, [seg.model_dump() for seg in dropped], "dropped_segments")
    reasons = Counter(reason.split(":")[0].split(" (")[0] for reason in verdicts.values())
    io.metrics.update({"segments_in": len(transcript.segments), "segments_kept": len(kept), "segments_dropped": len(dropped),
                       "segments_restored": sum("restored" in seg.flags for seg in kept),
                       "dropped_by_reason": dict(reasons)})


def reviewed_restorations(io: StageIO) -> dict[int, str]:
    """Segments a reviewer restored on the review page: kept although the filter would drop them."""
    path = restored_path(io.job.dir)
    if not path.is_file():
        return {}
    io.inputs.append(file_record(path, io.job.dir, "restored_segments"))
    return load_restored(io.job.dir)
