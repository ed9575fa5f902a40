"""Glossary correction changes a word only with evidence that it is a misspelt name, and glossary
files are read without ever repeating their contents in a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cpwx, job_dirs

from cpwhisperx.errors import InvalidInput
from cpwhisperx.glossary import Glossary, Term, correct_transcript, load_file
from cpwhisperx.transcript import Segment, Transcript, Word

NAMES = ("Theresa", "Aditi", "Simran", "Jai", "Meow", "Will", "Rose", "Mark", "Raj", "Dev", "Priya", "Rahul", "Arjun", "Kabir",
         "Naina", "Rohan", "Anjali", "Vikram", "Meera", "Karan", "Pooja", "Amar", "Ravi", "Sunil", "Tara", "Kiran", "Grace", "Hope",
         "Sunny", "Imran")
HINDI_NAMES = ("अदिति", "सिमरन", "राज", "देव", "जय", "राहुल", "अर्जुन", "कबीर", "मीरा", "करण")
GLOSSARY = Glossary([Term(name, "name") for name in NAMES] + [Term(name, "name") for name in HINDI_NAMES]
                    + [Term("Jai", "name", ("Jay Singh",))])

ENGLISH = """There is an audit of the accounts tomorrow morning.
Audit the figures before you sign anything.
Simon will mark the papers and then we will go home.
Imran said the roses in the garden are blooming.
Will you come with me to the market on Sunday?
Rose early, as she always did, and walked to the station.
Mark my words, the river will rise before the rain stops.
Theirs was a quiet house at the end of the lane.
Karen and Nina met Tiara at the cinema near the ravine.
Hope is a good thing, maybe the best of things.
Grace was said before dinner, and the children sat down.
Sunny days are rare here in the winter months.
Marked boxes go to the cabin; the others stay with Robin.
Kiran and Maya took the train to Delhi last week.
The developer tested the application on every device.
Tarantulas are not as dangerous as people think.
Karma, they say, always comes back around.
Meanwhile the mayor opened the new bridge.
Jaipur is known as the pink city of India.
Ravens gathered on the roof of the old mill."""
HINDI = """आज राज्य के कई हिस्सों में बारिश होने की संभावना है।
देश के विकास के लिए सरकार ने नई योजना शुरू की है।
उन्होंने कहा कि जयपुर में दिन का तापमान बढ़ेगा।
मीटिंग में सभी देवताओं की पूजा के बारे में बात हुई।
राजधानी में कल से स्कूल फिर खुलेंगे और बच्चे कक्षा में लौटेंगे।
कबीरदास के दोहे आज भी पढ़ाए जाते हैं।"""


def transcript_of(lines: str, language: str) -> Transcript:
    segments = []
    for number, line in enumerate(lines.splitlines()):
        words = [Word(start=number * 10 + i * 0.3, end=number * 10 + i * 0.3 + 0.25, text=" " + w) for i, w in enumerate(line.split())]
        segments.append(Segment(id=number, start=number * 10, end=number * 10 + 9, text=line, words=words))
    return Transcript(language=language, duration=len(segments) * 10, segments=segments)


@pytest.mark.parametrize(("lines", "language"), [(ENGLISH, "en"), (HINDI, "hi")])
def test_ordinary_sentences_are_left_alone(lines: str, language: str) -> None:
    source = transcript_of(lines, language)
    fixed, corrections = correct_transcript(source, GLOSSARY)
    assert corrections == []
    assert [s.text for s in fixed.segments] == [s.text for s in source.segments]


def test_real_misspellings_and_aliases_are_still_fixed() -> None:
    line = "Thresa and Simraan met Aditee, Vikraam and Jay Singh at the station."
    fixed, corrections = correct_transcript(transcript_of(line, "en"), GLOSSARY)
    assert fixed.segments[0].text == "Theresa and Simran met Aditi, Vikram and Jai at the station."
    found = {c.found: c for c in corrections}
    assert set(found) == {"Thresa", "Simraan", "Aditee,", "Vikraam", "Jay Singh"}
    assert found["Jay Singh"].kind == "alias" and found["Jay Singh"].evidence == {"alias": "Jay Singh"}
    assert found["Thresa"].kind == "spelling" and found["Thresa"].evidence["edit_distance"] == 1
    assert found["Thresa"].evidence["zipf"]["en"] < 2
    assert found["Aditee,"].evidence["edit_distance"] == 2 and found["Aditee,"].evidence["sounds_alike"]
    fixed, corrections = correct_transcript(transcript_of("कल सिमरान और अदीति बाज़ार गए।", "hi"), GLOSSARY)
    assert fixed.segments[0].text == "कल सिमरन और अदिति बाज़ार गए।"
    assert [(c.found, c.term, c.kind) for c in corrections] == [("सिमरान", "सिमरन", "spelling"), ("अदीति", "अदिति", "spelling")]


def test_a_word_as_close_to_two_names_is_left_alone() -> None:
    glossary = Glossary([Term("Kavita", "name"), Term("Kavira", "name")])
    fixed, corrections = correct_transcript(transcript_of("Kavila came home.", "en"), glossary)
    assert corrections == [] and fixed.segments[0].text == "Kavila came home."


def test_corrections_are_logged_with_their_evidence(tmp_path: Path, short_clip: Path) -> None:
    """The LibriVox clip says "He was not an ill-disposed young man.": the alias is replaced, and a
    name one letter from "young" leaves the word alone."""
    glossary = tmp_path / "names.tsv"
    glossary.write_text("term\ttype\taliases\nYash\tname\tyoung man\nYong\tname\t\nDisposa\tname\t\n", encoding="utf-8")
    result = cpwx("transcribe", str(short_clip), "-s", "en", "--set", f"GLOSSARY_PATHS={glossary}", "--set", "GLOSSARY_ASR_BIAS=false",
                  "--set", f"CACHE_DIR={tmp_path / 'cache'}",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    corrections = json.loads((job / "06_asr" / "glossary_corrections.json").read_text(encoding="utf-8"))
    assert [(c["found"], c["term"], c["kind"], c["evidence"]) for c in corrections] == [
        ("young man.", "Yash", "alias", {"alias": "young man"})]
    text = " ".join(s["text"] for s in json.loads((job / "06_asr" / "transcript.json").read_text(encoding="utf-8"))["segments"])
    assert text.endswith("Yash.") and "Yong" not in text and "Disposa" not in text
    assert "'young man.' → 'Yash' (alias" in (job / "06_asr" / "stage.log").read_text(encoding="utf-8")


def _shadow(tmp_path: Path) -> Path:
    path = tmp_path / "shadow"
    path.write_text("root:$6$SECRETHASH$xyz:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n", encoding="utf-8")
    return path


def test_file_contents_never_appear_in_messages(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_file(_shadow(tmp_path))
    assert "no header" in str(caught.value) and "SECRETHASH" not in str(caught.value) and "root:" not in str(caught.value)
    bad_type = tmp_path / "types.tsv"
    bad_type.write_text("term\ttype\nAditi\tSECRET-VALUE\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_file(bad_type)
    assert "line 2" in str(caught.value) and "SECRET-VALUE" not in str(caught.value)
    with pytest.raises(InvalidInput, match="not a regular file"):
        load_file(Path("/dev/zero"))
    with pytest.raises(InvalidInput, match="not a regular file"):
        load_file(tmp_path)
    with pytest.raises(InvalidInput, match="does not exist"):
        load_file(tmp_path / "absent.tsv")
    binary = tmp_path / "binary.tsv"
    binary.write_bytes(b"term\ttype\n\xff\xfe\x00SECRET\n")
    with pytest.raises(InvalidInput) as caught:
        load_file(binary)
    assert "UTF-8" in str(caught.value) and "SECRET" not in str(caught.value)


def test_a_run_never_copies_a_file_into_its_records(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("transcribe", str(short_clip), "--set", f"GLOSSARY_PATHS={_shadow(tmp_path)}", "--set", "WHISPER_MODEL=tiny.en",
                  cwd=tmp_path)
    assert result.returncode == 2 and "stage 'glossary_load' failed" in result.stderr
    (job,) = job_dirs(tmp_path)
    for text in [result.stdout, result.stderr] + [p.read_text(encoding="utf-8", errors="replace") for p in job.rglob("*") if p.is_file()]:
        assert "SECRETHASH" not in text
