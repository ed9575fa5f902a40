"""Where a line may break in text written without spaces between words (Chinese, Japanese, Thai, …).

Lines break between grapheme clusters, never inside one, and follow the line-start and line-end
rules of Chinese and Japanese typography (kinsoku): a line does not begin with closing punctuation,
a small kana or a prolonged sound mark, and does not end with an opening bracket.
"""

from __future__ import annotations

import regex

from cpwhisperx.scripts import UNSPACED_SCRIPTS, script_of

# Characters a line must not begin with: closing brackets and quotes, punctuation that follows what
# it ends, small kana, the prolonged sound mark and iteration marks (they belong to the syllable before).
NO_LINE_START = frozenset(
    ")]}）］｝〕〉》」』】〙〗〟’”｠»"
    "、。，．,.:;：；!?！？‼⁇⁈⁉・…‥"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿｧｨｩｪｫｯｬｭｮ"
    "ー々〻ゝゞヽヾ"
)
# Characters a line must not end with: opening brackets and quotes.
NO_LINE_END = frozenset("([{（［｛〔〈《「『【〘〖〝‘“｟«")
# Kana that double the consonant after them (the small tsu of 楽しかった): kinsoku allows a break after
# them, but it cuts a syllable in two.
GEMINATION_MARKS = frozenset("っッ")
# Signs that join the next letter to the one before (Khmer coeng, Myanmar virama, zero-width joiner),
# though the grapheme rules end a cluster after them.
_JOINERS = ("\u17d2", "\u1039", "\u200d")
_CLUSTER = regex.compile(r"\X")


def clusters(text: str) -> list[str]:
    """The text's user-perceived characters, a joining sign kept with the letter after it."""
    found: list[str] = []
    for cluster in _CLUSTER.findall(text):
        if found and found[-1].endswith(_JOINERS):
            found[-1] += cluster
        else:
            found.append(cluster)
    return found


def continues(left: str, right: str) -> bool:
    """Whether `right` begins inside the last character of `left` (a vowel sign or tone mark that a
    Whisper token boundary cut from its consonant): no break may fall between them."""
    if not left or not right:
        return False
    return left.endswith(_JOINERS) or len(clusters(left[-1] + right[0])) == 1


def break_forbidden(left: str, right: str) -> bool:
    """A line ending with `left` and the next beginning with `right` would break kinsoku."""
    head, tail = right.lstrip()[:1], left.rstrip()[-1:]
    return head in NO_LINE_START or tail in NO_LINE_END


def phrase_starts(left: str, right: str) -> bool:
    """Whether `right` likely begins a Japanese phrase: a kanji or katakana word after hiragana (the
    particle or verb ending that closes the phrase before), as in とても|楽しかった or は|コーヒー.
    Kanji followed by hiragana is the reverse (楽し, 今日は): a word and its ending or particle."""
    tail, head = left.rstrip()[-1:], right.lstrip()[:1]
    return bool(tail and head) and script_of(tail) == "Hiragana" and script_of(head) in ("Han", "Katakana")


def _spaced_alnum(cluster: str) -> bool:
    return cluster[:1].isalnum() and script_of(cluster[0]) not in UNSPACED_SCRIPTS


def units(text: str, between_characters: bool) -> list[str]:
    """The text cut where a line may break; the pieces joined give the text back.

    With `between_characters` (Chinese and Japanese, or a word too long for a line) a break may fall
    between any two characters, except where kinsoku forbids it or inside a run of Latin letters or
    digits; otherwise (Thai, Lao, Khmer, Burmese) only at the spaces written in the text.
    """
    pieces = regex.findall(r"\s*\S+|\s+$", text)
    if not between_characters:
        return pieces
    found: list[str] = []
    for piece in pieces:
        body = piece.lstrip()
        lead = piece[: len(piece) - len(body)]
        start = len(found)
        for cluster in clusters(body):
            if len(found) > start and (cluster[0] in NO_LINE_START or found[-1][-1] in NO_LINE_END
                                       or (_spaced_alnum(found[-1][-1]) and _spaced_alnum(cluster))):
                found[-1] += cluster
            else:
                found.append(cluster)
        if len(found) > start:
            found[start] = lead + found[start]
        elif lead:
            found.append(lead)
    return found
