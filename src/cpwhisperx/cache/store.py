"""A content-addressed result cache: entries carry a checksum; a corrupt entry is a miss, never a crash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from filelock import FileLock

from cpwhisperx.files import atomic_write_text

log = logging.getLogger("cpwhisperx.cache")

STATS_FILE = "stats.jsonl"
STATS_LOCK_SECONDS = 10.0


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cp-whisperx" / "cache"


def cache_dir(configured: str) -> Path:
    """CACHE_DIR, or the default when it is empty."""
    return Path(configured).expanduser() if configured else default_cache_dir()


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def kind_of(namespace: str) -> str:
    """The kind of a namespace's entries: its first component ("asr" for "asr/blocks/…")."""
    return namespace.strip("/").split("/", 1)[0]


def _checksum(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def read_entry(path: Path) -> Any:
    """The payload of the entry at `path`; ValueError (or KeyError, TypeError) when it is corrupt."""
    entry = json.loads(path.read_text(encoding="utf-8"))
    if _checksum(entry["payload"]) != entry["checksum"]:
        raise ValueError("checksum mismatch")
    return entry["payload"]


def is_entry_name(name: str) -> bool:
    """An entry's file name; temporary files of a write in progress begin with a dot."""
    return name.endswith(".json") and not name.startswith(".")


class ResultCache:
    """A cache that cannot be read or written is no failure: the work is done without it, and
    `problems` says why (once per kind), for the stage's warnings."""

    def __init__(self, root: Path, namespace: str, enabled: bool = True) -> None:
        self.base = root
        self.kind = kind_of(namespace)
        self.root = root / namespace
        self.enabled = enabled
        self.writable = True
        self.hits = self.misses = self.corrupt = 0
        self._recorded = (0, 0, 0)
        self.problems: list[str] = []

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            log.debug(message)  # the stage reports it as its warning
            self.problems.append(message)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def blob_path(self, key: str, suffix: str) -> Path:
        """Where a file too large for the entry's JSON (extracted audio) lies beside it. Its entry
        records the file's sha256 as `blob_sha256`; cleanup and clear remove the two together."""
        return self._path(key).with_suffix(suffix)

    def keys(self) -> list[str]:
        """The keys of the entries in this namespace (not those of namespaces nested in it)."""
        if not self.enabled:
            return []
        try:
            folders = [p for p in self.root.iterdir() if p.is_dir()]
        except OSError:
            return []
        keys = []
        for folder in folders:
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            # A nested namespace's folder may share a name with a key prefix: only files named after it are ours.
            keys.extend(name[:-5] for name in names if is_entry_name(name) and name[:-5][:2] == folder.name)
        return sorted(keys)

    def get(self, key: str, *, count: bool = True) -> Any | None:
        """The entry's payload, or None (a miss). With `count` False, a look that decides nothing
        yet: no hit or miss is counted and the entry is not marked as used (see `use`)."""
        if not self.enabled:
            return None
        if not count:
            before = (self.hits, self.misses)
            found = self._read(key, touch=False)
            self.hits, self.misses = before
            return found
        return self._read(key, touch=True)

    def use(self, key: str | None) -> None:
        """Count one lookup decided after looks without counting: a hit on `key`, or a miss (None)."""
        if key is None:
            self.misses += 1
            return
        self.hits += 1
        self._touch(self._path(key))

    def _read(self, key: str, touch: bool) -> Any | None:
        path = self._path(key)
        try:
            payload = read_entry(path)
        except FileNotFoundError:
            self.misses += 1
            return None
        except (NotADirectoryError, PermissionError, IsADirectoryError) as exc:
            self._problem(f"the result cache {self.root} cannot be read ({exc.strerror or exc}); working without it")
            self.misses += 1
            return None
        except (ValueError, KeyError, TypeError, OSError) as exc:
            log.warning("cache entry %s is corrupt (%s); computing it again", path, exc)
            self.corrupt += 1
            self.misses += 1
            return None
        self.hits += 1
        if touch:
            self._touch(path)
        return payload

    def _touch(self, path: Path) -> None:
        """A hit marks the entry as recently used: cleanup removes the least recently used first."""
        try:
            os.utime(path)
        except OSError:  # a read-only cache still answers
            pass

    def put(self, key: str, payload: Any) -> None:
        if not self.enabled or not self.writable:
            return
        entry = {"checksum": _checksum(payload), "payload": payload}
        try:
            atomic_write_text(self._path(key), json.dumps(entry, ensure_ascii=False))
        except OSError as exc:  # read-only, full, or not a folder
            self.writable = False
            self._problem(f"the result cache {self.root} cannot be written ({exc.strerror or exc}); results are not kept for later runs")

    def record_stats(self) -> None:
        """Append the hits, misses and corrupt entries since the last record to the cache's
        stats.jsonl, for `cpwx cache stats`. The counters themselves keep counting: stages report them."""
        counts = (self.hits, self.misses, self.corrupt)
        hits, misses, corrupt = (now - before for now, before in zip(counts, self._recorded, strict=True))
        if not self.enabled or not (hits or misses or corrupt):
            return
        line = json.dumps({"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "kind": self.kind,
                           "hits": hits, "misses": misses, "corrupt": corrupt})
        path = self.base / STATS_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(path) + ".lock", timeout=STATS_LOCK_SECONDS), path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:  # a lock timeout is one too: statistics are never worth failing a stage
            log.debug("cache statistics not recorded in %s: %s", path, exc)
            return
        self._recorded = counts
