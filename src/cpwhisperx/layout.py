"""Cue layout by broadcast rules: from word timestamps to cues of at most N lines of M characters.

Characters are counted as grapheme clusters (what a reader sees), so a Devanagari syllable with
its matras counts once. Cue boundaries are chosen by dynamic programming over word gaps,
preferring sentence ends, clause punctuation and pauses; reading speed is met by extending a cue
into free time before splitting it.

Text in a language written without spaces (Chinese, Japanese, Thai, …) keeps exactly the spaces
Whisper wrote; its lines break after punctuation best, then at a written space, then between
Whisper's words, inside a word only when the word is longer than a line, and never against the
kinsoku rules (`cpwhisperx.unspaced`).

Once speakers are known, a cue holds one speaker, or two in a quick exchange of short lines: one
line each, each opened by the dialogue dash of the language.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import regex

from cpwhisperx.scripts import PHRASE_SPACED_LANGUAGES, space_needed, written_without_spaces
from cpwhisperx.transcript import Segment, Transcript
from cpwhisperx.unspaced import GEMINATION_MARKS, break_forbidden, clusters, continues, phrase_starts, units

SENTENCE_END = tuple(".?!।॥…。？！")
CLAUSE_END = tuple(",;:—–、，；：")
LYRICS_MARK = "♪"
# What a cue boundary or a line break against the kinsoku rules costs: more than any other choice.
_KINSOKU_BREAK = 60.0
# Closing quotes and brackets after a sentence end ("。」"): the sentence still ends there.
_CLOSERS = "\"'”’」』）)]}】》〉»"
# Words a line may begin with (a break before them reads naturally).
BREAK_BEFORE: dict[str, frozenset[str]] = {
    "en": frozenset("and but or nor so yet because although though while whereas if unless until when whenever where "
                    "wherever which who whom whose that than as to of in on at for with from by about into onto over "
                    "under after before between through during without within against".split()),
    "hi": frozenset("और लेकिन पर परंतु किंतु मगर कि क्योंकि तो या अगर यदि जब जो जिसे जिसमें ताकि इसलिए फिर".split()),
    "es": frozenset("y o pero porque que cuando donde si de en con para por sin sobre entre hasta desde".split()),
    "pt": frozenset("e ou mas porque que quando onde se de em com para por sem sobre entre até desde".split()),
}
# Words that bind to what follows: a line should not end with them.
BIND_FORWARD: dict[str, frozenset[str]] = {
    "en": frozenset("a an the my your his her its our their this that these those to of in on at for with from by".split()),
    "es": frozenset("el la los las un una de en con para por".split()),
    "pt": frozenset("o a os as um uma de em com para por".split()),
}
# Words a line may end with: Hindi postpositions follow their noun, so the break goes after them.
BREAK_AFTER: dict[str, frozenset[str]] = {
    "hi": frozenset("का की के को में से पर ने तक लिए साथ बाद है हैं था थी थे".split()),
}
# What opens the first and the second line of a cue shared by two speakers. English, German and
# Spanish: a hyphen without a space on both lines (Netflix Timed Text Style Guides, "Dual Speakers":
# "-Are you coming?" / "-In a minute."); French: a hyphen and a space on both lines (Netflix French
# guide: "- Mais j'allais te dire..."); Dutch marks the second speaker alone, mostly without a space
# (Auteursbond, "Tweede spreker": a dash before the first speaker is the mark of a foreign template).
DIALOGUE_DASHES: dict[str, tuple[str, str]] = {
    "en": ("-", "-"), "de": ("-", "-"), "es": ("-", "-"), "fr": ("- ", "- "), "nl": ("", "-"),
}
DEFAULT_DIALOGUE_DASHES = ("-", "-")
# What a cue shared by two speakers costs beyond one of a single speaker: less than a cue more,
# so a quick exchange of short lines shares one.
_DUAL_SPEAKER_COST = 1.0


def dialogue_dashes(language: str | None) -> tuple[str, str]:
    """The dashes opening the first and second line of a two-speaker cue in `language`."""
    return DIALOGUE_DASHES.get((language or "").split("-")[0].lower(), DEFAULT_DIALOGUE_DASHES)


@dataclass(frozen=True)
class LayoutRules:
    max_line_length: int = 42
    max_lines: int = 2
    min_duration: float = 5 / 6
    max_duration: float = 7.0
    max_cps: float = 17.0
    min_gap: float = 0.083
    pause_split: float = 1.0
    max_lead: float = 0.5
    max_delay: float = 0.5
    # Two speakers share a cue only in a quick exchange: the second starts at most this long after the first ends.
    dual_speaker_max_gap: float = 0.5


@dataclass(frozen=True)
class Token:
    text: str  # with its leading space, as the ASR wrote it
    start: float
    end: float
    lyrics: bool = False
    spaced: bool = True  # in a language that puts spaces between words
    inside_word: bool = False  # a piece of a word too long for a line, continuing the token before it
    speaker: str | None = None


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]
    lyrics: bool = False
    speech_start: float = 0.0
    speech_end: float = 0.0
    notes: list[str] = field(default_factory=list)
    separator: str = " "  # between lines read as one text; none in languages written without spaces
    speakers: tuple[str, ...] = ()  # who speaks in the cue, in order; two only in the dialogue-dash form

    @property
    def text(self) -> str:
        return self.separator.join(self.lines)

    @property
    def display_lines(self) -> list[str]:
        if not self.lyrics:
            return self.lines
        lines = list(self.lines)
        lines[0] = f"{LYRICS_MARK} {lines[0]}"
        lines[-1] = f"{lines[-1]} {LYRICS_MARK}"
        return lines


@lru_cache(maxsize=65536)
def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def join(tokens: list[Token] | tuple[Token, ...]) -> str:
    return "".join(t.text for t in tokens).strip()


def _bare(word: str) -> str:
    return word.strip().strip("\"'“”‘’()[]").lower()


def _share_span(parts: list[str], start: float, end: float) -> list[tuple[str, float, float]]:
    """Pieces of text given consecutive shares of a time span, by character count."""
    total = sum(graphemes(p.strip()) for p in parts) or 1
    shared: list[tuple[str, float, float]] = []
    position = start
    for part in parts:
        length = (end - start) * graphemes(part.strip()) / total
        shared.append((part, position, position + length))
        position += length
    return shared


def tokens_from(transcript: Transcript) -> list[Token]:
    """Words in time order; a segment without word times shares its span by character count."""
    tokens: list[Token] = []
    for seg in sorted(transcript.segments, key=lambda s: s.start):
        lyrics = "lyrics" in seg.flags
        language = seg.language or transcript.language
        if written_without_spaces(language):
            tokens += _unspaced_tokens(seg, language, tokens[-1] if tokens else None, lyrics)
        elif seg.words:
            tokens += _spaced_tokens(seg, lyrics)
        else:
            shared = _share_span([" " + part for part in seg.text.split()], seg.start, seg.end)
            tokens += [Token(text, start, end, lyrics, speaker=seg.speaker) for text, start, end in shared]
    return tokens


def _spaced_tokens(seg: Segment, lyrics: bool) -> list[Token]:
    """One token per written word: inside a segment, a word without its leading space continues
    the one before ("ill" "-disposed", as Whisper splits it) and no line or cue may break between
    them; a segment's first word never runs into the segment before."""
    tokens: list[Token] = []
    for word in seg.words:
        if not word.text.strip():
            continue
        if tokens and not word.text[:1].isspace():
            tokens[-1] = replace(tokens[-1], text=tokens[-1].text + word.text, end=word.end)
        else:
            tokens.append(Token(word.text if word.text[:1].isspace() else " " + word.text, word.start, word.end, lyrics,
                                speaker=word.speaker or seg.speaker))
    return tokens


