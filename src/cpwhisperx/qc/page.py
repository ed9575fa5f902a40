"""qc_report.html: one self-contained page (styles and the timeline inline) a reviewer opens from the job."""

from __future__ import annotations

from html import escape
from typing import Any

from cpwhisperx.qc.document import independent_check, measured, worst_entry
from cpwhisperx.qc.facts import JobFacts, LanguageFacts, timecode
from cpwhisperx.qc.timeline import speaker_colour

# Names a reader knows for the rules the layout checks; a rule not listed here shows under its key.
RULE_NAMES = {
    "line_length": "line length (characters)",
    "line_count": "lines per cue",
    "min_duration": "shortest cue (seconds)",
    "max_duration": "longest cue (seconds)",
    "reading_speed": "reading speed (characters per second)",
    "gap": "gap between cues (seconds)",
    "speakers": "speakers in a cue (two at most, each line opened by a dash)",
    "frame_accuracy": "times on the video's frames (milliseconds off)",
    "shot_changes": "timed to the shot changes (frames off)",
}
# Limits that are no bound on a value: how they read.
LIMIT_TEXT = {
    "frame_accuracy": lambda limit: f"within {_number(limit)} ms of a frame",
    "shot_changes": lambda limit: f"in-time on a cut within {limit} frames, out-time 2 frames before; no crossing without speech",
}
# The rules a cue keeps by staying at or above the limit; the others by staying at or below it.
AT_LEAST = ("min_duration", "gap")

STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#1f2328;max-width:1240px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
h3{font-size:15px;margin:18px 0 6px}table{border-collapse:collapse;margin:4px 0 12px}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top;font-size:13px}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{background:#e6f4ea}.bad{background:#fde7e9}.note{color:#57606a;font-size:13px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:14px}dt{color:#57606a}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px}
figure{margin:0;overflow-x:auto}svg{max-width:100%;height:auto}
"""


def qc_page(facts: JobFacts, svg: str, svg_name: str) -> str:
    body = [f"<h1>QC report: {escape(facts.media_name)}</h1>", _summary(facts),
            f'<h2>Timeline</h2><figure>{svg}</figure><p class="note">The same picture as a file: '
            f'<a href="{escape(svg_name)}">{escape(svg_name)}</a>. Hover over a mark for its times.</p>',
            "<h2>Subtitle rules</h2>"]
    body += [_language(lang) for lang in facts.languages] or ['<p class="note">no subtitle file in a format this report reads (srt, vtt, ass)</p>']
    body.append(_speakers(facts))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>QC {escape(facts.job_id)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")


def _summary(facts: JobFacts) -> str:
    speech = sum(s.seconds for s in facts.speech) if facts.speech is not None else None
    music = sum(s.seconds for s in facts.music) if facts.music is not None else None
    rows = [("job", facts.job_id), ("workflow", facts.workflow), ("duration", f"{timecode(facts.duration)} ({facts.duration:.1f} s)"),
            ("speech", _seconds_of(speech, facts.duration, "voice activity detection did not run")),
            ("music", _seconds_of(music, facts.duration, "music detection did not run")),
            ("shot changes", str(len(facts.shot_changes)) if facts.shot_changes is not None else "shot change detection did not run"),
            ("speakers", str(len(facts.speakers.speakers)) if facts.speakers is not None else "speaker diarization did not run"),
            ("subtitle languages", ", ".join(lang.language for lang in facts.languages) or "none")]
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows) + "</dl>"


def _seconds_of(seconds: float | None, duration: float, missing: str) -> str:
    if seconds is None:
        return missing
    share = f", {seconds / duration:.0%} of the film" if duration else ""
    return f"{seconds:.1f} s{share}"


def _language(lang: LanguageFacts) -> str:
    report = measured(lang)
    check = independent_check(lang)
    limits = report.get("limits", {})
    rows = []
    for rule, share in report["within"].items():
        count = report["violations"].get(rule, 0)
        again = None if rule in check["not_rechecked"] else check["violations"].get(rule)
        rechecked = "not re-checked: the file does not show it" if again is None else ("same" if again == count else f"{again} in the file")
        limit = limits.get(rule)
        shown_limit = ("" if limit is None else LIMIT_TEXT[rule](limit) if rule in LIMIT_TEXT
                       else f"{'≥' if rule in AT_LEAST else '≤'} {_number(limit)}")
        rows.append(f'<tr class="{"ok" if count == 0 else "bad"}"><td>{escape(RULE_NAMES.get(rule, rule.replace("_", " ")))}</td>'
                    f'<td>{escape(shown_limit)}</td><td class="num">{share:.1%}</td><td class="num">{count}</td><td>{escape(rechecked)}</td></tr>')
    verdict = ("the file agrees with what the subtitle stage measured" if check["agrees"] else
               "the file disagrees with what the subtitle stage measured: "
               + "; ".join(f"{d['what']}: {d['reported']} recorded, {d['in_file']} in the file" for d in check["differences"]))
    parts = [f"<h3>{escape(lang.language)}: {report['cues']} cues, {escape(lang.file)}</h3>",
             "<table><tr><th>rule</th><th>limit</th><th>cues within</th><th>cues breaking it</th><th>re-measured from the file</th></tr>",
             *rows, "</table>", f'<p class="note">{escape(verdict)}</p>', _worst(lang, report)]
    return "".join(parts)


def _number(value: Any) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _worst(lang: LanguageFacts, report: dict[str, Any]) -> str:
    sections = []
    for rule, entries in report.get("worst", {}).items():
        if not entries:
            continue
        rows = "".join(f'<tr><td class="num">{e["cue"]}</td><td>{e["start"] or "?"}</td><td>{e["end"] or "?"}</td>'
                       f'<td class="num">{escape(str(e["value"]))}</td><td>{escape(e["text"])}</td></tr>'
                       for e in (worst_entry(lang, entry) for entry in entries))
        sections.append(f"<h4>worst for {escape(RULE_NAMES.get(rule, rule.replace('_', ' ')))}</h4>"
                        "<table><tr><th>cue</th><th>start</th><th>end</th><th>value</th><th>text</th></tr>" + rows + "</table>")
    return "".join(sections) or '<p class="note">no cue breaks a rule</p>'


def _speakers(facts: JobFacts) -> str:
    if facts.speakers is None:
        return '<h2>Speakers</h2><p class="note">speaker diarization did not run for this job</p>'
    speakers = facts.speakers
    total = sum(speakers.seconds(name) for name in speakers.speakers) or 1.0
    rows = "".join(f'<tr><td><span class="swatch" style="background:{speaker_colour(n)}"></span>{escape(name)}</td>'
                   f'<td class="num">{speakers.seconds(name):.1f}</td><td class="num">{speakers.seconds(name) / total:.0%}</td>'
                   f'<td class="num">{speakers.turn_count(name)}</td></tr>' for n, name in enumerate(speakers.speakers))
    backend = f" ({escape(speakers.backend)})" if speakers.backend else ""
    return (f"<h2>Speakers{backend}</h2><table><tr><th>speaker</th><th>seconds</th><th>share of speaking time</th><th>turns</th></tr>"
            f"{rows}</table>")
