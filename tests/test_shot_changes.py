"""Shot changes found in real video, cue times on frames and cuts, and the rules per language and audience."""

from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pysubs2
import pytest

from cpwhisperx.compliance import CueFacts, facts_from_file, measure
from cpwhisperx.config import Settings, load_config
from cpwhisperx.cue_timing import CUT_GAP, FrameTiming, time_to_frames
from cpwhisperx.jobs import Job, prepare_job
from cpwhisperx.layout import Cue, LayoutRules
from cpwhisperx.media import probe
from cpwhisperx.shots import ShotChanges, detect, frame_rate
from cpwhisperx.stageio import StageIO
from cpwhisperx.stages import get_stage
from cpwhisperx.stages.subtitle_generation import facts
from cpwhisperx.subtitle_rules import rules_from
from cpwhisperx.subtitle_rules import rules_table_markdown
from cpwhisperx.transcript import Segment, Transcript, Word

# Twelve shots of different test patterns, some moving: eleven cuts.
PATTERNS = ["testsrc2", "smptebars", "testsrc", "rgbtestsrc", "color=c=0x2060a0", "smptehdbars", "mandelbrot",
            "yuvtestsrc", "color=c=0xc04020", "pal100bars", "color=c=0x40a040", "testsrc2"]
SHOT_FRAMES = [80, 65, 100, 86, 50, 120, 74, 90, 61, 110, 70, 95]


@dataclass(frozen=True)
class CutClip:
    path: Path
    rate: Fraction
    cuts: list[int]  # the first frame of each new shot


def make_clip(path: Path, rate: str) -> CutClip:
    parts = [f"{source}{':' if '=' in source else '='}size=320x240:rate={rate},"
             f"trim=end_frame={count},setpts=PTS-STARTPTS,format=yuv420p[v{n}]"
             for n, (source, count) in enumerate(zip(PATTERNS, SHOT_FRAMES, strict=True))]
    graph = ";".join(parts) + ";" + "".join(f"[v{n}]" for n in range(len(PATTERNS))) + f"concat=n={len(PATTERNS)}:v=1:a=0[video]"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-filter_complex", graph,
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-map", "[video]", "-map", "0:a", "-shortest",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path)], check=True)
    return CutClip(path, Fraction(rate), list(itertools.accumulate(SHOT_FRAMES))[:-1])


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CutClip]:
    folder = tmp_path_factory.mktemp("cuts")
    return {rate: make_clip(folder / f"cuts_{rate.replace('/', '_')}.mp4", rate) for rate in ("25", "24000/1001")}


@pytest.mark.parametrize("rate", ["25", "24000/1001"])
def test_every_cut_is_found_on_its_frame(clips: dict[str, CutClip], rate: str) -> None:
    clip = clips[rate]
    info = probe(clip.path)
    video, audio = info.video_streams[0], info.audio_streams[0]
    assert frame_rate(video) == clip.rate
    found = detect(clip.path, video, audio, 10.0)
    assert found.frame_rate == clip.rate
    assert len(found.frames) == len(clip.cuts), found.frames  # none missed, none false
    assert all(abs(a - b) <= 1 for a, b in zip(found.frames, clip.cuts, strict=True)), (found.frames, clip.cuts)
    assert found.times[0] == pytest.approx(float(clip.cuts[0] / clip.rate), abs=1e-9)


def _run_stage(job: Job, name: str) -> StageIO:
    spec = get_stage(name)
    settings = job.settings()
    io = StageIO(job, spec.number, spec.name, settings, spec.config_keys)
    io.dir.mkdir(parents=True, exist_ok=True)
    spec.runner()(io)
    return io


def test_demux_writes_the_frame_rate_and_the_cuts(clips: dict[str, CutClip], tmp_path: Path) -> None:
    clip = clips["24000/1001"]
    overrides = {"OUTPUT_DIR": str(tmp_path / "out"), "CACHE_DIR": str(tmp_path / "cache")}
    io = _run_stage(prepare_job(clip.path, user="tester", overrides=overrides), "demux")
    shots = json.loads((io.dir / "shot_changes.json").read_text(encoding="utf-8"))
    assert shots["frame_rate"] == pytest.approx(24000 / 1001) and shots["threshold"] == 10.0
    assert shots["shot_change_frames"] == clip.cuts
    assert shots["shot_changes"] == [round(float(f / clip.rate), 6) for f in clip.cuts]
    assert json.loads((io.dir / "media.json").read_text(encoding="utf-8"))["frame_rate"] == pytest.approx(23.976, abs=1e-3)
    # a second job of the same video reuses the cuts from the cache
    again = _run_stage(prepare_job(clip.path, user="tester", overrides=overrides), "demux")
    assert "shot_detection_seconds" not in again.metrics
    assert json.loads((again.dir / "shot_changes.json").read_text(encoding="utf-8"))["shot_change_frames"] == clip.cuts


