"""What identifies decoded audio for the result caches: a digest of its PCM samples."""

from __future__ import annotations

import hashlib

import numpy as np

from cpwhisperx.media import SAMPLE_RATE, WavReader

DIGEST_BLOCK_SAMPLES = 60 * SAMPLE_RATE


def pcm_digest(reader: WavReader) -> str:
    """sha256 of the 16 kHz samples alone: a re-mux of the same audio (another container, other
    tags in the WAV header) gives the same digest."""
    digest = hashlib.sha256()
    for block in reader.blocks(DIGEST_BLOCK_SAMPLES):
        digest.update(np.round(block * 32768.0).astype("<i2").tobytes())
    return digest.hexdigest()
