"""What identifies decoded audio for the result caches: an exact digest of its PCM samples, and
an acoustic fingerprint (Chromaprint) that survives lossy re-encoding, for finding the same speech
in another cut of a film."""

from __future__ import annotations

import ctypes.util
import hashlib
from functools import lru_cache

import numpy as np

from cpwhisperx.media import SAMPLE_RATE, WavReader

DIGEST_BLOCK_SAMPLES = 60 * SAMPLE_RATE
# Bit error rates measured on LibriVox speech (over a whole clip): AAC at 96 kbit/s against 160
# kbit/s 0.00; the same audio 30 ms later 0.05, 100 ms later 0.14; unrelated speech 0.45.
SAME_AUDIO_MAX_BIT_ERROR_RATE = 0.15
# A block's start moves with the VAD's 32 ms windows; fingerprint items are 124 ms apart.
MAX_ITEM_SHIFT = 1
# The stretch over which two fingerprints must agree (about 2 s): the same audio re-encoded and
# 30 ms later measured 0.07 at worst on the benchmark film; a changed second inside it exceeds 0.2.
WINDOW_ITEMS = 16
# Fewer shared items than this (about half a second) cannot tell two stretches of audio apart.
MIN_SHARED_ITEMS = 4


def pcm_digest(reader: WavReader) -> str:
    """sha256 of the 16 kHz samples alone: a re-mux of the same audio (another container, other
    tags in the WAV header) gives the same digest."""
    digest = hashlib.sha256()
    for block in reader.blocks(DIGEST_BLOCK_SAMPLES):
        digest.update(_int16(block).tobytes())
    return digest.hexdigest()


def audio_digest(recorded: object, reader: WavReader) -> str:
    """The PCM digest the demux stage recorded for this audio, or (for a job made before it did)
    the digest taken now."""
    return recorded if isinstance(recorded, str) and len(recorded) == 64 else pcm_digest(reader)


def samples_digest(samples: np.ndarray) -> str:
    return hashlib.sha256(_int16(samples).tobytes()).hexdigest()


def _int16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")


@lru_cache(maxsize=1)
def chromaprint_problem() -> str | None:
    """None when acoustic fingerprints can be made, else why not and how to fix it."""
    if ctypes.util.find_library("chromaprint") is None:
        return "the Chromaprint library is missing (apt-get install libchromaprint-tools)"
    try:
        import chromaprint  # noqa: F401  (pyacoustid's binding to libchromaprint)
    except ImportError:
        return "the Python package pyacoustid is not installed (pip install pyacoustid)"
    except OSError as exc:
        return f"the Chromaprint library cannot be loaded ({exc}; apt-get install libchromaprint-tools)"
    return None


def acoustic_fingerprint(samples: np.ndarray) -> list[int]:
    """Chromaprint's raw fingerprint of 16 kHz float samples: 32-bit items about 124 ms apart,
    which survive lossy re-encoding."""
    import chromaprint

    printer = chromaprint.Fingerprinter()
    printer.start(SAMPLE_RATE, 1)
    printer.feed(_int16(samples).tobytes())
    items, _ = chromaprint.decode_fingerprint(printer.finish())
    return [int(item) & 0xFFFFFFFF for item in items]


def bit_error_rate(first: list[int], second: list[int], max_shift: int = MAX_ITEM_SHIFT) -> float:
    """The share of differing bits between two fingerprints in their worst stretch of
    WINDOW_ITEMS (the whole, when shorter), at the best of a few item shifts, over the items they
    share; 1.0 when they share too few to tell. The worst stretch, not the mean: a line re-dubbed
    or bleeped inside otherwise unchanged audio must not pass as the same audio."""
    a, b = np.asarray(first, dtype=np.uint32), np.asarray(second, dtype=np.uint32)
    best = 1.0
    for shift in range(-max_shift, max_shift + 1):
        x, y = (a[shift:], b) if shift >= 0 else (a, b[-shift:])
        n = min(len(x), len(y))
        if n < max(MIN_SHARED_ITEMS, 0.8 * max(len(a), len(b))):
            continue
        errors = np.unpackbits((x[:n] ^ y[:n]).view(np.uint8)).reshape(n, 32).mean(axis=1)
        window = min(WINDOW_ITEMS, n)
        worst = float(np.convolve(errors, np.ones(window) / window, mode="valid").max())
        best = min(best, worst)
    return best
