"""Shared fixtures: real media made with real FFmpeg, real recordings, and one finished job."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes import FakeHub, FakeTmdb, serving

from cpwhisperx.compliance import facts_from_file, measure
from cpwhisperx.config import Settings
from cpwhisperx.cue_timing import FrameTiming
from cpwhisperx.layout import LayoutRules
from cpwhisperx.samples import build_sample_film, librivox_clips
from cpwhisperx.shots import ShotChanges
from cpwhisperx.subtitle_rules import rules_from

REPO = Path(__file__).resolve().parent.parent


def cpwx(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The real command in a child process, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "cpwhisperx", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def job_dirs(cwd: Path) -> list[Path]:
    return sorted(p.parent for p in (cwd / "out").glob("*/*/*/*/job-*/job.json"))


def batch_and_alone_transcripts(entry: dict, cwd: Path, *args: str) -> tuple[str, str]:
    """A batch film's transcript text, and the one `cpwx transcribe` makes of its media alone."""
    alone = cwd / f"alone-{entry['name']}"
    alone.mkdir()
    single = cpwx("transcribe", entry["media"], *args, cwd=alone)
    assert single.returncode == 0, single.stderr
    (job,) = job_dirs(alone)
    (mine,) = (Path(entry["job_dir"]) / "12_subtitle_generation").glob("*.txt")
    (theirs,) = (job / "12_subtitle_generation").glob("*.txt")
    return mine.read_text(encoding="utf-8"), theirs.read_text(encoding="utf-8")


def ran_stages(stdout: str) -> list[str]:
    """The stages a run's summary line ("done in … s: ran a, b; up to date: …") says it ran."""
    match = re.search(r"ran ([^;\n]*)", stdout)
    assert match, stdout
    return [] if match.group(1) == "nothing" else match.group(1).split(", ")


def remeasured(path: Path, language: str, rules: LayoutRules | None = None) -> dict:
    """A written subtitle file measured again, as a player shows it: by the rules of its language
    (or `rules`), on its video's frames (the shot-change rules need the speech times: not re-checked)."""
    shots_file = path.parent.parent / "01_demux" / "shot_changes.json"
    timing = FrameTiming.of(ShotChanges.from_json(json.loads(shots_file.read_text(encoding="utf-8"))), 0) if shots_file.is_file() else None
    return measure(facts_from_file(path), rules or rules_from(Settings(), language), language, timing)


def manifest(job_dir: Path, stage_dir: str) -> dict:
    return json.loads((job_dir / stage_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session", autouse=True)
def session_result_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Results are cached for this session alone, in the default place (so that a CACHE_DIR a test
    gives its job still outranks it): runs start cold and leave the user's cache be. The models
    stay where they are, unpacked once."""
    from cpwhisperx.cache import default_cache_dir
    from cpwhisperx.models import default_models_dir

    models = default_models_dir()
    models.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("xdg-cache")
    (home / "cp-whisperx").mkdir()
    (home / "cp-whisperx" / "models").symlink_to(models, target_is_directory=True)
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(home)
    yield default_cache_dir()
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def sample_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("film") / "sample_film.mp4"
    build_sample_film(path)
    return path


@pytest.fixture(scope="session")
def short_clip() -> Path:
    """A real 3-second LibriVox recording."""
    return next(c.path for c in librivox_clips() if c.path.name.endswith("0880.wav"))


@pytest.fixture(scope="session")
def finished_job(sample_film: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample film transcribed once with the bundled base model; copy it before changing it."""
    cwd = tmp_path_factory.mktemp("finished")
    result = cpwx("transcribe", str(sample_film), cwd=cwd)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(cwd)
    return job


@pytest.fixture
def job_copy(finished_job: Path, tmp_path: Path) -> Path:
    target = tmp_path / finished_job.name
    shutil.copytree(finished_job, target)
    (target / ".run.lock").unlink(missing_ok=True)
    return target


@pytest.fixture
def make_media(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, *ffmpeg_args: str) -> Path:
        path = tmp_path / name
        ffmpeg(*ffmpeg_args, str(path))
        return path

    return make


@pytest.fixture
def fake_tmdb() -> Iterator[str]:
    """TMDB's API v3 base URL, served on 127.0.0.1 (see fakes.FakeTmdb for its scenarios)."""
    FakeTmdb.requests = []
    with serving(FakeTmdb) as url:
        yield f"{url}/3"


@pytest.fixture
def fake_hub() -> Iterator[str]:
    """A model hub on 127.0.0.1 that knows no repository (for HF_ENDPOINT)."""
    FakeHub.requests = []
    with serving(FakeHub) as url:
        yield url
