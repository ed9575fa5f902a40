"""TMDB against a real HTTP server on 127.0.0.1 playing TMDB: found, miss, 429, 401, timeout."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import cpwx, job_dirs, manifest, ran_stages
from fakes import API_KEY, FILM, FakeTmdb

from cpwhisperx.tmdb import parse_title_year

@pytest.fixture
def film_clip(short_clip: Path, tmp_path: Path) -> Path:
    path = tmp_path / "Jaane Tu Ya Jaane Na (2008).wav"
    shutil.copy(short_clip, path)
    return path


def run_with_tmdb(film: Path, base_url: str, cwd: Path, *extra: str) -> tuple[int, str, Path | None]:
    cwd.mkdir(parents=True, exist_ok=True)
    result = cpwx("transcribe", str(film), "--set", "WHISPER_MODEL=tiny.en", "--set", "TMDB_ENABLED=true",
                  "--set", f"TMDB_BASE_URL={base_url}", "--set", "TMDB_TIMEOUT=0.5", *extra, cwd=cwd, env={"TMDB_API_KEY": API_KEY})
    jobs = job_dirs(cwd)
    job = jobs[-1] if jobs else None
    if job is not None:
        for path in [*job.rglob("*"), *(cwd / "out").rglob("*.log")]:
            if path.is_file() and path.suffix != ".wav":
                assert API_KEY not in path.read_text(encoding="utf-8", errors="replace"), path
    assert API_KEY not in result.stdout + result.stderr
    return result.returncode, result.stderr, job


@pytest.mark.parametrize(("name", "title", "year"), [
    ("Jaane Tu Ya Jaane Na (2008)", "Jaane Tu Ya Jaane Na", 2008),
    ("Jaane.Tu.Ya.Jaane.Na.2008.1080p.BluRay.x264", "Jaane Tu Ya Jaane Na", 2008),
    ("Sholay_1975_DVDRip", "Sholay", 1975),
    ("1917 (2019)", "1917", 2019),
    ("Lagaan", "Lagaan", None),
    ("Dil.Chahta.Hai.720p.WEB", "Dil Chahta Hai", None),
    ("Blade Runner 2049 (2017)", "Blade Runner 2049", 2017),
    ("Blade.Runner.2049.2017.1080p.WEB-DL", "Blade Runner 2049", 2017),
    ("The.Web.2010", "The Web", 2010),
    ("2001.A.Space.Odyssey.1968.720p", "2001 A Space Odyssey", 1968),
])
def test_title_and_year_from_file_names(name: str, title: str, year: int | None) -> None:
    assert parse_title_year(name) == (title, year)


def test_found_film_feeds_the_glossary(fake_tmdb: str, film_clip: Path, tmp_path: Path) -> None:
    code, stderr, job = run_with_tmdb(film_clip, fake_tmdb, tmp_path)
    assert code == 0, stderr
    assert manifest(job, "02_tmdb")["status"] == "success"
    film = json.loads((job / "02_tmdb" / "tmdb.json").read_text())
    assert film["id"] == FILM["id"] and film["year"] == 2008
    assert film["cast"][0] == {"name": "Imran Khan", "character": "Jai Singh Rathore"}
    search = FakeTmdb.requests[0]
    assert search["path"] == "/3/search/movie" and search["query"] == "Jaane Tu Ya Jaane Na" and search["year"] == "2008"
    terms = [t["term"] for t in json.loads((job / "03_glossary_load" / "glossary.json").read_text())]
    assert {"Jai Singh Rathore", "Jai", "Aditi Mahant", "Aditi", "Imran Khan", "Amar Singh Rathore", "Amar", "Photo"} <= set(terms)
    assert not [t for t in terms if "(" in t or "/" in t]
    assert "Jai Singh Rathore" in (job / "06_asr" / "stage.log").read_text(encoding="utf-8")


def test_miss_is_a_warning_and_a_skip(fake_tmdb: str, film_clip: Path, tmp_path: Path) -> None:
    FakeTmdb.scenario = "miss"
    try:
        code, stderr, job = run_with_tmdb(film_clip, fake_tmdb, tmp_path)
    finally:
        FakeTmdb.scenario = "found"
    assert code == 0, stderr
    data = manifest(job, "02_tmdb")
    assert data["status"] == "skipped" and "no TMDB match" in data["reason"]
    assert any("knows no film" in w for w in data["warnings"])


def test_rate_limit_is_retried_after_the_wait(fake_tmdb: str, film_clip: Path, tmp_path: Path) -> None:
    FakeTmdb.scenario = "429"
    try:
        started = time.monotonic()
        code, stderr, job = run_with_tmdb(film_clip, fake_tmdb, tmp_path)
    finally:
        FakeTmdb.scenario = "found"
    assert code == 0, stderr
    data = manifest(job, "02_tmdb")
    assert data["status"] == "success" and data["metrics"]["retries"] == 1 and data["metrics"]["requests"] == 3
    assert time.monotonic() - started >= 3.0  # the server's wait, not the client's own first backoff (1 s)


@pytest.mark.parametrize("scenario", ["401", "timeout"])
def test_refused_or_silent_service(scenario: str, fake_tmdb: str, film_clip: Path, tmp_path: Path) -> None:
    FakeTmdb.scenario = scenario
    try:
        code, stderr, job = run_with_tmdb(film_clip, fake_tmdb, tmp_path / "lenient")
        assert code == 0, stderr
        data = manifest(job, "02_tmdb")
        assert data["status"] == "skipped" and data["warnings"]
        assert ("401" if scenario == "401" else "in time") in data["reason"]
        assert manifest(job, "12_subtitle_generation")["status"] == "success"
        code, stderr, job = run_with_tmdb(film_clip, fake_tmdb, tmp_path / "strict", "--set", "TMDB_REQUIRED=true")
        assert code == 4
        assert "stage 'tmdb' failed" in stderr
    finally:
        FakeTmdb.scenario = "found"


def test_no_key_skips_with_a_warning(film_clip: Path, tmp_path: Path) -> None:
    result = cpwx("transcribe", str(film_clip), "--set", "WHISPER_MODEL=tiny.en", "--set", "TMDB_ENABLED=true",
                  "--set", "TMDB_BASE_URL=http://127.0.0.1:9/3", cwd=tmp_path, env={"TMDB_API_KEY": ""})
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(tmp_path)
    assert "no TMDB_API_KEY" in manifest(job, "02_tmdb")["reason"]


def test_key_added_later_runs_the_lookup(fake_tmdb: str, film_clip: Path, tmp_path: Path) -> None:
    """A skip for a missing key is not a result: the run after the key is set looks the film up."""
    settings = ("--set", "WHISPER_MODEL=tiny.en", "--set", "TMDB_ENABLED=true", "--set", f"TMDB_BASE_URL={fake_tmdb}")
    first = cpwx("transcribe", str(film_clip), *settings, cwd=tmp_path, env={"TMDB_API_KEY": ""})
    assert first.returncode == 0, first.stderr
    assert "tmdb" not in ran_stages(first.stdout) and "asr" in ran_stages(first.stdout)
    (job,) = job_dirs(tmp_path)
    assert manifest(job, "02_tmdb")["status"] == "skipped"
    # still no key: the look-up is tried again and skipped again, and nothing after it runs again
    again = cpwx("run", "--job-dir", str(job), cwd=tmp_path, env={"TMDB_API_KEY": ""})
    assert again.returncode == 0, again.stderr
    assert ran_stages(again.stdout) == [] and "no TMDB_API_KEY" in again.stderr
    with_key = cpwx("run", "--job-dir", str(job), cwd=tmp_path, env={"TMDB_API_KEY": API_KEY})
    assert with_key.returncode == 0, with_key.stderr
    assert ran_stages(with_key.stdout)[:2] == ["tmdb", "glossary_load"], with_key.stdout
    assert manifest(job, "02_tmdb")["status"] == "success"
    terms = {t["term"] for t in json.loads((job / "03_glossary_load" / "glossary.json").read_text(encoding="utf-8"))}
    assert {"Jai Singh Rathore", "Aditi Mahant"} <= terms
    for path in job.rglob("*"):
        if path.is_file() and path.suffix != ".wav":
            assert API_KEY not in path.read_text(encoding="utf-8", errors="replace"), path
    # a miss is a lasting answer for the same title: reused, not asked again
    FakeTmdb.scenario = "miss"
    try:
        requests = len(FakeTmdb.requests)
        code, stderr, missed = run_with_tmdb(film_clip, fake_tmdb, tmp_path / "miss")
        assert code == 0, stderr
        assert manifest(missed, "02_tmdb")["status"] == "skipped"
        asked = len(FakeTmdb.requests)
        assert asked > requests
        rerun = cpwx("run", "--job-dir", str(missed), cwd=tmp_path, env={"TMDB_API_KEY": API_KEY})
        assert rerun.returncode == 0 and ran_stages(rerun.stdout) == [] and len(FakeTmdb.requests) == asked
    finally:
        FakeTmdb.scenario = "found"
