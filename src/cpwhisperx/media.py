"""ffprobe and ffmpeg, always called with argument lists, never through a shell."""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cpwhisperx.errors import InvalidInput, ResourceMissing

SAMPLE_RATE = 16000
INSTALL_HINT = "install FFmpeg: `apt-get install ffmpeg` (Debian/Ubuntu), `brew install ffmpeg` (macOS), or run `python3 bootstrap.py demo`"


def tool_path(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ResourceMissing(f"{name} is not installed or not on PATH", hint=INSTALL_HINT)
    return found


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, encoding="utf-8", errors="replace", check=False, stdin=subprocess.DEVNULL)


def tool_version(name: str) -> str:
    result = _run([tool_path(name), "-version"])
    return result.stdout.splitlines()[0] if result.stdout else "unknown"


@dataclass(frozen=True)
class MediaProbe:
    format_name: str
    duration: float | None
    streams: list[dict[str, Any]]

    @property
    def audio_streams(self) -> list[dict[str, Any]]:
        return [s for s in self.streams if s.get("codec_type") == "audio"]

    @property
    def video_streams(self) -> list[dict[str, Any]]:
        return [s for s in self.streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")]


def probe(path: Path) -> MediaProbe:
    if path.stat().st_size == 0:
        raise InvalidInput(f"'{path.name}' is empty (0 bytes)", hint="give a media file that contains audio")
    result = _run([tool_path("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)])
    data = json.loads(result.stdout or "{}") if result.returncode == 0 else {}
    fmt = data.get("format")
    if result.returncode != 0 or not fmt or not data.get("streams"):
        detail = (result.stderr.strip().splitlines() or ["no streams found"])[-1]
        raise InvalidInput(f"'{path.name}' is not a media file FFmpeg can read ({detail})", hint="check that the file is a complete audio or video file, not text or a partial download")
    duration = fmt.get("duration")
    return MediaProbe(fmt.get("format_name", "?"), float(duration) if duration else None, data["streams"])


def extract_audio(path: Path, audio_index: int, out_wav: Path) -> None:
    """Decode one audio stream to 16 kHz mono 16-bit PCM WAV."""
    args = [tool_path("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(path), "-map", f"0:a:{audio_index}",
            "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "wav", str(out_wav)]
    result = _run(args)
    if result.returncode != 0:
        raise InvalidInput(f"FFmpeg could not decode the audio of '{path.name}': {result.stderr.strip()[-500:]}", hint="check the file plays in a media player; re-encode it if it is damaged")


class WavReader:
    """A 16 kHz mono 16-bit PCM WAV read from disk one window at a time, as float32 samples in
    [-1, 1], so that no stage holds the whole audio of a long film."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = wave.open(str(path), "rb")
        if self._handle.getnchannels() != 1 or self._handle.getsampwidth() != 2 or self._handle.getframerate() != SAMPLE_RATE:
            self._handle.close()
            raise InvalidInput(f"'{path}' is not 16 kHz mono 16-bit PCM", hint="let the demux stage write it")
        self.samples = self._handle.getnframes()

    @property
    def duration(self) -> float:
        return self.samples / SAMPLE_RATE

    def read(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end), clipped to the file."""
        start, end = max(0, start), min(end, self.samples)
        if end <= start:
            return np.zeros(0, np.float32)
        self._handle.setpos(start)
        samples = np.frombuffer(self._handle.readframes(end - start), dtype="<i2").astype(np.float32)
        samples /= 32768.0
        return samples

    def read_seconds(self, start: float, end: float) -> np.ndarray:
        """The samples between two times, cut as `audio[int(start * rate):int(end * rate)]` would."""
        return self.read(int(start * SAMPLE_RATE), int(end * SAMPLE_RATE))

    def blocks(self, size: int) -> Iterator[np.ndarray]:
        """The whole file in consecutive blocks of `size` samples (the last one shorter)."""
        for start in range(0, self.samples, size):
            yield self.read(start, start + size)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_wav(path: Path) -> np.ndarray:
    """The whole WAV at once (short files only: stages read long audio through `WavReader`)."""
    with WavReader(path) as reader:
        return reader.read(0, reader.samples)


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / handle.getframerate()


@dataclass(frozen=True)
class SubtitleTrack:
    path: Path
    language: str  # ISO 639-2 tag
    title: str
    default: bool
    forced: bool = False  # a forced-narrative track, which players pick unasked for viewers of its language
    hearing_impaired: bool = False  # an SDH track

    @property
    def disposition(self) -> str:
        """FFmpeg's -disposition value: the flags joined by +, or 0 for none."""
        flags = [name for name, on in (("default", self.default), ("forced", self.forced),
                                       ("hearing_impaired", self.hearing_impaired)) if on]
        return "+".join(flags) or "0"


def _run_reporting(args: list[str], progress: Callable[[float], None]) -> subprocess.CompletedProcess[str]:
    """FFmpeg with `-progress pipe:1`: `progress` gets the seconds of media written so far."""
    with subprocess.Popen([args[0], "-progress", "pipe:1", "-nostats", *args[1:]], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace") as child:
        assert child.stdout is not None and child.stderr is not None
        for line in child.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                progress(int(value) / 1e6)
        # With -v error FFmpeg writes little else: its stderr is read once it is done.
        errors = child.stderr.read()
        code = child.wait()
    return subprocess.CompletedProcess(args, code, "", errors)


def mux_subtitles(media: Path, tracks: list[SubtitleTrack], container: str, out: Path,
                  progress: Callable[[float], None] = lambda seconds: None) -> None:
    """Copy every video and audio stream untouched and add one soft subtitle track per entry;
    `progress` gets the seconds of the film written so far."""
    args = [tool_path("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(media)]
    for track in tracks:
        args += ["-i", str(track.path)]
    args += ["-map", "0:v?", "-map", "0:a"]
    for number in range(len(tracks)):
        args += ["-map", f"{number + 1}:0"]
    args += ["-map_metadata", "0", "-map_chapters", "0", "-c", "copy", "-c:s", "srt" if container == "mkv" else "mov_text"]
    for number, track in enumerate(tracks):
        args += [f"-metadata:s:s:{number}", f"language={track.language}", f"-metadata:s:s:{number}", f"title={track.title}",
                 f"-disposition:s:{number}", track.disposition]
        if container == "mp4":  # the MP4 muxer keeps no title tag; players show the track's handler name
            args += [f"-metadata:s:s:{number}", f"handler_name={track.title}"]
    if container == "mp4":
        args += ["-movflags", "+faststart"]
    args += ["-f", "matroska" if container == "mkv" else "mp4", str(out)]
    result = _run_reporting(args, progress)
    if result.returncode != 0:
        raise InvalidInput(f"FFmpeg could not write the {container} file: {result.stderr.strip()[-500:]}",
                           hint="try MUX_CONTAINER=mkv, which takes every codec" if container == "mp4" else "check the media plays")


def stream_hashes(path: Path) -> list[str]:
    """One SHA-256 per video and audio stream over its packets: equal hashes mean untouched streams."""
    result = _run([tool_path("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v?", "-map", "0:a",
                   "-c", "copy", "-f", "streamhash", "-hash", "sha256", "-"])
    if result.returncode != 0:
        raise InvalidInput(f"FFmpeg could not read the streams of '{path.name}': {result.stderr.strip()[-300:]}")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]
