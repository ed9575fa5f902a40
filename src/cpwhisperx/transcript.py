"""The domain model that flows between stages: a Transcript of Segments of Words."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1


class Word(BaseModel):
    start: float
    end: float
    text: str
    probability: float = 1.0
    speaker: str | None = Field(None, description="who says the word: a diarization label (SPEAKER_1, …); None when not diarized")


class Segment(BaseModel):
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)
    language: str | None = Field(None, description="set when the segment is in another language than the transcript")
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None
    temperature: float | None = None
    flags: dict[str, str] = Field(default_factory=dict, description="flag name → reason, e.g. hallucination")
    speaker: str | None = Field(None, description="who says the segment: a diarization label (SPEAKER_1, …); None when not diarized")
    speaker_name: str | None = Field(None, description="the speaker's name from DIARIZATION_SPEAKER_NAMES, set in the "
                                     "delivered transcript where the file names the label; `speaker` keeps the label")
    # Whisper's token ids as decoded, timestamps included: what a later decode continues from. Not written.
    tokens: list[int] = Field(default_factory=list, exclude=True)


class Transcript(BaseModel):
    version: int = SCHEMA_VERSION
    language: str
    language_probability: float | None = None
    duration: float
    segments: list[Segment] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def load(cls, path: Path) -> Transcript:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
