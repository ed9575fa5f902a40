"""Glossaries: character names and cultural terms kept right through a whole film.

A glossary file is TSV or CSV with a header: `term`, `type` (name, kinship, cultural, technical),
`aliases` (other spellings, misspellings and other scripts, separated by `|`), then one column per
target language code holding the rendering there (empty: keep the term as it is).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cpwhisperx.errors import InvalidInput
from cpwhisperx.languages import canonical_code, listed
from cpwhisperx.transcript import Segment, Transcript, Word

TYPES = ("name", "kinship", "cultural", "technical")
_COLUMNS = ("term", "type", "aliases")  # every other column named by a language code holds renderings
PLACEHOLDER = "GLS{}"
_PLACEHOLDER_RE = re.compile(r"GLS(\d+)")
_EDGE_PUNCT = "\"'“”‘’()[]{}.,;:!?।॥…-—"


@dataclass(frozen=True)
class Term:
    term: str
    type: str = "name"
    aliases: tuple[str, ...] = ()
    renderings: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def rendering(self, language: str) -> str:
        return self.renderings.get(language) or self.term


@dataclass
class Glossary:
    terms: list[Term] = field(default_factory=list)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def to_json(self) -> list[dict[str, object]]:
        return [asdict(t) | {"aliases": list(t.aliases)} for t in self.terms]

    @classmethod
    def from_json(cls, data: list[dict[str, object]]) -> Glossary:
        return cls([Term(str(d["term"]), str(d["type"]), tuple(d.get("aliases", ())), dict(d.get("renderings", {})),  # type: ignore[arg-type]
                         str(d.get("source", ""))) for d in data])

    def names(self) -> list[str]:
        return [t.term for t in self.terms if t.type == "name"]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip(_EDGE_PUNCT + " ").casefold()


def load_file(path: Path) -> Glossary:
    if not path.is_file():
        raise InvalidInput(f"glossary file '{path}' does not exist", hint="fix GLOSSARY_PATHS")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab", ".txt") else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    if not rows:
        return Glossary()
    header = {h.strip().lower(): h for h in rows[0]}
    if "term" not in header:
        raise InvalidInput(f"glossary '{path.name}' has no 'term' column (columns: {', '.join(rows[0])})",
                           hint="the header needs term, type, aliases and one column per target language")
    terms = []
    for number, row in enumerate(rows, start=2):
        term = (row.get(header["term"]) or "").strip()
        if not term:
            continue
        kind = (row.get(header.get("type", ""), "") or "name").strip().lower()
        if kind not in TYPES:
            raise InvalidInput(f"glossary '{path.name}' line {number}: type '{kind}' is not one of {', '.join(TYPES)}")
        aliases = tuple(a.strip() for a in re.split(r"[|;]", row.get(header.get("aliases", ""), "") or "") if a.strip())
        renderings = {canonical_code(key) or key: (row.get(original) or "").strip() for key, original in header.items()
                      if key not in _COLUMNS and listed(key) and (row.get(original) or "").strip()}
        terms.append(Term(term, kind, aliases, renderings, path.name))
    return Glossary(terms)


def merge(*glossaries: Glossary) -> Glossary:
    """Later glossaries fill in what earlier ones lack; the first definition of a term wins."""
    merged: dict[str, Term] = {}
    for glossary in glossaries:
        for term in glossary.terms:
            key = _norm(term.term)
            if key in merged:
                old = merged[key]
                merged[key] = Term(old.term, old.type, tuple(dict.fromkeys(old.aliases + term.aliases)),
                                   {**term.renderings, **old.renderings}, old.source)
            else:
                merged[key] = term
    return Glossary(list(merged.values()))


def asr_prompt(glossary: Glossary, max_terms: int) -> str:
    """Names and terms for Whisper's hotwords, bounded so the prompt stays short."""
    chosen = [t.term for t in glossary.terms if t.type == "name"][:max_terms]
    chosen += [t.term for t in glossary.terms if t.type != "name"][: max(0, max_terms - len(chosen))]
    return ", ".join(chosen)


# --- correcting aliases in ASR text ---------------------------------------------------------

