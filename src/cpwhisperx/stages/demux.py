"""Stage 01: probe the media, choose its audio stream, and extract 16 kHz mono audio."""

from __future__ import annotations

from typing import Any

from cpwhisperx.errors import InvalidInput
from cpwhisperx.fingerprint import pcm_digest
from cpwhisperx.media import WavReader, extract_audio, probe, wav_duration
from cpwhisperx.stageio import StageIO


def run(io: StageIO) -> None:
    media = io.media()
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
        "streams": [
            {k: s.get(k) for k in ("index", "codec_type", "codec_name", "sample_rate", "channels", "width", "height", "duration")}
            | {"language": s.get("tags", {}).get("language")}
            for s in info.streams
        ],
    }
    io.write_json("media.json", summary, "media_info")
    with io.output("audio.wav", "audio", sample_rate=16000, channels=1) as tmp:
        extract_audio(media, index, tmp)
    duration = wav_duration(io.dir / "audio.wav")
    if duration <= 0:
        raise InvalidInput(f"the audio stream of '{media.name}' holds no samples", hint="give a file whose audio track is not empty")
    io.outputs[-1]["duration_seconds"] = round(duration, 3)
    with WavReader(io.dir / "audio.wav") as reader:
        # the key of every cached result of this audio, taken once here rather than by each stage
        io.outputs[-1]["pcm_sha256"] = pcm_digest(reader)
    io.metrics.update({"media_duration_seconds": info.duration, "audio_duration_seconds": round(duration, 3), "audio_stream": index,
                       "audio_codec": chosen.get("codec_name"), "video_streams": len(info.video_streams), "audio_streams": len(audio)})


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
