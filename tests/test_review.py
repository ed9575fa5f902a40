"""A reviewer's corrections back into the job and the memory; a film's confirmed names for its later jobs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import cpwx, job_dirs, manifest

from cpwhisperx.translate.memory import TranscriptMemory, TranslationMemory

EDITED_FROM = "Incluso podría haber sido hecho amable él."
EDITED_TO = "Hasta podría haberse vuelto amable."


@pytest.fixture(scope="module")
def spanish_job(sample_film: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample film subtitled in English and Spanish (Apertium); copy it before changing it."""
    cwd = tmp_path_factory.mktemp("reviewed")
    result = cpwx("subtitle", str(sample_film), "-s", "en", "-t", "es", "--set", f"CACHE_DIR={cwd / 'cache'}", cwd=cwd)
    assert result.returncode == 0, result.stderr
    (job,) = job_dirs(cwd)
    return job


def copy_job(job: Path, where: Path) -> Path:
    target = where / job.name
    shutil.copytree(job, target)
    return target


def srt_blocks(path: Path) -> list[str]:
    return [block.strip() for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]


def mkv_track(mkv: Path, language: str) -> str:
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(mkv), "-map", f"0:s:m:language:{language}", "-f", "srt", "-"],
                          capture_output=True, text=True, check=True).stdout


