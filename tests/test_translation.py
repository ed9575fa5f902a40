"""The translate workflow: engines and routing, sentence units, glossary, cache, tracks per language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REPO, cpwx, job_dirs, manifest, remeasured

from cpwhisperx.cache import ResultCache
from cpwhisperx.compliance import facts_from_file, measure
from cpwhisperx.config import Settings
from cpwhisperx.errors import ResourceMissing
from cpwhisperx.glossary import Glossary, Term, correct_transcript
from cpwhisperx.layout import LayoutRules
from cpwhisperx.transcript import Segment, Transcript, Word
from cpwhisperx.translate import choose_engine, model_identity, parse_routes
from cpwhisperx.translate.apertium import ApertiumEngine
from cpwhisperx.translate.text import translate_transcript

HINDI_CLIPS = REPO / "tests" / "data" / "hindi"
APERTIUM = model_identity("apertium", "en", "es", Settings())


class CountingApertium(ApertiumEngine):
    """The real Apertium engine, counting what it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.sent += texts
        return super().translate(texts, source, target)


def test_routing_picks_installed_engines_and_explains_missing() -> None:
    settings = Settings()
    assert choose_engine("en", "es", settings) == "apertium"
    assert choose_engine("en", "pt", settings) == "bergamot"
    assert choose_engine("hi", "en", settings) == "whisper"
    with pytest.raises(ResourceMissing) as caught:
        choose_engine("en", "ta", settings)
    assert "indictrans2" in caught.value.hint and "nllb" in caught.value.hint
    custom = Settings(TRANSLATION_ROUTES="hi-en:whisper,*:apertium")
    assert [r.pattern for r in parse_routes(custom.TRANSLATION_ROUTES)] == ["hi-en", "*-*"]
    with pytest.raises(ValueError):
        parse_routes("hi-en:babelfish")


def test_routes_and_targets_take_every_language_an_engine_serves() -> None:
    """Odia and Bulgarian are languages NLLB (and IndicTrans2) serve: valid targets and route sides;
    with no engine installed for them the run stops with exit 3 naming the engines that would."""
    settings = Settings(TARGET_LANGUAGES=["or", "bg", "ZH_hant"], TRANSLATION_ROUTES="en-or:indictrans2,en-zh:nllb,*:apertium")
    assert settings.TARGET_LANGUAGES == ["or", "bg", "zh-Hant"]
    routes = parse_routes(settings.TRANSLATION_ROUTES)
    assert routes[0].matches("en", "or") and routes[1].matches("en", "zh-Hant") and not routes[1].matches("en", "yue")
    with pytest.raises(ResourceMissing) as caught:
        choose_engine("en", "or", Settings())
    assert "no translation engine is installed for en→or" in caught.value.message
    assert "indictrans2" in caught.value.hint and "nllb" in caught.value.hint
    for bad in ("en-xx:nllb", "en-zh-Hant:nllb"):
        with pytest.raises(ValueError, match="is not a language pair"):
            parse_routes(bad)


def test_glossary_columns_of_any_target_language(tmp_path: Path) -> None:
    from cpwhisperx.glossary import load_file

    path = tmp_path / "terms.tsv"
    path.write_text("term\ttype\taliases\tor\tbg\tzh-Hant\tnotes\nbhai\tkinship\t\tଭାଇ\tбрат\t兄弟\tbrother\n", encoding="utf-8")
    (term,) = load_file(path).terms
    assert term.renderings == {"or": "ଭାଇ", "bg": "брат", "zh-Hant": "兄弟"}


