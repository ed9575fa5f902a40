"""The subtitle tracks beside a language's full subtitles: SDH and forced narrative.

A forced-narrative track holds what a viewer who understands the film's language still needs
read to them. Here that is the dialogue spoken in another language (the segments whose `language`
the per-segment language identification set), in the track language's translation. Burnt-in or
on-screen text (signs, letters, captions) belongs there too, but nothing here reads the picture,
so the forced track carries foreign-language dialogue only.
"""

from __future__ import annotations

from typing import Any

from cpwhisperx.cue_timing import FrameTiming, time_to_frames
from cpwhisperx.layout import Cue, LayoutRules, layout
from cpwhisperx.music import MUSIC_FILE
from cpwhisperx.sdh import MusicRegion, music_tag, sdh_cues
from cpwhisperx.stageio import StageIO
from cpwhisperx.subtitles import subtitle_file_name, write_subtitles
from cpwhisperx.transcript import Transcript

def foreign_dialogue(transcript: Transcript, film_language: str) -> Transcript:
    """The segments spoken neither in the film's language nor in the transcript's own."""
    kept = [seg for seg in transcript.segments if seg.language and seg.language not in (film_language, transcript.language)]
    return transcript.model_copy(update={"segments": kept})


def forced_cues(transcript: Transcript, film_language: str, rules: LayoutRules) -> list[Cue]:
    return layout(foreign_dialogue(transcript, film_language), rules)


def music_regions(io: StageIO) -> list[MusicRegion]:
    if not io.has_input("lyrics_detection", MUSIC_FILE):
        return []
    data = io.read_json("lyrics_detection", MUSIC_FILE, "music_profile")
    return [MusicRegion(float(r["start"]), float(r["end"])) for r in data.get("regions", [])]


def write_extra_tracks(io: StageIO, transcript: Transcript, film_language: str, rules: LayoutRules,
                       timing: FrameTiming | None = None) -> dict[str, Any]:
    """The SDH and forced files of one language as SUBTITLE_SDH and MUX_FORCED_LANGUAGES ask,
    in every subtitle format, on the video's frames and cuts like the full track; what they hold, for the stage's metrics."""
    s, language = io.settings, transcript.language
    written: dict[str, Any] = {}
    if s.SUBTITLE_SDH:
        cues = on_frames(sdh_cues(transcript, rules, music_regions(io)), rules, timing)
        _write(io, cues, language, "sdh")
        tag = music_tag(language)
        written["sdh"] = {"cues": len(cues), "music_tags": sum(c.lines == [tag] for c in cues),
                          "speaker_ids": sum(c.lines[0].startswith("[") and c.lines != [tag] for c in cues)}
    if language in s.MUX_FORCED_LANGUAGES:
        if language == film_language:
            io.warn(f"{language}: no forced track in the film's own language: the lines spoken in other languages "
                    "are not translated into it (add the language the forced track is for to TARGET_LANGUAGES)")
        else:
            cues = on_frames(forced_cues(transcript, film_language, rules), rules, timing)
            if not cues:
                io.warn(f"{language}: the forced track is empty: no segment was found spoken in another language "
                        "(LANGUAGE_PER_SEGMENT=true finds them)")
            _write(io, cues, language, "forced")
            written["forced"] = {"cues": len(cues)}
    return written


def on_frames(cues: list[Cue], rules: LayoutRules, timing: FrameTiming | None) -> list[Cue]:
    return time_to_frames(cues, rules, timing) if timing else cues


def _write(io: StageIO, cues: list[Cue], language: str, track: str) -> None:
    for fmt in io.settings.SUBTITLE_FORMATS:
        # A type of their own: what reads a language's subtitles (review, checks) keeps to its full track.
        with io.output(subtitle_file_name(io.job.stem, language, fmt, track), f"subtitles_{track}", language=language, format=fmt,
                       track=track, deliverable=True, cues=len(cues)) as tmp:
            write_subtitles(cues, tmp, fmt, language)
