"""Cues as Timed Text deliveries: TTML in the IMSC 1.1 Text Profile (W3C) and EBU-TT-D (EBU Tech 3380).

IMSC is written from ttconv's timed-text model by ttconv's IMSC writer, the profile signalled in
`ttp:contentProfiles`; the tests check the files with ttconv's IMSC 1.1 Text Profile filter, which
is too slow to run on every film (it builds each intermediate document; minutes for a feature).
EBU-TT-D, which ttconv does not write, is built here element by element.

Both carry the same presentation: one region over the lower 80 % of the picture inside a 10 %
safe area, the text bottom-aligned and centred, white on a translucent black box, lines broken with
`<br/>` where the layout broke them, song lyrics in italics. Times are media time in milliseconds
(`HH:MM:SS.mmm`): the cues are timed to the audio, not to frames, so no frame rate is declared.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from cpwhisperx.layout import Cue

# Subtitle format → file extension (the other formats are their own extension).
EXTENSIONS: dict[str, str] = {"ttml": "ttml", "ebu-tt-d": "ebu-tt-d.xml"}
TIMED_TEXT_FORMATS = tuple(EXTENSIONS)

TTML = "http://www.w3.org/ns/ttml"
TTP = "http://www.w3.org/ns/ttml#parameter"
TTS = "http://www.w3.org/ns/ttml#styling"
EBUTTM = "urn:ebu:tt:metadata"
EBUTTS = "urn:ebu:tt:style"
EBU_TT_D_STANDARD = "urn:ebu:tt:distribution:2014-01"
IMSC_11_TEXT = "http://www.w3.org/ns/ttml/profile/imsc1.1/text"

# The region and colours of both formats, in the units both accept (percentages, hex RGBA).
REGION_ORIGIN = (10.0, 10.0)  # x, y in % of the picture
REGION_EXTENT = (80.0, 80.0)  # width, height in % of the picture
TEXT_COLOR = (255, 255, 255, 255)
BOX_COLOR = (0, 0, 0, 194)


def file_extension(fmt: str) -> str:
    return EXTENSIONS.get(fmt, fmt)


def clock_time(seconds: float) -> str:
    """HH:MM:SS.mmm, the clock-time form both IMSC and EBU-TT-D read as media time."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _percentages(pair: tuple[float, float]) -> str:
    return " ".join(f"{value:g}%" for value in pair)


