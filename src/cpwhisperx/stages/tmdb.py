"""Stage 02: the film on TMDB (title and year from the file name or config), its cast and characters."""

from __future__ import annotations

from cpwhisperx.errors import ResourceMissing, ServiceFailed, StageSkipped
from cpwhisperx.logs import load_secrets
from cpwhisperx.stageio import StageIO
from cpwhisperx.tmdb import TmdbClient, parse_title_year


def run(io: StageIO) -> None:
    s = io.settings
    key = load_secrets().get("TMDB_API_KEY")
    if not key:
        problem = "no TMDB_API_KEY in the environment or config/secrets.json"
        if s.TMDB_REQUIRED:
            raise ResourceMissing(problem, hint="export TMDB_API_KEY=… or put it in config/secrets.json")
        io.warn(problem)
        raise StageSkipped(problem, lasting=False)
    parsed_title, parsed_year = parse_title_year(io.job.stem)
    title, year = s.TMDB_TITLE or parsed_title, s.TMDB_YEAR or parsed_year
    client = TmdbClient(s.TMDB_BASE_URL, key, s.TMDB_TIMEOUT, s.TMDB_MAX_RETRIES)
    try:
        film = client.find_film(title, year)
        if film is None:
            io.warn(f"TMDB knows no film '{title}'" + (f" ({year})" if year else ""))
            raise StageSkipped(f"no TMDB match for '{title}'", lasting=True)
        cast = client.cast(int(film["id"]), s.TMDB_MAX_CAST)
    except ServiceFailed as exc:
        if s.TMDB_REQUIRED:
            raise
        io.warn(str(exc).splitlines()[0])
        raise StageSkipped(f"TMDB look-up failed: {exc.message}", lasting=False) from None
    finally:
        io.metrics.update({"requests": client.requests, "retries": client.retries})
        client.close()
    released = film.get("release_date") or ""
    io.write_json("tmdb.json", {"query": {"title": title, "year": year}, "id": film["id"], "title": film.get("title"),
                                "original_title": film.get("original_title"), "year": int(released[:4]) if released[:4].isdigit() else None,
                                "cast": cast}, "film")
    io.metrics.update({"film": film.get("title"), "cast": len(cast)})
