"""Sentence units across segment boundaries, and mapping a translated sentence back onto segments.

A sentence split over two cues is translated once, whole; its translation is then shared among
the segments it came from in proportion to their share of the source text, cut at word
boundaries, so every target segment keeps its source segment's time span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import regex

from cpwhisperx.scripts import join_text
from cpwhisperx.transcript import Segment
from cpwhisperx.unspaced import units

# A sentence ends at a full stop followed by a space (or the end); a Chinese or Japanese full stop
# needs no space after it, but one inside a quotation (「はい。」と言った) ends no sentence.
_CLOSING = "\"'”’)」』）"
_SENTENCE_PIECES = re.compile(rf".+?(?:[.?!।॥…]+[{_CLOSING}]*(?=\s|$)|[。？！]+(?:[{_CLOSING}]+(?=\s|$)|(?![{_CLOSING}]))|$)", re.S)
_ENDS_SENTENCE = re.compile(rf"[.?!।॥…。？！][{_CLOSING}]*\s*$")
PAUSE_ENDS_SENTENCE = 2.0
# Abbreviations whose full stop ends no sentence.
ABBREVIATIONS = frozenset("mr. mrs. ms. dr. st. prof. jr. sr. vs. etc. e.g. i.e. no. sr. sra. srta. dra. sto. sta. p.ex.".split())
# Scripts that do not put spaces between words.
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]")


@dataclass
class Sentence:
    text: str = ""
    parts: list[tuple[int, int]] = field(default_factory=list)  # (segment index, characters it gave)
    language: str | None = None  # pieces of Chinese or Japanese join without a space

    def add(self, index: int, piece: str) -> None:
        piece = piece.strip()
        if piece:
            self.text = join_text([self.text, piece], self.language)
            self.parts.append((index, len(piece)))


def _pieces(text: str) -> list[tuple[str, bool]]:
    """The text cut after each sentence end: (piece, ends a sentence). A title such as "Mr." ends no sentence."""
    pieces: list[str] = []
    for match in _SENTENCE_PIECES.finditer(text.strip()):
        piece = match.group(0)
        if not piece.strip():
            continue
        if pieces and pieces[-1].split()[-1].lower() in ABBREVIATIONS:
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return [(p, bool(_ENDS_SENTENCE.search(p)) and p.split()[-1].lower() not in ABBREVIATIONS) for p in pieces]


def build_sentences(segments: list[Segment], language: str | None = None) -> list[Sentence]:
    sentences: list[Sentence] = []
    current = Sentence(language=language)
    previous: Segment | None = None
    for index, seg in enumerate(segments):
        if previous is not None and current.parts and (
                seg.start - previous.end >= PAUSE_ENDS_SENTENCE or ("lyrics" in seg.flags) != ("lyrics" in previous.flags)
                or seg.speaker != previous.speaker):  # a translation never moves words to another speaker
            sentences.append(current)
            current = Sentence(language=language)
        for piece, ends in _pieces(seg.text):
            current.add(index, piece)
            if ends:
                sentences.append(current)
                current = Sentence(language=language)
        previous = seg
    if current.parts:
        sentences.append(current)
    return sentences


def distribute(translation: str, parts: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """Share a translation among the source segments by their share of the source characters, cut
    between words (between characters only in scripts written without spaces)."""
    words = translation.split()
    joiner = " "
    if len(words) < len(parts) and _UNSPACED.search(translation):
        words, joiner = units(translation.strip(), between_characters=True), ""
    if len(parts) == 1 or len(words) <= 1:
        return [(parts[0][0], translation.strip())] + [(index, "") for index, _ in parts[1:]]
    total = sum(chars for _, chars in parts)
    lengths = [len(w) + len(joiner) for w in words]
    full = sum(lengths)
    shares, cursor, consumed = [], 0, 0
    for number, (index, chars) in enumerate(parts):
        if number == len(parts) - 1:
            take = words[cursor:]
        else:
            goal = full * (consumed + chars) / total
            end, running = cursor, sum(lengths[:cursor])
            while end < len(words) and running + lengths[end] / 2 <= goal:
                running += lengths[end]
                end += 1
            take = words[cursor:end]
            cursor = end
        consumed += chars
        shares.append((index, joiner.join(take).strip()))
    return shares
