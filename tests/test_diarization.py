"""Speaker diarization: the error rate on known answers, the built-in backend on real readers, the
stage in a job, and jobs laid out by an older version."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import cpwx, manifest
from speakers import Conversation, conversation, english_readers, hindi_readers

from cpwhisperx.config import load_config
from cpwhisperx.diarize import ArrayAudio, SpeakerCount, Turn, get_backend, register_backend
from cpwhisperx.diarize.builtin import BuiltinDiarizer
from cpwhisperx.diarize.features import BLOCK_FRAMES, FRAME, HOP, region_features
from cpwhisperx.diarize.der import best_assignment, diarization_error, one_speaker
from cpwhisperx.errors import ConfigError, InvalidInput
from cpwhisperx.jobs import Job, prepare_job
from cpwhisperx.stageio import StageIO
from cpwhisperx.stages import get_stage
from cpwhisperx.transcript import Segment, Transcript, Word


def turns(*spans: tuple[float, float, str]) -> list[Turn]:
    return [Turn(a, b, s) for a, b, s in spans]


# --- DER on answers worked out by hand ------------------------------------------------------------
def test_der_is_zero_for_a_perfect_hypothesis_whatever_the_labels() -> None:
    ref = turns((0, 10, "A"), (10, 20, "B"))
    error = diarization_error(ref, turns((0, 10, "x"), (10, 20, "y")), collar=0)
    assert error.rate == 0
    assert error.mapping == {"x": "A", "y": "B"}


def test_der_counts_missed_false_alarm_and_confusion() -> None:
    ref = turns((0, 10, "A"), (10, 20, "B"))
    # 0-2 missed; 2-10 right; 10-15 confused (B called x, x mapped to A); 15-20 right; 20-22 false alarm.
    hyp = turns((2, 15, "x"), (15, 22, "y"))
    error = diarization_error(ref, hyp, collar=0)
    assert (error.missed_seconds, error.false_alarm_seconds, error.confusion_seconds) == (2, 2, 5)
    assert error.rate == pytest.approx(9 / 20)


def test_der_collar_leaves_the_edges_of_reference_turns_unscored() -> None:
    ref = turns((0, 10, "A"), (10, 20, "B"))
    hyp = turns((0, 10.2, "x"), (10.2, 20, "y"))          # the change 0.2 s late
    assert diarization_error(ref, hyp, collar=0).confusion_seconds == pytest.approx(0.2)
    error = diarization_error(ref, hyp, collar=0.25)
    assert error.rate == 0
    assert error.reference_seconds == pytest.approx(20 - 3 * 0.5 + 0.25 + 0.25)   # 0.25 s lost at 0 and 20, 0.5 s at 10


def test_der_of_one_speaker_for_all_is_the_share_of_the_others() -> None:
    ref = turns((0, 6, "A"), (7, 10, "B"), (11, 12, "C"))
    assert diarization_error(ref, one_speaker(ref), collar=0).rate == pytest.approx(4 / 10)


def test_der_overlapping_speech_is_scored_per_speaker() -> None:
    ref = turns((0, 10, "A"), (5, 10, "B"))                 # 15 s of speaker time
    error = diarization_error(ref, turns((0, 10, "x")), collar=0)
    assert error.missed_seconds == 5 and error.rate == pytest.approx(5 / 15)


def test_optimal_assignment_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    for rows, cols in ((3, 3), (2, 4), (4, 2), (5, 5), (3, 5)):
        gain = rng.integers(0, 20, (rows, cols)).astype(float)
        pairs = best_assignment(gain)
        assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})
        best = max(sum(gain[r, c] for r, c in zip(perm, range(cols), strict=False) if r is not None)
                   for perm in itertools.permutations([*range(rows), *[None] * cols], cols))
        assert sum(gain[r, c] for r, c in pairs) == best


# --- the built-in backend on three Hindi news readers -------------------------------------------
@pytest.fixture(scope="module")
def three_readers() -> Conversation:
    mix = conversation(hindi_readers(count=3), seed=1)
    assert mix.duration <= 60 and len({t.speaker for t in mix.turns}) == 3
    return mix


def test_builtin_estimates_three_readers_and_beats_the_naive_baseline(three_readers: Conversation) -> None:
    found = BuiltinDiarizer().diarize(three_readers.audio, three_readers.speech_regions, SpeakerCount())
    naive = diarization_error(three_readers.turns, one_speaker(three_readers.turns)).rate
    error = diarization_error(three_readers.turns, found).rate
    assert len({t.speaker for t in found}) == 3
    assert error < naive / 2, (error, naive)
    assert error < 0.15
    assert [t.speaker for t in found][:1] == ["SPEAKER_1"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    regions = three_readers.speech_regions
    assert all(any(lo - 1e-6 <= t.start and t.end <= hi + 1e-6 for lo, hi in regions) for t in found)


@pytest.mark.parametrize("exact", [2, 4])
def test_builtin_honours_a_given_count(three_readers: Conversation, exact: int) -> None:
    found = BuiltinDiarizer().diarize(three_readers.audio, three_readers.speech_regions, SpeakerCount(exact=exact))
    assert len({t.speaker for t in found}) == exact


def test_builtin_keeps_within_the_bounds(three_readers: Conversation) -> None:
    found = BuiltinDiarizer().diarize(three_readers.audio, three_readers.speech_regions, SpeakerCount(minimum=1, maximum=2))
    assert len({t.speaker for t in found}) <= 2


def test_builtin_one_reader_is_one_speaker_and_no_speech_no_turns() -> None:
    one = conversation(english_readers()[:1], seed=2)
    found = BuiltinDiarizer().diarize(one.audio, one.speech_regions, SpeakerCount())
    assert {t.speaker for t in found} == {"SPEAKER_1"}
    assert BuiltinDiarizer().diarize(one.audio, [], SpeakerCount()) == []
    assert BuiltinDiarizer().diarize(np.zeros(16000, np.float32), [(0.0, 0.1)], SpeakerCount()) == []


# --- reading the audio a block at a time ---------------------------------------------------------
class CountingAudio(ArrayAudio):
    """An array read as a source, each read's length kept."""

    def __init__(self, audio: np.ndarray) -> None:
        super().__init__(audio)
        self.reads: list[int] = []

    def read(self, start: int, end: int) -> np.ndarray:
        samples = super().read(start, end)
        self.reads.append(len(samples))
        return samples