@pytest.mark.parametrize(("target", "engine", "expected_word"), [("es", "apertium", "joven"), ("pt", "bergamot", "jovem")])
def test_translate_sample_film(sample_film: Path, tmp_path: Path, target: str, engine: str, expected_word: str) -> None:
    result = cpwx("translate", str(sample_film), "-s", "en", "-t", target, "--set", f"CACHE_DIR={tmp_path / 'cache'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    details = manifest(job, "11_translation")["metrics"]["targets"][target]
    assert details["engine"] == engine and details["model"] and details["version"]
    out = job / "12_subtitle_generation"
    for ext in ("txt", "json", "srt", "vtt"):
        assert (out / f"sample_film.{target}.{ext}").is_file()
    text = (out / f"sample_film.{target}.txt").read_text(encoding="utf-8").lower()
    assert expected_word in text and "dashwood" in text


def test_whisper_translates_hindi_speech(tmp_path: Path) -> None:
    clip = HINDI_CLIPS / "noa_bhopal_20193420147_sent_22.wav"
    glossary = tmp_path / "names.tsv"
    glossary.write_text("term\ttype\taliases\ten\nPakistan\tname\tपाकिस्तान|Pakisthan\t\n", encoding="utf-8")
    result = cpwx("translate", str(clip), "-t", "en", "--set", f"GLOSSARY_PATHS={glossary}", "--set", f"CACHE_DIR={tmp_path / 'cache'}",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    details = manifest(job, "11_translation")["metrics"]["targets"]["en"]
    assert details["engine"] == "whisper"
    english = (job / "12_subtitle_generation" / f"{clip.stem}.en.txt").read_text(encoding="utf-8")
    assert "Pakistan" in english and re.fullmatch(r"[\x00-\x7f\s]+", english)
    # the Hindi transcript's पाकिस्तान became the term, and the English keeps it: counted, not assumed
    hindi = (job / "12_subtitle_generation" / f"{clip.stem}.hi.txt").read_text(encoding="utf-8")
    assert details["glossary"]["expected"] == hindi.count("Pakistan") >= 1
    assert details["glossary"]["applied"] == min(hindi.count("Pakistan"), english.count("Pakistan"))
    translation_log = (job / "11_translation" / "stage.log").read_text(encoding="utf-8")
    assert "Pakistan" in translation_log  # hotword of the translate task
    assert "translating the speech into English (Whisper): done" in translation_log


def test_no_correction_on_whisper_english_when_turned_off(tmp_path: Path) -> None:
    clip = HINDI_CLIPS / "noa_bhopal_20193420147_sent_22.wav"
    glossary = tmp_path / "names.tsv"
    glossary.write_text("term\ttype\taliases\nPakland\tname\tPakistan\n", encoding="utf-8")
    result = cpwx("translate", str(clip), "-t", "en", "--set", f"GLOSSARY_PATHS={glossary}", "--set", "GLOSSARY_CORRECT_ASR=false",
                  "--set", "GLOSSARY_ASR_BIAS=false", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    english = (job / "12_subtitle_generation" / f"{clip.stem}.en.txt").read_text(encoding="utf-8")
    assert "Pakistan" in english and "Pakland" not in english
    assert manifest(job, "11_translation")["metrics"]["targets"]["en"]["glossary_corrections"] == 0


def test_english_from_whisper_gets_the_glossary_renderings() -> None:
    from cpwhisperx.stages.translation import render_terms

    glossary = Glossary([Term("bhai", "kinship", ("bhaiya",), {"en": "brother"}), Term("Rahul", "name")])
    segment = Segment(id=0, start=0.0, end=2.0, text="Bhai, Rahul is here.", words=[Word(start=0.0, end=0.5, text=" Bhai,")])
    rendered = render_terms(segment, glossary)
    assert rendered.text == "brother, Rahul is here." and rendered.words == []
    untouched = Segment(id=1, start=2.0, end=3.0, text="Nothing to change.", words=[Word(start=2.0, end=3.0, text=" Nothing")])
    assert render_terms(untouched, glossary) is untouched


def test_subtitle_with_two_targets(sample_film: Path, tmp_path: Path) -> None:
    result = cpwx("subtitle", str(sample_film), "-s", "en", "-t", "es,pt", "--set", f"CACHE_DIR={tmp_path / 'cache'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    import subprocess

    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                                       str(job / "13_mux" / "sample_film_subtitled.mkv")], capture_output=True, text=True, check=True).stdout)
    subs = [s for s in probe["streams"] if s["codec_type"] == "subtitle"]
    assert [s["tags"]["language"] for s in subs] == ["eng", "spa", "por"]
    assert [s["disposition"]["default"] for s in subs] == [0, 1, 0]
    compliance = manifest(job, "12_subtitle_generation")["metrics"]["compliance"]
    for lang in ("en", "es", "pt"):
        assert compliance[lang]["all_within"], compliance[lang]
        assert remeasured(job / "12_subtitle_generation" / f"sample_film.{lang}.srt", lang)["all_within"]
    # the progress of each long step is in its stage log: what, how far, done
    sentences = manifest(job, "11_translation")["metrics"]["targets"]["es"]["sentences"]
    translation_log = (job / "11_translation" / "stage.log").read_text(encoding="utf-8")
    assert f"translating en→es (apertium): 100% ({sentences}/{sentences} sentences)" in translation_log
    assert "translating en→pt (bergamot): done" in translation_log
    mux_log = (job / "13_mux" / "stage.log").read_text(encoding="utf-8")
    assert re.search(r"writing sample_film_subtitled\.mkv: \d+% \([\d.]+/62\.\d s\)", mux_log), mux_log
    assert "writing sample_film_subtitled.mkv: done" in mux_log

    # Changing the target languages re-runs translation, subtitles and mux only.
    changed = cpwx("run", "--job-dir", str(job), "--set", "TARGET_LANGUAGES=pt", cwd=tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert "ran translation, subtitle_generation, mux;" in changed.stdout
    assert manifest(job, "11_translation")["metrics"]["targets"]["pt"]["cache_hits"] > 0
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                                       str(job / "13_mux" / "sample_film_subtitled.mkv")], capture_output=True, text=True, check=True).stdout)
    assert [s["tags"]["language"] for s in probe["streams"] if s["codec_type"] == "subtitle"] == ["eng", "por"]
    assert json.loads((job / "job.json").read_text())["target_languages"] == ["pt"]


