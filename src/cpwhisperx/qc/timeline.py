"""The timeline picture: one row per layer (speech, cues per language, shots, music, speakers) against
the film's clock, the whole film at a glance and, for a long film, again in panels of ten minutes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from cpwhisperx.qc.facts import JobFacts, LanguageFacts, timecode

WIDTH = 1200
LABEL_WIDTH = 130
PLOT_LEFT = LABEL_WIDTH + 6
PLOT_WIDTH = WIDTH - PLOT_LEFT - 36  # room for the last tick's label
ROW_HEIGHT = 14
ROW_PITCH = ROW_HEIGHT + 4
TITLE_HEIGHT = 20
AXIS_HEIGHT = 24
PANEL_GAP = 12
LEGEND_HEIGHT = 22
# A 2-second cue is about half a pixel across a 2-hour overview; ten-minute panels make it 3.5 px.
DETAIL_ABOVE_SECONDS = 15 * 60
PANEL_SECONDS = 10 * 60
MIN_MARK_WIDTH = 1.0
# A cue breaking a rule stays visible among its neighbours even across two hours.
MIN_BROKEN_WIDTH = 2.0
SHOT_WIDTH = 2.0

BACKGROUND = "#ffffff"
ROW_BACKGROUND = "#eef0f3"
GRID = "#c9ced6"
INK = "#1f2328"
SPEECH = "#2e7d32"
MUSIC = "#ef6c00"
SHOT = "#263238"
BROKEN = "#d32f2f"
LANGUAGE_COLOURS = ("#1565c0", "#00838f", "#5e35b1", "#6d4c41", "#3949ab", "#00695c")
# None of them the colour of another layer, so that a speaker is not read as speech or a cue.
SPEAKER_COLOURS = ("#8e24aa", "#00acc1", "#e6a100", "#c2185b", "#7cb342", "#6d4c41", "#546e7a", "#fdd835", "#3f51b5", "#ff8a65")
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass(frozen=True)
class Mark:
    start: float
    end: float
    colour: str
    title: str
    point: bool = False


@dataclass(frozen=True)
class Layer:
    key: str
    label: str
    marks: tuple[Mark, ...] | None  # None: the stage that makes this layer did not run
    missing: str = ""


def speaker_colour(index: int) -> str:
    return SPEAKER_COLOURS[index % len(SPEAKER_COLOURS)]


def language_colour(index: int) -> str:
    return LANGUAGE_COLOURS[index % len(LANGUAGE_COLOURS)]


def layers(facts: JobFacts) -> list[Layer]:
    found = [Layer("speech", "speech (VAD)", None if facts.speech is None else tuple(
        Mark(s.start, s.end, SPEECH, f"speech {timecode(s.start)} – {timecode(s.end)}") for s in facts.speech), "voice activity detection did not run")]
    found += [_cue_layer(lang, language_colour(n)) for n, lang in enumerate(facts.languages)]
    found.append(Layer("shots", "shot changes", None if facts.shot_changes is None else tuple(
        Mark(t, t, SHOT, f"shot change {timecode(t)}", point=True) for t in facts.shot_changes), "shot change detection did not run"))
    found.append(Layer("music", "music", None if facts.music is None else tuple(
        Mark(s.start, s.end, MUSIC, f"music {timecode(s.start)} – {timecode(s.end)}") for s in facts.music), "music detection did not run"))
    speakers = facts.speakers
    colours = {name: speaker_colour(n) for n, name in enumerate(speakers.speakers)} if speakers else {}
    found.append(Layer("speakers", "speakers", None if speakers is None else tuple(
        Mark(t.start, t.end, colours[t.speaker], f"{t.speaker} {timecode(t.start)} – {timecode(t.end)}") for t in speakers.turns),
        "speaker diarization did not run"))
    return found


def _cue_layer(lang: LanguageFacts, colour: str) -> Layer:
    # Drawn after the others, so that no neighbour covers them.
    ordered = [c for c in lang.cues if not c.broken] + [c for c in lang.cues if c.broken]
    marks = tuple(Mark(c.start, c.end, BROKEN if c.broken else colour,
                       f"{lang.language} #{c.number} {timecode(c.start)} – {timecode(c.end)}: {c.text}"
                       + (f" (breaks: {', '.join(c.broken)})" if c.broken else "")) for c in ordered)
    return Layer(f"cues-{lang.language}", f"cues {lang.language}", marks)


def timeline_svg(facts: JobFacts) -> str:
    duration = max(facts.duration, 1.0)
    shown = layers(facts)
    clock = _clock_format(duration)
    parts: list[str] = []
    y = _legend(parts, facts)
    detailed = duration > DETAIL_ABOVE_SECONDS
    y = _panel(parts, shown, 0.0, duration, PLOT_WIDTH / duration, y, f"whole film, 0:00 – {clock(duration)}", "overview",
               titles=not detailed, clock=clock)
    if detailed:
        count = math.ceil(duration / PANEL_SECONDS)
        present = [layer for layer in shown if layer.marks]
        for n in range(count):
            start, end = n * PANEL_SECONDS, min(duration, (n + 1) * PANEL_SECONDS)
            y = _panel(parts, present, start, end, PLOT_WIDTH / PANEL_SECONDS, y, f"{clock(start)} – {clock(end)}", f"part-{n + 1}",
                       titles=True, clock=clock)
    height = round(y)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="qc-timeline" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'font-family="DejaVu Sans, Arial, sans-serif" font-size="11" shape-rendering="crispEdges" role="img" '
            f'aria-label="{escape(f"timeline of {facts.media_name}, {clock(duration)}")}">'
            f'<rect width="{WIDTH}" height="{height}" fill="{BACKGROUND}"/>' + "".join(parts) + "</svg>\n")


def _legend(parts: list[str], facts: JobFacts) -> float:
    items = [("speech", SPEECH), *((f"cues {lang.language}", language_colour(n)) for n, lang in enumerate(facts.languages)),
             ("cue breaking a rule", BROKEN), ("shot change", SHOT), ("music", MUSIC)]
    if facts.speakers:
        items += [(name, speaker_colour(n)) for n, name in enumerate(facts.speakers.speakers)]
    x, y = float(PLOT_LEFT), 6.0
    parts.append('<g class="legend">')
    for label, colour in items:
        width = 12 + 6.4 * len(label) + 18
        if x + width > WIDTH - 16:
            x, y = float(PLOT_LEFT), y + LEGEND_HEIGHT - 6
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14:.1f}" y="{y + 9:.1f}" fill="{INK}">{escape(label)}</text>')
        x += width
    parts.append("</g>")
    return y + LEGEND_HEIGHT


def _panel(parts: list[str], shown: list[Layer], start: float, end: float, scale: float, top: float, title: str, name: str, *,
           titles: bool, clock: _Clock) -> float:
    rows_top = top + TITLE_HEIGHT
    rows_bottom = rows_top + ROW_PITCH * len(shown)
    right = PLOT_LEFT + (end - start) * scale
    major, minor = _steps(scale)
    parts.append(f'<g class="panel" data-panel="{name}" data-start="{start:.3f}" data-end="{end:.3f}">'
                 f'<text x="{PLOT_LEFT}" y="{top + 14:.1f}" font-weight="bold" fill="{INK}">{escape(title)}</text>')
    for tick in _ticks(start, end, major):
        x = PLOT_LEFT + (tick - start) * scale
        parts.append(f'<line x1="{x:.1f}" y1="{rows_top:.1f}" x2="{x:.1f}" y2="{rows_bottom:.1f}" stroke="{GRID}" stroke-width="0.6"/>')
    for n, layer in enumerate(shown):
        y = rows_top + n * ROW_PITCH
        parts.append(f'<g class="row" data-layer="{escape(layer.key)}">'
                     f'<text x="{LABEL_WIDTH}" y="{y + ROW_HEIGHT - 3:.1f}" text-anchor="end" fill="{INK}">{escape(layer.label)}</text>'
                     f'<rect class="lane" x="{PLOT_LEFT}" y="{y:.1f}" width="{right - PLOT_LEFT:.1f}" height="{ROW_HEIGHT}" fill="{ROW_BACKGROUND}" '
                     f'fill-opacity="0.6"/>')
        if not layer.marks:
            parts.append(f'<text x="{PLOT_LEFT + 6}" y="{y + ROW_HEIGHT - 3:.1f}" font-style="italic" fill="#6a737d">'
                         f'{escape(layer.missing if layer.marks is None else "none found")}</text>')
        else:
            parts.extend(_mark(mark, start, end, scale, y, titles) for mark in layer.marks if mark.end >= start and mark.start <= end)
        parts.append("</g>")
    parts.append(_axis(start, end, scale, rows_bottom, major, minor, clock))
    parts.append("</g>")
    return rows_bottom + AXIS_HEIGHT + PANEL_GAP


def _mark(mark: Mark, start: float, end: float, scale: float, y: float, titles: bool) -> str:
    tip = f"<title>{escape(mark.title)}</title>" if titles else ""
    if mark.point:
        x = PLOT_LEFT + (mark.start - start) * scale
        return (f'<rect x="{x - SHOT_WIDTH / 2:.1f}" y="{y - 1:.1f}" width="{SHOT_WIDTH}" height="{ROW_HEIGHT + 2}" '
                f'fill="{mark.colour}">'
                f"{tip}</rect>")
    left, right = max(mark.start, start), min(mark.end, end)
    width = max((right - left) * scale, MIN_BROKEN_WIDTH if mark.colour == BROKEN else MIN_MARK_WIDTH)
    return (f'<rect x="{PLOT_LEFT + (left - start) * scale:.1f}" y="{y + 1:.1f}" width="{width:.1f}" '
            f'height="{ROW_HEIGHT - 2}" fill="{mark.colour}">{tip}</rect>')


def _axis(start: float, end: float, scale: float, y: float, major: int, minor: int | None, clock: _Clock) -> str:
    right = PLOT_LEFT + (end - start) * scale
    out = [f'<g class="axis"><line x1="{PLOT_LEFT}" y1="{y + 2:.1f}" x2="{right:.1f}" y2="{y + 2:.1f}" stroke="{INK}" stroke-width="1"/>']
    for tick in _ticks(start, end, minor) if minor else []:
        if tick % major:
            x = PLOT_LEFT + (tick - start) * scale
            out.append(f'<line x1="{x:.1f}" y1="{y + 2:.1f}" x2="{x:.1f}" y2="{y + 6:.1f}" stroke="{INK}" stroke-width="0.8"/>')
    for tick in _ticks(start, end, major):
        x = PLOT_LEFT + (tick - start) * scale
        out.append(f'<line x1="{x:.1f}" y1="{y + 2:.1f}" x2="{x:.1f}" y2="{y + 9:.1f}" stroke="{INK}" stroke-width="1"/>'
                   f'<text x="{x:.1f}" y="{y + 20:.1f}" text-anchor="middle" fill="{INK}">{clock(tick)}</text>')
    out.append("</g>")
    return "".join(out)


def _steps(scale: float) -> tuple[int, int | None]:
    """Labelled ticks at least 64 px apart; between them minute ticks where they fit, else finer ones."""
    major = next((step for step in NICE_STEPS if step * scale >= 64), 3600 * math.ceil(64 / (3600 * scale)))
    fitting = [step for step in NICE_STEPS if step < major and major % step == 0 and step * scale >= 5]
    if 60 in fitting:
        return major, 60
    roomy = [step for step in fitting if step * scale >= 12]
    return major, (roomy[0] if roomy else None)


def _ticks(start: float, end: float, step: int) -> list[int]:
    first = math.ceil(start / step - 1e-9) * step
    return list(range(int(first), int(end + 1e-9) + 1, step))


class _Clock:
    """Tick labels: H:MM:SS for a film of an hour or more, M:SS below."""

    def __init__(self, hours: bool) -> None:
        self.hours = hours

    def __call__(self, seconds: float) -> str:
        whole = round(seconds)
        h, rest = divmod(whole, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}" if self.hours else f"{h * 60 + m}:{s:02d}"


def _clock_format(duration: float) -> _Clock:
    return _Clock(duration >= 3600)