def test_audio_alone_has_no_frame_rate_and_no_cuts(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=3", str(wav)], check=True)
    io = _run_stage(prepare_job(wav, user="tester", overrides={"OUTPUT_DIR": str(tmp_path / "out")}), "demux")
    assert json.loads((io.dir / "shot_changes.json").read_text(encoding="utf-8")) == {
        "frame_rate": None, "frame_rate_fraction": None, "threshold": 10.0, "shot_change_frames": [], "shot_changes": []}
    assert json.loads((io.dir / "media.json").read_text(encoding="utf-8"))["frame_rate"] is None


# --- cue timing on hand-made cues, at 24 fps: frame n is at n / 24 s ----------------------------

RULES = LayoutRules()
RATE = Fraction(24)


def timing(*cuts: int) -> FrameTiming:
    timed = FrameTiming.of(ShotChanges(RATE, 10.0, cuts), 0.5)
    assert timed is not None and timed.window == 12
    return timed


def cue(start: float, end: float, speech: tuple[float, float] | None = None, text: str = "Short line.") -> Cue:
    speech_start, speech_end = speech or (start, end)
    return Cue(start, end, [text], speech_start=speech_start, speech_end=speech_end)


def frames(cues: list[Cue]) -> list[tuple[int, int]]:
    return [(round(c.start * 24), round(c.end * 24)) for c in cues]


def on_frames(cues: list[Cue]) -> bool:
    return all(abs(t * 24 - round(t * 24)) < 0.024 for c in cues for t in (c.start, c.end))


def test_times_land_on_frames_and_keep_their_reading_time() -> None:
    cues = time_to_frames([cue(1.013, 2.51), cue(2.61, 4.0)], RULES, timing())
    assert on_frames(cues)
    assert frames(cues) == [(24, 60), (62, 96)]  # 1.497 s kept as 36 frames, 1.39 s as 34, in-times to the frame before
    assert cues[1].start - cues[0].end >= RULES.min_gap - 0.0005


def test_in_time_moves_onto_a_cut_within_twelve_frames() -> None:
    # 5 frames after a cut at frame 100: earlier, onto it; 7 frames before a cut at 300: later, onto it.
    cues = time_to_frames([cue(105 / 24, 160 / 24), cue(293 / 24, 340 / 24)], RULES, timing(100, 300))
    assert [a for a, _ in frames(cues)] == [100, 300]
    assert round(cues[1].end * 24) >= 340 + 7  # the reading time kept after the cut
    # 13 frames away: left alone
    assert round(time_to_frames([cue(113 / 24, 160 / 24)], RULES, timing(100))[0].start * 24) == 113


def test_in_time_does_not_move_earlier_into_the_gap_of_the_cue_before() -> None:
    # the cue before speaks across the cut at 100 and ends at 103
    cues = time_to_frames([cue(50 / 24, 103 / 24), cue(105 / 24, 150 / 24)], RULES, timing(100))
    assert [round(c.start * 24) for c in cues] == [50, 105]
    # ending 1 frame before the cut, it ends 2 before, and the next starts on the cut
    cues = time_to_frames([cue(50 / 24, 99 / 24), cue(105 / 24, 150 / 24)], RULES, timing(100))
    assert frames(cues) == [(50, 98), (100, 150)]


def test_out_time_ends_two_frames_before_a_near_cut() -> None:
    cues = time_to_frames([cue(10 / 24, 90 / 24), cue(130 / 24, 150 / 24), cue(160 / 24, 224 / 24)], RULES, timing(100, 225))
    assert round(cues[0].end * 24) == 100 - CUT_GAP  # 10 frames before: extended to 2 before
    assert round(cues[1].end * 24) == 150  # the next cue starts before any cut
    assert round(cues[2].end * 24) == 225 - CUT_GAP  # 1 frame before: brought back to 2 before


def test_a_cue_crosses_a_cut_only_with_its_speech() -> None:
    # speech ends at frame 80, the reading time carries the cue to 130, over the cut at 100
    extended = time_to_frames([cue(30 / 24, 130 / 24, speech=(30 / 24, 80 / 24))], RULES, timing(100))
    assert round(extended[0].end * 24) == 100 - CUT_GAP
    # the words go on over the cut: the cue crosses it
    spoken = time_to_frames([cue(30 / 24, 130 / 24, speech=(30 / 24, 125 / 24))], RULES, timing(100))
    assert round(spoken[0].end * 24) == 130
    # ending before the cut would leave it shorter than the minimum duration: it crosses
    short = time_to_frames([cue(80 / 24, 107 / 24, speech=(80 / 24, 90 / 24))], RULES, timing(95))
    assert frames(short) == [(80, 107)]


def test_compliance_counts_timing_offences_and_none_once_timed() -> None:
    cuts = timing(100, 300, 500)
    def made() -> list[Cue]:
        return [cue(105.4 / 24, 160 / 24), cue(200 / 24, 296 / 24), cue(340 / 24, 510 / 24, speech=(340 / 24, 420 / 24)),
                cue(600.5 / 24, 680 / 24)]

    raw = made()
    report = measure(facts(raw), RULES, "en", cuts, [(c.speech_start, c.speech_end) for c in raw])["timing"]
    assert report["violations"] == {"frame_accuracy": 2, "shot_changes": 3}, report
    assert report["within"]["shot_changes"] == 0.25
    timed = time_to_frames(made(), RULES, cuts)
    checked = measure(facts(timed), RULES, "en", cuts, [(c.speech_start, c.speech_end) for c in timed])
    assert checked["timing"]["all_within"] and checked["timing"]["within"] == {"frame_accuracy": 1.0, "shot_changes": 1.0}, checked
    assert checked["all_within"], checked  # the layout limits still hold
    # from the times alone, a tail of under 12 frames over a cut counts; a cut deep inside does not
    tail = [CueFacts(1, round(40 / 24 * 1000), round(106 / 24 * 1000), ("a",)),
            CueFacts(2, round(150 / 24 * 1000), round(290 / 24 * 1000), ("b",))]
    assert measure(tail, RULES, "en", timing(100, 220))["timing"]["violations"]["shot_changes"] == 1


def test_subtitle_stage_times_cues_to_the_cuts(clips: dict[str, CutClip], tmp_path: Path) -> None:
    clip = clips["25"]
    job = prepare_job(clip.path, "subtitle", source_language="en", user="tester", overrides={"OUTPUT_DIR": str(tmp_path / "out")})
    (job.dir / "01_demux").mkdir()
    shots = ShotChanges(clip.rate, 10.0, tuple(clip.cuts))
    (job.dir / "01_demux" / "shot_changes.json").write_text(json.dumps(shots.to_json()), encoding="utf-8")
    words = [Word(start=2.0 + 0.3 * k, end=2.25 + 0.3 * k, text=f" word{k}") for k in range(6)]  # speech up to 3.75 s; the cut at 3.2 s
    later = [Word(start=6.05 + 0.3 * k, end=6.3 + 0.3 * k, text=f" more{k}") for k in range(4)]  # 5 frames after the cut at 5.8 s
    transcript = Transcript(language="en", duration=40.0, segments=[
        Segment(id=0, start=2.0, end=3.75, text="".join(w.text for w in words), words=words),
        Segment(id=1, start=6.05, end=7.2, text="".join(w.text for w in later), words=later)])
    (job.dir / "07_alignment").mkdir()
    (job.dir / "07_alignment" / "transcript.json").write_text(transcript.to_json(), encoding="utf-8")
    io = _run_stage(job, "subtitle_generation")
    subs = pysubs2.load(str(io.dir / f"{job.stem}.en.srt"))
    assert all(e.start % 40 == 0 and e.end % 40 == 0 for e in subs)  # whole frames at 25 fps
    assert subs[-1].start == 5800  # moved onto the cut
    report = io.metrics["compliance"]["en"]
    assert report["timing"]["all_within"] and report["timing"]["frame_rate"] == 25.0, report
    assert measure(facts_from_file(io.dir / f"{job.stem}.en.srt"), rules_from(io.settings, "en"), "en",
                   FrameTiming.of(shots, 0.5))["timing"]["all_within"]


# --- rules per language and audience ------------------------------------------------------------

def test_rules_per_language_and_audience(tmp_path: Path) -> None:
    default = Settings()
    assert rules_from(default, "hi").max_cps == 22 and rules_from(default, "hi").max_line_length == 42
    lengths = {lang: rules_from(default, lang).max_line_length for lang in ("ja", "zh", "zh-Hant", "ko")}
    assert lengths == {"ja": 16, "zh": 16, "zh-Hant": 16, "ko": 16}
    assert rules_from(default, "en").max_cps == 17 and rules_from(default, "en").max_line_length == 42
    children = Settings(SUBTITLE_AUDIENCE="children")
    assert all(rules_from(children, lang).max_cps < rules_from(default, lang).max_cps for lang in ("en", "hi", "zh", "ko", "es"))
    assert rules_from(default, "en", "children").max_cps == rules_from(children, "en").max_cps == 13
    # what the configuration sets wins: per language first, then for every language
    mine = load_config(cwd=tmp_path, environ={}, overrides={
        "SUBTITLE_MAX_CPS": "15", "SUBTITLE_MAX_CPS_BY_LANGUAGE": "hi:20", "SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE": "ja:13",
        "SUBTITLE_AUDIENCE": "children"})
    assert (rules_from(mine, "hi").max_cps, rules_from(mine, "en").max_cps, rules_from(mine, "zh").max_cps) == (20, 15, 15)
    assert rules_from(mine, "ja").max_line_length == 13 and rules_from(mine, "zh").max_line_length == 16


@pytest.mark.parametrize("value", ["hi=20", "hi:fast", "hi:1"])
def test_bad_reading_speeds_are_refused(tmp_path: Path, value: str) -> None:
    from cpwhisperx.errors import ConfigError

    with pytest.raises(ConfigError, match="SUBTITLE_MAX_CPS_BY_LANGUAGE"):
        load_config(cwd=tmp_path, environ={}, overrides={"SUBTITLE_MAX_CPS_BY_LANGUAGE": value})


def test_rules_table_lists_every_language() -> None:
    table = rules_table_markdown()
    assert "| Hindi (`hi`) | 42 | 22 | 17 | 22 |" in table and "| Japanese (`ja`) | 16 |" in table


# --- streams that do not start together, and a video that cannot be decoded --------------------

VIDEO_DELAY = Fraction(7, 100)  # 1.75 frames at 25 fps: frames on a grid from the audio's first sample would miss it


@pytest.fixture(scope="module")
def late_video(clips: dict[str, CutClip], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 25 fps clip with its video starting 70 ms after its first audio stream, and a second
    audio stream starting after the video."""
    path = tmp_path_factory.mktemp("late") / "late_video.mp4"
    source = str(clips["25"].path)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-itsoffset", str(float(VIDEO_DELAY)), "-i", source, "-i", source,
                    "-itsoffset", "0.2", "-i", source, "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c", "copy", str(path)], check=True)
    return path


def _video_frame_times(path: Path) -> list[Fraction]:
    """When each frame of the video shows, from its packets' timestamps (ffprobe, not the code under test)."""
    result = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=time_base:packet=pts",
                             "-of", "json", str(path)], capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    base = Fraction(data["streams"][0]["time_base"])
    return sorted(int(p["pts"]) * base for p in data["packets"])


def test_cuts_and_cues_land_on_the_frames_of_a_video_starting_after_its_audio(clips: dict[str, CutClip], late_video: Path,
                                                                              tmp_path: Path) -> None:
    clip = clips["25"]
    info = probe(late_video)
    video, audio = info.video_streams[0], info.audio_streams[0]
    assert float(video["start_time"]) - float(audio["start_time"]) == pytest.approx(float(VIDEO_DELAY), abs=1e-6)
    audio_start = Fraction(audio["start_pts"]) * Fraction(audio["time_base"])
    shown = [t - audio_start for t in _video_frame_times(late_video)]  # on the extracted audio's timeline
    found = detect(late_video, video, audio, 10.0)
    assert found.video_offset == VIDEO_DELAY
    assert list(found.frames) == clip.cuts  # counted from the video's first frame
    assert found.times == [float(shown[cut]) for cut in clip.cuts]

    job = prepare_job(late_video, "subtitle", source_language="en", user="tester",
                      overrides={"OUTPUT_DIR": str(tmp_path / "out"), "CACHE_DIR": str(tmp_path / "cache")})
    demux = _run_stage(job, "demux")
    written = json.loads((demux.dir / "shot_changes.json").read_text(encoding="utf-8"))
    assert written["video_offset"] == 0.07 and written["video_offset_fraction"] == "7/100"
    assert written["shot_change_frames"] == clip.cuts
    assert written["shot_changes"] == [round(float(shown[cut]), 6) for cut in clip.cuts]
    # speech 4.5 frames after the cut at frame 145 (5.87 s of the audio), and some between cuts
    words = [Word(start=2.0 + 0.3 * k, end=2.25 + 0.3 * k, text=f" word{k}") for k in range(6)]
    later = [Word(start=6.05 + 0.3 * k, end=6.3 + 0.3 * k, text=f" more{k}") for k in range(4)]
    transcript = Transcript(language="en", duration=40.0, segments=[
        Segment(id=0, start=2.0, end=3.75, text="".join(w.text for w in words), words=words),
        Segment(id=1, start=6.05, end=7.2, text="".join(w.text for w in later), words=later)])
    (job.dir / "07_alignment").mkdir()
    (job.dir / "07_alignment" / "transcript.json").write_text(transcript.to_json(), encoding="utf-8")
    io = _run_stage(job, "subtitle_generation")
    subs = pysubs2.load(str(io.dir / f"{job.stem}.en.srt"))
    frame_ms = {round(t * 1000) for t in shown}
    assert all(e.start in frame_ms and e.end in frame_ms for e in subs), [(e.start, e.end) for e in subs]
    assert subs[-1].start == round(shown[145] * 1000) == 5870  # onto the cut, where the new shot really shows
    report = io.metrics["compliance"]["en"]
    assert report["timing"]["all_within"], report
    timing = FrameTiming.of(ShotChanges.from_json(written), 0.5)
    assert timing is not None and measure(facts_from_file(io.dir / f"{job.stem}.en.srt"), rules_from(io.settings, "en"), "en",
                                          timing)["timing"]["all_within"]


def test_the_offset_follows_the_audio_stream_transcribed(clips: dict[str, CutClip], late_video: Path, tmp_path: Path) -> None:
    """The second audio stream starts after the video: the same frames at other times, and the
    cached result of the first stream is not taken for it."""
    clip = clips["25"]
    overrides = {"OUTPUT_DIR": str(tmp_path / "out"), "CACHE_DIR": str(tmp_path / "cache")}
    first = _run_stage(prepare_job(late_video, user="tester", overrides=overrides), "demux")
    second = _run_stage(prepare_job(late_video, user="tester", overrides=overrides | {"DEMUX_AUDIO_STREAM": "1"}), "demux")
    assert "shot_detection_seconds" in first.metrics and "shot_detection_seconds" in second.metrics
    info = probe(late_video)
    offset = (Fraction(info.video_streams[0]["start_pts"]) * Fraction(info.video_streams[0]["time_base"])
              - Fraction(info.audio_streams[1]["start_pts"]) * Fraction(info.audio_streams[1]["time_base"]))
    assert offset < 0  # this audio starts after the video
    shots = ShotChanges.from_json(json.loads((second.dir / "shot_changes.json").read_text(encoding="utf-8")))
    assert shots.video_offset == offset and list(shots.frames) == clip.cuts
    assert shots.times[0] == float(offset + Fraction(clip.cuts[0]) / clip.rate)
    timing = FrameTiming.of(shots, 0.5)
    assert timing is not None and timing.first_frame == 2  # the first frame shown once the audio has started
    assert timing.seconds(timing.first_frame) >= 0


def test_shot_changes_written_before_the_offset_was_recorded_count_from_the_audio() -> None:
    old = {"frame_rate": 25.0, "frame_rate_fraction": "25/1", "threshold": 10.0, "shot_change_frames": [80, 145],
           "shot_changes": [3.2, 5.8]}
    shots = ShotChanges.from_json(old)
    assert shots.video_offset == 0 and shots.times == [3.2, 5.8] and shots.error is None
    timing = FrameTiming.of(shots, 0.5)
    assert timing is not None and (timing.frame(3.2), timing.seconds(145)) == (80, 5.8)
    moved = ShotChanges(Fraction(25), 10.0, (80,), Fraction(-33, 1000))
    assert ShotChanges.from_json(moved.to_json()) == moved
    assert ShotChanges.from_json({k: v for k, v in moved.to_json().items() if k != "video_offset_fraction"}) == moved


def test_a_video_that_cannot_be_decoded_leaves_the_frames_without_cuts(clips: dict[str, CutClip], tmp_path: Path) -> None:
    broken = tmp_path / "broken_video.mp4"
    # every video packet scrambled, the audio intact: ffprobe still reads the stream's frame rate
    subprocess.run(["ffmpeg", "-nostdin", "-v", "quiet", "-y", "-i", str(clips["25"].path), "-c", "copy", "-bsf:v", "noise=amount=2",
                    str(broken)], check=True, capture_output=True)
    overrides = {"OUTPUT_DIR": str(tmp_path / "out"), "CACHE_DIR": str(tmp_path / "cache")}
    io = _run_stage(prepare_job(broken, user="tester", overrides=overrides), "demux")
    written = json.loads((io.dir / "shot_changes.json").read_text(encoding="utf-8"))
    assert written["frame_rate_fraction"] == "25/1" and written["shot_change_frames"] == [] and written["video_offset"] == 0.0
    assert "could not decode the video" in written["error"]
    assert any("could not decode the video" in w and "without its shot changes" in w for w in io.warnings), io.warnings
    assert (io.dir / "audio.wav").is_file()
