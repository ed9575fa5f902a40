"""Stage 01: probe the media, choose its audio stream, extract 16 kHz mono audio, and find the video's shot changes."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from cpwhisperx.cache import ResultCache, cache_dir, cache_key
from cpwhisperx.errors import InvalidInput
from cpwhisperx.files import sha256_file
from cpwhisperx.fingerprint import pcm_digest
from cpwhisperx.media import MediaProbe, WavReader, extract_audio, probe, tool_path, wav_duration
from cpwhisperx.shots import ShotChanges, ShotDetectionFailed, detect, frame_rate, stream_start, video_offset
from cpwhisperx.stageio import StageIO

log = logging.getLogger("cpwhisperx.stages.demux")


def run(io: StageIO) -> None:
    media = io.media()
    media_sha256 = io.inputs[-1]["sha256"]  # io.media() has just hashed it
    info = probe(media)
    audio = info.audio_streams
    if not audio:
        kinds = ", ".join(sorted({s.get("codec_type", "?") for s in info.streams})) or "none"
        raise InvalidInput(f"'{media.name}' has no audio stream (streams found: {kinds})", hint="give a file with an audio track; there is nothing to transcribe in this one")
    index, why = choose_audio_stream(audio, io.settings.DEMUX_AUDIO_STREAM, io.settings.SOURCE_LANGUAGE)
    chosen = audio[index]
    io.log.info("media %s: format %s, %d stream(s); audio stream %d of %d (%s, %s, %s Hz, %s channel(s)): %s",
                media.name, info.format_name, len(info.streams), index, len(audio), _language_tag(chosen) or "no language tag",
                chosen.get("codec_name"), chosen.get("sample_rate"), chosen.get("channels"), why)
    if len(audio) > 1:
        listing = ", ".join(f"{n}: {_language_tag(s) or 'untagged'}" for n, s in enumerate(audio))
        io.warn(f"'{media.name}' has {len(audio)} audio streams ({listing}); transcribing stream {index}, {why}; "
                f"DEMUX_AUDIO_STREAM=N takes another")
    summary = {
        "format_name": info.format_name,
        "duration_seconds": info.duration,
        "audio_stream_index": index,
        "audio_stream_choice": why,
        "frame_rate": float(rate) if (rate := _video_rate(info.video_streams)) else None,
        "streams": [
            {k: s.get(k) for k in ("index", "codec_type", "codec_name", "sample_rate", "channels", "width", "height", "duration")}
            | {"language": s.get("tags", {}).get("language")}
            for s in info.streams
        ],
    }
    io.write_json("media.json", summary, "media_info")
    cache = ResultCache(cache_dir(io.settings.CACHE_DIR), "demux", io.settings.CACHE_ENABLED)
    # the media by its content (io.media() hashed it), the stream, and the FFmpeg that decodes it
    key = cache_key("demux", 1, media_sha256, index, _tool_identity("ffmpeg")) if cache.enabled else None
    clock = time.perf_counter()
    with io.output("audio.wav", "audio", sample_rate=16000, channels=1) as tmp:
        reused = _cached_audio(cache, key, tmp) if key else None
        if reused is None:
            extract_audio(media, index, tmp)
    duration = wav_duration(io.dir / "audio.wav")
    if duration <= 0:
        raise InvalidInput(f"the audio stream of '{media.name}' holds no samples", hint="give a file whose audio track is not empty")
    record = io.outputs[-1]
    record["duration_seconds"] = round(duration, 3)
    if reused is None:
        with WavReader(io.dir / "audio.wav") as reader:
            # the key of every cached result of this audio, taken once here rather than by each stage
            record["pcm_sha256"] = pcm_digest(reader)
        if key:
            _keep_audio(cache, key, io.dir / "audio.wav", record, time.perf_counter() - clock)
    else:
        record["pcm_sha256"] = reused["pcm_sha256"]
        io.log.info("the audio of the same media was extracted before: it is reused, not decoded again")
    shots = _shot_changes(io, media, media_sha256, info, chosen, cache)
    io.write_json("shot_changes.json", shots.to_json(), "shot_changes")
    io.cache = {"used": cache.enabled, "hit": reused is not None, "key": key,
                "seconds_saved": float(reused["seconds"]) if reused else 0.0, "writable": cache.writable}
    for problem in cache.problems:
        io.warn(problem)
    cache.record_stats()
    io.metrics.update({"media_duration_seconds": info.duration, "audio_duration_seconds": round(duration, 3), "audio_stream": index,
                       "audio_codec": chosen.get("codec_name"), "video_streams": len(info.video_streams), "audio_streams": len(audio),
                       "shot_changes": len(shots.frames)})


def _video_rate(videos: list[dict[str, Any]]) -> Fraction | None:
    return frame_rate(videos[0]) if videos else None


def _shot_changes(io: StageIO, media: Path, media_sha256: str, info: MediaProbe, audio: dict[str, Any], cache: ResultCache) -> ShotChanges:
    """The cuts of the first video stream, cached with CACHE_ENABLED: decoding a film's video costs
    minutes. No cuts for audio alone (and no frame rate), nor with SHOT_CHANGE_DETECTION=false or a
    video FFmpeg cannot decode (the frames still count: cue times land on them)."""
    threshold = io.settings.SHOT_CHANGE_THRESHOLD
    rate = _video_rate(info.video_streams)
    if rate is None:
        return ShotChanges(None, threshold, ())
    video = info.video_streams[0]
    offset = video_offset(video, audio)
    if not io.settings.SHOT_CHANGE_DETECTION:
        return ShotChanges(rate, threshold, (), offset)
    key = cache_key("shot_changes", 2, media_sha256, video.get("index"), audio.get("index"), str(stream_start(audio)), threshold,
                    _tool_identity("ffmpeg")) if cache.enabled else None
    entry = cache.get(key) if key else None
    if isinstance(entry, dict) and isinstance(entry.get("shot_change_frames"), list):
        io.log.info("the shot changes of the same video were found before: %d, reused", len(entry["shot_change_frames"]))
        return ShotChanges.from_json(entry)
    clock = time.perf_counter()
    try:
        shots = detect(media, video, audio, threshold)
    except ShotDetectionFailed as exc:
        io.warn(f"{exc}; the subtitles are timed to the video's frames without its shot changes")
        return ShotChanges(rate, threshold, (), offset, error=str(exc))
    seconds = time.perf_counter() - clock
    io.log.info("%d shot change(s) in the video (%s fps, scdet threshold %s; its first frame at %.3f s of the audio), found in %.1f s",
                len(shots.frames), f"{float(rate):.3f}", threshold, float(offset), seconds)
    io.metrics["shot_detection_seconds"] = round(seconds, 2)
    if key:
        cache.put(key, shots.to_json())
    return shots


def _tool_identity(name: str) -> list[object]:
    path = Path(tool_path(name)).resolve()
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]


def _link_or_copy(source: Path, target: Path) -> None:
    """`target` made the same file as `source`: a hard link where the file system allows one."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _cached_audio(cache: ResultCache, key: str, target: Path) -> dict[str, Any] | None:
    """The cached entry of this media's audio, its WAV put at `target` (linked where the file
    system allows, else copied) and checked against the digest recorded with it; None: a miss."""
    entry = cache.get(key)
    stored = cache.blob_path(key, ".wav")
    if not isinstance(entry, dict) or not {"blob_sha256", "pcm_sha256", "seconds"} <= entry.keys() or not stored.is_file():
        return None
    try:
        target.unlink(missing_ok=True)
        _link_or_copy(stored, target)
    except OSError as exc:
        log.warning("the cached audio %s cannot be used (%s); extracting it again", stored, exc)
        return None
    if sha256_file(target) != entry["blob_sha256"]:
        log.warning("the cached audio %s is corrupt (its digest changed); extracting it again", stored)
        target.unlink(missing_ok=True)
        stored.unlink(missing_ok=True)
        return None
    return entry