def _unspaced_tokens(seg: Segment, language: str, previous: Token | None, lyrics: bool) -> list[Token]:
    """A segment in a language written without spaces, as Whisper wrote it: its words (a token that
    begins inside the last character of the one before joins it), or without word times the places a
    line may break (between characters in Chinese and Japanese, at written spaces in Thai)."""
    if seg.words:
        timed = [(w.text, w.start, w.end, w.speaker or seg.speaker) for w in seg.words if w.text.strip()]
    else:
        shared = _share_span(units(seg.text.strip(), between_characters=language not in PHRASE_SPACED_LANGUAGES), seg.start, seg.end)
        timed = [(text, start, end, seg.speaker) for text, start, end in shared]
    tokens: list[Token] = []
    for text, start, end, speaker in timed:
        if tokens and continues(tokens[-1].text, text):
            tokens[-1] = replace(tokens[-1], text=tokens[-1].text + text, end=end)
        else:
            tokens.append(Token(text, start, end, lyrics, spaced=False, speaker=speaker))
    # Segments meet without a space in Chinese and Japanese, with one where Thai ends a phrase.
    if tokens and previous is not None and not tokens[0].text[:1].isspace() and (
            previous.spaced or language in PHRASE_SPACED_LANGUAGES or space_needed(previous.text, tokens[0].text)):
        tokens[0] = replace(tokens[0], text=" " + tokens[0].text)
    return tokens


