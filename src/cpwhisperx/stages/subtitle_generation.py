"""Stage 11: the transcript as .txt, .json and subtitle files named {stem}.{lang}.{ext}."""

from __future__ import annotations

from cpwhisperx.stageio import StageIO
from cpwhisperx.subtitles import plain_text, write_subtitles
from cpwhisperx.transcript import Transcript


def run(io: StageIO) -> None:
    source = "hallucination_removal" if io.has_input("hallucination_removal", "transcript.json") else "alignment"
    transcript = Transcript.load(io.input(source, "transcript.json", "transcript"))
    lang = transcript.language
    stem = io.job.stem
    io.write_text(f"{stem}.{lang}.json", transcript.to_json(), "transcript", language=lang, deliverable=True)
    io.write_text(f"{stem}.{lang}.txt", plain_text(transcript), "transcript_text", language=lang, deliverable=True)
    for fmt in io.settings.SUBTITLE_FORMATS:
        with io.output(f"{stem}.{lang}.{fmt}", "subtitles", language=lang, deliverable=True, cues=sum(1 for s in transcript.segments if s.text.strip())) as tmp:
            write_subtitles(transcript, tmp, fmt)
    io.metrics.update({"language": lang, "segments": len(transcript.segments), "formats": ["json", "txt", *io.settings.SUBTITLE_FORMATS]})
    if not transcript.segments:
        io.warn("the transcript is empty: no speech was found")