def _hex(rgba: tuple[int, int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgba)


# --- IMSC 1.1 Text Profile (ttconv) -----------------------------------------------------------

def imsc_document(cues: list[Cue], language: str):  # type: ignore[no-untyped-def]
    """The cues as a ttconv ContentDocument in the IMSC 1.1 Text Profile."""
    import ttconv.model as model
    import ttconv.style_properties as styles

    pct = styles.LengthType.Units.pct
    doc = model.ContentDocument()
    doc.set_lang(language)
    region = model.Region("bottom", doc)
    region.set_style(styles.StyleProperties.Origin, styles.CoordinateType(
        x=styles.LengthType(REGION_ORIGIN[0], pct), y=styles.LengthType(REGION_ORIGIN[1], pct)))
    region.set_style(styles.StyleProperties.Extent, styles.ExtentType(
        width=styles.LengthType(REGION_EXTENT[0], pct), height=styles.LengthType(REGION_EXTENT[1], pct)))
    region.set_style(styles.StyleProperties.DisplayAlign, styles.DisplayAlignType.after)
    doc.put_region(region)

    body = model.Body(doc)
    body.set_style(styles.StyleProperties.FontFamily, (styles.GenericFontFamilyType.proportionalSansSerif,))
    body.set_style(styles.StyleProperties.Color, styles.ColorType(TEXT_COLOR))
    div = model.Div(doc)
    body.push_child(div)
    for number, cue in enumerate(cues, start=1):
        paragraph = model.P(doc)
        paragraph.set_id(f"sub{number}")
        paragraph.set_region(region)
        paragraph.set_begin(Fraction(round(cue.start * 1000), 1000))
        paragraph.set_end(Fraction(round(cue.end * 1000), 1000))
        paragraph.set_style(styles.StyleProperties.TextAlign, styles.TextAlignType.center)
        if cue.lyrics:
            paragraph.set_style(styles.StyleProperties.FontStyle, styles.FontStyleType.italic)
        for index, line in enumerate(cue.display_lines):
            if index:
                paragraph.push_child(model.Br(doc))
            span = model.Span(doc)
            span.set_style(styles.StyleProperties.BackgroundColor, styles.ColorType(BOX_COLOR))
            span.push_child(model.Text(doc, line))
            paragraph.push_child(span)
        div.push_child(paragraph)
    doc.set_body(body)
    doc.set_content_profiles({IMSC_11_TEXT})
    return doc


def imsc_xml(cues: list[Cue], language: str) -> ET.ElementTree:
    from ttconv.imsc import writer
    from ttconv.imsc.attributes import TimeExpressionSyntaxEnum
    from ttconv.imsc.config import ContentProfilesSignaling, IMSCWriterConfiguration

    config = IMSCWriterConfiguration(time_format=TimeExpressionSyntaxEnum.clock_time,
                                     profile_signaling=ContentProfilesSignaling.CONTENT_PROFILES)
    tree = writer.from_model(imsc_document(cues, language), config)
    # Media time is TTML's default; said outright for the checkers that want it on the root.
    tree.getroot().set(f"{{{TTP}}}timeBase", "media")
    return tree


# --- EBU-TT-D ---------------------------------------------------------------------------------

def ebu_tt_d_xml(cues: list[Cue], language: str) -> ET.ElementTree:
    for prefix, uri in (("tt", TTML), ("ttp", TTP), ("tts", TTS), ("ebuttm", EBUTTM), ("ebutts", EBUTTS)):
        ET.register_namespace(prefix, uri)
    tt = ET.Element(f"{{{TTML}}}tt", {f"{{{TTP}}}timeBase": "media", f"{{{TTP}}}cellResolution": "32 15",
                                      "{http://www.w3.org/XML/1998/namespace}lang": language})
    head = ET.SubElement(tt, f"{{{TTML}}}head")
    metadata = ET.SubElement(ET.SubElement(head, f"{{{TTML}}}metadata"), f"{{{EBUTTM}}}documentMetadata")
    ET.SubElement(metadata, f"{{{EBUTTM}}}conformsToStandard").text = EBU_TT_D_STANDARD
    styling = ET.SubElement(head, f"{{{TTML}}}styling")
    _style(styling, "base", {"fontFamily": "proportionalSansSerif", "fontSize": "100%", "lineHeight": "normal",
                             "textAlign": "center", "color": _hex(TEXT_COLOR)}, {"linePadding": "0.5c"})
    _style(styling, "box", {"backgroundColor": _hex(BOX_COLOR)})
    _style(styling, "lyrics", {"fontStyle": "italic"})
    layout = ET.SubElement(head, f"{{{TTML}}}layout")
    ET.SubElement(layout, f"{{{TTML}}}region", {"{http://www.w3.org/XML/1998/namespace}id": "bottom",
                                                f"{{{TTS}}}origin": _percentages(REGION_ORIGIN),
                                                f"{{{TTS}}}extent": _percentages(REGION_EXTENT),
                                                f"{{{TTS}}}displayAlign": "after"})
    if not cues:
        return ET.ElementTree(tt)  # a div holds at least one paragraph: no cues, no body
    body = ET.SubElement(tt, f"{{{TTML}}}body")
    div = ET.SubElement(body, f"{{{TTML}}}div", {"style": "base", "region": "bottom"})
    for number, cue in enumerate(cues, start=1):
        paragraph = ET.SubElement(div, f"{{{TTML}}}p", {"{http://www.w3.org/XML/1998/namespace}id": f"sub{number}",
                                                        "begin": clock_time(cue.start), "end": clock_time(cue.end)})
        if cue.lyrics:
            paragraph.set("style", "lyrics")
        for index, line in enumerate(cue.display_lines):
            if index:
                ET.SubElement(paragraph, f"{{{TTML}}}br")
            ET.SubElement(paragraph, f"{{{TTML}}}span", {"style": "box"}).text = line
    return ET.ElementTree(tt)


def _style(styling: ET.Element, style_id: str, tts: dict[str, str], ebutts: dict[str, str] | None = None) -> None:
    attributes = {"{http://www.w3.org/XML/1998/namespace}id": style_id, **{f"{{{TTS}}}{k}": v for k, v in tts.items()},
                  **{f"{{{EBUTTS}}}{k}": v for k, v in (ebutts or {}).items()}}
    ET.SubElement(styling, f"{{{TTML}}}style", attributes)


WRITERS = {"ttml": imsc_xml, "ebu-tt-d": ebu_tt_d_xml}


def write_timed_text(cues: list[Cue], path: Path, fmt: str, language: str) -> None:
    tree = WRITERS[fmt](cues, language)
    ET.indent(tree, space="  ")
    # Indenting adds no space inside a paragraph: its spans and line breaks stay one line of XML.
    for paragraph in tree.getroot().iter(f"{{{TTML}}}p"):
        _unindent(paragraph)
    with path.open("wb") as handle:
        tree.write(handle, encoding="utf-8", xml_declaration=True)


def _unindent(element: ET.Element) -> None:
    element.text = element.text.strip() if element.text and not element.text.strip() else element.text
    for child in element:
        child.tail = child.tail.strip() if child.tail and not child.tail.strip() else child.tail
        _unindent(child)
