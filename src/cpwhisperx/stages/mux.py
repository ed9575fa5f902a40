"""Stage 12: soft subtitle tracks into MKV (or MP4), the film's streams copied bit for bit."""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.errors import CpwxError
from cpwhisperx.languages import get_language
from cpwhisperx.media import SubtitleTrack, mux_subtitles, probe, stream_hashes
from cpwhisperx.progress import ProgressReporter
from cpwhisperx.stageio import StageIO

# A text format both containers convert from, best first.
PREFERRED = ("srt", "ass", "vtt")


def run(io: StageIO) -> None:
    media = io.media()
    container = io.settings.MUX_CONTAINER
    records = [r for r in io.outputs_of("subtitle_generation") if r["type"] == "subtitles"]
    by_language: dict[str, dict] = {}  # type: ignore[type-arg]
    for record in records:
        current = by_language.get(record["language"])
        if current is None or PREFERRED.index(record["format"]) < PREFERRED.index(current["format"]):
            by_language[record["language"]] = record
    if not by_language:
        raise CpwxError("there are no subtitle files to mux", hint="set SUBTITLE_FORMATS to include srt")
    targets = io.settings.TARGET_LANGUAGES
    order = _track_order(list(by_language), io.job.record.source_language, targets)
    default_language = next((code for code in targets if code in by_language), order[0])
    tracks = []
    for code in order:
        record = by_language[code]
        if not record.get("cues"):
            io.warn(f"no cues in language '{code}': the video gets no subtitle track for it")
            continue
        path = io.input("subtitle_generation", Path(record["path"]).name, "subtitles")
        language = get_language(code) if code != "und" else None
        tracks.append(SubtitleTrack(path, language.iso639_2 if language else "und", language.name if language else "Unknown",
                                    code == default_language))
    name = f"{io.job.stem}_subtitled.{container}"
    length = probe(media).duration or 0.0
    with io.output(name, "video", container=container, deliverable=True,
                   subtitle_tracks=[{"language": t.language, "title": t.title, "default": t.default} for t in tracks]) as tmp:
        with ProgressReporter(f"writing {name}", length, io.log) as bar:
            mux_subtitles(media, tracks, container, tmp, bar.update)
            bar.update(length)
        before, after = stream_hashes(media), stream_hashes(tmp)
        if before != after:
            raise CpwxError(f"the video or audio streams changed while muxing ({before} → {after})", hint="report this; the original file is untouched")
    written = probe(io.dir / name)
    io.metrics.update({"container": container, "subtitle_tracks": len(tracks), "streams_identical": True,
                       "video_streams": len(written.video_streams), "audio_streams": len(written.audio_streams)})
    io.log.info("%s: %d subtitle track(s) (%s), video and audio identical to the source", name, len(tracks),
                ", ".join(f"{t.language} '{t.title}'" for t in tracks))


def _track_order(languages: list[str], source: str, targets: list[str]) -> list[str]:
    first = [code for code in [source, *targets] if code in languages]
    return first + sorted(code for code in languages if code not in first)
