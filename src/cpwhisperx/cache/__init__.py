"""The result cache (`store`) and its upkeep (`maintenance`): statistics, clearing, limits, validation."""

from __future__ import annotations

from cpwhisperx.cache.store import ResultCache, cache_dir, cache_key, default_cache_dir

__all__ = ["ResultCache", "cache_dir", "cache_key", "default_cache_dir"]