@dataclass(frozen=True)
class Correction:
    segment: int
    found: str
    term: str
    kind: str  # exact | close
    start: float


def _alias_index(glossary: Glossary) -> dict[tuple[str, ...], Term]:
    index: dict[tuple[str, ...], Term] = {}
    for term in glossary.terms:
        for alias in term.aliases:
            index[tuple(_norm(w) for w in alias.split())] = term
    return index


def _close_term(written: str, glossary: Glossary) -> Term | None:
    """A single-word name the ASR misspelt; only capitalised (or non-Latin) words, to spare ordinary words."""
    word = _norm(written)
    bare = written.strip(_EDGE_PUNCT + " ")
    if len(word) < 4 or not bare or (bare[0].isascii() and not bare[0].isupper()):
        return None
    names = {_norm(t.term): t for t in glossary.terms if t.type == "name" and " " not in t.term}
    match = difflib.get_close_matches(word, list(names), n=1, cutoff=0.72)
    return names[match[0]] if match and match[0] != word else None


def correct_transcript(transcript: Transcript, glossary: Glossary) -> tuple[Transcript, list[Correction]]:
    """Aliases and close misspellings of names replaced by the canonical term, word times kept."""
    if not glossary.terms:
        return transcript, []
    index = _alias_index(glossary)
    longest = max((len(k) for k in index), default=1)
    corrections: list[Correction] = []
    segments = []
    for seg in transcript.segments:
        words = seg.words or [Word(start=seg.start, end=seg.end, text=" " + w) for w in seg.text.split()]
        out: list[Word] = []
        i = 0
        while i < len(words):
            replaced = False
            for size in range(min(longest, len(words) - i), 0, -1):
                key = tuple(_norm(w.text) for w in words[i:i + size])
                term = index.get(key)
                kind = "exact"
                if term is None and size == 1:
                    term, kind = _close_term(words[i].text, glossary), "close"
                if term is None:
                    continue
                first, last = words[i], words[i + size - 1]
                lead = first.text[: len(first.text) - len(first.text.lstrip())]
                tail = last.text.rstrip()[len(last.text.rstrip().rstrip(_EDGE_PUNCT)):]
                found = "".join(w.text for w in words[i:i + size]).strip()
                out.append(Word(start=first.start, end=last.end, text=f"{lead}{term.term}{tail}",
                                probability=min(w.probability for w in words[i:i + size])))
                corrections.append(Correction(seg.id, found, term.term, kind, first.start))
                i += size
                replaced = True
                break
            if not replaced:
                out.append(words[i])
                i += 1
        text = "".join(w.text for w in out).strip()
        segments.append(seg.model_copy(update={"words": out if seg.words else [], "text": text}))
    return transcript.model_copy(update={"segments": segments}), corrections


# --- protecting terms through translation ---------------------------------------------------

def _term_pattern(term: Term) -> re.Pattern[str]:
    """Where a term stands in a text: a whole word or phrase; a name only as written (capitalised),
    so the name "Will" leaves the verb "will" alone."""
    flags = 0 if term.type == "name" else re.IGNORECASE
    return re.compile(r"(?<![\w])" + re.escape(term.term) + r"(?![\w])", flags)


def protect(text: str, glossary: Glossary, target: str) -> tuple[str, list[str]]:
    """Glossary terms replaced by placeholders the engines pass through; the renderings to restore."""
    renderings: list[str] = []
    for term in sorted(glossary.terms, key=lambda t: -len(t.term)):
        pattern = _term_pattern(term)
        if pattern.search(text):
            def swap(_: re.Match[str], term: Term = term) -> str:
                renderings.append(term.rendering(target))
                return PLACEHOLDER.format(len(renderings) - 1)

            text = pattern.sub(swap, text)
    return text, renderings


def restore(text: str, renderings: list[str]) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: renderings[int(m.group(1))] if int(m.group(1)) < len(renderings) else m.group(0), text)


def expected_renderings(text: str, glossary: Glossary, target: str) -> list[str]:
    """What the translation of `text` must contain, one entry per glossary term occurrence, found
    exactly as `protect` finds them (longest term first, no overlaps)."""
    return protect(text, glossary, target)[1]


def segments_text(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments)
