"""Stage 07: word timestamps clamped into their segment and the speech regions, and monotonic."""

from __future__ import annotations

from bisect import bisect_right

from cpwhisperx.stageio import StageIO
from cpwhisperx.stages.vad import load_regions
from cpwhisperx.transcript import Transcript, Word

ALIGNED_FILE = "transcript.json"


def clamp_into_regions(start: float, end: float, regions: list[tuple[float, float]]) -> tuple[float, float]:
    """Move a word that lies outside every speech region into the nearest one."""
    if not regions:
        return start, end
    middle = (start + end) / 2
    index = bisect_right([r[0] for r in regions], middle) - 1
    candidates = [regions[i] for i in (index, index + 1) if 0 <= i < len(regions)]
    for lo, hi in candidates:
        if lo <= middle <= hi:
            return max(start, lo), min(end, hi)
    lo, hi = min(candidates, key=lambda r: min(abs(middle - r[0]), abs(middle - r[1])))
    length = min(end - start, hi - lo)
    if middle < lo:
        return lo, lo + length
    return hi - length, hi


def align(transcript: Transcript, regions: list[tuple[float, float]]) -> tuple[Transcript, int]:
    """A copy with clamped, monotonic word times; also the number of words moved."""
    moved = 0
    previous_end = 0.0
    segments = []
    for seg in transcript.segments:
        words: list[Word] = []
        for word in seg.words:
            start, end = max(word.start, seg.start), min(word.end, seg.end)
            start, end = clamp_into_regions(start, max(end, start), regions)
            start = max(start, previous_end)
            end = max(end, start)
            if (round(start, 3), round(end, 3)) != (round(word.start, 3), round(word.end, 3)):
                moved += 1
            words.append(word.model_copy(update={"start": round(start, 3), "end": round(end, 3)}))
            previous_end = end
        if words:
            seg_start, seg_end = words[0].start, words[-1].end
        else:
            seg_start = max(seg.start, previous_end)
            seg_end = max(seg.end, seg_start)
            previous_end = seg_end
        segments.append(seg.model_copy(update={"words": words, "start": round(seg_start, 3), "end": round(seg_end, 3)}))
    return transcript.model_copy(update={"segments": segments}), moved


def run(io: StageIO) -> None:
    transcript = Transcript.load(io.input("asr", "transcript.json", "transcript"))
    aligned, moved = align(transcript, load_regions(io) or [])
    io.write_text(ALIGNED_FILE, aligned.to_json(), "transcript", language=aligned.language)
    total = sum(len(s.words) for s in aligned.segments)
    io.metrics.update({"words": total, "words_adjusted": moved, "segments": len(aligned.segments), "method": "faster-whisper word timestamps (cross-attention DTW)"})
