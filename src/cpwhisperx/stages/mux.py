"""Stage 13: soft subtitle tracks into MKV (or MP4), the film's streams copied bit for bit."""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.errors import CpwxError
from cpwhisperx.languages import get_language
from cpwhisperx.media import SubtitleTrack, mux_subtitles, probe, stream_hashes
from cpwhisperx.progress import ProgressReporter
from cpwhisperx.stageio import StageIO

# A text format both containers convert from, best first (TTML and EBU-TT-D are deliveries beside the video).
PREFERRED = ("srt", "ass", "vtt")
# A language's tracks in the order they are muxed: all dialogue, SDH, forced narrative.
TRACK_KINDS = ("full", "sdh", "forced")
SUBTITLE_TYPES = ("subtitles", "subtitles_sdh", "subtitles_forced")


def chosen_files(records: list[dict]) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    """The file to mux for each language and kind of track: the best of the formats written."""
    chosen: dict[tuple[str, str], dict] = {}  # type: ignore[type-arg]
    for record in records:
        if record["format"] not in PREFERRED:
            continue
        key = (record["language"], record.get("track", "full"))
        current = chosen.get(key)
        if current is None or PREFERRED.index(record["format"]) < PREFERRED.index(current["format"]):
            chosen[key] = record
    return chosen


def default_track(tracks: list[tuple[str, str]], language: str, kind: str, targets: list[str], order: list[str]) -> tuple[str, str] | None:
    """The (language, kind) that gets the default flag: MUX_DEFAULT_LANGUAGE, else the first target
    language with a track, else the first track's language; its track of MUX_DEFAULT_TRACK's kind
    where it has one, else its full track."""
    languages = [code for code in order if any(code == have for have, _ in tracks)]
    if language == "none" or not languages:
        return None
    chosen = language or next((code for code in targets if code in languages), languages[0])
    kinds = [have for code, have in tracks if code == chosen]
    if not kinds:
        return None
    return chosen, kind if kind in kinds else ("full" if "full" in kinds else kinds[0])


def track_title(language_name: str, kind: str) -> str:
    return {"full": language_name, "sdh": f"{language_name} SDH", "forced": f"{language_name} (forced)"}[kind]


def run(io: StageIO) -> None:
    media = io.media()
    container = io.settings.MUX_CONTAINER
    chosen = chosen_files([r for r in io.outputs_of("subtitle_generation") if r["type"] in SUBTITLE_TYPES])
    if not chosen:
        raise CpwxError("there are no subtitle files to mux", hint="set SUBTITLE_FORMATS to include srt")
    order = _track_order(sorted({code for code, _ in chosen}), io.job.record.source_language, io.settings.TARGET_LANGUAGES)
    wanted = []
    for code in order:
        for kind in TRACK_KINDS:
            record = chosen.get((code, kind))
            if record is None:
                continue
            if not record.get("cues"):
                which = "" if kind == "full" else f" ({kind} track)"
                io.warn(f"no cues in language '{code}'{which}: the video gets no such subtitle track")
                continue
            wanted.append((code, kind, io.input("subtitle_generation", Path(record["path"]).name, "subtitles")))
    default = default_track([(code, kind) for code, kind, _ in wanted], io.settings.MUX_DEFAULT_LANGUAGE,
                            io.settings.MUX_DEFAULT_TRACK, io.settings.TARGET_LANGUAGES, order)
    if default is None and io.settings.MUX_DEFAULT_LANGUAGE not in ("", "none"):
        io.warn(f"MUX_DEFAULT_LANGUAGE={io.settings.MUX_DEFAULT_LANGUAGE}: the video has no subtitle track in it, "
                "so no track is the default")
    tracks = []
    for code, kind, path in wanted:
        language = get_language(code) if code != "und" else None
        title = track_title(language.name if language else "Unknown", kind)
        tracks.append(SubtitleTrack(path, language.iso639_2 if language else "und", title, (code, kind) == default,
                                    forced=kind == "forced", hearing_impaired=kind == "sdh"))
    name = f"{io.job.stem}_subtitled.{container}"
    length = probe(media).duration or 0.0
    with io.output(name, "video", container=container, deliverable=True,
                   subtitle_tracks=[{"language": t.language, "title": t.title, "default": t.default, "forced": t.forced,
                                     "hearing_impaired": t.hearing_impaired} for t in tracks]) as tmp:
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
    from cpwhisperx.qc import write_qc_report

    write_qc_report(io)


def _track_order(languages: list[str], source: str, targets: list[str]) -> list[str]:
    first = [code for code in [source, *targets] if code in languages]
    return first + sorted(code for code in languages if code not in first)
