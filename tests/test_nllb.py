"""The NLLB engine's real path (SentencePiece with language codes, CTranslate2 batches, decoding,
order, glossary protection) on a tiny random-weight model the test builds and converts."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import cpwx, job_dirs, manifest

pytest.importorskip("torch", reason="building the tiny model needs the testmodels extra")

from nllb_tiny import build_tiny_nllb  # noqa: E402

from cpwhisperx.cache import ResultCache  # noqa: E402
from cpwhisperx.config import Settings  # noqa: E402
from cpwhisperx.errors import ResourceMissing  # noqa: E402
from cpwhisperx.glossary import Glossary, Term  # noqa: E402
from cpwhisperx.transcript import Segment, Transcript  # noqa: E402
from cpwhisperx.translate import choose_engine, load_engine, model_identity  # noqa: E402
from cpwhisperx.translate.nllb import NllbEngine  # noqa: E402
from cpwhisperx.translate.text import translate_transcript  # noqa: E402

TEXTS = ["the old man told his young son", "good night to you all", "rahul went to the market"]


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_nllb(tmp_path_factory.mktemp("nllb"))


class RecordingNllb(NllbEngine):
    def __init__(self, model_dir: Path) -> None:
        super().__init__(model_dir, beam_size=1)
        self.sent: list[str] = []

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.sent += texts
        return super().translate(texts, source, target)


def test_tokenisation_batches_and_order(tiny_nllb: Path) -> None:
    engine = NllbEngine(tiny_nllb, beam_size=1)
    vocabulary = set(json.loads((tiny_nllb / "shared_vocabulary.json").read_text(encoding="utf-8")))
    tokens = engine.tokenize("the old man", "en")
    assert tokens[0] == "eng_Latn" and tokens[-1] == "</s>" and set(tokens) <= vocabulary
    assert engine.tokenize("घर", "hi")[0] == "hin_Deva"
    batch = engine.translate(TEXTS, "en", "hi")
    # A random model never ends a sentence, so only the length bound (set per batch) may differ.
    for text, together in zip(TEXTS, batch, strict=True):
        alone = engine.translate([text], "en", "hi")[0]
        assert together.startswith(alone) or alone.startswith(together)
    assert engine.translate(TEXTS[::-1], "en", "hi") == batch[::-1]
    assert len(set(batch)) >= 2  # outputs depend on the input, so the order check means something
    assert all(out and "hin_Deva" not in out and "</s>" not in out and "▁" not in out for out in batch)


def test_routing_loading_and_glossary_protection(tiny_nllb: Path, tmp_path: Path) -> None:
    settings = Settings(TRANSLATION_NLLB_MODEL=str(tiny_nllb))
    assert choose_engine("en", "ta", settings) == "nllb"
    assert choose_engine("en", "es", settings) == "nllb"  # SPEC §7: pairs without a special engine go to NLLB
    assert choose_engine("en", "es", Settings(TRANSLATION_NLLB_MODEL=str(tiny_nllb), TRANSLATION_ROUTES="en-es:apertium,*:nllb")) == "apertium"
    assert choose_engine("en", "es", Settings()) == "apertium"  # NLLB not configured: the next route that is installed
    assert isinstance(load_engine("nllb", settings), NllbEngine)
    engine = RecordingNllb(tiny_nllb)
    source = Transcript(language="en", duration=6, segments=[
        Segment(id=0, start=0.0, end=2.0, text="Rahul told his"), Segment(id=1, start=2.2, end=4.0, text="bhai to go home.")])
    glossary = Glossary([Term("Rahul", "name", (), {"hi": "राहुल"}), Term("bhai", "kinship")])
    identity = model_identity("nllb", "en", "hi", settings)
    translated, details = translate_transcript(source, "hi", "nllb", lambda: engine, glossary, ResultCache(tmp_path, "t"), identity)
    assert engine.sent == ["GLS0 told his GLS1 to go home."]
    assert details["engine"] == "nllb" and details["engine_calls"] == 1 and details["glossary"]["expected"] == 2
    assert [s.start for s in translated.segments] == [0.0, 2.2][: len(translated.segments)], translated.segments
    # whatever the random model wrote around them, the placeholders came back as the renderings
    output = " ".join(s.text for s in translated.segments)
    assert "GLS" not in output and details["glossary"]["applied"] == ("राहुल" in output) + ("bhai" in output)
    assert str(tiny_nllb) in identity


def test_routes_override_from_the_command_line(tiny_nllb: Path, sample_film: Path, tmp_path: Path) -> None:
    result = cpwx("translate", str(sample_film), "-s", "en", "-t", "es", "--set", f"TRANSLATION_NLLB_MODEL={tiny_nllb}",
                  "--set", "TRANSLATION_ROUTES=en-es:apertium,*:nllb", "--set", f"CACHE_DIR={tmp_path / 'cache'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    assert manifest(job, "11_translation")["metrics"]["targets"]["es"]["engine"] == "apertium"
    rerun = cpwx("run", "--job-dir", str(job), "--set", "TRANSLATION_ROUTES=en-es:nllb", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert re.search(r"ran ([^;\n]*)", rerun.stdout).group(1) == "translation, subtitle_generation"  # type: ignore[union-attr]
    assert manifest(job, "11_translation")["metrics"]["targets"]["es"]["engine"] == "nllb"


def test_translate_workflow_with_nllb(tiny_nllb: Path, sample_film: Path, tmp_path: Path) -> None:
    result = cpwx("translate", str(sample_film), "-s", "en", "-t", "hi", "--set", f"TRANSLATION_NLLB_MODEL={tiny_nllb}",
                  "--set", f"CACHE_DIR={tmp_path / 'cache'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    details = manifest(job, "11_translation")["metrics"]["targets"]["hi"]
    assert details["engine"] == "nllb" and details["model"] == "nllb-tiny-ct2" and details["engine_calls"] == details["sentences"] > 5
    assert (job / "12_subtitle_generation" / "sample_film.hi.srt").is_file()
    # a decoding setting changes the translations: the warm cache must not answer for the old one
    rerun = cpwx("run", "--job-dir", str(job), "--set", "TRANSLATION_BEAM_SIZE=2", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    again = manifest(job, "11_translation")["metrics"]["targets"]["hi"]
    assert again["engine_calls"] == again["sentences"] and again["cache_hits"] == 0
    same = cpwx("run", "--job-dir", str(job), "--from", "translation", cwd=tmp_path)
    assert same.returncode == 0 and manifest(job, "11_translation")["metrics"]["targets"]["hi"]["cache_hits"] == again["sentences"]


def test_every_setting_an_engine_reads_is_in_its_cache_key() -> None:
    """Same rule as a stage's config hash: a setting that changes a translation is in the key."""
    from cpwhisperx.translate import ENGINES

    for name, spec in ENGINES.items():
        if spec.module is None:
            continue
        source = Path(importlib.import_module(spec.module).__file__).read_text(encoding="utf-8")  # type: ignore[arg-type]
        read = set(re.findall(r"\bsettings\.([A-Z][A-Z0-9_]+)\b", source))
        if "translation_device(" in source:
            read.add("TRANSLATION_DEVICE")
        assert read <= set(spec.result_settings), f"{name} reads {sorted(read - set(spec.result_settings))} outside its cache key"
    nllb = Settings(TRANSLATION_NLLB_MODEL="/models/nllb")
    assert model_identity("nllb", "en", "hi", nllb) != model_identity("nllb", "en", "hi", Settings(TRANSLATION_NLLB_MODEL="/models/nllb",
                                                                                                  TRANSLATION_BEAM_SIZE=1))