def test_features_read_in_blocks_are_those_of_the_whole_region(three_readers: Conversation) -> None:
    audio = ArrayAudio(three_readers.audio)
    start, end = 1234, len(three_readers.audio) - 777
    whole, whole_energy = region_features(audio, start, end, block_frames=10 ** 9)
    for block in (BLOCK_FRAMES, 997, 3):
        features, energy = region_features(audio, start, end, block_frames=block)
        assert features.shape == whole.shape and np.array_equal(energy, whole_energy)
        # The blocks' matrix products may round in another order than the whole's: no more differs.
        np.testing.assert_allclose(features, whole, rtol=0, atol=1e-4)
    assert region_features(audio, 0, FRAME - 1)[0].shape == (0, 38)
    assert region_features(audio, 0, FRAME)[0].shape == (1, 38)


def test_builtin_reads_no_more_than_a_block_at_once(three_readers: Conversation) -> None:
    """A region far longer than a block (here the readers heard three times over, as one region): it
    is read 30 s at a time, and the turns are those found from the array."""
    audio = np.concatenate([three_readers.audio] * 3)
    source = CountingAudio(audio)
    whole = [(0.0, len(audio) / 16000)]
    found = BuiltinDiarizer().diarize(source, whole, SpeakerCount())
    assert len(source.reads) == 3 and max(source.reads) <= BLOCK_FRAMES * HOP + FRAME
    assert found == BuiltinDiarizer().diarize(audio, whole, SpeakerCount())
    assert len({t.speaker for t in found}) == 3


# --- configuration and registry --------------------------------------------------------------------
def test_speaker_bounds_are_checked() -> None:
    with pytest.raises(ConfigError, match="DIARIZATION_MIN_SPEAKERS=3 is above"):
        load_config(overrides={"DIARIZATION_MIN_SPEAKERS": "3", "DIARIZATION_MAX_SPEAKERS": "2"})
    with pytest.raises(ConfigError, match="DIARIZATION_NUM_SPEAKERS=9 is outside"):
        load_config(overrides={"DIARIZATION_NUM_SPEAKERS": "9"})
    settings = load_config(overrides={"DIARIZATION_NUM_SPEAKERS": "3"})
    assert SpeakerCount.from_settings(settings) == SpeakerCount(3, 1, 8)


