"""Which Whisper tokens write letters of a given script, so decoding can be kept out of it.

Whisper's vocabulary is byte-level BPE: a token may hold a whole word, one character or only the
first byte of a character. A token is taken to write a script when its complete characters include
a letter of that script, or when it ends in the opening bytes of a character of that script
(Arabic letters start with bytes D8–DB; Indic scripts with E0 and a block byte).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from cpwhisperx.scripts import script_of

# The danda and double danda sit in the Devanagari block but end sentences in Bengali, Gurmukhi,
# Odia and others too.
SHARED_PUNCTUATION = frozenset("\u0964\u0965")
# UTF-8 lead bytes of two-byte characters, by script.
_TWO_BYTE_LEADS: dict[str, range] = {
    "Latin": range(0xC3, 0xCA), "Greek": range(0xCE, 0xD0), "Cyrillic": range(0xD0, 0xD4),
    "Hebrew": range(0xD6, 0xD8), "Arabic": range(0xD8, 0xDE),
}
# Second byte after E0 of three-byte characters in U+0800–U+0FFF, by script.
_E0_BLOCKS: dict[str, tuple[int, ...]] = {
    "Arabic": (0xA2, 0xA3), "Devanagari": (0xA4, 0xA5), "Bengali": (0xA6, 0xA7), "Gurmukhi": (0xA8, 0xA9),
    "Gujarati": (0xAA, 0xAB), "Oriya": (0xAC, 0xAD), "Tamil": (0xAE, 0xAF), "Telugu": (0xB0, 0xB1),
    "Kannada": (0xB2, 0xB3), "Malayalam": (0xB4, 0xB5), "Sinhala": (0xB6, 0xB7), "Thai": (0xB8, 0xB9),
}


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's byte → printable character table used by Whisper's tokenizer."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    characters = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            characters.append(256 + extra)
            extra += 1
    return {chr(char): byte for byte, char in zip(printable, characters, strict=True)}


def token_bytes(piece: str) -> bytes:
    decoder = _byte_decoder()
    return bytes(decoder[ch] for ch in piece if ch in decoder)


def scripts_written(raw: bytes) -> set[str]:
    """Scripts the byte string writes in (letters, and the marks, digits and punctuation of a
    script's own block, such as the Urdu full stop), counting a trailing partial character."""
    found: set[str] = set()
    for ch in raw.decode("utf-8", errors="ignore"):
        script = None if ch in SHARED_PUNCTUATION else script_of(ch)
        if script or unicodedata.category(ch).startswith("L"):
            found.add(script or "Other")
    tail = raw[-2:]
    for script, leads in _TWO_BYTE_LEADS.items():
        if raw and raw[-1] in leads:
            found.add(script)
    if len(tail) == 2 and tail[0] == 0xE0:
        found.update(script for script, blocks in _E0_BLOCKS.items() if tail[1] in blocks)
    return found


def tokens_outside(pieces: list[str], allowed: set[str]) -> list[int]:
    """Ids of the tokens that write a letter of a script not in `allowed`."""
    return [token_id for token_id, piece in enumerate(pieces) if scripts_written(token_bytes(piece)) - allowed]
