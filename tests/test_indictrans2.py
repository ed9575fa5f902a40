"""The IndicTrans2 engine's real path (transformers Auto classes, IndicProcessor pre- and
post-processing, batches, order, the three direction folders, glossary protection) on tiny
random-weight models the test builds. AI4Bharat's own model code cannot be fetched here, so the
models are the architecture IndicTrans2 follows with a plain word-level tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("IndicTransToolkit", reason="the indictrans2 engine needs the testmodels extra")

from indictrans2_tiny import build_tiny_indictrans2  # noqa: E402

from cpwhisperx.cache import ResultCache  # noqa: E402
from cpwhisperx.config import Settings  # noqa: E402
from cpwhisperx.glossary import Glossary, Term  # noqa: E402
from cpwhisperx.scripts import letter_scripts  # noqa: E402
from cpwhisperx.transcript import Segment, Transcript  # noqa: E402
from cpwhisperx.translate import choose_engine, load_engine, model_identity  # noqa: E402
from cpwhisperx.translate.indictrans2 import IndicTrans2Engine  # noqa: E402
from cpwhisperx.translate.text import translate_transcript  # noqa: E402

HINDI = ["राहुल बाज़ार गया।", "यह घर बहुत पुराना है।", "भाई ने कहा कि हम कल सुबह चलेंगे।"]


@pytest.fixture(scope="module")
def tiny_indictrans2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_indictrans2(tmp_path_factory.mktemp("indictrans2"))


class RecordingIndicTrans2(IndicTrans2Engine):
    def __init__(self, root: Path) -> None:
        super().__init__(root, "cpu", beam_size=1, batch_size=2)
        self.sent: list[str] = []

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.sent += texts
        return super().translate(texts, source, target)


def test_batches_order_and_directions(tiny_indictrans2: Path) -> None:
    engine = IndicTrans2Engine(tiny_indictrans2, "cpu", beam_size=1, batch_size=2)
    batch = engine.translate(HINDI, "hi", "en")  # two batches of at most 2
    assert engine.model.endswith("/indic-en") and engine.version.startswith("transformers")
    assert len(batch) == 3 and len(set(batch)) >= 2  # outputs depend on the input, so the order check means something
    assert engine.translate(HINDI[::-1], "hi", "en") == batch[::-1]
    assert all(out and "eng_Latn" not in out and "hin_Deva" not in out for out in batch)
    gujarati = engine.translate(["Rahul went to the market."], "en", "gu")[0]
    assert engine.model.endswith("/en-indic")
    # the model writes Devanagari for every Indic language; IndicProcessor's post-processing moves it to Gujarati
    assert set(letter_scripts(gujarati)) == {"Gujarati"}, gujarati
    engine.translate(["राहुल बाज़ार गया।"], "hi", "ta")
    assert engine.model.endswith("/indic-indic")


def test_routing_loading_and_glossary_protection(tiny_indictrans2: Path, tmp_path: Path) -> None:
    settings = Settings(TRANSLATION_INDICTRANS2_MODEL=str(tiny_indictrans2))
    assert choose_engine("hi", "en", settings) == "indictrans2"
    assert choose_engine("en", "ta", settings) == "indictrans2"
    assert isinstance(load_engine("indictrans2", settings), IndicTrans2Engine)
    engine = RecordingIndicTrans2(tiny_indictrans2)
    source = Transcript(language="hi", duration=6, segments=[
        Segment(id=0, start=0.0, end=2.0, text="Rahul ने अपने"), Segment(id=1, start=2.2, end=4.0, text="भाई से कहा।")])
    glossary = Glossary([Term("Rahul", "name"), Term("भाई", "kinship", (), {"en": "bhai"})])
    identity = model_identity("indictrans2", "hi", "en", settings)
    translated, details = translate_transcript(source, "en", "indictrans2", lambda: engine, glossary, ResultCache(tmp_path, "t"), identity)
    assert engine.sent == ["GLS0 ने अपने GLS1 से कहा।"]
    assert details["engine"] == "indictrans2" and details["engine_calls"] == 1 and details["glossary"]["expected"] == 2
    assert details["model"].endswith("/indic-en") and str(tiny_indictrans2) in details["identity"]
    assert translated.segments and all(0.0 <= s.start and s.end <= 4.0 for s in translated.segments)


def test_odia_and_the_other_scheduled_languages(tiny_indictrans2: Path) -> None:
    """Odia (and every scheduled language IndicTrans2 lists) is routed to it, in its own script."""
    settings = Settings(TARGET_LANGUAGES=["or", "mai", "sat"], TRANSLATION_INDICTRANS2_MODEL=str(tiny_indictrans2))
    assert [choose_engine("en", target, settings) for target in settings.TARGET_LANGUAGES] == ["indictrans2"] * 3
    assert choose_engine("hi", "or", settings) == "indictrans2"
    engine = IndicTrans2Engine(tiny_indictrans2, "cpu", beam_size=1, batch_size=2)
    odia = engine.translate(["Rahul went to the market."], "en", "or")[0]
    assert engine.model.endswith("/en-indic") and set(letter_scripts(odia)) == {"Oriya"}, odia
    assert len(engine.translate(["राहुल बाज़ार गया।"], "hi", "or")) == 1 and engine.model.endswith("/indic-indic")