def test_registry_gives_the_builtin_backend_and_takes_new_ones() -> None:
    settings = load_config()
    assert get_backend(settings).name == "builtin"

    class Fixed:
        name = "fixed"
        model_files: tuple[Path, ...] = ()

        def diarize(self, audio: np.ndarray, regions: list[tuple[float, float]], count: SpeakerCount) -> list[Turn]:
            return [Turn(a, b, "SPEAKER_1") for a, b in regions]

    register_backend("builtin", lambda s: Fixed())
    try:
        assert get_backend(settings).name == "fixed"
    finally:
        register_backend("builtin", "cpwhisperx.diarize.builtin:create")
    assert get_backend(settings).name == "builtin"


# --- the stage ---------------------------------------------------------------------------------
def _job_with_speech(tmp_path: Path, mix: Conversation, workflow: str = "subtitle", **overrides: str) -> Job:
    media = mix.write_wav(tmp_path / "talk.wav")
    job = prepare_job(media, workflow, user="tester", overrides={"OUTPUT_DIR": str(tmp_path / "out"), **overrides})
    mix.write_wav(job.dir / "01_demux" / "audio.wav")
    regions = [{"start": a, "end": b} for a, b in mix.speech_regions]
    (job.dir / "05_vad").mkdir()
    (job.dir / "05_vad" / "speech.json").write_text(json.dumps({"regions": regions}), encoding="utf-8")
    segments = []
    for index, turn in enumerate(mix.turns):
        edges = np.linspace(turn.start, turn.end, 4)
        words = [Word(start=round(a, 3), end=round(b, 3), text=f"w{index}{k}") for k, (a, b) in enumerate(itertools.pairwise(edges))]
        segments.append(Segment(id=index, start=turn.start, end=turn.end, text=" ".join(w.text for w in words), words=words))
    (job.dir / "07_alignment").mkdir()
    transcript = Transcript(language="hi", duration=mix.duration, segments=segments)
    (job.dir / "07_alignment" / "transcript.json").write_text(transcript.to_json(), encoding="utf-8")
    return job


def _run_stage(job: Job) -> StageIO:
    spec = get_stage("diarization")
    settings = job.settings()
    io = StageIO(job, spec.number, spec.name, settings, spec.config_keys)
    assert spec.skip_reason(job, settings) is None
    io.dir.mkdir(exist_ok=True)
    spec.runner()(io)
    return io


def test_stage_writes_turns_and_labels_the_transcript(tmp_path: Path, three_readers: Conversation) -> None:
    job = _job_with_speech(tmp_path, three_readers)
    io = _run_stage(job)
    data = json.loads((job.dir / "08_diarization" / "turns.json").read_text(encoding="utf-8"))
    assert data["backend"] == "builtin" and data["speakers"] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_3"]
    found = [Turn(t["start"], t["end"], t["speaker"]) for t in data["turns"]]
    assert diarization_error(three_readers.turns, found).rate < 0.15
    assert io.metrics["speakers"] == 3 and io.metrics["turns"] == len(found)
    assert sum(io.metrics["speech_seconds_by_speaker"].values()) == pytest.approx(sum(t.end - t.start for t in found), abs=0.05)
    labelled = Transcript.load(job.dir / "08_diarization" / "transcript.json")
    # Each reader's segments carry one label, and the three readers three different ones.
    by_reader: dict[str, set[str | None]] = {}
    for turn, segment in zip(three_readers.turns, labelled.segments, strict=True):
        by_reader.setdefault(turn.speaker, set()).add(segment.speaker)
    assert sorted(len(labels) for labels in by_reader.values()) == [1, 1, 1]
    assert len(set().union(*by_reader.values())) == 3


def test_stage_records_the_model_files_of_its_backend(tmp_path: Path, three_readers: Conversation) -> None:
    """A replaced model file makes the stage run again: the files are inputs of its manifest."""
    model = tmp_path / "voices.onnx"
    model.write_bytes(b"model")

    class WithModel:
        name = "with-model"
        model_files = (model,)

        def diarize(self, audio: np.ndarray, regions: list[tuple[float, float]], count: SpeakerCount) -> list[Turn]:
            return [Turn(a, b, "SPEAKER_1") for a, b in regions]

    job = _job_with_speech(tmp_path, three_readers)
    register_backend("builtin", lambda s: WithModel())
    try:
        io = _run_stage(job)
    finally:
        register_backend("builtin", "cpwhisperx.diarize.builtin:create")
    recorded = [r for r in io.inputs if r["type"] == "model"]
    assert [r["path"] for r in recorded] == [str(model.resolve())] and recorded[0]["size_bytes"] == 5
    assert io.metrics["turns"] == len(three_readers.speech_regions)


