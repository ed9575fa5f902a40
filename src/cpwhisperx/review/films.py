"""Per film, the names the glossary or TMDB offered and a transcript of the film confirmed.

A later job of the same film (found by its TMDB id, else by the title and year in its file name)
starts with them in its glossary, marked "learned", even when no glossary file is given.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from cpwhisperx.cache import ResultCache, cache_key
from cpwhisperx.glossary import Glossary, Term, mentions
from cpwhisperx.stageio import now_iso
from cpwhisperx.transcript import Transcript

NAMESPACE = "memory/films"
LEARNED = "learned"


def film_key(media_name: str, tmdb_id: object | None = None) -> str:
    """`tmdb:<id>` when TMDB found the film, else `title:<normalised title>|<year>` from the file name."""
    if tmdb_id is not None:
        return f"tmdb:{tmdb_id}"
    from guessit import guessit

    guess = guessit(media_name)
    title = str(guess.get("title") or Path(media_name).stem)
    words = re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", title).casefold()).split()
    return f"title:{' '.join(words)}|{guess.get('year') or ''}"


def confirmed_names(glossary: Glossary, transcript: Transcript) -> list[Term]:
    """The glossary's names that the transcript holds as written (after the ASR's glossary corrections)."""
    text = "\n".join(seg.text for seg in transcript.segments)
    return [term for term in glossary.terms if term.type == "name" and mentions(term, text)]


class FilmMemory:
    def __init__(self, cache_root: Path, enabled: bool = True) -> None:
        self.store = ResultCache(cache_root, NAMESPACE, enabled)

    def learned(self, film: str) -> list[Term]:
        entry: Any = self.store.get(cache_key(film))
        names = entry.get("names") if isinstance(entry, dict) else None
        if not isinstance(names, dict):
            return []
        return [Term(str(n["term"]), "name", tuple(map(str, n.get("aliases", ()))), dict(n.get("renderings", {})), LEARNED)
                for n in names.values() if isinstance(n, dict) and n.get("term")]

    def learn(self, film: str, terms: list[Term], job: str) -> None:
        """Add the confirmed names to the film's entry; a name confirmed again notes the job."""
        key = cache_key(film)
        entry: Any = self.store.get(key)
        names: dict[str, Any] = dict(entry["names"]) if isinstance(entry, dict) and isinstance(entry.get("names"), dict) else {}
        for term in terms:
            known = names.get(term.term, {})
            names[term.term] = {"term": term.term, "aliases": list(term.aliases), "renderings": term.renderings,
                                "offered_by": known.get("offered_by", term.source), "confirmed_at": now_iso(),
                                "jobs": list(dict.fromkeys([*known.get("jobs", []), job]))}
        self.store.put(key, {"film": film, "names": names})

    @property
    def problems(self) -> list[str]:
        return self.store.problems
