"""Write the job's QC report into the calling stage's directory: qc.json, qc_timeline.svg, qc_report.html."""

from __future__ import annotations

from cpwhisperx.qc.document import qc_document
from cpwhisperx.qc.facts import gather
from cpwhisperx.qc.page import qc_page
from cpwhisperx.qc.timeline import timeline_svg
from cpwhisperx.stageio import StageIO

REPORT_FILE = "qc_report.html"
DATA_FILE = "qc.json"
TIMELINE_FILE = "qc_timeline.svg"


def write_qc_report(io: StageIO) -> None:
    """The report of what the job's stages found, from their files (recorded as inputs of `io`)."""
    facts = gather(io)
    document = qc_document(facts)
    svg = timeline_svg(facts)
    io.write_json(DATA_FILE, document, "qc_report")
    io.write_text(TIMELINE_FILE, svg, "qc_report")
    io.write_text(REPORT_FILE, qc_page(facts, svg, TIMELINE_FILE), "qc_report", deliverable=True)
    breaking = {code: sum(section["violations"].values()) for code, section in document["languages"].items()}
    io.metrics["qc"] = {"report": REPORT_FILE, "all_within": all(s["all_within"] for s in document["languages"].values()),
                        "rule_violations": breaking}
    io.log.info("QC report %s: %s", REPORT_FILE, ", ".join(f"{code} {n} rule violation(s)" for code, n in breaking.items()) or "no subtitles")
