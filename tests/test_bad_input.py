"""Bad input: each case gets a clear message and the exit code of SPEC §10, and nothing is lost."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from conftest import cpwx, job_dirs, manifest


def test_missing_file(tmp_path: Path) -> None:
    result = cpwx("transcribe", str(tmp_path / "nowhere.mp4"), cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "nowhere.mp4" in result.stderr
    assert job_dirs(tmp_path) == []


def test_text_file_named_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "film.mp4"
    fake.write_text("this is not a film\n" * 20)
    result = cpwx("transcribe", str(fake), cwd=tmp_path)
    assert result.returncode == 2
    assert "stage 'demux' failed" in result.stderr and "not a media file" in result.stderr
    assert "stage.log" in result.stderr
    (job,) = job_dirs(tmp_path)
    data = manifest(job, "01_demux")
    assert data["status"] == "failed" and data["errors"][0]["exception_type"] == "InvalidInput"
    assert json.loads((job / "job.json").read_text())["status"] == "failed"


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    result = cpwx("transcribe", str(empty), cwd=tmp_path)
    assert result.returncode == 2 and "empty" in result.stderr


def test_audio_stream_without_samples_leaves_no_outputs(tmp_path: Path) -> None:
    """A stage that fails after writing some files keeps none of them under their final names."""
    import wave

    empty = tmp_path / "no samples.wav"
    with wave.open(str(empty), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(b"")
    result = cpwx("transcribe", str(empty), cwd=tmp_path)
    assert result.returncode == 2 and "holds no samples" in result.stderr
    (job,) = job_dirs(tmp_path)
    assert sorted(p.name for p in (job / "01_demux").iterdir()) == ["manifest.json", "stage.log"]
    data = manifest(job, "01_demux")
    assert data["status"] == "failed" and data["outputs"] == []
    assert {f["path"] for f in data["intermediate_files"] if "failed" in f["reason"]} == {"01_demux/media.json", "01_demux/audio.wav"}


def test_video_without_audio(make_media: Callable[..., Path], tmp_path: Path) -> None:
    video = make_media("silent_video.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    result = cpwx("transcribe", str(video), cwd=tmp_path)
    assert result.returncode == 2
    assert "no audio stream" in result.stderr and "video" in result.stderr


def test_pure_silence_gives_empty_transcript_with_warning(make_media: Callable[..., Path], tmp_path: Path) -> None:
    silence = make_media("silence.wav", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "20")
    result = cpwx("transcribe", str(silence), "-s", "en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no speech" in result.stderr
    (job,) = job_dirs(tmp_path)
    srt = job / "12_subtitle_generation" / "silence.en.srt"
    assert srt.is_file() and srt.read_text(encoding="utf-8").strip() == ""
    assert json.loads((job / "12_subtitle_generation" / "silence.en.json").read_text())["segments"] == []
    assert manifest(job, "05_vad")["warnings"]


def test_unknown_config_key_names_the_closest(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("transcribe", str(short_clip), "--set", "WHISPER_BEAM=3", cwd=tmp_path)
    assert result.returncode == 2
    assert "WHISPER_BEAM" in result.stderr and "did you mean WHISPER_BEAM_SIZE" in result.stderr
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / ".env.pipeline").write_text("VAD_TRESHOLD=0.4\n")
    result = cpwx("transcribe", str(short_clip), cwd=tmp_path)
    assert result.returncode == 2 and "VAD_THRESHOLD" in result.stderr and ".env.pipeline" in result.stderr


def test_invalid_value_names_key_value_and_allowed(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("transcribe", str(short_clip), "--set", "WHISPER_DEVICE=gpu", cwd=tmp_path)
    assert result.returncode == 2
    assert "WHISPER_DEVICE=gpu" in result.stderr and "'cuda'" in result.stderr
    result = cpwx("transcribe", str(short_clip), cwd=tmp_path, env={"WHISPER_BEAM_SIZE": "zero"})
    assert result.returncode == 2 and "WHISPER_BEAM_SIZE=zero" in result.stderr
    assert job_dirs(tmp_path) == []


def test_unknown_language_code(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("transcribe", str(short_clip), "-s", "xx", cwd=tmp_path)
    assert result.returncode == 2 and "unknown language code 'xx'" in result.stderr
    result = cpwx("transcribe", str(short_clip), "-s", "hindi", cwd=tmp_path)
    assert result.returncode == 2 and "'hi'" in result.stderr
    result = cpwx("translate", str(short_clip), "-s", "en", "-t", "englsh", cwd=tmp_path)
    assert result.returncode == 2 and "unknown language code 'englsh'; did you mean 'en' (English)?" in result.stderr
    # Odia is a target language, not one Whisper transcribes
    result = cpwx("transcribe", str(short_clip), "-s", "or", cwd=tmp_path)
    assert result.returncode == 2 and "Whisper does not transcribe Odia ('or')" in result.stderr
    result = cpwx("translate", str(short_clip), "-s", "en", "-t", "tlh", cwd=tmp_path)
    assert result.returncode == 2 and "no translation engine translates into Klingon ('tlh')" in result.stderr
    assert job_dirs(tmp_path) == []


def test_model_not_available_offline(tmp_path: Path, short_clip: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "MODELS_DIR": str(tmp_path / "empty-cache")}
    result = cpwx("transcribe", str(short_clip), "--set", "WHISPER_MODEL=small", cwd=tmp_path, env=env)
    assert result.returncode == 3, result.stderr
    assert "cpwx models download small" in result.stderr
    result = cpwx("models", "path", "small", cwd=tmp_path, env=env)
    assert result.returncode == 3 and "cpwx models download small" in result.stderr


def test_strict_backend_stops_with_exit_3(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("transcribe", str(short_clip), "--set", "WHISPER_BACKEND=mlx", "--set", "WHISPER_BACKEND_STRICT=true", cwd=tmp_path)
    assert result.returncode == 3 and "WHISPER_BACKEND=mlx is not available" in result.stderr and "not built" in result.stderr
    result = cpwx("transcribe", str(short_clip), "--set", "WHISPER_DEVICE=mps", "--set", "WHISPER_BACKEND_STRICT=true", cwd=tmp_path)
    assert result.returncode == 3 and "WHISPER_DEVICE=mps is not available" in result.stderr and "not built" in result.stderr


def test_no_description_promises_what_is_not_built() -> None:
    from cpwhisperx.asr import NOT_BUILT, NOT_BUILT_DEVICES
    from cpwhisperx.config import Settings

    fields = Settings.model_fields
    for name in NOT_BUILT:
        assert f"`{name}`" in fields["WHISPER_BACKEND"].description and "not built" in fields["WHISPER_BACKEND"].description
    for device in NOT_BUILT_DEVICES:
        assert f"`{device}`" in fields["WHISPER_DEVICE"].description and "not built" in fields["WHISPER_DEVICE"].description
    assert "Apple Silicon" not in fields["WHISPER_BACKEND"].description
    assert "no initial prompt" not in fields["WHISPER_HOTWORDS"].description


def test_batched_decoding_says_what_it_changes(tmp_path: Path, short_clip: Path) -> None:
    model = ("--set", "WHISPER_MODEL=tiny.en")
    for name in ("batched", "whole", "sequential"):
        (tmp_path / name).mkdir()
    batched = cpwx("transcribe", str(short_clip), "-s", "en", "--set", "WHISPER_BATCH_SIZE=4", *model, cwd=tmp_path / "batched")
    assert batched.returncode == 0, batched.stderr
    assert "WHISPER_BATCH_SIZE" not in batched.stderr  # speech regions: blocks are independent, nothing changes
    whole = cpwx("transcribe", str(short_clip), "-s", "en", "--set", "WHISPER_BATCH_SIZE=4", "--set", "VAD_ENABLED=false", *model,
                 cwd=tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    assert "WHISPER_BATCH_SIZE=4: the speech is cut into up to 4 stretches" in whole.stderr
    (job,) = job_dirs(tmp_path / "whole")
    assert any("without the text before it" in w for w in manifest(job, "06_asr")["warnings"])
    sequential = cpwx("transcribe", str(short_clip), "-s", "en", *model, cwd=tmp_path / "sequential")
    assert sequential.returncode == 0, sequential.stderr
    texts = [next((tmp_path / name).glob("out/*/*/*/*/job-*/12_subtitle_generation/*.txt")).read_text(encoding="utf-8")
             for name in ("batched", "sequential")]
    assert texts[0] == texts[1] and len(texts[0].split()) > 5


def test_fallback_backend_and_device_warn(tmp_path: Path, short_clip: Path) -> None:
    result = cpwx("transcribe", str(short_clip), "--set", "WHISPER_BACKEND=whisperx", "--set", "WHISPER_DEVICE=cuda",
                  "--set", "WHISPER_MODEL=tiny.en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    data = manifest(job, "06_asr")
    assert data["asr"]["backend"] == "faster-whisper" and data["asr"]["device"] == "cpu"
    warnings = " ".join(data["warnings"])
    assert "WHISPER_BACKEND=whisperx is not available" in warnings and "no CUDA device" in warnings
    assert "falling back" in (job / "06_asr" / "stage.log").read_text(encoding="utf-8")


def test_awkward_media_name(tmp_path: Path, short_clip: Path) -> None:
    media_dir = tmp_path / "my films"
    media_dir.mkdir()
    awkward = media_dir / "it's a \"test\" फ़िल्म.wav"
    shutil.copy(short_clip, awkward)
    result = cpwx("transcribe", str(awkward), "--set", "WHISPER_MODEL=tiny.en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    srt = job / "12_subtitle_generation" / "it's a \"test\" फ़िल्म.en.srt"
    assert srt.is_file() and "young man" in srt.read_text(encoding="utf-8").lower()
    assert str(srt) in result.stdout


def test_output_directory_that_cannot_be_written(tmp_path: Path, short_clip: Path) -> None:
    """A read-only output folder (or a path through a file, which fails for root too): a clear
    message, exit 2, the media untouched and no traceback."""
    import os

    media = tmp_path / "talk.wav"
    shutil.copy(short_clip, media)
    before = media.read_bytes()
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file where a folder should be\n")
    targets = [blocker / "jobs"]
    if os.geteuid() != 0:  # root writes through permissions, so only a real user sees a read-only folder refuse
        read_only = tmp_path / "read-only"
        read_only.mkdir(mode=0o555)
        targets.append(read_only)
    for target in targets:
        result = cpwx("transcribe", str(media), "--set", f"OUTPUT_DIR={target}", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "cannot create a job directory" in result.stderr and "OUTPUT_DIR" in result.stderr
        assert "Traceback" not in result.stderr
    assert media.read_bytes() == before and blocker.read_text() == "a file where a folder should be\n"


def test_english_only_model_for_hindi_is_refused(tmp_path: Path) -> None:
    """Named or given as a directory, an English-only model never transcribes Hindi into garbage."""
    clip = Path(__file__).parent / "data" / "hindi" / "noa_chandigarh_202018191821_sent_11.wav"
    result = cpwx("transcribe", str(clip), "-s", "hi", "--set", "WHISPER_MODEL=tiny.en", cwd=tmp_path)
    assert result.returncode == 2 and "English only" in result.stderr and "base" in result.stderr
    assert job_dirs(tmp_path) == []
    folder = cpwx("models", "path", "tiny.en", cwd=tmp_path).stdout.strip()
    copy = tmp_path / "my-model"
    shutil.copytree(folder, copy)
    result = cpwx("transcribe", str(clip), "-s", "hi", "--set", f"WHISPER_MODEL={copy}", cwd=tmp_path)
    assert result.returncode == 2 and "knows English only" in result.stderr and "stage 'asr' failed" in result.stderr
    (job,) = job_dirs(tmp_path)
    assert not (job / "06_asr" / "transcript.json").exists()
