"""`cpwx serve`: the real server on 127.0.0.1, jobs submitted over HTTP, their events, cue edits, re-runs, the roots it keeps to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import Service, changed, follow, run_of, service, snapshot, submit

EDITED_FROM = "made amiable himself."
EDITED_TO = "made happy himself."


@pytest.fixture(scope="module")
def served(sample_film: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("serve")
    media = home / "media"
    media.mkdir()
    shutil.copy(sample_film, media / "sample_film.mp4")
    (home / "jobs").mkdir()
    with service(home / "jobs", media, "--low-confidence", "0.8") as running:
        yield running


@pytest.fixture(scope="module")
def spanish(served: Service) -> tuple[str, Path, list[dict]]:
    """The sample film subtitled in English and Spanish, submitted over HTTP and followed to its end."""
    job = submit(served.url, "sample_film.mp4", workflow="subtitle", source_language="en", target_languages=["es"])
    events = follow(served.url, job["id"])
    (job_dir,) = served.jobs_root.glob(f"*/*/*/*/{job['id']}")
    return job["id"], job_dir, events


def test_a_job_submitted_over_http_runs_in_a_worker_and_reports_its_events(served: Service, spanish: tuple[str, Path, list[dict]]) -> None:
    job_id, job_dir, events = spanish
    kinds = [(e["event"], e.get("stage"), e.get("state")) for e in events]
    assert kinds[0] == ("state", None, None) and kinds[-1][0] == "end"
    assert ("run", None, "queued") in kinds and ("run", None, "started") in kinds and ("run", None, "success") in kinds
    for stage in ("demux", "vad", "asr", "translation", "subtitle_generation", "mux"):
        assert kinds.index(("stage", stage, "started")) < kinds.index(("stage", stage, "success"))
    progress = [e for e in events if e["event"] == "progress" and e["task"] == "transcribing"]
    assert progress and progress[-1]["percent"] == 100 and progress[-1]["total"] > 50 and progress[0]["done"] < progress[-1]["done"]
    assert [e["percent"] for e in progress] == sorted(e["percent"] for e in progress)
    assert events[-1]["status"] == "success"

    detail = httpx.get(f"{served.url}/api/jobs/{job_id}").json()
    assert detail["status"] == "success" and detail["failure"] is None
    assert {s["name"]: s["status"] for s in detail["stages"]}["asr"] == "success"
    assert "13_mux/sample_film_subtitled.mkv" in detail["deliverables"]
    assert json.loads((job_dir / "job.json").read_text())["status"] == "success"
    listed = httpx.get(f"{served.url}/api/jobs").json()["jobs"]
    assert job_id in [j["id"] for j in listed]

    assert httpx.get(f"{served.url}/health").json()["status"] == "ok"
    ready = httpx.get(f"{served.url}/health/ready")
    assert ready.status_code == 200 and all(check["ok"] for check in ready.json()["checks"].values())
    metrics = httpx.get(f"{served.url}/metrics").text
    assert 'cpwx_stage_duration_seconds_count{stage="asr"}' in metrics and 'cpwx_jobs{state="success"}' in metrics
    assert "cpwx_queue_length 0.0" in metrics and 'cpwx_runs_total{result="success"}' in metrics
    api = httpx.get(f"{served.url}/openapi.json").json()
    assert {"/api/jobs", "/api/jobs/{job_id}/events", "/api/jobs/{job_id}/cues/{language}/{index}", "/api/jobs/{job_id}/rerun"} <= set(api["paths"])
    assert httpx.get(f"{served.url}/docs").status_code == 200


def test_cues_carry_their_flags_and_an_edit_changes_only_what_depends_on_it(served: Service, spanish: tuple[str, Path, list[dict]]) -> None:
    job_id, job_dir, _ = spanish
    sheet = httpx.get(f"{served.url}/api/jobs/{job_id}/cues/en").json()
    assert sheet["rules"]["max_line_length"] == 42 and sheet["rules"]["max_cps"] == 17
    texts = [" ".join(c["lines"]) for c in sheet["cues"]]
    srt = (job_dir / "12_subtitle_generation" / "sample_film.en.srt").read_text(encoding="utf-8")
    assert all(line in srt for c in sheet["cues"] for line in c["lines"])
    unsure = [f for c in sheet["cues"] for f in c["flags"] if f["kind"] == "low_confidence"]
    assert unsure and all(w["probability"] < 0.8 for f in unsure for w in f["words"])
    (index,) = [n for n, text in enumerate(texts) if text.endswith(EDITED_FROM)]
    spanish_before = (job_dir / "12_subtitle_generation" / "sample_film.es.srt").read_text(encoding="utf-8")
    before = snapshot(job_dir)

    lines = [line.replace(EDITED_FROM.split()[-2], "happy") for line in sheet["cues"][index]["lines"]]
    saved = httpx.put(f"{served.url}/api/jobs/{job_id}/cues/en/{index}", json={"text": "\n".join(lines)}, timeout=60)
    assert saved.status_code == 202, saved.text
    assert saved.json()["changed"] == [index + 1] and saved.json()["rerun_from"] == "translation" and saved.json()["stored"] == 1
    # a second save while the first one's run is queued or running is refused, and changes nothing
    busy = httpx.put(f"{served.url}/api/jobs/{job_id}/cues/en/0", json={"text": "x"}, timeout=60)
    run = run_of(follow(served.url, job_id))
    assert busy.status_code == 409 and busy.json()["error"]["class"] == "invalid_input"
    assert [e["state"] for e in run if e["event"] == "run"] == ["queued", "started", "success"]
    assert [e["stage"] for e in run if e["event"] == "stage" and e["state"] == "success"] == ["translation", "subtitle_generation", "mux"]

    after = snapshot(job_dir)
    touched = changed(before, after)
    assert all(p.split("/")[0] in ("review", "11_translation", "12_subtitle_generation", "13_mux", "logs") or p == "job.json" for p in touched), touched
    assert {"review/en/cues.json", "review/en/sentences.json", "review/en/rev-001/sample_film.en.srt",
            "12_subtitle_generation/sample_film.en.srt", "12_subtitle_generation/sample_film.es.srt", "13_mux/sample_film_subtitled.mkv"} <= touched
    english = (job_dir / "12_subtitle_generation" / "sample_film.en.srt").read_text(encoding="utf-8")
    assert EDITED_TO in english and EDITED_FROM not in english
    assert EDITED_FROM in (job_dir / "review" / "en" / "rev-001" / "sample_film.en.srt").read_text(encoding="utf-8")
    # the corrected sentence alone was translated again; the rest came from the cache
    translation = json.loads((job_dir / "11_translation" / "manifest.json").read_text())["metrics"]["targets"]["es"]
    assert translation["corrected_sentences"] == 1 and translation["engine_calls"] == 1 and translation["cache_hits"] == translation["sentences"] - 1
    spanish_after = (job_dir / "12_subtitle_generation" / "sample_film.es.srt").read_text(encoding="utf-8")
    differing = [(a, b) for a, b in zip(spanish_before.split("\n\n"), spanish_after.split("\n\n"), strict=True) if a != b]
    assert len(differing) == 1 and "feliz" in differing[0][1] and "feliz" not in differing[0][0]
    reviewed = httpx.get(f"{served.url}/api/jobs/{job_id}/cues/en").json()["cues"]
    assert reviewed[index]["lines"] == lines and reviewed[index]["flags"] == [{"kind": "reviewed"}]
    assert all({"kind": "reviewed"} not in c["flags"] for n, c in enumerate(reviewed) if n != index)
    assert EDITED_TO in httpx.get(f"{served.url}/api/jobs/{job_id}/tracks/en.vtt").text

    # a re-run from the subtitle stage touches that stage, the mux, the logs and job.json alone
    before = snapshot(job_dir)
    rerun = httpx.post(f"{served.url}/api/jobs/{job_id}/rerun", json={"from": "subtitle_generation"})
    assert rerun.status_code == 202, rerun.text
    run = run_of(follow(served.url, job_id))
    assert [e["stage"] for e in run if e["event"] == "stage" and e["state"] == "success"] == ["subtitle_generation", "mux"]
    touched = changed(before, snapshot(job_dir))
    assert touched and all(p.split("/")[0] in ("12_subtitle_generation", "13_mux", "logs") or p == "job.json" for p in touched), touched
    assert EDITED_TO in (job_dir / "12_subtitle_generation" / "sample_film.en.srt").read_text(encoding="utf-8")
    wrong = httpx.post(f"{served.url}/api/jobs/{job_id}/rerun", json={"from": "subtitles"})
    assert wrong.status_code == 400 and "subtitle_generation" in wrong.json()["error"]["fix"] + wrong.json()["error"]["message"]


def test_the_whole_cue_list_saves_splits_and_merges_and_bad_edits_are_refused(served: Service, spanish: tuple[str, Path, list[dict]]) -> None:
    job_id, job_dir, _ = spanish
    cues = httpx.get(f"{served.url}/api/jobs/{job_id}/cues/es").json()["cues"]
    before = snapshot(job_dir)
    bad = [
        ({"cues": [_cue(cues[0]), {**_cue(cues[1]), "start": cues[0]["end"] - 0.5}]}, 400, "starts before cue"),
        ({"cues": [{**_cue(cues[0]), "end": cues[0]["start"] - 0.1}]}, 400, "ends"),
        ({"cues": [{**_cue(cues[0]), "lines": []}]}, 400, "no text"),
        ({"cues": [{"text": "no times"}]}, 422, "no start or end"),
    ]
    for body, status, words in bad:
        answer = httpx.put(f"{served.url}/api/jobs/{job_id}/cues/es", json=body, timeout=60)
        assert answer.status_code == status and words in answer.json()["error"]["message"], answer.text
    assert httpx.put(f"{served.url}/api/jobs/{job_id}/cues/es/{len(cues)}", json={"text": "x"}).status_code == 404
    assert httpx.put(f"{served.url}/api/jobs/{job_id}/cues/de/0", json={"text": "x"}).status_code == 404
    assert changed(before, snapshot(job_dir)) == set()

    first, second = cues[0], cues[1]
    middle = round((first["start"] + first["end"]) / 2, 3)
    split = [{"start": first["start"], "end": middle - 0.05, "lines": ["Primera mitad."]},
             {"start": middle + 0.05, "end": first["end"], "lines": ["Segunda mitad."]}]
    merged = {"start": second["start"], "end": cues[2]["end"], "lines": [" ".join(second["lines"]), " ".join(cues[2]["lines"])]}
    edited = [*split, merged, *[_cue(c) for c in cues[3:]]]
    saved = httpx.put(f"{served.url}/api/jobs/{job_id}/cues/es", json={"cues": edited}, timeout=60)
    assert saved.status_code == 202, saved.text
    assert saved.json()["rerun_from"] == "subtitle_generation" and saved.json()["changed"] == [1, 2, 3]
    follow(served.url, job_id)
    now = httpx.get(f"{served.url}/api/jobs/{job_id}/cues/es").json()["cues"]
    assert len(now) == len(cues) and [c["lines"] for c in now[:2]] == [["Primera mitad."], ["Segunda mitad."]]
    assert now[2]["start"] == second["start"] and now[2]["end"] == cues[2]["end"]
    assert [c["lines"] for c in now[3:]] == [c["lines"] for c in cues[3:]]
    srt = (job_dir / "12_subtitle_generation" / "sample_film.es.srt").read_text(encoding="utf-8")
    assert "Primera mitad." in srt and "Segunda mitad." in srt
    mkv = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(job_dir / "13_mux" / "sample_film_subtitled.mkv"), "-map",
                          "0:s:m:language:spa", "-f", "srt", "-"], capture_output=True, text=True, check=True).stdout
    assert "Segunda mitad." in mkv
    # a later run from the subtitle stage keeps the reviewed cues, split and merged ones included
    follow(served.url, httpx.post(f"{served.url}/api/jobs/{job_id}/rerun", json={"from": "subtitle_generation"}).json()["id"])
    assert [c["lines"] for c in httpx.get(f"{served.url}/api/jobs/{job_id}/cues/es").json()["cues"]] == [c["lines"] for c in now]


def _cue(cue: dict) -> dict:
    return {"start": cue["start"], "end": cue["end"], "lines": cue["lines"]}


def test_a_failing_job_reports_the_clis_words_and_its_stage_log(served: Service) -> None:
    model = served.media_root / "no-such-model"
    job = submit(served.url, "sample_film.mp4", source_language="en", set={"WHISPER_MODEL": str(model)})
    events = follow(served.url, job["id"])
    (failed,) = [e for e in events if e["event"] == "run" and e.get("state") == "failed"]
    # the CLI's words and exit code: a model path that holds no model is bad input
    assert failed["exit_code"] == 2 and failed["stage"] == "asr" and str(model) in failed["message"] and "ct2" in failed["fix"]
    detail = httpx.get(f"{served.url}/api/jobs/{job['id']}").json()
    assert detail["status"] == "failed" and detail["failure"]["stage"] == "asr"
    assert any(str(model) in line for line in detail["failure"]["log_excerpt"])
    page = httpx.get(f"{served.url}/jobs/{job['id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "The run failed in asr" in page.text


def test_paths_ids_and_uploads_outside_the_roots_are_refused_and_nothing_is_read_or_written(served: Service, tmp_path: Path) -> None:
    secret = tmp_path / "secret.mp4"
    shutil.copy(served.media_root / "sample_film.mp4", secret)
    before = snapshot(served.jobs_root)
    for media in ("../secret.mp4", f"../../{tmp_path.name}/secret.mp4", str(secret), "/etc/passwd", "sample_film.mp4/../../x.mp4"):
        answer = httpx.post(f"{served.url}/api/jobs", json={"media": media})
        assert answer.status_code == 403 and "outside the media roots" in answer.json()["error"]["message"], (media, answer.text)
    (served.media_root / "link.mp4").symlink_to(secret)
    assert httpx.post(f"{served.url}/api/jobs", json={"media": "link.mp4"}).status_code == 403
    missing = httpx.post(f"{served.url}/api/jobs", json={"media": "nothing-here.mp4"})
    assert missing.status_code == 400 and "does not exist" in missing.json()["error"]["message"]
    assert httpx.post(f"{served.url}/api/jobs", json={"media": "sample_film.mp4", "workflow": "dance"}).status_code == 400
    assert httpx.post(f"{served.url}/api/jobs", json={"media": "sample_film.mp4", "set": {"NO_SUCH_KEY": "1"}}).status_code == 400
    for key, value in (("GLOSSARY_PATHS", f"{served.media_root}/ok.tsv,/etc/passwd"), ("WHISPER_MODEL", "/etc"), ("CACHE_DIR", str(tmp_path)),
                       ("TRANSLATION_NLLB_MODEL", "../secret.mp4"), ("OUTPUT_DIR", str(tmp_path)), ("CACHE_MAX_SIZE_GB", "0.000001"),
                       ("TMDB_BASE_URL", "http://127.0.0.1:9/steal")):
        answer = httpx.post(f"{served.url}/api/jobs", json={"media": "sample_film.mp4", "set": {key: value}})
        assert answer.status_code == 403 and key in answer.json()["error"]["message"], (key, answer.text)
    for job_id in ("job-x", "..", "job-20260101-root-9999", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"):
        for path in ("", "/events", "/cues/en", "/media"):
            answer = httpx.get(f"{served.url}/api/jobs/{job_id}{path}")
            assert answer.status_code == 404, (job_id, path, answer.status_code)
    # another site's page cannot drive the service, nor reach it through a host name of its own (DNS rebinding)
    foreign = httpx.post(f"{served.url}/api/jobs", json={"media": "sample_film.mp4"}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "evil.example" in foreign.json()["error"]["message"]
    as_text = httpx.post(f"{served.url}/api/jobs", content=json.dumps({"media": "sample_film.mp4"}), headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 415
    rebound = httpx.get(f"{served.url}/api/jobs", headers={"Host": "evil.example"})
    assert rebound.status_code == 403 and "localhost only" in rebound.json()["error"]["message"]
    page = httpx.get(f"{served.url}/jobs/job-x", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "is not a job id" in page.text
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a film\n" * 1000)
    with text.open("rb") as stream:
        upload = httpx.post(f"{served.url}/api/jobs", files={"file": ("notes.mp4", stream, "video/mp4")}, data={"workflow": "transcribe"})
    assert upload.status_code == 415 and "not a media file" in upload.json()["error"]["message"]
    assert httpx.get(f"{served.url}/static/../job.json").status_code == 404
    assert changed(before, snapshot(served.jobs_root)) == set()
    assert not any((served.jobs_root / "uploads").glob("*/*"))


def test_an_upload_is_streamed_to_disk_and_becomes_a_job(served: Service) -> None:
    with (served.media_root / "sample_film.mp4").open("rb") as stream:
        answer = httpx.post(f"{served.url}/api/jobs", files={"file": ("my film.mp4", stream, "video/mp4")},
                            data={"workflow": "transcribe", "source_language": "en"}, timeout=120)
    assert answer.status_code == 201, answer.text
    job = answer.json()
    assert job["media"] == "my film.mp4" and job["status"] == "queued"
    assert follow(served.url, job["id"])[-1]["status"] == "success"
    (stored,) = (served.jobs_root / "uploads").glob("*/my film.mp4")
    assert stored.read_bytes() == (served.media_root / "sample_film.mp4").read_bytes()
    part = httpx.get(f"{served.url}/api/jobs/{job['id']}/media", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == stored.read_bytes()[:100]

    # for a browser that cannot play the original: a WebM made once, kept in the job's review folder
    preview = httpx.get(f"{served.url}/api/jobs/{job['id']}/preview.webm", timeout=300)
    assert preview.status_code == 200 and preview.headers["content-type"] == "video/webm"
    (job_dir,) = served.jobs_root.glob(f"*/*/*/*/{job['id']}")
    kept = job_dir / "review" / "preview.webm"
    assert kept.read_bytes() == preview.content
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(kept)],
                                      capture_output=True, text=True, check=True).stdout)
    assert sorted(s["codec_name"] for s in probe["streams"]) == ["opus", "vp8"]
    assert abs(float(probe["format"]["duration"]) - 62) < 1.5


def test_beyond_localhost_every_request_needs_the_token(sample_film: Path, tmp_path: Path) -> None:
    refused = subprocess.run([sys.executable, "-m", "cpwhisperx", "serve", "--host", "0.0.0.0", "--jobs-root", str(tmp_path)],
                             capture_output=True, text=True, timeout=60, env={k: v for k, v in os.environ.items() if k != "CPWX_SERVE_TOKEN"})
    assert refused.returncode == 2 and "--token" in refused.stderr
    (tmp_path / "jobs").mkdir()
    (tmp_path / "media").mkdir()
    with service(tmp_path / "jobs", tmp_path / "media", "--host", "0.0.0.0", "--token", "s3cret-token") as running:
        before = snapshot(tmp_path / "jobs")
        for method, path in (("GET", "/api/jobs"), ("GET", "/health/ready"), ("GET", "/metrics"), ("POST", "/api/jobs"),
                             ("GET", "/docs"), ("GET", "/static/review.js")):
            assert httpx.request(method, f"{running.url}{path}", json={"media": "x"}).status_code == 401, path
            assert httpx.request(method, f"{running.url}{path}", headers={"Authorization": "Bearer wrong"}).status_code == 401
        page = httpx.get(f"{running.url}/", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert httpx.get(f"{running.url}/api/jobs", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        wrong = httpx.post(f"{running.url}/login", data={"token": "nope", "next": "/"})
        assert wrong.status_code == 401 and "cpwx_token" not in wrong.headers.get("set-cookie", "")
        with httpx.Client(base_url=running.url) as browser:
            login = browser.post("/login", data={"token": "s3cret-token", "next": "//evil.example/"})
            assert login.status_code == 303 and login.headers["location"] == "/"
            assert browser.get("/", headers={"Accept": "text/html"}).status_code == 200
        assert changed(before, snapshot(tmp_path / "jobs")) == set()


def test_glossary_corrections_and_dropped_segments_are_flagged_and_a_dropped_one_can_be_restored(
        served: Service, spanish: tuple[str, Path, list[dict]]) -> None:
    _, first_job, _ = spanish
    segments = json.loads((first_job / "06_asr" / "transcript.json").read_text())["segments"]
    ratios = sorted({seg["compression_ratio"] for seg in segments})
    threshold = (ratios[-1] + ratios[-2]) / 2  # the filter drops the segments above it (a block's segments share one ratio)
    kept = next(seg for seg in segments if seg["compression_ratio"] < threshold)
    alias = " ".join(word.strip(".,") for word in kept["text"].split()[1:3])
    glossary = served.media_root / "names.tsv"
    glossary.write_text(f"term\ttype\taliases\nZorblat\tname\t{alias}\n", encoding="utf-8")
    job = submit(served.url, "sample_film.mp4", source_language="en",
                 set={"GLOSSARY_PATHS": str(glossary), "GLOSSARY_ASR_BIAS": "false", "HALLUCINATION_COMPRESSION_RATIO_THRESHOLD": f"{threshold:.4f}"})
    assert follow(served.url, job["id"])[-1]["status"] == "success"
    (job_dir,) = served.jobs_root.glob(f"*/*/*/*/{job['id']}")
    sheet = httpx.get(f"{served.url}/api/jobs/{job['id']}/cues/en").json()
    (fixed,) = [c for c in sheet["cues"] if any(f["kind"] == "glossary" for f in c["flags"])]
    (flag,) = [f for f in fixed["flags"] if f["kind"] == "glossary"]
    assert "Zorblat" in " ".join(fixed["lines"]) and flag["term"] == "Zorblat" and flag["evidence"] == {"alias": alias}
    dropped_ids = [seg["id"] for seg in segments if seg["compression_ratio"] > threshold]
    assert [d["id"] for d in sheet["dropped"]] == dropped_ids and all("compression" in d["reason"] and not d["restored"] for d in sheet["dropped"])
    dropped = sheet["dropped"][0]
    srt = job_dir / "12_subtitle_generation" / "sample_film.en.srt"
    assert dropped["text"] not in srt.read_text(encoding="utf-8").replace("\n", " ")

    assert httpx.post(f"{served.url}/api/jobs/{job['id']}/restore", json={"segment": 999}).status_code == 404
    restored = httpx.post(f"{served.url}/api/jobs/{job['id']}/restore", json={"segment": dropped["id"]})
    assert restored.status_code == 202, restored.text
    run = run_of(follow(served.url, job["id"]))
    assert [e["stage"] for e in run if e["event"] == "stage" and e["state"] == "success"] == ["hallucination_removal", "subtitle_generation"]
    again = httpx.get(f"{served.url}/api/jobs/{job['id']}/cues/en").json()
    assert [(d["id"], d["restored"]) for d in again["dropped"]] == [(i, i == dropped["id"]) for i in dropped_ids]
    words = dropped["text"].split()
    assert " ".join(words[:3]) in srt.read_text(encoding="utf-8").replace("\n", " ")
    assert json.loads((job_dir / "10_hallucination_removal" / "manifest.json").read_text())["metrics"]["segments_restored"] == 1