def two_segment_sentence() -> Transcript:
    return Transcript(language="en", duration=10, segments=[
        Segment(id=0, start=1.0, end=3.0, text="The old man told his young son"),
        Segment(id=1, start=3.2, end=5.5, text="that the house was very cold."),
        Segment(id=2, start=6.0, end=7.5, text="Good night."),
    ])


def test_sentence_over_two_segments_is_sent_once(tmp_path: Path) -> None:
    engine = CountingApertium()
    cache = ResultCache(tmp_path, "translations", enabled=True)
    translated, details = translate_transcript(two_segment_sentence(), "es", "apertium", lambda: engine, Glossary(), cache, APERTIUM)
    assert engine.sent == ["The old man told his young son that the house was very cold.", "Good night."]
    first, second, third = translated.segments
    assert first.text and second.text and third.text == "Noche buena."
    whole = f"{first.text} {second.text}"
    assert "viejo" in whole and "casa" in whole and whole.endswith(".")
    assert (first.start, first.end, second.start, second.end) == (1.0, 3.0, 3.2, 5.5)
    assert details["engine_calls"] == 2
    # The target cues of that sentence lie in its source span: the words' time (speech) inside it, and
    # what is shown starts no earlier than SUBTITLE_MAX_LEAD before it and no later than MAX_DELAY after its speech.
    from cpwhisperx.layout import layout

    rules = LayoutRules()
    cues = layout(translated, rules)
    assert " ".join(c.text for c in cues) == f"{whole} {third.text}"
    for cue in cues:
        assert 1.0 <= cue.speech_start < cue.speech_end <= 7.5
        assert 1.0 - rules.max_lead <= cue.start <= cue.speech_start + rules.max_delay + 0.01


