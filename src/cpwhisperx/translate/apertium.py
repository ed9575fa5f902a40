"""Apertium: rule-based translation by the Debian `apertium` program and its pair packages."""

from __future__ import annotations

import shutil
import subprocess

from cpwhisperx.config import Settings
from cpwhisperx.errors import ResourceMissing, ServiceFailed
from cpwhisperx.translate import apertium_mode


class ApertiumEngine:
    name = "apertium"

    def __init__(self) -> None:
        binary = shutil.which("apertium")
        if binary is None:
            raise ResourceMissing("the apertium program is not installed", hint="apt-get install apertium apertium-eng-spa")
        self.binary = binary
        self.model = "apertium"
        self.version = _package_version()

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        mode = apertium_mode(source, target)
        self.model = f"apertium {mode}"
        # One sentence per line; -u drops the marks Apertium puts on unknown words (names pass through).
        text = "\n".join(t.replace("\n", " ") for t in texts) + "\n"
        result = subprocess.run([self.binary, "-u", mode], input=text, capture_output=True, text=True, encoding="utf-8", check=False)
        if result.returncode != 0:
            raise ServiceFailed(f"apertium {mode} failed: {result.stderr.strip()[-300:]}")
        lines = result.stdout.rstrip("\n").split("\n")
        if len(lines) != len(texts):
            raise ServiceFailed(f"apertium {mode} returned {len(lines)} lines for {len(texts)} sentences")
        return [line.strip() for line in lines]


def _package_version() -> str:
    dpkg = shutil.which("dpkg-query")
    if dpkg is None:
        return "unknown"
    result = subprocess.run([dpkg, "-W", "-f", "${Version}", "apertium"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


def create(settings: Settings) -> ApertiumEngine:
    return ApertiumEngine()
