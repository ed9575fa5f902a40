"""Stage 01: probe the media and extract 16 kHz mono audio."""

from __future__ import annotations

from cpwhisperx.errors import InvalidInput
from cpwhisperx.media import extract_audio, probe, wav_duration
from cpwhisperx.stageio import StageIO


def run(io: StageIO) -> None:
    media = io.media()
    info = probe(media)
    audio = info.audio_streams
    if not audio:
        kinds = ", ".join(sorted({s.get("codec_type", "?") for s in info.streams})) or "none"
        raise InvalidInput(f"'{media.name}' has no audio stream (streams found: {kinds})", hint="give a file with an audio track; there is nothing to transcribe in this one")
    index = io.settings.DEMUX_AUDIO_STREAM
    if index >= len(audio):
        raise InvalidInput(f"DEMUX_AUDIO_STREAM={index}, but '{media.name}' has {len(audio)} audio stream(s)", hint=f"set DEMUX_AUDIO_STREAM between 0 and {len(audio) - 1}")
    chosen = audio[index]
    io.log.info("media %s: format %s, %d stream(s), audio stream %d: %s %s Hz, %s channel(s), language %s",
                media.name, info.format_name, len(info.streams), index, chosen.get("codec_name"),
                chosen.get("sample_rate"), chosen.get("channels"), chosen.get("tags", {}).get("language", "und"))
    summary = {
        "format_name": info.format_name,
        "duration_seconds": info.duration,
        "audio_stream_index": index,
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
    io.metrics.update({"media_duration_seconds": info.duration, "audio_duration_seconds": round(duration, 3),
                       "audio_codec": chosen.get("codec_name"), "video_streams": len(info.video_streams), "audio_streams": len(audio)})