def test_corrected_cue_goes_into_the_job_the_video_and_a_later_job(spanish_job: Path, sample_film: Path, tmp_path: Path) -> None:
    job = copy_job(spanish_job, tmp_path)
    srt = job / "12_subtitle_generation" / "sample_film.es.srt"
    before = srt_blocks(srt)
    (edited_block,) = [n for n, block in enumerate(before) if EDITED_FROM in block]
    edited = tmp_path / "reviewed es.srt"
    edited.write_text(srt.read_text(encoding="utf-8").replace(EDITED_FROM, EDITED_TO), encoding="utf-8")
    cache = tmp_path / "cache"

    result = cpwx("import-subtitles", "--job-dir", str(job), str(edited), "--language", "es", cwd=tmp_path, env={"CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    assert f"1 cue(s) changed ({edited_block + 1})" in result.stdout and "1 sentence(s) kept" in result.stdout
    after = srt_blocks(srt)
    assert [n for n, (old, new) in enumerate(zip(before, after, strict=True)) if old != new] == [edited_block]
    assert after[edited_block].endswith(EDITED_TO)
    assert EDITED_TO in (job / "12_subtitle_generation" / "sample_film.es.vtt").read_text(encoding="utf-8")
    assert EDITED_TO in mkv_track(job / "13_mux" / "sample_film_subtitled.mkv", "spa")
    assert EDITED_FROM in (job / "review" / "es" / "rev-001" / "sample_film.es.srt").read_text(encoding="utf-8")
    # a later run of the job keeps the correction: the subtitle stage lays it over the cues it makes
    again = cpwx("run", "--job-dir", str(job), "--from", "subtitle_generation", cwd=tmp_path, env={"CACHE_DIR": str(cache)})
    assert again.returncode == 0, again.stderr
    assert srt_blocks(srt) == after
    assert manifest(job, "12_subtitle_generation")["metrics"]["reviewed_cues"] == {"es": 1}

    # a new job of the same media serves the approved sentence, not the engine's
    later = tmp_path / "later"
    later.mkdir()
    fresh = cpwx("subtitle", str(sample_film), "-s", "en", "-t", "es", cwd=later, env={"CACHE_DIR": str(cache)})
    assert fresh.returncode == 0, fresh.stderr
    (new_job,) = job_dirs(later)
    translation = manifest(new_job, "11_translation")
    assert translation["cache"]["memory_used"] == 1 and translation["cache"]["hit"] is True
    assert translation["metrics"]["targets"]["es"]["memory_used"] == 1
    assert translation["cache"]["translation_cache_hits"] == 0  # the engine's translations went to another cache
    spanish = (new_job / "12_subtitle_generation" / "sample_film.es.srt").read_text(encoding="utf-8")
    assert EDITED_TO in spanish and EDITED_FROM not in spanish


def test_a_file_that_does_not_fit_is_refused_and_nothing_changes(spanish_job: Path, tmp_path: Path) -> None:
    job = copy_job(spanish_job, tmp_path)
    srt = job / "12_subtitle_generation" / "sample_film.es.srt"
    blocks = srt_blocks(srt)
    start = blocks[1].splitlines()[1].split(" --> ")[0]
    later = f"00:00:{int(start[6:8]) + 1:02d},{start[9:]}"
    moved = blocks[1].replace(f"{start} -->", f"{later} -->")
    assert moved != blocks[1]
    edited = tmp_path / "moved.srt"
    edited.write_text("\n\n".join([blocks[0].replace("Y Señor", "Sir"), moved, *blocks[2:]]) + "\n", encoding="utf-8")
    fewer = tmp_path / "fewer.srt"
    fewer.write_text("\n\n".join(blocks[:-1]) + "\n", encoding="utf-8")
    snapshot = {p: p.read_bytes() for p in job.rglob("*") if p.is_file()}

    result = cpwx("import-subtitles", "--job-dir", str(job), str(edited), "--language", "es", cwd=tmp_path,
                  env={"CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 2
    assert f"cue 2 is at {later}" in result.stderr and start in result.stderr and "within 0.5 s" in result.stderr
    short = cpwx("import-subtitles", "--job-dir", str(job), str(fewer), "--language", "es", cwd=tmp_path)
    assert short.returncode == 2 and f"has {len(blocks) - 1} cues and the job's subtitles have {len(blocks)}" in short.stderr
    wrong = cpwx("import-subtitles", "--job-dir", str(job), str(fewer), "--language", "de", cwd=tmp_path)
    assert wrong.returncode == 2 and "no de subtitles" in wrong.stderr and "en, es" in wrong.stderr
    assert {p: p.read_bytes() for p in job.rglob("*") if p.is_file()} == snapshot
    assert not (tmp_path / "cache").exists()


def test_a_review_whose_run_did_not_finish_is_not_saved_over(spanish_job: Path, tmp_path: Path) -> None:
    job = copy_job(spanish_job, tmp_path)
    srt = job / "12_subtitle_generation" / "sample_film.es.srt"
    pending = job / "review" / "es" / "cues.json"
    pending.parent.mkdir(parents=True)
    pending.write_text(json.dumps({"language": "es", "timing": [], "cues": []}), encoding="utf-8")
    edited = tmp_path / "es.srt"
    edited.write_text(srt.read_text(encoding="utf-8").replace(EDITED_FROM, EDITED_TO), encoding="utf-8")
    snapshot = {p: p.read_bytes() for p in job.rglob("*") if p.is_file()}
    result = cpwx("import-subtitles", "--job-dir", str(job), str(edited), "--language", "es", cwd=tmp_path, env={"CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 2 and "not in the job's subtitle files yet" in result.stderr and "cpwx run" in result.stderr
    assert {p: p.read_bytes() for p in job.rglob("*") if p.is_file()} == snapshot


def test_a_corrected_transcript_line_is_kept_for_its_sentence(spanish_job: Path, tmp_path: Path) -> None:
    job = copy_job(spanish_job, tmp_path)
    srt = job / "12_subtitle_generation" / "sample_film.en.srt"
    text = srt.read_text(encoding="utf-8")
    assert text.count("made amiable himself.") == 1
    edited = tmp_path / "en.srt"
    edited.write_text(text.replace("made amiable himself.", "made kind himself."), encoding="utf-8")
    cache = tmp_path / "cache"
    result = cpwx("import-subtitles", "--job-dir", str(job), str(edited), "--language", "en", cwd=tmp_path, env={"CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    corrected = TranscriptMemory(cache).lookup("He might even have been made amiable himself.", "en")
    assert corrected is not None and corrected.endswith("made kind himself.") and corrected.startswith("He might even")
    assert TranslationMemory(cache).lookup("He might even have been made amiable himself.", "en", "es") is None
    assert "made kind himself." in srt.read_text(encoding="utf-8")


def test_memory_lookup_is_by_normalised_sentence_and_off_without_the_cache(tmp_path: Path) -> None:
    memory = TranslationMemory(tmp_path)
    approval = memory.approve("He was  not an ill-disposed young man.", "en", "es", "No era un joven malintencionado.", "job-1")
    assert approval.job == "job-1" and approval.approved_at
    assert memory.lookup("he was not an ill-disposed young man. ", "en", "es") == "No era un joven malintencionado."
    assert memory.lookup("He was not an ill-disposed young man.", "en", "pt") is None
    assert memory.used == 1
    assert TranslationMemory(tmp_path, enabled=False).lookup("He was not an ill-disposed young man.", "en", "es") is None


def test_a_films_confirmed_names_reach_its_next_job(sample_film: Path, tmp_path: Path) -> None:
    first_copy, second_copy = tmp_path / "Some.Film.2019.1080p.mkv", tmp_path / "Some Film (2019).mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(sample_film), "-c", "copy", str(first_copy)], check=True)
    shutil.copy(sample_film, second_copy)
    names = tmp_path / "names.tsv"
    names.write_text("term\ttype\taliases\nDashwood\tname\t\nMarianne\tname\t\n", encoding="utf-8")
    cache = {"CACHE_DIR": str(tmp_path / "cache")}
    for place in ("one", "two", "three", "four"):
        (tmp_path / place).mkdir()
    first = cpwx("transcribe", str(first_copy), "-s", "en", "--set", f"GLOSSARY_PATHS={names}", cwd=tmp_path / "one", env=cache)
    assert first.returncode == 0, first.stderr
    (job,) = job_dirs(tmp_path / "one")
    assert "Dashwood" in (job / "12_subtitle_generation" / "Some.Film.2019.1080p.en.txt").read_text(encoding="utf-8")
    assert manifest(job, "12_subtitle_generation")["metrics"]["names_confirmed"] == ["Dashwood"]

    second = cpwx("transcribe", str(second_copy), "-s", "en", cwd=tmp_path / "two", env=cache)
    assert second.returncode == 0, second.stderr
    (later,) = job_dirs(tmp_path / "two")
    glossary = manifest(later, "03_glossary_load")
    assert glossary["status"] == "success" and glossary["metrics"]["learned_terms"] == 1
    assert glossary["metrics"]["film"] == "title:some film|2019"
    terms = json.loads((later / "03_glossary_load" / "glossary.json").read_text(encoding="utf-8"))
    assert [(t["term"], t["source"]) for t in terms] == [("Dashwood", "learned")]

    # another film learns nothing from this one, and without the cache nothing is offered
    other = tmp_path / "Other.Film.2020.mp4"
    shutil.copy(sample_film, other)
    third = cpwx("prepare", "--media", str(other), "-s", "en", cwd=tmp_path / "three", env=cache)
    assert third.returncode == 0, third.stderr
    (unrelated,) = job_dirs(tmp_path / "three")
    ran = cpwx("run", "--job-dir", str(unrelated), "--from", "glossary_load", cwd=tmp_path / "three", env=cache)
    assert ran.returncode == 0, ran.stderr
    assert manifest(unrelated, "03_glossary_load")["status"] == "skipped"
    off = cpwx("transcribe", str(second_copy), "-s", "en", "--no-cache", cwd=tmp_path / "four", env=cache)
    assert off.returncode == 0, off.stderr
    (uncached,) = job_dirs(tmp_path / "four")
    assert manifest(uncached, "03_glossary_load")["status"] == "skipped"