def _keep_audio(cache: ResultCache, key: str, wav: Path, record: dict[str, Any], seconds: float) -> None:
    stored = cache.blob_path(key, ".wav")
    try:
        stored.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own: two jobs of the same media may keep its audio at once
        fd, name = tempfile.mkstemp(prefix=f".{stored.name}.", suffix=".part", dir=stored.parent)
        os.close(fd)
        partial = Path(name)
        try:
            partial.unlink()
            _link_or_copy(wav, partial)
            # read-only: the job's audio.wav may be this very file (a hard link), and nothing may write through it
            os.chmod(partial, 0o444)
            os.replace(partial, stored)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("audio not kept in the cache: %s", exc)
        return
    cache.put(key, {"blob_sha256": record["sha256"], "pcm_sha256": record["pcm_sha256"], "seconds": round(seconds, 3)})


def _language_tag(stream: dict[str, Any]) -> str | None:
    tag = (stream.get("tags", {}).get("language") or "").strip()
    return tag if tag and tag.lower() not in ("und", "unk", "mis", "zxx") else None


def _speaks(stream: dict[str, Any], language: str) -> bool:
    import langcodes

    tag = _language_tag(stream)
    try:
        return tag is not None and langcodes.tag_distance(tag, language) <= 1
    except (ValueError, LookupError):  # a tag that is no language code
        return False


def choose_audio_stream(streams: list[dict[str, Any]], setting: int | str, source_language: str) -> tuple[int, str]:
    """The audio stream to transcribe, counted among the audio streams, and why it was taken."""
    if setting != "auto":
        index = int(setting)
        if index >= len(streams):
            raise InvalidInput(f"DEMUX_AUDIO_STREAM={index}, but the media has {len(streams)} audio stream(s)",
                               hint=f"set DEMUX_AUDIO_STREAM between 0 and {len(streams) - 1}, or to auto")
        return index, f"as DEMUX_AUDIO_STREAM={index} asks"
    marked_default = [n for n, s in enumerate(streams) if s.get("disposition", {}).get("default")]
    if source_language != "auto":
        speaking = [n for n, s in enumerate(streams) if _speaks(s, source_language)]
        if speaking:
            best = next((n for n in speaking if n in marked_default), speaking[0])
            return best, f"its language tag ({_language_tag(streams[best])}) is the source language {source_language}"
        if len(streams) > 1 and marked_default:
            return marked_default[0], f"no stream is tagged as {source_language}, and the file marks this one as its default"
        if len(streams) > 1:
            return 0, f"no stream is tagged as {source_language}, so the first"
    if len(streams) > 1 and marked_default:
        return marked_default[0], "the file marks it as its default"
    return 0, "the first" if len(streams) > 1 else "the only one"
