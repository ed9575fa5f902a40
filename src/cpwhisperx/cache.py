"""A content-addressed result cache: entries carry a checksum; a corrupt entry is a miss, never a crash."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from cpwhisperx.files import atomic_write_text

log = logging.getLogger("cpwhisperx.cache")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cp-whisperx" / "cache"


def cache_dir(configured: str) -> Path:
    """CACHE_DIR, or the default when it is empty."""
    return Path(configured).expanduser() if configured else default_cache_dir()


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class ResultCache:
    """A cache that cannot be read or written is no failure: the work is done without it, and
    `problems` says why (once per kind), for the stage's warnings."""

    def __init__(self, root: Path, namespace: str, enabled: bool = True) -> None:
        self.root = root / namespace
        self.enabled = enabled
        self.writable = True
        self.hits = self.misses = self.corrupt = 0
        self.problems: list[str] = []

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            log.debug(message)  # the stage reports it as its warning
            self.problems.append(message)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            payload = json.dumps(entry["payload"], sort_keys=True, ensure_ascii=False)
            if hashlib.sha256(payload.encode()).hexdigest() != entry["checksum"]:
                raise ValueError("checksum mismatch")
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
        return entry["payload"]

    def put(self, key: str, payload: Any) -> None:
        if not self.enabled or not self.writable:
            return
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        entry = {"checksum": hashlib.sha256(text.encode()).hexdigest(), "payload": payload}
        try:
            atomic_write_text(self._path(key), json.dumps(entry, ensure_ascii=False))
        except OSError as exc:  # read-only, full, or not a folder
            self.writable = False
            self._problem(f"the result cache {self.root} cannot be written ({exc.strerror or exc}); results are not kept for later runs")