@pytest.mark.parametrize("target", ["bg", "hr", "sk", "lt", "af", "am", "or", "ps", "zh-Hant"])
def test_languages_beyond_the_old_table_go_to_nllb(tiny_nllb: Path, target: str) -> None:
    """NLLB's own language list decides: Bulgarian … Amharic, Odia (IndicTrans2 not configured),
    Pashto through Southern Pashto, Chinese in traditional characters."""
    settings = Settings(TARGET_LANGUAGES=[target], TRANSLATION_NLLB_MODEL=str(tiny_nllb))
    assert settings.TARGET_LANGUAGES == [target] and choose_engine("en", target, settings) == "nllb"
    engine = NllbEngine(tiny_nllb, beam_size=1)
    flores = {"bg": "bul_Cyrl", "hr": "hrv_Latn", "sk": "slk_Latn", "lt": "lit_Latn", "af": "afr_Latn", "am": "amh_Ethi",
              "or": "ory_Orya", "ps": "pbt_Arab", "zh-Hant": "zho_Hant"}[target]
    assert engine.language_token(target) == flores and engine.tokenize("good night", target)[0] == flores
    (out,) = engine.translate(["good night to you all"], "en", target)
    assert out and flores not in out


def test_a_model_without_a_language_token_does_not_serve_it(tiny_nllb: Path, tmp_path: Path) -> None:
    """The codes are checked against the model's own vocabulary, as a model of another make may lack some."""
    model = tmp_path / "nllb-without-bulgarian"
    shutil.copytree(tiny_nllb, model)
    vocabulary = model / "shared_vocabulary.json"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8").replace('"bul_Cyrl"', '"xxx_Cyrl"'), encoding="utf-8")
    settings = Settings(TRANSLATION_NLLB_MODEL=str(model), TRANSLATION_ROUTES="*:nllb")
    assert choose_engine("en", "hr", settings) == "nllb"
    with pytest.raises(ResourceMissing) as caught:
        choose_engine("en", "bg", settings)
    assert "no language token for bg" in caught.value.hint
    with pytest.raises(ResourceMissing, match="no language token for Bulgarian"):
        NllbEngine(model, beam_size=1).translate(["good night"], "en", "bg")


def test_subtitle_tracks_for_odia_and_bulgarian(tiny_nllb: Path, sample_film: Path, tmp_path: Path) -> None:
    result = cpwx("subtitle", str(sample_film), "-s", "en", "-t", "or,bg", "--set", f"TRANSLATION_NLLB_MODEL={tiny_nllb}",
                  "--set", f"CACHE_DIR={tmp_path / 'cache'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    targets = manifest(job, "11_translation")["metrics"]["targets"]
    assert targets["or"]["engine"] == targets["bg"]["engine"] == "nllb"
    tracks = manifest(job, "13_mux")["outputs"][0]["subtitle_tracks"]
    assert [(t["language"], t["title"]) for t in tracks] == [("eng", "English"), ("ori", "Odia"), ("bul", "Bulgarian")]
