"""What the machine offers, found without importing heavy libraries at module level."""

from __future__ import annotations

import importlib.util
import os


def cuda_device_count() -> int:
    """CUDA devices CTranslate2 can use (0 when CTranslate2 is absent or built without CUDA)."""
    if importlib.util.find_spec("ctranslate2") is None:
        return 0
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # a broken driver counts as no device
        return 0


def supported_compute_types(device: str) -> set[str]:
    import ctranslate2

    try:
        return set(ctranslate2.get_supported_compute_types(device))
    except Exception:
        return set()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