def test_stage_without_speech_writes_no_turns_and_keeps_the_transcript(tmp_path: Path, three_readers: Conversation) -> None:
    job = _job_with_speech(tmp_path, three_readers)
    (job.dir / "05_vad" / "speech.json").write_text(json.dumps({"regions": []}), encoding="utf-8")
    empty = Transcript(language="hi", duration=three_readers.duration)
    (job.dir / "07_alignment" / "transcript.json").write_text(empty.to_json(), encoding="utf-8")
    io = _run_stage(job)
    assert json.loads((job.dir / "08_diarization" / "turns.json").read_text(encoding="utf-8"))["turns"] == []
    assert Transcript.load(job.dir / "08_diarization" / "transcript.json") == empty
    assert io.metrics["speakers"] == 0


def test_stage_is_on_in_subtitle_jobs_and_where_forced(tmp_path: Path, three_readers: Conversation) -> None:
    spec = get_stage("diarization")
    subtitle = _job_with_speech(tmp_path / "a", three_readers)
    transcribe = _job_with_speech(tmp_path / "b", three_readers, "transcribe")
    forced = _job_with_speech(tmp_path / "c", three_readers, "transcribe", DIARIZATION_ENABLED="true")
    off = _job_with_speech(tmp_path / "d", three_readers, DIARIZATION_ENABLED="false")
    assert spec.skip_reason(subtitle, subtitle.settings()) is None
    assert "DIARIZATION_ENABLED=auto" in (spec.skip_reason(transcribe, transcribe.settings()) or "")
    assert spec.skip_reason(forced, forced.settings()) is None
    assert spec.skip_reason(off, off.settings()) == "off: DIARIZATION_ENABLED=false"


def test_stage_on_the_finished_sample_film_with_its_two_readers_given(job_copy: Path) -> None:
    """The sample film is a LibriVox reader, then a CMU reader of card names (two men of like
    pitch), diarized on the speech regions the pipeline's VAD found."""
    result = cpwx("run", "--job-dir", str(job_copy), "--from", "diarization", "--set", "DIARIZATION_ENABLED=true",
                  "--set", "DIARIZATION_NUM_SPEAKERS=2", cwd=job_copy.parent)
    assert result.returncode == 0, result.stderr
    stage = manifest(job_copy, "08_diarization")
    assert stage["status"] == "success" and stage["metrics"]["speakers"] == 2 and stage["metrics"]["speaker_count"] == "given"
    film = json.loads(Path(json.loads((job_copy / "job.json").read_text())["media"]["path"] + ".json").read_text())
    reference = [Turn(s["start"], s["end"], "cards" if s["reference"].split()[-1] in ("clubs", "spades", "hearts", "five") else "librivox")
                 for s in film["segments"]]
    found = [Turn(t["start"], t["end"], t["speaker"]) for t in json.loads((job_copy / "08_diarization" / "turns.json").read_text())["turns"]]
    assert diarization_error(reference, found).rate < diarization_error(reference, one_speaker(reference)).rate * 0.75
    labelled = Transcript.load(job_copy / "08_diarization" / "transcript.json")
    assert {s.speaker for s in labelled.segments} == {"SPEAKER_1", "SPEAKER_2"}
    assert manifest(job_copy, "12_subtitle_generation")["status"] == "success"


# --- a job laid out by an older version ---------------------------------------------------------------
def test_a_job_of_the_older_layout_is_told_to_be_prepared_again(tmp_path: Path, three_readers: Conversation) -> None:
    job = _job_with_speech(tmp_path, three_readers)
    # As the version before the diarization stage numbered them.
    (job.dir / "08_lyrics_detection").mkdir()
    (job.dir / "11_subtitle_generation").mkdir()
    result = cpwx("run", "--job-dir", str(job.dir), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "prepared by an older version" in result.stderr and "08_lyrics_detection, 11_subtitle_generation" in result.stderr
    assert "now 09_lyrics_detection, 12_subtitle_generation" in result.stderr
    assert f"cpwx prepare --media {job.record.media.path} --workflow subtitle" in result.stderr
    assert not (job.dir / "08_diarization").exists()
    from cpwhisperx.pipeline import run_job

    with pytest.raises(InvalidInput, match="older version"):
        run_job(job.dir)
