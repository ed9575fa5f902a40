"""Glossaries: character names and cultural terms kept right through a whole film.

A glossary file is TSV or CSV with a header: `term`, `type` (name, kinship, cultural, technical),
`aliases` (other spellings, misspellings and other scripts, separated by `|`), then one column per
target language code holding the rendering there (empty: keep the term as it is).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cpwhisperx.errors import InvalidInput
from cpwhisperx.languages import canonical_code, listed
from cpwhisperx.scripts import letter_scripts
from cpwhisperx.transcript import Transcript, Word

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


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip(_EDGE_PUNCT + " ").casefold()


def _readable_text_file(path: Path) -> str:
    if not path.exists():
        raise InvalidInput(f"glossary file '{path}' does not exist", hint="fix GLOSSARY_PATHS")
    if not path.is_file():
        raise InvalidInput(f"glossary '{path}' is not a regular file", hint="GLOSSARY_PATHS names TSV or CSV files")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"glossary '{path.name}' is not UTF-8 text", hint="save the glossary as UTF-8 TSV or CSV") from None


def load_file(path: Path) -> Glossary:
    """Messages name the file, a line number and the columns that are a header's; they never quote
    the file, which may be anything a path points to."""
    text = _readable_text_file(path)
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab", ".txt") else ","
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        return Glossary()
    header = {h.strip().lower(): h for h in rows[0] if h is not None}
    if "term" not in header:
        known = [h for h in header if h in _COLUMNS or listed(h)]
        raise InvalidInput(f"glossary '{path.name}' has no header line with a 'term' column"
                           + (f" (its header has {', '.join(known)})" if known else ""),
                           hint="the first line names the columns: term, type, aliases and one per target language")
    terms = []
    for number, row in enumerate(rows, start=2):
        term = (row.get(header["term"]) or "").strip()
        if not term:
            continue
        kind = (row.get(header.get("type", ""), "") or "name").strip().lower()
        if kind not in TYPES:
            raise InvalidInput(f"glossary '{path.name}' line {number}: the type is not one of {', '.join(TYPES)}")
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

# A word at least this common in the language (wordfreq's Zipf scale: 2 is once in 10 million
# words) is a word of the language, or another name, and never taken for a misspelt name.
COMMON_WORD_ZIPF = 2.0
# Shorter names (Jai, Raj, Dev) sit too close to ordinary words: only their aliases are corrected.
MIN_FUZZY_LETTERS = 4


@dataclass(frozen=True)
class Correction:
    segment: int
    start: float
    found: str
    term: str
    kind: str  # alias | spelling
    evidence: dict[str, object]


def _alias_index(glossary: Glossary) -> dict[tuple[str, ...], tuple[Term, str]]:
    index: dict[tuple[str, ...], tuple[Term, str]] = {}
    for term in glossary.terms:
        for alias in term.aliases:
            index[tuple(_norm(w) for w in alias.split())] = (term, alias)
    return index


def _is_latin(word: str) -> bool:
    return set(letter_scripts(word)) == {"Latin"}


def word_frequency(word: str, language: str) -> dict[str, float]:
    """Zipf frequencies of a word in the transcript's language, and in English for a word in Latin
    letters (English words run through Indic speech)."""
    from wordfreq import available_languages, zipf_frequency

    languages = [language] + (["en"] if language != "en" and _is_latin(word) else [])
    known = available_languages()
    return {code: zipf_frequency(word, code) for code in languages if code in known}


def _spelling_variant(word: str, term: str) -> dict[str, object] | None:
    """Evidence that `word` is `term` misspelt, or None: one edit apart (Damerau-Levenshtein, on the
    whole word), or two apart and sounding alike (Metaphone or NYSIIS, for Latin letters); either
    way beginning alike, since a misheard name keeps its first sound."""
    import jellyfish

    distance = jellyfish.damerau_levenshtein_distance(word, term)
    if distance == 0 or distance > 2:
        return None
    latin = _is_latin(word) and _is_latin(term)
    sounds = [name for name, key in (("metaphone", jellyfish.metaphone), ("nysiis", jellyfish.nysiis)) if latin and key(word) == key(term)]
    if word[0] != term[0] and not sounds:
        return None
    if distance == 2 and not (sounds and len(term) >= 5):
        return None
    return {"edit_distance": distance, "sounds_alike": sounds}


def _spelling_match(written: str, names: dict[str, Term], language: str) -> tuple[Term, dict[str, object]] | None:
    """The single-word name the ASR misspelt as `written`, with the evidence; None when the word is
    a word of the language, matches no name closely enough, or matches two names equally."""
    bare = written.strip(_EDGE_PUNCT + " ")
    word = _norm(written)
    if len(word) < MIN_FUZZY_LETTERS or word in names:
        return None
    if bare[:1].isalpha() and bare[:1].lower() != bare[:1].upper() and not bare[0].isupper():
        return None  # a cased script: names are capitalised
    found = [(term, evidence) for key, term in names.items() if (evidence := _spelling_variant(word, key))]
    if not found:
        return None
    frequencies = word_frequency(word, language)
    if max(frequencies.values(), default=0.0) >= COMMON_WORD_ZIPF:
        return None
    found.sort(key=lambda item: item[1]["edit_distance"])  # type: ignore[arg-type, return-value]
    if len(found) > 1 and found[1][1]["edit_distance"] == found[0][1]["edit_distance"]:
        return None  # as close to two names: not evidence for either
    term, evidence = found[0]
    return term, {**evidence, "zipf": {code: round(value, 2) for code, value in frequencies.items()}}


def correct_transcript(transcript: Transcript, glossary: Glossary) -> tuple[Transcript, list[Correction]]:
    """Aliases and justified misspellings of names replaced by the canonical term, word times kept.

    An alias is replaced wherever it stands. A word is taken for a misspelt name only with evidence
    (see `_spelling_match`), recorded in the correction.
    """
    if not glossary.terms:
        return transcript, []
    index = _alias_index(glossary)
    longest = max((len(k) for k in index), default=1)
    names = {_norm(t.term): t for t in glossary.terms if t.type == "name" and " " not in t.term.strip()
             and len(_norm(t.term)) >= MIN_FUZZY_LETTERS}
    corrections: list[Correction] = []
    segments = []
    for seg in transcript.segments:
        language = seg.language or transcript.language
        words = seg.words or [Word(start=seg.start, end=seg.end, text=" " + w) for w in seg.text.split()]
        out: list[Word] = []
        i = 0
        while i < len(words):
            replaced = False
            for size in range(min(longest, len(words) - i), 0, -1):
                key = tuple(_norm(w.text) for w in words[i:i + size])
                term: Term | None
                aliased = index.get(key)
                if aliased is not None:
                    term, kind, evidence = aliased[0], "alias", {"alias": aliased[1]}
                elif size == 1 and (match := _spelling_match(words[i].text, names, language)) is not None:
                    (term, evidence), kind = match, "spelling"
                else:
                    continue
                first, last = words[i], words[i + size - 1]
                lead = first.text[: len(first.text) - len(first.text.lstrip())]
                tail = last.text.rstrip()[len(last.text.rstrip().rstrip(_EDGE_PUNCT)):]
                found = "".join(w.text for w in words[i:i + size]).strip()
                out.append(Word(start=first.start, end=last.end, text=f"{lead}{term.term}{tail}",
                                probability=min(w.probability for w in words[i:i + size])))
                corrections.append(Correction(seg.id, first.start, found, term.term, kind, evidence))
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


def mentions(term: Term, text: str) -> bool:
    """Whether `text` has the term where `protect` would find it."""
    return _term_pattern(term).search(text) is not None


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

