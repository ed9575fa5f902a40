"""Keeping the result cache in bounds: statistics, clearing, age and size limits, validation.

Entries are the `*.json` files under `root/<kind>/…` (a kind's namespaces may nest); an entry's
modification time is its last use, since a hit touches it. Files at the root (stats.jsonl, its
lock) are no entries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpwhisperx.cache.store import STATS_FILE, is_entry_name, read_entry
from cpwhisperx.files import sha256_file

log = logging.getLogger("cpwhisperx.cache")

KINDS = ("demux", "asr", "vad", "translations", "memory")
# A write in progress is a dot-file beside its entry; one this old belongs to a process that died.
TEMP_MAX_AGE_S = 3600.0
_DAY_S = 86400.0
_GB = 1e9


@dataclass(frozen=True)
class Entry:
    path: Path
    kind: str
    size: int  # with its blobs
    used: float  # the modification time: written or last hit
    blobs: tuple[Path, ...] = ()


@dataclass
class KindStats:
    entries: int = 0
    bytes: int = 0
    oldest: dt.datetime | None = None
    newest: dt.datetime | None = None
    hits: int = 0
    misses: int = 0
    corrupt: int = 0

    def add(self, entry: Entry) -> None:
        used = dt.datetime.fromtimestamp(entry.used, dt.timezone.utc)
        self.entries += 1
        self.bytes += entry.size
        self.oldest = used if self.oldest is None else min(self.oldest, used)
        self.newest = used if self.newest is None else max(self.newest, used)

    def as_json(self) -> dict[str, Any]:
        return {"entries": self.entries, "bytes": self.bytes,
                "oldest_access": self.oldest.isoformat(timespec="seconds") if self.oldest else None,
                "newest_access": self.newest.isoformat(timespec="seconds") if self.newest else None,
                "hits": self.hits, "misses": self.misses, "corrupt": self.corrupt}


@dataclass
class Removed:
    entries: int = 0
    bytes: int = 0
    temp_files: int = 0

    def add(self, entry: Entry) -> None:
        self.entries += 1
        self.bytes += entry.size


@dataclass
class Validation:
    valid: dict[str, int] = field(default_factory=dict)
    corrupt: dict[str, int] = field(default_factory=dict)
    removed: list[Path] = field(default_factory=list)
    temp_files: int = 0


def _kind_dirs(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:  # no cache yet, or not a folder
        return []


def _walk(kind_dirs: Iterable[Path]) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(kind, path, stat) of every file under the kind folders, in one walk."""
    for kind_dir in kind_dirs:
        for folder, _, names in os.walk(kind_dir):
            for name in names:
                path = Path(folder, name)
                try:
                    yield kind_dir.name, path, path.stat()
                except OSError:  # removed meanwhile by another process
                    continue


def _is_temp(name: str) -> bool:
    return name.startswith(".") and ".part" in name


def _scan(kind_dirs: Iterable[Path], now: float) -> tuple[list[Entry], list[Path]]:
    """The entries, and the temporary files left behind by writes that never finished."""
    found: dict[Path, tuple[str, os.stat_result]] = {}
    blobs: dict[Path, list[tuple[Path, os.stat_result]]] = {}
    stale: list[Path] = []
    for kind, path, info in _walk(kind_dirs):
        if is_entry_name(path.name):
            found[path] = (kind, info)
        elif _is_temp(path.name):
            if now - info.st_mtime > TEMP_MAX_AGE_S:
                stale.append(path)
        elif path.suffix != ".lock":
            blobs.setdefault(path.with_suffix(".json"), []).append((path, info))
    entries = [Entry(path, kind, info.st_size + sum(b.st_size for _, b in blobs.get(path, [])), info.st_mtime,
                     tuple(b for b, _ in blobs.get(path, []))) for path, (kind, info) in found.items()]
    # a blob whose entry is gone (or was never written) is left from an interrupted run
    stale += [blob for entry, files in blobs.items() if entry not in found for blob, info in files if now - info.st_mtime > TEMP_MAX_AGE_S]
    return entries, stale


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:  # another process got there first
        return False
    return True


def _remove(entry: Entry) -> bool:
    """The entry and its blobs; False when another process removed the entry first."""
    gone = _unlink(entry.path)
    for blob in entry.blobs:
        _unlink(blob)
    return gone


