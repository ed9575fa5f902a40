"""Text normalisation for scoring a transcript against a reference (character or word error rate).

Hindi follows the conventions of the hindi-dev references: NFC, punctuation (danda included)
removed, hyphens deleted (compounds run together), nukta folded, whitespace collapsed.
"""

from __future__ import annotations

import re
import unicodedata

NUKTA = "\u093c"


def normalise_hindi(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace(NUKTA, "").replace("-", "")
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()