def _split_long_words(tokens: list[Token], rules: LayoutRules) -> list[Token]:
    """Words of a language written without spaces that are longer than a line, cut where a line may
    break between characters, each piece with its share of the word's time. A piece still longer
    than a line (a long run of Latin letters) is cut between any two characters: the last resort."""
    result: list[Token] = []
    for token in tokens:
        width = rules.max_line_length - (2 if token.lyrics else 0)
        if token.spaced or graphemes(token.text.strip()) <= width:
            result.append(token)
            continue
        pieces = [cut for unit in units(token.text, between_characters=True)
                  for cut in ([unit] if graphemes(unit.strip()) <= width else _characters(unit))]
        for number, (text, start, end) in enumerate(_share_span(pieces, token.start, token.end)):
            result.append(replace(token, text=text, start=start, end=end, inside_word=token.inside_word or number > 0))
    return result


def _characters(text: str) -> list[str]:
    body = text.lstrip()
    found = clusters(body)
    if found:
        found[0] = text[: len(text) - len(body)] + found[0]
    return found


# --- line breaking --------------------------------------------------------------------------

def _line_break_penalty(left: Token, right: Token, language: str) -> float:
    """How badly a line break between two words reads (0 best)."""
    if not (left.spaced and right.spaced):
        return _unspaced_break_penalty(left, right)
    end = left.text.rstrip()
    if end.endswith(SENTENCE_END):
        return 0.0
    if end.endswith(CLAUSE_END):
        return 0.5
    if _bare(left.text) in BIND_FORWARD.get(language, frozenset()):
        return 5.0
    if _bare(right.text) in BREAK_BEFORE.get(language, frozenset()):
        return 1.0
    if _bare(left.text) in BREAK_AFTER.get(language, frozenset()):
        return 1.0
    return 3.0


def _unspaced_break_penalty(left: Token, right: Token) -> float:
    """How badly a line break reads in text written without spaces (0 best)."""
    if break_forbidden(left.text, right.text):
        return 100.0  # chosen only where no other break lets the words fit
    end = left.text.rstrip().rstrip(_CLOSERS)
    if end.endswith(SENTENCE_END):
        return 0.0
    if end.endswith(CLAUSE_END):
        return 0.5
    if right.inside_word or left.text.endswith(tuple(GEMINATION_MARKS)):
        return 8.0
    if right.text[:1].isspace():
        return 1.0
    if phrase_starts(left.text, right.text):
        return 2.0
    return 3.0


