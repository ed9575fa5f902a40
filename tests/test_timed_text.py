"""TTML (IMSC 1.1 Text Profile) and EBU-TT-D files: valid against the published schemas, and read
back to the same cues."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from cpwhisperx.layout import Cue
from cpwhisperx.subtitles import subtitle_file_name, write_subtitles

DATA = Path(__file__).parent / "data"
TTML = "{http://www.w3.org/ns/ttml}"
XML = "{http://www.w3.org/XML/1998/namespace}"
CLOCK = re.compile(r"\d\d:\d\d:\d\d\.\d\d\d")

CUES = [
    Cue(0.5, 2.75, ["The night train leaves", "at ten past nine."]),
    Cue(3.0, 5.24, ["oh river, carry me home"], lyrics=True),
    Cue(61.08, 63.0, ["<Ahmed> & \"Rosa\" — 5 > 3"]),
    Cue(3725.33, 3727.5, ["नमस्ते, दोस्त"]),
]


@cache
def imsc_schema():  # type: ignore[no-untyped-def]
    """TTML2's schemas (W3C) with IMSC's extension namespaces: the vocabulary an IMSC 1.1 Text
    document is written in."""
    import xmlschema

    imsc = DATA / "imsc" / "imsc1"
    return xmlschema.XMLSchema(str(DATA / "imsc" / "ttml2" / "ttml2.xsd"), locations=[
        ("http://www.w3.org/ns/ttml/profile/imsc1#styling", str(imsc / "imsc1-styling.xsd")),
        ("http://www.w3.org/ns/ttml/profile/imsc1#parameter", str(imsc / "imsc1-parameters.xsd")),
        ("http://www.w3.org/ns/ttml/profile/imsc1#metadata", str(imsc / "imsc1-metadata.xsd"))])


@cache
def ebu_tt_d_schema():  # type: ignore[no-untyped-def]
    import xmlschema

    return xmlschema.XMLSchema(str(DATA / "ebu-tt-d" / "ebutt_d.xsd"))


def written(tmp_path: Path, fmt: str, cues: list[Cue] = CUES, language: str = "en") -> Path:
    path = tmp_path / subtitle_file_name("film", language, fmt)
    write_subtitles(cues, path, fmt, language)
    return path


def read_back(path: Path) -> list[tuple[float, float, list[str]]]:
    """Every paragraph as ttconv's IMSC reader models it: its times and its lines (split at <br/>)."""
    import ttconv.imsc.reader as reader
    import ttconv.model as model

    doc = reader.to_model(ET.parse(path))
    paragraphs = []
    for element in doc.get_body().dfs_iterator():
        if not isinstance(element, model.P):
            continue
        lines = [""]
        for node in element.dfs_iterator():
            if isinstance(node, model.Br):
                lines.append("")
            elif isinstance(node, model.Text):
                lines[-1] += node.get_text()
        paragraphs.append((float(element.get_begin()), float(element.get_end()), lines))
    return paragraphs


def test_file_names_of_the_timed_text_formats() -> None:
    assert subtitle_file_name("film", "en", "ttml") == "film.en.ttml"
    assert subtitle_file_name("film", "en", "ebu-tt-d") == "film.en.ebu-tt-d.xml"
    assert subtitle_file_name("film", "hi", "srt", "sdh") == "film.hi.sdh.srt"


def test_ttml_is_valid_imsc_1_1_text(tmp_path: Path) -> None:
    from ttconv.filters.doc.imsc11text import IMSC11TextFilter
    import ttconv.imsc.reader as reader

    path = written(tmp_path, "ttml")
    imsc_schema().validate(str(path))
    root = ET.parse(path).getroot()
    assert root.get(f"{XML}lang") == "en"
    assert root.get("{http://www.w3.org/ns/ttml#parameter}contentProfiles") == "http://www.w3.org/ns/ttml/profile/imsc1.1/text"
    assert root.get("{http://www.w3.org/ns/ttml#parameter}timeBase") == "media"
    (region,) = root.iter(f"{TTML}region")
    styling = "{http://www.w3.org/ns/ttml#styling}"
    assert (region.get(f"{styling}origin"), region.get(f"{styling}extent")) == ("10% 10%", "80% 80%")
    paragraphs = list(root.iter(f"{TTML}p"))
    assert all(CLOCK.fullmatch(p.get("begin")) and CLOCK.fullmatch(p.get("end")) for p in paragraphs)
    assert [p.get("begin") for p in paragraphs] == ["00:00:00.500", "00:00:03.000", "00:01:01.080", "01:02:05.330"]
    assert len(paragraphs[0].findall(f"{TTML}br")) == 1
    assert paragraphs[1].get("{http://www.w3.org/ns/ttml#styling}fontStyle") == "italic"
    assert all(p.get("{http://www.w3.org/ns/ttml#styling}textAlign") == "center" for p in paragraphs)
    # Read again, the document still keeps every constraint of the profile the schema cannot express.
    IMSC11TextFilter().process(reader.to_model(ET.parse(path)))


def test_the_schema_check_catches_what_imsc_forbids(tmp_path: Path) -> None:
    """The vendored schemas do their work: a document with a made-up style value fails."""
    import xmlschema

    path = written(tmp_path, "ttml")
    text = path.read_text(encoding="utf-8").replace('tts:fontStyle="italic"', 'tts:fontStyle="bold"')
    broken = tmp_path / "broken.ttml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        imsc_schema().validate(str(broken))


def test_ebu_tt_d_is_valid_against_the_ebu_schema(tmp_path: Path) -> None:
    path = written(tmp_path, "ebu-tt-d", language="hi")
    ebu_tt_d_schema().validate(str(path))
    root = ET.parse(path).getroot()
    assert root.get(f"{XML}lang") == "hi"
    assert root.get("{http://www.w3.org/ns/ttml#parameter}timeBase") == "media"
    assert root.get("{http://www.w3.org/ns/ttml#parameter}cellResolution") == "32 15"
    assert root.find(f"{TTML}head/{TTML}metadata/{{urn:ebu:tt:metadata}}documentMetadata/{{urn:ebu:tt:metadata}}conformsToStandard").text \
        == "urn:ebu:tt:distribution:2014-01"
    assert [p.get("style") for p in root.iter(f"{TTML}p")] == [None, "lyrics", None, None]


@pytest.mark.parametrize("fmt", ["ttml", "ebu-tt-d"])
def test_cues_read_back_unchanged(tmp_path: Path, fmt: str) -> None:
    paragraphs = read_back(written(tmp_path, fmt))
    assert paragraphs == [(c.start, c.end, c.display_lines) for c in CUES]


@pytest.mark.parametrize("fmt", ["ttml", "ebu-tt-d"])
def test_an_empty_file_is_still_valid(tmp_path: Path, fmt: str) -> None:
    path = written(tmp_path, fmt, cues=[])
    (imsc_schema() if fmt == "ttml" else ebu_tt_d_schema()).validate(str(path))