def test_cache_serves_repeats_and_glossary_change_retranslates(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "translations", enabled=True)
    glossary = Glossary([Term("house", "cultural", (), {"es": "haveli"})])
    engine = CountingApertium()
    translate_transcript(two_segment_sentence(), "es", "apertium", lambda: engine, glossary, cache, APERTIUM)
    assert len(engine.sent) == 2
    again = CountingApertium()
    translated, details = translate_transcript(two_segment_sentence(), "es", "apertium", lambda: again, glossary, cache, APERTIUM)
    assert again.sent == [] and details["engine_calls"] == 0 and details["cache_hits"] == 2
    assert "haveli" in " ".join(s.text for s in translated.segments)
    changed = Glossary([Term("house", "cultural", (), {"es": "mansión"})])
    third = CountingApertium()
    translated, details = translate_transcript(two_segment_sentence(), "es", "apertium", lambda: third, changed, cache, APERTIUM)
    assert len(third.sent) == 1 and "GLS0" in third.sent[0]  # only the sentence with the term
    assert "mansión" in " ".join(s.text for s in translated.segments)


def test_another_model_is_a_cache_miss(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "translations", enabled=True)
    translate_transcript(two_segment_sentence(), "es", "apertium", CountingApertium, Glossary(), cache, APERTIUM)
    engine = CountingApertium()
    _, details = translate_transcript(two_segment_sentence(), "es", "apertium", lambda: engine, Glossary(), cache, APERTIUM + " (updated)")
    assert len(engine.sent) == 2 and details["cache_hits"] == 0
    _, details = translate_transcript(two_segment_sentence(), "es", "apertium", CountingApertium, Glossary(), cache, APERTIUM)
    assert details["cache_hits"] == 2 and details["model"] == "apertium eng-spa" and details["version"] != "unknown"


def test_translations_are_shared_between_words_and_keep_renderings_whole(tmp_path: Path) -> None:
    """A one-word translation of a two-segment sentence stays whole, and a rendering of several
    words is never split between two cues."""
    from cpwhisperx.translate.sentences import build_sentences, distribute

    assert distribute("Gracias.", [(0, 6), (1, 6)]) == [(0, "Gracias."), (1, "")]
    assert distribute("谢谢你们的帮助", [(0, 5), (1, 5)]) == [(0, "谢谢你们"), (1, "的帮助")]
    source = Transcript(language="en", duration=6, segments=[
        Segment(id=0, start=0.0, end=1.5, text="Then the young"), Segment(id=1, start=1.6, end=3.0, text="man left.")])
    glossary = Glossary([Term("young man", "cultural", (), {"es": "joven caballero de la casa"})])
    translated, details = translate_transcript(source, "es", "apertium", CountingApertium, glossary,
                                               ResultCache(tmp_path, "t"), APERTIUM)
    assert sum("joven caballero de la casa" in s.text for s in translated.segments) == 1
    assert details["glossary"] == {"expected": 1, "applied": 1, "rate": 1.0}
    titled = [Segment(id=0, start=0, end=2, text="I met Mr."), Segment(id=1, start=2.1, end=4, text="Dashwood. He was kind.")]
    assert [s.text for s in build_sentences(titled)] == ["I met Mr. Dashwood.", "He was kind."]


def test_corrupt_cache_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "translations", enabled=True)
    translate_transcript(two_segment_sentence(), "es", "apertium", CountingApertium, Glossary(), cache, APERTIUM)
    entries = sorted((tmp_path / "translations").rglob("*.json"))
    assert len(entries) == 2
    tampered = json.loads(entries[0].read_text())
    tampered["payload"]["raw"] = "wrong words"
    entries[0].write_text(json.dumps(tampered))
    entries[1].write_text(entries[1].read_text()[:20])  # cut short
    engine = CountingApertium()
    translated, _ = translate_transcript(two_segment_sentence(), "es", "apertium", lambda: engine, Glossary(), cache, APERTIUM)
    assert len(engine.sent) == 2 and cache.corrupt == 2
    assert translated.segments[2].text == "Noche buena."