def break_lines(tokens: list[Token], rules: LayoutRules, language: str, extra: int = 0) -> list[str] | None:
    """The best split into at most max_lines lines that fit, or None when the words do not fit.

    `extra` is the width of decorations (the ♪ of lyrics) on the first and last line. A single
    word longer than a line gets a line of its own: the only excuse for a long line.
    """
    ends = _line_ends(tokens, rules, language, extra)
    if ends is None:
        return None
    cuts = [0, *ends]
    return [join(tokens[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]


def _unspaced_line_cost(left: Token, right: Token) -> float:
    """What a line break between two tokens costs the cue that holds it, in text written without
    spaces: a cue may end at a better place instead (0 in languages written with spaces)."""
    if left.spaced and right.spaced:
        return 0.0
    return _KINSOKU_BREAK if break_forbidden(left.text, right.text) else _unspaced_break_penalty(left, right)


def _line_ends(tokens: list[Token], rules: LayoutRules, language: str, extra: int = 0,
               measured: Callable[[int, int], int] | None = None) -> list[int] | None:
    """Where the lines of the best split end (token indices), or None when the words do not fit.

    `measured(i, j)`, when given, is the length of the line of tokens[i:j] (shared between calls)."""
    n = len(tokens)
    width = rules.max_line_length

    def line_len(i: int, j: int) -> int:
        return measured(i, j) + extra if measured else graphemes(join(tokens[i:j])) + extra

    if line_len(0, n) <= width:
        return [n]
    best: dict[tuple[int, int], tuple[float, list[int]] | None] = {}

    def solve(i: int, lines_left: int) -> tuple[float, list[int]] | None:
        if (i, lines_left) in best:
            return best[(i, lines_left)]
        result: tuple[float, list[int]] | None = None
        if line_len(i, n) <= width or (n - i == 1):
            result = (0.0, [n])
        if lines_left > 1:
            for j in range(i + 1, n):
                length = line_len(i, j)
                if length > width and j - i > 1:
                    break
                rest = solve(j, lines_left - 1)
                if rest is None:
                    continue
                right = line_len(j, rest[1][0])
                cost = rest[0] + _line_break_penalty(tokens[j - 1], tokens[j], language) * 6 + abs(length - right) * 0.5
                if result is None or cost < result[0]:
                    result = (cost, [j, *rest[1]])
        best[(i, lines_left)] = result
        return result

    found = solve(0, rules.max_lines)
    return None if found is None else found[1]


# --- cue boundaries -------------------------------------------------------------------------

def _cue_break_penalty(tokens: list[Token], j: int, language: str) -> float:
    """How badly a cue ends after tokens[j - 1]."""
    if j >= len(tokens):
        return 0.0
    left, right = tokens[j - 1], tokens[j]
    if left.speaker != right.speaker:
        return 0.0
    if not (left.spaced and right.spaced):
        if break_forbidden(left.text, right.text):
            return _KINSOKU_BREAK
        if right.inside_word:
            return 12.0
    end = left.text.rstrip() if left.spaced else left.text.rstrip().rstrip(_CLOSERS)
    pause = right.start - left.end
    if end.endswith(SENTENCE_END):
        return 0.0
    if pause >= 0.5:
        return 0.5
    if end.endswith(CLAUSE_END):
        return 1.5
    if not (left.spaced and right.spaced) and right.text[:1].isspace():
        return 2.0  # a space written in Thai ends a phrase
    if _bare(tokens[j].text) in BREAK_BEFORE.get(language, frozenset()) or _bare(tokens[j - 1].text) in BREAK_AFTER.get(language, frozenset()):
        return 3.0
    if pause >= 0.25:
        return 3.0
    return 8.0


def _blocks(tokens: list[Token], rules: LayoutRules) -> list[list[Token]]:
    """Runs of words no cue may cross: long pauses and changes between lyrics and speech."""
    blocks: list[list[Token]] = []
    for token in tokens:
        if blocks and token.start - blocks[-1][-1].end < rules.pause_split and token.lyrics == blocks[-1][-1].lyrics:
            blocks[-1].append(token)
        else:
            blocks.append([token])
    return blocks


def _group(block: list[Token], next_start: float, rules: LayoutRules, language: str) -> list[list[Token]]:
    """The block's cues, by dynamic programming over the places a cue may end. A cue never holds a
    change of speaker, except one change in the dialogue-dash form (`_dual_lines`): two whole turns,
    and only where the cue keeps the reading speed."""
    n = len(block)
    extra = 2 if block[0].lyrics else 0
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * n
    changes = [k for k in range(1, n) if block[k].speaker != block[k - 1].speaker]
    separator = "" if written_without_spaces(language) else " "

    @lru_cache(maxsize=None)
    def measured(a: int, b: int) -> int:
        return graphemes(join(block[a:b]))

    for j in range(1, n + 1):
        following = block[j].start if j < n else next_start
        changes_before_j = bisect_left(changes, j)
        for i in range(j - 1, -1, -1):
            span = block[j - 1].end - block[i].start
            if j - i > 1 and span > rules.max_duration:
                break
            text_length = measured(i, j)
            if j - i > 1 and text_length + 2 * extra > rules.max_line_length * rules.max_lines:
                break
            inner_changes = changes_before_j - bisect_right(changes, i)
            if inner_changes > 1:
                break
            free_before = min(rules.max_lead, max(0.0, block[i].start - (block[i - 1].end if i else block[0].start - rules.max_lead)))
            available = min(rules.max_duration, following - rules.min_gap - block[i].start + free_before)
            inner_sentences = sum(1 for t in block[i:j - 1] if t.text.rstrip().endswith(SENTENCE_END))
            if inner_changes == 1:
                change = changes[changes_before_j - 1]
                # each line a whole turn: a dash never opens the end of what a speaker began in the cue before
                whole_turns = ((i == 0 or block[i - 1].speaker != block[i].speaker)
                               and (j == n or block[j].speaker != block[j - 1].speaker))
                dual = _dual_lines(block[i:change], block[change:j], rules, language) if whole_turns and not extra else None
                if dual is None or max(rules.min_duration, graphemes(separator.join(dual)) / rules.max_cps) > available + 1e-9:
                    continue
                at_change = block[change - 1].text.rstrip().endswith(SENTENCE_END)
                cost = best[i][0] + 4.0 + _DUAL_SPEAKER_COST + _cue_break_penalty(block, j, language) + 1.0 * (inner_sentences - at_change)
            else:
                ends = _line_ends(block[i:j], rules, language, extra, lambda a, b, i=i: measured(i + a, i + b))
                if ends is None:
                    continue
                line_cost = sum(_unspaced_line_cost(block[i + end - 1], block[i + end]) for end in ends[:-1])
                needed = max(rules.min_duration, (text_length + 2 * extra) / rules.max_cps)
                deficit = max(0.0, needed - available)
                cost = (best[i][0] + 4.0 + _cue_break_penalty(block, j, language) + 12.0 * deficit + 1.0 * inner_sentences
                        + line_cost)
            if cost < best[j][0]:
                best[j] = (cost, i)
    cuts = []
    j = n
    while j > 0:
        i = best[j][1]
        cuts.append((i, j))
        j = i
    return [block[i:j] for i, j in reversed(cuts)]


def layout(transcript: Transcript, rules: LayoutRules) -> list[Cue]:
    """Cues that keep every limit of `rules`, in time order, without overlaps."""
    language = transcript.language
    tokens = _split_long_words(tokens_from(transcript), rules)
    groups: list[list[Token]] = []
    blocks = _blocks(tokens, rules)
    for number, block in enumerate(blocks):
        next_start = blocks[number + 1][0].start if number + 1 < len(blocks) else block[-1].end + rules.max_duration
        groups += _group(block, next_start, rules, language)
    separator = "" if written_without_spaces(language) else " "
    cues = []
    for group in groups:
        extra = 2 if group[0].lyrics else 0
        parts = _speaker_parts(group)
        dual = _dual_lines(parts[0], parts[1], rules, language) if len(parts) == 2 else None
        lines = dual or break_lines(group, rules, language, extra) or [join(group)]
        speakers = tuple(speaker for speaker in (part[0].speaker for part in parts) if speaker is not None)
        cues.append(Cue(group[0].start, group[-1].end, lines, group[0].lyrics, group[0].start, group[-1].end, separator=separator,
                        speakers=speakers))
    return retime(cues, rules)


def _speaker_parts(tokens: list[Token]) -> list[list[Token]]:
    """The runs of tokens of one speaker each."""
    parts: list[list[Token]] = []
    for token in tokens:
        if parts and parts[-1][-1].speaker == token.speaker:
            parts[-1].append(token)
        else:
            parts.append([token])
    return parts


def _dual_lines(first: list[Token] | tuple[Token, ...], second: list[Token] | tuple[Token, ...], rules: LayoutRules,
                language: str) -> list[str] | None:
    """The two lines of a cue shared by two speakers, each opened by the language's dialogue dash; None
    unless it is a quick exchange (the second speaker answering within `dual_speaker_max_gap`) of
    parts that fit one line each."""
    if rules.max_lines < 2 or second[0].start - first[-1].end > rules.dual_speaker_max_gap:
        return None
    lines = [dash + join(part) for dash, part in zip(dialogue_dashes(language), (first, second), strict=True)]
    return lines if all(graphemes(line) <= rules.max_line_length for line in lines) else None


def needed_duration(cue: Cue, rules: LayoutRules) -> float:
    chars = graphemes(cue.separator.join(cue.display_lines))
    return min(rules.max_duration, max(rules.min_duration, chars / rules.max_cps))


def retime(cues: list[Cue], rules: LayoutRules) -> list[Cue]:
    """Give each cue its reading time: into free time after it, then before it, then later, but
    never so late that the next cue would start more than `max_delay` after its speech: a cue in
    step with the voice at a higher reading speed beats one that drifts behind it.

    Times are whole centiseconds (ASS has no finer unit), rounded up so that every limit still
    holds as written in any of the formats.
    """
    gap, lead, longest, delay = _ms(rules.min_gap), _ms(rules.max_lead), int(rules.max_duration * 1000), _ms(rules.max_delay)
    shortest = _ms(rules.min_duration)
    previous_end = -gap
    for number, cue in enumerate(cues):
        needed = _ms(needed_duration(cue, rules))
        speech_start, speech_end = _ms(cue.speech_start), _ms(cue.speech_end)
        next_start = _ms(cues[number + 1].speech_start) if number + 1 < len(cues) else 1 << 62
        start = max(speech_start, previous_end + gap, 0)
        if next_start - gap - start < needed:
            earliest = max(previous_end + gap, speech_start - lead, speech_end - longest, 0)
            start = max(earliest, min(start, next_start - gap - needed))
        latest_end = max(next_start + delay - gap, start + shortest)
        end = min(max(speech_end, start + needed), start + longest, latest_end)
        if start > speech_start + 50:
            cue.notes.append(f"starts {(start - speech_start) / 1000:.2f} s after its speech")
        cue.start, cue.end = start / 1000, end / 1000
        previous_end = end
    return cues


def _ms(seconds: float) -> int:
    """Milliseconds, rounded up to a whole centisecond."""
    return math.ceil(round(seconds * 100, 6)) * 10
