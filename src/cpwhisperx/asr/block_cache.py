"""ASR results per block of speech, kept across jobs and found again in other cuts of a film.

A block is found by the exact digest of its samples (the same audio at the same place in its
pauses), or else by its acoustic fingerprint (the same audio re-encoded, or cut from the film at
a slightly other sample). A fingerprint match counts only when it is unambiguous: every cached
block that matches holds the same words, and the speech regions inside it lie where the new
block's do.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cpwhisperx.asr.blocks import Block
from cpwhisperx.asr.script_check import shift_words
from cpwhisperx.cache import ResultCache, cache_key
from cpwhisperx.fingerprint import SAME_AUDIO_MAX_BIT_ERROR_RATE, acoustic_fingerprint, bit_error_rate, samples_digest
from cpwhisperx.transcript import Segment

log = logging.getLogger("cpwhisperx.asr.block_cache")

BLOCKS_NAMESPACE = "asr/blocks"
# A re-encoded block's span and regions move with the VAD's 32 ms windows; a region that moved
# further was heard differently, and its block is decoded again.
SPAN_TOLERANCE_SECONDS = 0.3
REGION_TOLERANCE_SECONDS = 0.25


@dataclass
class Probe:
    """What identifies one block of the media being transcribed; its fingerprint is taken only
    when the digest finds nothing."""
    block: Block
    audio: np.ndarray
    digest: str
    fingerprint: list[int] | None = None

    @property
    def span(self) -> float:
        return self.block.end - self.block.start

    @property
    def key(self) -> str:
        return f"{cache_key(self.digest, self.block.relative_regions())}{_span_tag(self.span)}"


@dataclass(frozen=True)
class CachedBlock:
    segments: list[Segment]  # in the media times of the block found
    repairs: list[dict[str, Any]] | None
    seconds: float  # what decoding it took when it was cached
    match: str  # "digest" or "fingerprint"


def _span_tag(span: float) -> str:
    """The end of a block's key: its span in whole seconds, so that a fingerprint lookup reads
    only the entries of about its length."""
    return f"-s{int(span):05d}"


class BlockCache:
    def __init__(self, root: Path, settings_key: str, enabled: bool, fingerprints: bool) -> None:
        self.cache = ResultCache(root, f"{BLOCKS_NAMESPACE}/{settings_key}", enabled)
        self.fingerprints = fingerprints
        self._keys: list[str] | None = None
        self._read: dict[str, dict[str, Any] | None] = {}

    def probe(self, block: Block, audio: np.ndarray) -> Probe:
        return Probe(block, audio, samples_digest(audio))

    def find(self, probe: Probe) -> CachedBlock | None:
        try:
            return self._find(probe)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # an entry of another shape than it should have
            log.warning("a cached block result cannot be read (%s); the block at %.2f s is decoded again", exc, probe.block.start)
            self.cache.use(None)
            return None

    def _find(self, probe: Probe) -> CachedBlock | None:
        found = self._entry(probe.key)
        if found is not None:
            placed = _placed(found, probe, "digest")
            self.cache.use(probe.key)
            return placed
        if not self.fingerprints:
            self.cache.use(None)
            return None
        probe.fingerprint = acoustic_fingerprint(probe.audio)
        matches = []
        for key in self._candidates(probe.span):
            entry = self._entry(key)
            if entry is None or entry["fingerprint"] is None or not _regions_agree(entry["regions"], probe.block.relative_regions()):
                continue
            error = bit_error_rate(entry["fingerprint"], probe.fingerprint)
            if error <= SAME_AUDIO_MAX_BIT_ERROR_RATE:
                matches.append((error, key, entry))
        texts = {" ".join(seg["text"].strip() for seg in entry["segments"]) for _, _, entry in matches}
        if len(texts) != 1:
            if len(texts) > 1:
                log.info("the block at %.2f s matches %d cached blocks with different words: decoded again", probe.block.start, len(matches))
            self.cache.use(None)
            return None
        error, key, entry = min(matches, key=lambda match: match[0])
        placed = _placed(entry, probe, "fingerprint")
        log.debug("block at %.2f s found by its fingerprint (bit error rate %.3f)", probe.block.start, error)
        self.cache.use(key)
        return placed

    def put(self, probe: Probe, segments: list[Segment], repairs: list[dict[str, Any]] | None, seconds: float) -> None:
        if self.fingerprints and probe.fingerprint is None:
            probe.fingerprint = acoustic_fingerprint(probe.audio)
        start = probe.block.start
        payload = {
            "fingerprint": probe.fingerprint, "span": round(probe.span, 3), "regions": probe.block.relative_regions(),
            "segments": [_shifted(seg, -start).model_dump(mode="json") for seg in segments],
            "repairs": [_shifted_repair(repair, -start) for repair in repairs] if repairs is not None else None,
            "seconds": round(seconds, 3)}
        self.cache.put(probe.key, payload)
        # the same audio later in this very film is found too
        self._read[probe.key] = json.loads(json.dumps(payload))
        if self._keys is not None and probe.key not in self._keys:
            self._keys.append(probe.key)

    def _candidates(self, span: float) -> list[str]:
        if self._keys is None:
            self._keys = self.cache.keys()
        tags = (_span_tag(span - SPAN_TOLERANCE_SECONDS), _span_tag(span + SPAN_TOLERANCE_SECONDS))
        return [key for key in self._keys if key.endswith(tags)]

    def _entry(self, key: str) -> dict[str, Any] | None:
        """The entry's payload when it is one this version can read (else none, with a warning
        once); each entry is read once per run."""
        if key not in self._read:
            self._read[key] = self._load(key)
        return self._read[key]

    def _load(self, key: str) -> dict[str, Any] | None:
        found = self.cache.get(key, count=False)
        if found is None:
            return None
        try:
            for seg in found["segments"]:
                Segment.model_validate(seg)
            float(found["seconds"]), float(found["span"])
            if not isinstance(found["regions"], list) or not (found["fingerprint"] is None or isinstance(found["fingerprint"], list)):
                raise TypeError("not a block result of this version")
            if found["repairs"] is not None and not isinstance(found["repairs"], list):
                raise TypeError("not a block result of this version")
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("the cached ASR result of block %s cannot be read (%s); decoding it again", key, exc)
            return None
        return found  # type: ignore[no-any-return]

    def record_stats(self) -> None:
        self.cache.record_stats()

    @property
    def problems(self) -> list[str]:
        return self.cache.problems


def _regions_agree(cached: list[list[float]], regions: list[tuple[float, float]]) -> bool:
    return len(cached) == len(regions) and all(
        abs(a - c) <= REGION_TOLERANCE_SECONDS and abs(b - d) <= REGION_TOLERANCE_SECONDS for (a, b), (c, d) in zip(cached, regions, strict=True))


def _placed(entry: dict[str, Any], probe: Probe, match: str) -> CachedBlock:
    start = probe.block.start
    segments = [_shifted(Segment.model_validate(seg), start) for seg in entry["segments"]]
    repairs = None if entry["repairs"] is None else [_shifted_repair(repair, start) for repair in entry["repairs"]]
    return CachedBlock(segments, repairs, float(entry["seconds"]), match)


def _shifted(segment: Segment, offset: float) -> Segment:
    return segment.model_copy(update={
        "start": round(segment.start + offset, 3), "end": round(segment.end + offset, 3),
        "words": shift_words(segment.words, offset)})


def _shifted_repair(repair: dict[str, Any], offset: float) -> dict[str, Any]:
    return {**repair, "start": round(float(repair["start"]) + offset, 3), "end": round(float(repair["end"]) + offset, 3)}