def test_a_cache_that_cannot_be_written_is_a_warning(sample_film: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be\n")
    result = cpwx("translate", str(sample_film), "-s", "en", "-t", "es", "--set", f"CACHE_DIR={blocker / 'cache'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "cannot be written" in result.stderr
    (job,) = job_dirs(tmp_path)
    data = manifest(job, "11_translation")
    assert data["status"] == "success" and any("cannot be written" in w for w in data["warnings"])
    assert data["cache"]["writable"] is False and data["metrics"]["targets"]["es"]["engine_calls"] > 5
    assert "Señor John Dashwood" in (job / "12_subtitle_generation" / "sample_film.es.txt").read_text(encoding="utf-8")


def test_alias_and_misspelling_correction() -> None:
    glossary = Glossary([Term("Rahul", "name", ("Raahul", "राहुल")), Term("Anjali Sharma", "name", ("Anjli Sharma",)),
                         Term("bhai", "kinship")])
    words = [" Raahul,", " meet", " Anjli", " Sharma", " and", " Rahool", " bhai", " राहुल."]
    t = Transcript(language="en", duration=9, segments=[Segment(
        id=0, start=0, end=8, text="".join(words).strip(), words=[Word(start=i, end=i + 0.9, text=w) for i, w in enumerate(words)])])
    fixed, corrections = correct_transcript(t, glossary)
    assert fixed.segments[0].text == "Rahul, meet Anjali Sharma and Rahul bhai Rahul."
    assert [(c.found, c.term, c.kind) for c in corrections] == [
        ("Raahul,", "Rahul", "alias"), ("Anjli Sharma", "Anjali Sharma", "alias"), ("Rahool", "Rahul", "spelling"), ("राहुल.", "Rahul", "alias")]
    assert corrections[2].evidence["edit_distance"] == 2 and "metaphone" in corrections[2].evidence["sounds_alike"]
    anjali = fixed.segments[0].words[2]
    assert (anjali.start, anjali.end) == (2, 3.9)


def test_glossary_end_to_end(sample_film: Path, tmp_path: Path) -> None:
    glossary = tmp_path / "film glossary.tsv"
    glossary.write_text("term\ttype\taliases\tes\tpt\n"
                        "Dashwud\tname\tDashwood\t\t\n"
                        "young man\tcultural\t\tjoven caballero\tjovem senhor\n"
                        "amiable\tcultural\t\tamable\t\n", encoding="utf-8")
    result = cpwx("subtitle", str(sample_film), "-s", "en", "-t", "es", "--set", f"GLOSSARY_PATHS={glossary}",
                  "--set", f"CACHE_DIR={tmp_path / 'cache'}", "--set", "GLOSSARY_ASR_BIAS=false", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    corrections = json.loads((job / "06_asr" / "glossary_corrections.json").read_text())
    assert [c["term"] for c in corrections] == ["Dashwud"] and corrections[0]["found"].startswith("Dashwood")
    english = (job / "12_subtitle_generation" / "sample_film.en.txt").read_text(encoding="utf-8")
    spanish = (job / "12_subtitle_generation" / "sample_film.es.txt").read_text(encoding="utf-8")
    assert "Dashwud" in english and "Dashwood" not in english
    expected = english.count("Dashwud") + english.count("young man") + english.count("amiable")
    found = (min(spanish.count("Dashwud"), english.count("Dashwud")) + min(spanish.count("joven caballero"), english.count("young man"))
             + min(spanish.count("amable"), english.count("amiable")))
    assert expected >= 4 and found == expected
    rate = manifest(job, "11_translation")["metrics"]["targets"]["es"]["glossary"]
    assert rate["expected"] == expected and rate["applied"] == found and rate["rate"] == 1.0

    again = cpwx("run", "--job-dir", str(job), "--from", "translation", cwd=tmp_path)
    assert again.returncode == 0
    assert manifest(job, "11_translation")["metrics"]["targets"]["es"]["engine_calls"] == 0

    # With the names given to Whisper as hotwords it writes the glossary spelling itself.
    biased = cpwx("run", "--job-dir", str(job), "--set", "GLOSSARY_ASR_BIAS=true", cwd=tmp_path)
    assert biased.returncode == 0, biased.stderr
    assert "glossary hotwords: Dashwud" in (job / "06_asr" / "stage.log").read_text(encoding="utf-8")
    assert "Dashwud" in (job / "12_subtitle_generation" / "sample_film.en.txt").read_text(encoding="utf-8")


def test_names_are_protected_only_as_written() -> None:
    from cpwhisperx.glossary import protect

    glossary = Glossary([Term("Will", "name", (), {"es": "Guillermo"}), Term("bhai", "kinship", (), {"es": "hermano"})])
    text, renderings = protect("Will said he will call his Bhai.", glossary, "es")
    assert text == "GLS0 said he will call his GLS1." and renderings == ["Guillermo", "hermano"]


class Phrasebook:
    """A translation engine that knows a few sentences: no engine into or out of Chinese runs on
    these machines, and these tests are about how sentences are cut and shared, not the engine."""

    name = model = "phrasebook"
    version = "1"

    def __init__(self, book: dict[str, str]) -> None:
        self.book = book
        self.sent: list[str] = []

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.sent += texts
        return [self.book[text] for text in texts]


def test_chinese_sentences_are_cut_at_full_stops_and_joined_without_spaces(tmp_path: Path) -> None:
    source = Transcript(language="zh", duration=4, segments=[Segment(id=0, start=0.0, end=2.0, text="我们今天去北京。天气很好，"),
                                                            Segment(id=1, start=2.1, end=3.0, text="我们很高兴。")])
    engine = Phrasebook({"我们今天去北京。": "We are going to Beijing today.", "天气很好，我们很高兴。": "The weather is fine, and we are happy."})
    translated, _ = translate_transcript(source, "en", "phrasebook", lambda: engine, Glossary(), ResultCache(tmp_path, "zh"), "phrasebook")
    assert engine.sent == ["我们今天去北京。", "天气很好，我们很高兴。"]
    assert " ".join(s.text for s in translated.segments) == "We are going to Beijing today. The weather is fine, and we are happy."
    english = Transcript(language="en", duration=4, segments=[
        Segment(id=0, start=0.0, end=2.0, text="We are going to Beijing today. The weather is fine,"),
        Segment(id=1, start=2.1, end=3.0, text="and we are happy.")])
    back = Phrasebook({v: k for k, v in engine.book.items()})
    translated, _ = translate_transcript(english, "zh", "phrasebook", lambda: back, Glossary(), ResultCache(tmp_path, "en"), "phrasebook")
    assert "".join(s.text for s in translated.segments) == "我们今天去北京。天气很好，我们很高兴。"
    assert all(" " not in s.text for s in translated.segments), [s.text for s in translated.segments]
    # a share never begins with the full stop of the one before; a full stop inside a quotation ends no sentence
    from cpwhisperx.translate.sentences import build_sentences, distribute

    assert distribute("谢谢。你们的帮助", [(0, 2), (1, 6)]) == [(0, "谢谢。"), (1, "你们的帮助")]
    quoted = [Segment(id=0, start=0, end=2, text="「はい。」と彼は言った。それから"), Segment(id=1, start=2.1, end=3, text="帰った。")]
    assert [s.text for s in build_sentences(quoted, "ja")] == ["「はい。」と彼は言った。", "それから帰った。"]