def _remove_stale(stale: Iterable[Path]) -> int:
    return sum(_unlink(path) for path in stale)


def _prune_empty_dirs(top: Path) -> None:
    for folder, _, _ in sorted(os.walk(top), key=lambda item: len(item[0]), reverse=True):
        try:
            os.rmdir(folder)
        except OSError:  # not empty, or already gone
            pass


def _parse_time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _recorded_counts(root: Path, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    """The lines of stats.jsonl from `since` on; a line that does not read is skipped."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.timezone.utc)
    try:
        lines = (root / STATS_FILE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return
    for line in lines:
        try:
            record = json.loads(line)
            if since is None or _parse_time(record["time"]) >= since:
                yield record
        except (ValueError, KeyError, TypeError):
            continue


def stats(root: Path, since: dt.datetime | None = None) -> dict[str, KindStats]:
    """Per kind: entries, bytes, oldest and newest access; hits, misses and corrupt entries as
    recorded since `since` (naive times are UTC)."""
    per_kind: dict[str, KindStats] = {}
    entries, _ = _scan(_kind_dirs(root), time.time())
    for entry in entries:
        per_kind.setdefault(entry.kind, KindStats()).add(entry)
    for record in _recorded_counts(root, since):
        counts = per_kind.setdefault(str(record["kind"]), KindStats())
        counts.hits += int(record.get("hits", 0))
        counts.misses += int(record.get("misses", 0))
        counts.corrupt += int(record.get("corrupt", 0))
    return dict(sorted(per_kind.items()))


def clear(root: Path, kinds: Iterable[str]) -> dict[str, Removed]:
    """Remove every entry of the kinds named ("all": of every kind), per kind what went."""
    wanted = set(kinds)
    removed: dict[str, Removed] = {}
    now = time.time()
    for kind_dir in _kind_dirs(root):
        if "all" not in wanted and kind_dir.name not in wanted:
            continue
        entries, stale = _scan([kind_dir], now)
        gone = removed.setdefault(kind_dir.name, Removed())
        for entry in entries:
            if _remove(entry):
                gone.add(entry)
        gone.temp_files = _remove_stale(stale)
        _prune_empty_dirs(kind_dir)
    return removed


def cleanup(root: Path, ttl_days: float, max_size_gb: float, now: float | None = None) -> Removed:
    """Remove the entries not used within `ttl_days`, then the least recently used until the cache
    holds at most `max_size_gb`; 0 turns either limit off. Stale temporary files go too."""
    now = time.time() if now is None else now
    entries, stale = _scan(_kind_dirs(root), now)
    removed = Removed(temp_files=_remove_stale(stale))
    kept: list[Entry] = []
    for entry in entries:
        if ttl_days > 0 and now - entry.used > ttl_days * _DAY_S:
            if _remove(entry):
                removed.add(entry)
        else:
            kept.append(entry)
    if max_size_gb > 0:
        size = sum(entry.size for entry in kept)
        for entry in sorted(kept, key=lambda e: e.used):
            if size <= max_size_gb * _GB:
                break
            size -= entry.size
            if _remove(entry):
                removed.add(entry)
    return removed


def validate(root: Path) -> Validation:
    """Read every entry; remove those whose JSON or checksum is wrong. Stale temporary files go too."""
    entries, stale = _scan(_kind_dirs(root), time.time())
    result = Validation(temp_files=_remove_stale(stale))
    for entry in entries:
        try:
            payload = read_entry(entry.path)
            _check_blobs(entry, payload)
        except FileNotFoundError:
            continue
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            log.debug("cache entry %s is corrupt (%s): removed", entry.path, exc)
            if _remove(entry):
                result.removed.append(entry.path)
            result.corrupt[entry.kind] = result.corrupt.get(entry.kind, 0) + 1
            continue
        result.valid[entry.kind] = result.valid.get(entry.kind, 0) + 1
    return result


def _check_blobs(entry: Entry, payload: Any) -> None:
    expected = payload.get("blob_sha256") if isinstance(payload, dict) else None
    if expected is None:
        return
    if len(entry.blobs) != 1 or sha256_file(entry.blobs[0]) != expected:
        raise ValueError("the file kept beside the entry is missing or changed")
