"""The QC report of the mux stage: qc.json checked against the files it reads, and its page and
timeline looked at in headless Chromium (Debian chromium + chromium-driver, driven by Selenium)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import cpwx, manifest

from cpwhisperx.compliance import facts_from_file, measure
from cpwhisperx.jobs import Job
from cpwhisperx.qc import write_qc_report
from cpwhisperx.qc.timeline import BROKEN, MUSIC, SHOT, SPEECH, language_colour, speaker_colour
from cpwhisperx.stageio import StageIO, file_record
from cpwhisperx.stages import get_stage
from cpwhisperx.subtitle_rules import rules_from

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SRT_CUE = re.compile(r"^\d+\n(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n(.+?)(?:\n\n|\n*\Z)", re.M | re.S)
TWO_HOURS = 7200.0
SPEAKERS = ("SPEAKER_00", "SPEAKER_01", "SPEAKER_02")


def srt_cues(path: Path) -> list[tuple[str, str, list[str]]]:
    """(start, end, lines) of each cue, read from the file's text."""
    return [(a, b, text.split("\n")) for a, b, text in SRT_CUE.findall(path.read_text(encoding="utf-8").replace("\r\n", "\n"))]


def seconds(timecode: str) -> float:
    h, m, rest = timecode.split(":")
    s, ms = rest.split(",")
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def srt_time(value: float) -> str:
    ms = round(value * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def too_fast(cues: list[tuple[str, str, list[str]]], max_cps: float) -> int:
    return sum(len(" ".join(lines)) / (seconds(b) - seconds(a)) > max_cps for a, b, lines in cues)


def mux_io(job_dir: Path) -> StageIO:
    job = Job.load(job_dir)
    spec = get_stage("mux")
    stage = StageIO(job, spec.number, spec.name, job.settings(), spec.config_keys)
    stage.dir.mkdir(parents=True, exist_ok=True)
    return stage


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def subtitled_copy(finished_job: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The finished job run on as a subtitle job: lyrics detection, layout and mux run for real on its audio."""
    job_dir = tmp_path_factory.mktemp("qc") / finished_job.name
    shutil.copytree(finished_job, job_dir)
    (job_dir / ".run.lock").unlink(missing_ok=True)
    record = json.loads((job_dir / "job.json").read_text(encoding="utf-8"))
    (job_dir / "job.json").write_text(json.dumps({**record, "workflow": "subtitle"}), encoding="utf-8")
    result = cpwx("run", "--job-dir", str(job_dir), cwd=job_dir.parent)
    assert result.returncode == 0, result.stderr
    assert "mux" in result.stdout
    return job_dir


def fake_film(job_dir: Path) -> dict[str, object]:
    """A two-hour film's stage files written by hand into a job: speech, two subtitle languages with a
    few cues breaking rules, shots, music and three speakers. What was written, for the checks."""
    settings = Job.load(job_dir).settings()
    layout_dir = job_dir / "12_subtitle_generation"
    shutil.rmtree(layout_dir)
    layout_dir.mkdir()
    cues = [(t, t + 2.5) for t in (6.0 + 4.5 * n for n in range(int((TWO_HOURS - 10) / 4.5))) if not 1800 <= t < 2400]
    written, outputs, compliance = {}, [], {}
    for language in ("en", "fr"):
        lines = []
        for n, (start, end) in enumerate(cues, start=1):
            text = f"Line {n} of the film."
            if n % 250 == 7:
                text = "This line has so many words that nobody could read it"  # too fast for 2.5 s
            lines.append(f"{n}\n{srt_time(start)} --> {srt_time(end)}\n{text}\n")
        path = layout_dir / f"sample_film.{language}.srt"
        path.write_text("\n".join(lines), encoding="utf-8")
        written[language] = path
        outputs.append(file_record(path, job_dir, "subtitles", language=language, deliverable=True, cues=len(cues)))
        compliance[language] = measure(facts_from_file(path), rules_from(settings, language), language)
    write_json(layout_dir / "manifest.json", {"stage": "subtitle_generation", "status": "success", "outputs": outputs,
                                              "metrics": {"compliance": compliance}})
    media = json.loads((job_dir / "01_demux" / "media.json").read_text(encoding="utf-8"))
    write_json(job_dir / "01_demux" / "media.json", {**media, "duration_seconds": TWO_HOURS})
    regions = [{"start": a - 0.2, "end": b + 0.2} for a, b in cues]
    write_json(job_dir / "05_vad" / "speech.json", {"sample_rate": 16000, "audio_seconds": TWO_HOURS, "regions": regions})
    shots = [20.0 * n for n in range(1, int(TWO_HOURS / 20))]
    write_json(job_dir / "01_demux" / "shot_changes.json", {"frame_rate": 25.0, "threshold": 0.4, "shot_changes": shots})
    music = [{"start": 1800.0, "end": 2400.0, "score": 0.9}, {"start": 6000.0, "end": 6100.0, "score": 0.7}]
    write_json(job_dir / "09_lyrics_detection" / "music.json", {"threshold": 0.5, "regions": music})
    turns = [{"start": a, "end": b, "speaker": SPEAKERS[n % 3 if n < 300 else n % 2]} for n, (a, b) in enumerate(cues)]
    write_json(job_dir / "08_diarization" / "turns.json", {"backend": "hand-made", "speakers": list(SPEAKERS), "turns": turns})
    return {"srt": written, "compliance": compliance, "regions": regions, "shots": shots, "music": music, "turns": turns}


@pytest.fixture
def long_job(job_copy: Path) -> Iterator[tuple[Path, dict[str, object]]]:
    written = fake_film(job_copy)
    write_qc_report(mux_io(job_copy))
    yield job_copy, written


def test_the_mux_stage_writes_the_report_and_records_what_it_read(subtitled_copy: Path) -> None:
    mux = manifest(subtitled_copy, "13_mux")
    outputs = {Path(r["path"]).name: r for r in mux["outputs"]}
    assert {"qc.json", "qc_report.html", "qc_timeline.svg"} <= set(outputs)
    assert outputs["qc_report.html"]["type"] == "qc_report" and outputs["qc_report.html"]["deliverable"]
    inputs = {r["path"] for r in mux["inputs"]}
    assert {"05_vad/speech.json", "09_lyrics_detection/music.json", "01_demux/media.json",
            "12_subtitle_generation/sample_film.en.srt"} <= inputs
    assert len(inputs) == len(mux["inputs"]), "a file recorded twice"
    assert "13_mux/qc_report.html" in json.loads((subtitled_copy / "job.json").read_text(encoding="utf-8"))["deliverables"]

    qc = json.loads((subtitled_copy / "13_mux" / "qc.json").read_text(encoding="utf-8"))
    srt = subtitled_copy / "12_subtitle_generation" / "sample_film.en.srt"
    cues = srt_cues(srt)
    en = qc["languages"]["en"]
    assert en["cues"] == len(cues) > 5
    assert en["within"]["reading_speed"] == pytest.approx(1 - too_fast(cues, en["limits"]["reading_speed"]) / len(cues), abs=1e-4)
    assert en["within"] == manifest(subtitled_copy, "12_subtitle_generation")["metrics"]["compliance"]["en"]["within"]
    assert en["independent_check"]["agrees"]
    speech = json.loads((subtitled_copy / "05_vad" / "speech.json").read_text(encoding="utf-8"))
    assert qc["speech_seconds"] == pytest.approx(sum(r["end"] - r["start"] for r in speech["regions"]), abs=1e-3)
    music = json.loads((subtitled_copy / "09_lyrics_detection" / "music.json").read_text(encoding="utf-8"))
    assert qc["music_regions"] == len(music["regions"])
    assert qc["duration_seconds"] == pytest.approx(manifest(subtitled_copy, "01_demux")["metrics"]["media_duration_seconds"], abs=1e-3)
    turns_file = subtitled_copy / "08_diarization" / "turns.json"
    if turns_file.is_file():
        turns = json.loads(turns_file.read_text(encoding="utf-8"))["turns"]
        assert qc["speakers"]["turns"] == len(turns)
        for entry in qc["speakers"]["speakers"]:
            mine = [t for t in turns if t["speaker"] == entry["speaker"]]
            assert entry["turns"] == len(mine)
            assert entry["seconds"] == pytest.approx(sum(t["end"] - t["start"] for t in mine), abs=1e-3)
        assert "08_diarization/turns.json" in inputs
    else:
        assert qc["speakers"] is None
    shots_file = subtitled_copy / "01_demux" / "shot_changes.json"
    if shots_file.is_file():
        assert qc["shot_changes"] == len(json.loads(shots_file.read_text(encoding="utf-8"))["shot_changes"])
    else:
        assert qc["shot_changes"] is None
        assert "shot change detection did not run" in (subtitled_copy / "13_mux" / "qc_report.html").read_text(encoding="utf-8")


def test_a_file_changed_after_layout_disagrees_with_what_the_stage_measured(subtitled_copy: Path, tmp_path: Path) -> None:
    job_dir = tmp_path / subtitled_copy.name
    shutil.copytree(subtitled_copy, job_dir)
    srt = job_dir / "12_subtitle_generation" / "sample_film.en.srt"
    first = srt_cues(srt)[0]
    squeezed = f"{first[0]} --> {srt_time(seconds(first[0]) + 0.3)}"
    srt.write_text(srt.read_text(encoding="utf-8").replace(f"{first[0]} --> {first[1]}", squeezed, 1), encoding="utf-8")
    write_qc_report(mux_io(job_dir))
    en = json.loads((job_dir / "13_mux" / "qc.json").read_text(encoding="utf-8"))["languages"]["en"]
    check = en["independent_check"]
    assert not check["agrees"]
    assert {d["what"] for d in check["differences"]} >= {"min_duration", "reading_speed"}
    assert check["violations"]["min_duration"] == en["violations"]["min_duration"] + 1
    page = (job_dir / "13_mux" / "qc_report.html").read_text(encoding="utf-8")
    assert "the file disagrees with what the subtitle stage measured" in page


def test_report_of_a_two_hour_film(long_job: tuple[Path, dict]) -> None:
    job_dir, written = long_job
    qc = json.loads((job_dir / "13_mux" / "qc.json").read_text(encoding="utf-8"))
    assert qc["duration_seconds"] == TWO_HOURS and qc["media"] == "sample_film.mp4"
    for language, srt in written["srt"].items():
        cues = srt_cues(srt)
        section = qc["languages"][language]
        fast = too_fast(cues, section["limits"]["reading_speed"])
        assert fast == (len(cues) - 7) // 250 + 1 >= 5
        assert section["violations"]["reading_speed"] == fast
        assert section["within"]["reading_speed"] == pytest.approx(1 - fast / len(cues), abs=1e-4)
        worst = section["worst"]["reading_speed"]
        assert len(worst) == 5
        for entry in worst:
            start, end, lines = cues[entry["cue"] - 1]
            assert (entry["start"], entry["end"]) == (start, end)
            assert entry["text"] == " ".join(lines)
    assert qc["shot_changes"] == len(written["shots"])
    assert qc["music_seconds"] == pytest.approx(700.0)
    speakers = {s["speaker"]: s for s in qc["speakers"]["speakers"]}
    assert set(speakers) == set(SPEAKERS)
    for name in SPEAKERS:
        turns = [t for t in written["turns"] if t["speaker"] == name]
        assert speakers[name]["turns"] == len(turns)
        assert speakers[name]["seconds"] == pytest.approx(sum(t["end"] - t["start"] for t in turns), abs=1e-3)
    assert qc["speech_seconds"] == pytest.approx(sum(r["end"] - r["start"] for r in written["regions"]), abs=1e-2)

    svg = (job_dir / "13_mux" / "qc_timeline.svg").read_text(encoding="utf-8")
    tree = ET.fromstring(svg)
    panels = tree.findall("{http://www.w3.org/2000/svg}g[@class='panel']")
    assert [p.get("data-panel") for p in panels] == ["overview", *(f"part-{n}" for n in range(1, 13))]
    assert svg.strip() in (job_dir / "13_mux" / "qc_report.html").read_text(encoding="utf-8")


# --- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian chromium and chromium-driver (bootstrap.py installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,900", "--force-device-scale-factor=1",
                 "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def screenshot(browser, page: Path, png: Path):  # type: ignore[no-untyped-def]
    """The whole page as a PNG kept at `png` (and in $CPWX_TEST_ARTIFACTS when set), opened as an image."""
    image = pytest.importorskip("PIL.Image")
    browser.set_window_size(1300, 900)
    browser.get(page.as_uri())
    frame = browser.execute_script("return window.outerHeight - window.innerHeight")
    browser.set_window_size(1300, browser.execute_script("return document.documentElement.scrollHeight") + frame)
    png.write_bytes(browser.get_screenshot_as_png())
    if os.environ.get("CPWX_TEST_ARTIFACTS"):
        folder = Path(os.environ["CPWX_TEST_ARTIFACTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, folder / png.name)
    return image.open(io.BytesIO(png.read_bytes())).convert("RGB")


def lane_box(browser, panel: str, layer: str) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    box = browser.execute_script(
        "const r = document.querySelector(`g.panel[data-panel='${arguments[0]}'] g.row[data-layer='${arguments[1]}'] rect.lane`)"
        ".getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]", panel, layer)
    return tuple(round(v) for v in box)  # type: ignore[return-value]


def pixels_of(picture, box: tuple[int, int, int, int], colour: str, tolerance: int = 12) -> int:  # type: ignore[no-untyped-def]
    """How many of the box's pixels are drawn in `colour` (#rrggbb)."""
    want = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(picture.crop(box), dtype=int)
    return int((np.abs(pixels - want) <= tolerance).all(axis=-1).sum())


def share_of(picture, box: tuple[int, int, int, int], colour: str) -> float:  # type: ignore[no-untyped-def]
    return pixels_of(picture, box, colour) / ((box[2] - box[0]) * (box[3] - box[1]))


def test_two_hour_timeline_is_drawn(browser, long_job: tuple[Path, dict], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job_dir, _ = long_job
    picture = screenshot(browser, job_dir / "13_mux" / "qc_report.html", tmp_path / "qc_report_two_hours.png")
    everywhere = {"speech": [SPEECH], "cues-en": [language_colour(0)], "cues-fr": [language_colour(1)], "shots": [SHOT],
                  "speakers": [speaker_colour(0), speaker_colour(1)]}
    # in the first ten minutes: a cue too fast to read, the third speaker; no music there
    early = {"cues-en": [BROKEN], "cues-fr": [BROKEN], "speakers": [speaker_colour(2)]}
    for panel, expected in (("overview", [everywhere, early, {"music": [MUSIC]}]), ("part-1", [everywhere, early]),
                            ("part-5", [everywhere, {"music": []}])):
        for layers in expected:
            for layer, colours in layers.items():
                box = lane_box(browser, panel, layer)
                assert box[2] - box[0] > 1000 and box[3] - box[1] >= 12, (panel, layer, box)
                for colour in colours:
                    assert pixels_of(picture, box, colour) >= 10, (panel, layer, colour)
    # the film's length sets the scale: the music from 30 to 40 minutes (and 100 s more) fills 700/7200 of
    # the overview's lane, all of part 4's; a mark is 12 of the lane's 14 px high
    assert share_of(picture, lane_box(browser, "overview", "music"), MUSIC) == pytest.approx(700 / 7200 * 12 / 14, abs=0.01)
    assert share_of(picture, lane_box(browser, "part-4", "music"), MUSIC) == pytest.approx(12 / 14, abs=0.02)
    assert share_of(picture, lane_box(browser, "part-4", "speech"), SPEECH) < 0.02


def test_short_film_page_shows_its_timeline(browser, subtitled_copy: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    picture = screenshot(browser, subtitled_copy / "13_mux" / "qc_report.html", tmp_path / "qc_report_sample_film.png")
    assert browser.find_elements("css selector", "g.panel[data-panel='part-1']") == []
    assert share_of(picture, lane_box(browser, "overview", "speech"), SPEECH) > 0.3
    assert share_of(picture, lane_box(browser, "overview", "cues-en"), language_colour(0)) > 0.3
    rows = browser.find_elements("css selector", "g.panel[data-panel='overview'] g.row")
    assert [r.get_attribute("data-layer") for r in rows] == ["speech", "cues-en", "shots", "music", "speakers"]
    if (subtitled_copy / "08_diarization" / "turns.json").is_file():
        assert pixels_of(picture, lane_box(browser, "overview", "speakers"), speaker_colour(0)) >= 10
