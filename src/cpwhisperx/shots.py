"""The video's frame rate and its shot changes (cuts), found with FFmpeg's `scdet` filter.

Cue timing snaps subtitles to frames and to cuts (`cpwhisperx.cue_timing`). Decoding is the cost
(about 9 CPU seconds a minute of 1080p H.264, measured); the frames are scored as 160-pixel
thumbnails, where a cut changes the whole picture as much while grain and small motion average out.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from cpwhisperx.media import tool_path

# Frame rates of film and television, as exact fractions: a probed rate close to one of them is it.
STANDARD_RATES: tuple[Fraction, ...] = tuple(Fraction(r) for r in (
    "24000/1001", "24", "25", "30000/1001", "30", "48000/1001", "48", "50", "60000/1001", "60", "100", "120000/1001", "120"))
THUMBNAIL_WIDTH = 160
# Detections closer than this (frames) belong to one cut: a flash or the first frames of a new shot settling.
MIN_SHOT_FRAMES = 3
_PTS = re.compile(r"^frame:\s*\d+\s+pts:\s*(-?\d+)")


@dataclass(frozen=True)
class ShotChanges:
    """Where the picture cuts, as frames of the video: frame k shows from `video_offset + k / frame_rate`
    seconds on the timeline of the extracted audio (its first sample is 0 s)."""

    frame_rate: Fraction | None
    threshold: float
    frames: tuple[int, ...]  # the first frame of each new shot, counted from the video's first frame
    # when the video's first frame shows, on the audio's timeline: the streams of a file need not start together
    video_offset: Fraction = Fraction(0)
    error: str | None = None  # why the shot changes could not be found

    @property
    def times(self) -> list[float]:
        rate = self.frame_rate
        return [float(self.video_offset + Fraction(frame) / rate) for frame in self.frames] if rate else []

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "frame_rate": float(self.frame_rate) if self.frame_rate else None,
            "frame_rate_fraction": f"{self.frame_rate.numerator}/{self.frame_rate.denominator}" if self.frame_rate else None,
            "threshold": self.threshold, "shot_change_frames": list(self.frames),
            "shot_changes": [round(t, 6) for t in self.times]}
        if self.frame_rate:
            data["video_offset"] = round(float(self.video_offset), 6)
            data["video_offset_fraction"] = f"{self.video_offset.numerator}/{self.video_offset.denominator}"
        if self.error:
            data["error"] = self.error
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShotChanges:
        fraction = data.get("frame_rate_fraction")
        rate = Fraction(fraction) if fraction else None
        if rate is None and data.get("frame_rate"):
            rate = Fraction(data["frame_rate"]).limit_denominator(1001)
        offset_fraction = data.get("video_offset_fraction")
        # written before the offset was recorded: the frames were counted from the audio's first sample
        offset = Fraction(offset_fraction) if offset_fraction else Fraction(data.get("video_offset") or 0).limit_denominator(1_000_000)
        frames = data.get("shot_change_frames")
        if frames is None and rate:
            frames = [round((Fraction(t) - offset) * rate) for t in data.get("shot_changes", [])]
        return cls(rate, float(data.get("threshold", 0.0)), tuple(int(f) for f in frames or ()), offset, data.get("error"))


class ShotDetectionFailed(Exception):
    """FFmpeg could not decode the video to find its shot changes."""


def _fraction(text: Any) -> Fraction | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def frame_rate(stream: dict[str, Any]) -> Fraction | None:
    """The stream's frame rate: its average rate (or, failing that, its base rate), taken as the
    standard rate it lies within 0.1 % of, since containers store 23.976 as 23.98 or 2997/125."""
    for key in ("avg_frame_rate", "r_frame_rate"):
        value = _fraction(stream.get(key))
        if value is None or value > 1000:
            continue
        for standard in STANDARD_RATES:
            if abs(value - standard) <= standard / 1000:
                return standard
        return value
    return None


def stream_start(stream: dict[str, Any]) -> Fraction:
    """When the stream's first frame or sample shows, in seconds: exactly, from its first timestamp
    and time base where ffprobe gives them, else from its rounded start time."""
    pts, base = stream.get("start_pts"), _fraction(stream.get("time_base"))
    if isinstance(pts, int) and base is not None:
        return pts * base
    try:
        return Fraction(str(stream.get("start_time") or 0))
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


def video_offset(video: dict[str, Any], audio: dict[str, Any]) -> Fraction:
    """When the video's first frame shows on the timeline of the extracted audio, whose first sample
    is 0 s: MP4 audio priming and B-frame delays often start the streams 20 to 80 ms apart."""
    return stream_start(video) - stream_start(audio)


def detect(media: Path, video: dict[str, Any], audio: dict[str, Any], threshold: float) -> ShotChanges:
    """The shot changes of one video stream (ffprobe's description of it), counted in the video's
    own frames, with the time its first frame shows on the timeline of the audio stream the job
    transcribes (its first sample is 0 s). Raises ShotDetectionFailed where FFmpeg cannot decode it."""
    rate = frame_rate(video)
    if rate is None:
        return ShotChanges(None, threshold, ())
    video_start = stream_start(video)
    # settb=AVTB: timestamps in microseconds, so the frame times are exact whatever the stream's time base.
    graph = (f"settb=AVTB,scale={THUMBNAIL_WIDTH}:-2:flags=bilinear,scdet=threshold={threshold},"
             "metadata=mode=print:key=lavfi.scd.time:file=-")
    # Without the deblocking filter H.264 and HEVC decode about 15 % faster; the cuts stay where they are.
    # -copyts: the stream's own timestamps, so frames count from its start_pts whatever the other streams hold.
    args = [tool_path("ffmpeg"), "-nostdin", "-v", "error", "-threads", "0", "-skip_loop_filter", "all", "-copyts", "-i", str(media),
            "-map", f"0:{video['index']}", "-an", "-sn", "-dn", "-vf", graph, "-f", "null", "-"]
    result = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", errors="replace", check=False, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        detail = " / ".join(result.stderr.strip().splitlines()[-3:]) or f"exit status {result.returncode}"
        raise ShotDetectionFailed(f"FFmpeg could not decode the video of '{media.name}' to find its shot changes: {detail[-400:]}")
    frames: list[int] = []
    for line in result.stdout.splitlines():
        match = _PTS.match(line)
        if not match:
            continue
        frame = round((Fraction(int(match.group(1)), 1_000_000) - video_start) * rate)
        if frame > 0 and (not frames or frame - frames[-1] >= MIN_SHOT_FRAMES):
            frames.append(frame)
    return ShotChanges(rate, threshold, tuple(frames), video_offset(video, audio))
