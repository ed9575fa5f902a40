"""Stage 03: merge the glossary files and the TMDB names into one glossary snapshot."""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.glossary import Glossary, Term, load_file, merge
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
        names = [Term(c["character"], "name", (), {}, "tmdb") for c in film.get("cast", []) if c.get("character")]
        names += [Term(c["name"], "name", (), {}, "tmdb") for c in film.get("cast", []) if c.get("name")]
        parts.append(Glossary(names))
    glossary = merge(*parts)
    io.write_json(SNAPSHOT, glossary.to_json(), "glossary", terms=len(glossary.terms), sha256_terms=glossary.digest())
    io.metrics.update({"terms": len(glossary.terms), "by_type": {k: sum(t.type == k for t in glossary.terms) for k in ("name", "kinship", "cultural", "technical")},
                       "files": len(io.settings.GLOSSARY_PATHS), "from_tmdb": sum(t.source == "tmdb" for t in glossary.terms)})


def load_glossary(io: StageIO) -> Glossary:
    """The snapshot for a later stage; empty when no glossary was configured."""
    if not io.has_input("glossary_load", SNAPSHOT):
        return Glossary()
    return Glossary.from_json(io.read_json("glossary_load", SNAPSHOT, "glossary"))
