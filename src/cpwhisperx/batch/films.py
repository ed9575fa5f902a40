"""The films of a batch: media files, folders of them, or a CSV/JSONL manifest with per-film languages and settings."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpwhisperx.config import KEYS, check_keys
from cpwhisperx.errors import InvalidInput

# What a folder is searched for; a file named on the command line is taken whatever its name.
MEDIA_SUFFIXES = frozenset({
    ".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts", ".mxf", ".wmv", ".flv",
    ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".mka",
})
MANIFEST_SUFFIXES = frozenset({".csv", ".jsonl"})
MANIFEST_HINT = ("a manifest has a `media` column (paths relative to the manifest), and may have `source_language`, "
                 "`target_languages` (comma-separated) and configuration keys as columns (JSONL: also `set`, an object)")


@dataclass(frozen=True)
class Film:
    """One film of the batch and what its job is to be made with."""

    media: Path
    source_language: str | None = None
    target_languages: tuple[str, ...] = ()
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Names the film and its settings: the same film with other settings is another job."""
        return json.dumps([str(self.media), self.source_language, list(self.target_languages), sorted(self.values.items())],
                          ensure_ascii=False)


def gather_films(inputs: Iterable[Path], *, source_language: str | None, target_languages: tuple[str, ...],
                 values: Mapping[str, str]) -> list[Film]:
    """Every film the inputs name, in the order given; a manifest row's languages and settings outrank the command line's."""
    films: dict[str, Film] = {}
    for given in inputs:
        path = given.expanduser()
        if not path.exists():
            raise InvalidInput(f"'{given}' does not exist", hint="give media files, folders of them, or a .csv/.jsonl manifest")
        if path.is_dir():
            found = [_film(p, source_language, target_languages, values) for p in _media_in(path)]
            if not found:
                raise InvalidInput(f"the folder '{given}' holds no media files",
                                   hint=f"a folder is searched for files ending in {', '.join(sorted(MEDIA_SUFFIXES))}")
        elif path.suffix.lower() in MANIFEST_SUFFIXES:
            found = _manifest(path, source_language, target_languages, values)
        else:
            found = [_film(path, source_language, target_languages, values)]
        for film in found:
            films.setdefault(film.key, film)
    if not films:
        raise InvalidInput("the batch has no films", hint="give media files, folders of them, or a manifest")
    return list(films.values())


def _film(path: Path, source_language: str | None, target_languages: tuple[str, ...], values: Mapping[str, str]) -> Film:
    return Film(path.resolve(), source_language, target_languages, dict(values))


def _media_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _manifest(path: Path, source_language: str | None, target_languages: tuple[str, ...], values: Mapping[str, str]) -> list[Film]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"the manifest '{path}' is not UTF-8 text", hint=MANIFEST_HINT) from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        rows = [(number, dict(row)) for number, row in enumerate(reader, start=2)]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path.name}, line {number}: not JSON ({exc.msg})", hint=MANIFEST_HINT) from None
            if not isinstance(row, dict):
                raise InvalidInput(f"{path.name}, line {number}: not a JSON object", hint=MANIFEST_HINT)
            rows.append((number, row))
    if not rows:
        raise InvalidInput(f"the manifest '{path}' names no films", hint=MANIFEST_HINT)
    return [_manifest_film(path, number, row, source_language, target_languages, values) for number, row in rows]


def _manifest_film(manifest: Path, number: int, row: dict[str, Any], source_language: str | None,
                   target_languages: tuple[str, ...], values: Mapping[str, str]) -> Film:
    where = f"{manifest.name}, line {number}"
    media = str(row.pop("media", "") or "").strip()
    if not media:
        raise InvalidInput(f"{where}: no `media`", hint=MANIFEST_HINT)
    media_path = Path(media).expanduser()
    if not media_path.is_absolute():
        media_path = manifest.parent / media_path
    source = str(row.pop("source_language", "") or "").strip() or source_language
    targets = row.pop("target_languages", None)
    if isinstance(targets, str):
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    chosen_targets = tuple(targets) if targets else target_languages
    extra = row.pop("set", None) or {}
    if not isinstance(extra, dict):
        raise InvalidInput(f"{where}: `set` must be an object of configuration keys", hint=MANIFEST_HINT)
    unknown = [name for name in row if name.upper() not in KEYS]
    if unknown:
        raise InvalidInput(f"{where}: unknown column {', '.join(repr(u) for u in unknown)}", hint=MANIFEST_HINT)
    film_values = {**values, **{k.upper(): str(v) for k, v in row.items() if v not in (None, "")},
                   **{str(k).upper(): str(v) for k, v in extra.items()}}
    check_keys(film_values, where)
    # A film whose media is missing fails on its own when its job is made; the others still run.
    return Film(media_path.resolve(), source, chosen_targets, film_values)
