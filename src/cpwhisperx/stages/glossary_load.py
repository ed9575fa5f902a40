"""Stage 03: merge the glossary files and the TMDB names into one glossary snapshot."""

from __future__ import annotations

import re
from pathlib import Path

from cpwhisperx.cache import cache_dir
from cpwhisperx.errors import StageSkipped
from cpwhisperx.glossary import Glossary, Term, load_file, merge
from cpwhisperx.review.films import LEARNED, FilmMemory, film_key
from cpwhisperx.stageio import StageIO, file_record

SNAPSHOT = "glossary.json"


def run(io: StageIO) -> None:
    parts: list[Glossary] = []
    for name in io.settings.GLOSSARY_PATHS:
        path = Path(name).expanduser().resolve()
        parts.append(load_file(path))
        io.inputs.append(file_record(path, io.job.dir, "glossary"))
    if io.has_input("tmdb", "tmdb.json"):
        film = io.read_json("tmdb", "tmdb.json", "film")
        parts.append(Glossary(tmdb_terms(film.get("cast", []))))
    given = merge(*parts)
    learned = _learned_terms(io, given)
    if not parts and not learned:
        raise StageSkipped("no glossary files configured, TMDB off and no names learned for this film", lasting=True)
    glossary = merge(given, Glossary(learned))
    io.write_json(SNAPSHOT, glossary.to_json(), "glossary", terms=len(glossary.terms), sha256_terms=glossary.digest())
    io.metrics.update({"terms": len(glossary.terms), "by_type": {k: sum(t.type == k for t in glossary.terms) for k in ("name", "kinship", "cultural", "technical")},
                       "files": len(io.settings.GLOSSARY_PATHS), "from_tmdb": sum(t.source == "tmdb" for t in glossary.terms),
                       "learned_terms": sum(t.source == LEARNED for t in glossary.terms)})


def film_of(io: StageIO) -> str:
    """The key of the job's film: its TMDB id when the tmdb stage found it, else title and year of the file name."""
    film = io.read_json("tmdb", "tmdb.json", "film") if io.has_input("tmdb", "tmdb.json") else {}
    return film_key(io.job.record.media.name, film.get("id"))


def _learned_terms(io: StageIO, given: Glossary) -> list[Term]:
    """The names earlier jobs of this film confirmed that the given glossary does not already have."""
    s = io.settings
    if not s.CACHE_ENABLED:
        return []
    film = film_of(io)
    memory = FilmMemory(cache_dir(s.CACHE_DIR))
    have = {t.term.casefold() for t in given.terms}
    learned = [t for t in memory.learned(film) if t.term.casefold() not in have]
    for problem in memory.problems:
        io.warn(problem)
    io.metrics["film"] = film
    if learned:
        io.log.info("names learned from earlier jobs of %s: %s", film, ", ".join(t.term for t in learned))
    return learned


def tmdb_terms(cast: list[dict[str, str]]) -> list[Term]:
    """Character names as the dialogue says them, then the actors' names. TMDB writes characters as
    "Jai Singh Rathore", "Meow / Cat" or "Narrator (voice)"; a character is mostly called by the
    first name, which becomes a term of its own."""
    terms: list[Term] = []
    for member in cast:
        for character in (member.get("character") or "").split("/"):
            full = re.sub(r"\s+", " ", re.sub(r"\([^)]*\)", "", character)).strip(" -'\"")
            if not full:
                continue
            terms.append(Term(full, "name", (), {}, "tmdb"))
            first = full.split()[0]
            if first != full and len(first) >= 3 and first[0].isupper():
                terms.append(Term(first, "name", (), {}, "tmdb"))
    terms += [Term(m["name"].strip(), "name", (), {}, "tmdb") for m in cast if (m.get("name") or "").strip()]
    return terms


def load_glossary(io: StageIO) -> Glossary:
    """The snapshot for a later stage; empty when no glossary was configured."""
    if not io.has_input("glossary_load", SNAPSHOT):
        return Glossary()
    return Glossary.from_json(io.read_json("glossary_load", SNAPSHOT, "glossary"))
