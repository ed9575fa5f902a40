"""The FastAPI application: the job API, server-sent events, the review page, health and metrics.

Nothing is read or served from outside the jobs root and the media roots the user named; every
path that comes in a request is resolved (symbolic links followed) before it is checked.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from cpwhisperx import __version__
from cpwhisperx.config import check_keys, load_config
from cpwhisperx.errors import CpwxError, ExitCode, InvalidInput, JobBusy, ResourceMissing
from cpwhisperx.jobs import JOB_ID_RE, WORKFLOWS, Job, find_job, list_jobs, prepare_job
from cpwhisperx.serve.metrics import ServiceMetrics
from cpwhisperx.serve.views import job_detail, job_summary
from cpwhisperx.serve.worker import RunRequest, Workers

PACKAGE = Path(__file__).resolve().parent
TOKEN_COOKIE = "cpwx_token"
UPLOADS = "uploads"
# Settings of the service itself, set by whoever runs it and never by a request: its places, the
# shared cache's limits (a tiny one would empty every reviewer's memory), where its secrets go.
SERVICE_KEYS = ("OUTPUT_DIR", "CACHE_DIR", "MODELS_DIR", "CACHE_TTL_DAYS", "CACHE_MAX_SIZE_GB", "TMDB_BASE_URL")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# Settings naming files a run reads: allowed under the media roots only.
PATH_KEYS = ("GLOSSARY_PATHS", "TRANSLATION_NLLB_MODEL", "TRANSLATION_INDICTRANS2_MODEL", "WHISPER_MODEL")
CHUNK = 1 << 20


@dataclass(frozen=True)
class ServeOptions:
    jobs_root: Path
    media_roots: tuple[Path, ...] = ()
    token: str | None = None
    workers: int = 1
    low_confidence: float = 0.5


class Refused(Exception):
    """A request the service turns down: the HTTP status and the CLI's words (message, fix, exit-code class)."""

    def __init__(self, status: int, message: str, fix: str | None = None, exit_code: ExitCode = ExitCode.INVALID_INPUT) -> None:
        super().__init__(message)
        self.status, self.message, self.fix, self.exit_code = status, message, fix, exit_code


def _status_of(exc: CpwxError) -> int:
    if isinstance(exc, JobBusy):
        return 409
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, ResourceMissing):
        return 503
    return 500


def _error_body(message: str, fix: str | None, exit_code: ExitCode) -> dict[str, Any]:
    return {"error": {"message": message, "fix": fix, "exit_code": int(exit_code), "class": ExitCode(exit_code).name.lower()}}


class JobSubmission(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    workflow: str = Field("transcribe", description="transcribe, translate or subtitle")
    media: str = Field(description="a media file under one of the service's media roots (absolute, or relative to the first root)")
    source_language: str | None = Field(None, description="spoken language as a Whisper code, or auto")
    target_languages: list[str] = Field(default_factory=list)
    settings: dict[str, str] = Field(default_factory=dict, alias="set", description="configuration keys, as --set KEY=VALUE")
    user: str | None = None


class Rerun(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_stage: str | None = Field(None, alias="from", description="run again from this stage on (cpwx run --from)")
    force: bool = False
    settings: dict[str, str] = Field(default_factory=dict, alias="set")


class CueEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="the cue's text, lines separated by newlines")
    lines: list[str] | None = None
    start: float | None = Field(None, ge=0)
    end: float | None = Field(None, gt=0)
    lyrics: bool | None = None


class CueList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cues: list[CueEdit]


class Restore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment: int
    restore: bool = True


def create_app(options: ServeOptions) -> FastAPI:
    root = options.jobs_root.expanduser().resolve()
    media_roots = tuple(r.expanduser().resolve() for r in options.media_roots)
    uploads = root / UPLOADS
    holder: dict[str, Any] = {}

    def workers() -> Workers:
        return holder["workers"]  # type: ignore[no-any-return]

    metrics = ServiceMetrics(root, lambda job_id: workers().state(job_id), lambda: workers().queued())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        holder["workers"] = Workers(options.workers, metrics.observe)
        yield
        await run_in_threadpool(workers().shutdown)

    app = FastAPI(title="cp-whisperx", version=__version__, lifespan=lifespan,
                  description="Jobs, their events and their subtitles; the review page at /jobs/{id}.")
    templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    job_locks: dict[str, threading.Lock] = {}
    locks_lock = threading.Lock()

    def job_lock(job_id: str) -> threading.Lock:
        """One save, restore, re-run or preview of a job at a time: the check that it is idle and what follows are one step."""
        with locks_lock:
            return job_locks.setdefault(job_id, threading.Lock())

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return _answer(request, exc.status, exc.message, exc.fix, exc.exit_code)

    @app.exception_handler(CpwxError)
    async def cpwx_error(request: Request, exc: CpwxError) -> Response:
        return _answer(request, _status_of(exc), exc.message, exc.hint, exc.exit_code)

    def _answer(request: Request, status: int, message: str, fix: str | None, exit_code: ExitCode) -> Response:
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse(_error_body(message, fix, exit_code), status_code=status)
        return templates.TemplateResponse(request, "error.html", {"status": status, "message": message, "fix": fix}, status_code=status)

    @app.middleware("http")
    async def require_token(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Another site's page must not drive this one: a request that changes something comes from a
        # page of this service (same origin), and without a token only a local host name is answered
        # (a foreign name resolving to 127.0.0.1 is DNS rebinding).
        host = request.headers.get("host", "")
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin is not None and origin.split("://", 1)[-1] != host:
            return JSONResponse(_error_body(f"a request from {origin} may not change anything here", "use this service's own pages or a "
                                            "client that sends no Origin", ExitCode.INVALID_INPUT), status_code=403)
        if options.token is None:
            if _host_name(host) not in LOCAL_HOSTS:
                return JSONResponse(_error_body(f"this service answers to localhost only, not to '{host}'",
                                                "open http://127.0.0.1:PORT/, or start it with --host and --token", ExitCode.INVALID_INPUT),
                                    status_code=403)
            return await call_next(request)
        if request.url.path == "/login":
            return await call_next(request)
        given = request.cookies.get(TOKEN_COOKIE, "")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            given = header[7:].strip()
        if hmac.compare_digest(given.encode(), options.token.encode()):
            return await call_next(request)
        if request.method == "GET" and "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/"):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse(_error_body("this service needs its token", "send 'Authorization: Bearer TOKEN', or log in at /login",
                                        ExitCode.INVALID_INPUT), status_code=401, headers={"WWW-Authenticate": "Bearer"})

    # ---- paths -------------------------------------------------------------------------------

    def load_job(job_id: str) -> Job:
        if not JOB_ID_RE.match(job_id):
            raise Refused(404, f"'{job_id}' is not a job id", "job ids look like job-20260101-alice-0001; GET /api/jobs lists them")
        try:
            return Job.load(find_job(job_id, root))
        except InvalidInput as exc:
            raise Refused(404, exc.message, "GET /api/jobs lists the jobs this service has") from None

    def allowed(path: Path) -> bool:
        resolved = path.resolve()
        return any(resolved.is_relative_to(r) for r in (*media_roots, uploads))

    def media_path(given: str) -> Path:
        if "\x00" in given or not given.strip():
            raise Refused(400, "the media path is empty or not a path", "give the path of a file under a media root")
        path = Path(given).expanduser()
        if not path.is_absolute():
            if not media_roots:
                raise Refused(403, "this service has no media root to find a relative path in",
                              "start it with --media-root FOLDER, or upload the file")
            path = media_roots[0] / path
        if not allowed(path):
            roots = ", ".join(str(r) for r in media_roots) or "none"
            raise Refused(403, f"'{given}' is outside the media roots this service may read ({roots})",
                          "put the file under a media root (cpwx serve --media-root FOLDER), or upload it")
        return path.resolve()

    def checked_settings(values: dict[str, str]) -> dict[str, str]:
        """The request's settings, once every one is a known key and every path it names is under a media root."""
        check_keys(values, "set")
        for key, value in values.items():
            if key in SERVICE_KEYS:
                raise Refused(403, f"{key} is the service's own setting, not a request's", f"start the service with {key} set instead")
            if key not in PATH_KEYS:
                continue
            for item in (v.strip() for v in value.split(",") if v.strip()):
                path = Path(item).expanduser()
                named_as_path = key != "WHISPER_MODEL" or item.startswith((".", "/", "~")) or path.exists()
                if named_as_path and not allowed(path):
                    raise Refused(403, f"{key}: '{item}' is outside the media roots this service may read",
                                  "put the file under a media root (cpwx serve --media-root FOLDER)")
        return values

    def language_of(job: Job, language: str) -> str:
        from cpwhisperx.review.editing import subtitle_languages

        known = subtitle_languages(job)
        if language not in known:
            raise Refused(404, f"job {job.id} has no {language} subtitles" + (f" (it has {', '.join(known)})" if known else " yet"),
                          "ask for one of the job's subtitle languages" if known else "wait for the job's run to finish")
        return language

    def idle(job: Job) -> None:
        from cpwhisperx.jobs import RunLock

        state = workers().state(job.id)
        if state is not None or RunLock.is_held(job.dir):
            raise JobBusy(f"job {job.id} is {state or 'running'}", hint="save once its run has finished (GET /api/jobs/{id}/events follows it)")

    def run_later(job: Job, from_stage: str | None, force: bool = False, assignments: dict[str, str] | None = None) -> None:
        workers().submit(RunRequest(job.id, job.dir, from_stage, force, dict(assignments or {})))

    # ---- health and metrics ------------------------------------------------------------------

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/health/ready", tags=["service"])
    def ready() -> JSONResponse:
        checks = readiness(root)
        ok = all(check["ok"] for check in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["service"])
    def prometheus() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # ---- jobs --------------------------------------------------------------------------------

    @app.post("/api/jobs", status_code=201, tags=["jobs"], openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": JobSubmission.model_json_schema(by_alias=True)},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}, "workflow": {"type": "string"}, "source_language": {"type": "string"},
            "target_languages": {"type": "string", "description": "comma-separated"},
            "set": {"type": "array", "items": {"type": "string"}, "description": "KEY=VALUE"}}}}}, "required": True}})
    async def submit(request: Request) -> JSONResponse:
        """A new job for a media file under a media root, or for an upload; its run is queued."""
        kind = request.headers.get("content-type", "")
        if kind.startswith("multipart/form-data"):
            submission, media = await _from_upload(request)
        elif not kind.startswith("application/json"):
            raise Refused(415, f"a job request is JSON or a multipart upload, not '{kind or 'no content type'}'",
                          "send Content-Type: application/json, or multipart/form-data with the file")
        else:
            try:
                submission = JobSubmission.model_validate(json.loads(await request.body() or b"{}"))
            except (ValueError, TypeError) as exc:
                raise Refused(422, f"the job request is not valid: {exc}", "send JSON with at least 'media' (and 'workflow')") from None
            media = media_path(submission.media)
        if submission.workflow not in WORKFLOWS:
            raise Refused(400, f"unknown workflow '{submission.workflow}'", f"choose one of: {', '.join(WORKFLOWS)}")
        overrides = {**checked_settings(submission.settings), "OUTPUT_DIR": str(root)}
        job = await run_in_threadpool(prepare_job, media, submission.workflow, source_language=submission.source_language,
                                      target_languages=submission.target_languages, user=submission.user, overrides=overrides)
        run_later(job, None)
        return JSONResponse({**job_summary(job, workers().state(job.id)), "status": "queued"}, status_code=201)

    async def _from_upload(request: Request) -> tuple[JobSubmission, Path]:
        form = await request.form(max_files=1, max_fields=64)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Refused(400, "the upload has no file", "send the media as the form field 'file'")
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        sets = [v for k, v in form.multi_items() if k == "set" and isinstance(v, str)]
        settings = dict(pair.split("=", 1) for pair in sets if "=" in pair)
        targets = [t.strip() for t in values.get("target_languages", "").split(",") if t.strip()]
        try:
            submission = JobSubmission(workflow=values.get("workflow", "transcribe"), media=upload.filename or "upload",
                                       source_language=values.get("source_language") or None, target_languages=targets,
                                       settings=settings, user=values.get("user") or None)
        except ValueError as exc:
            raise Refused(422, f"the job request is not valid: {exc}") from None
        path = await run_in_threadpool(store_upload, upload.file, upload.filename or "upload", uploads)
        await upload.close()
        return submission, path

    @app.get("/api/jobs", tags=["jobs"])
    def jobs() -> dict[str, Any]:
        return {"jobs": [job_summary(Job.load(d), workers().state(d.name)) for d in list_jobs(root)]}

    @app.get("/api/jobs/{job_id}", tags=["jobs"])
    def job(job_id: str) -> dict[str, Any]:
        found = load_job(job_id)
        return job_detail(found, workers().state(found.id))

    @app.get("/api/jobs/{job_id}/events", tags=["jobs"])
    async def events(job_id: str, request: Request, since: int = 0) -> EventSourceResponse:
        """Server-sent events: the job's state, then every event of its runs in this service (stages, progress, errors)."""
        found = load_job(job_id)
        first = since
        if request.headers.get("last-event-id", "").isdigit():
            first = int(request.headers["last-event-id"]) + 1

        async def stream() -> AsyncIterator[dict[str, str]]:
            yield {"event": "state", "data": json.dumps(job_summary(found, workers().state(found.id)))}
            log = workers().events.get(found.id)
            position = first
            while log is not None:
                # Whether the runs had ended is read before the events: an event added in between is sent next time round.
                ended = log.ended and workers().state(found.id) is None
                items = log.since(position)
                for item in items:
                    position = item["id"] + 1
                    yield {"event": str(item.get("type", "event")), "id": str(item["id"]), "data": json.dumps(item, ensure_ascii=False)}
                if ended and not items:
                    break
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)
            yield {"event": "end", "data": json.dumps(job_summary(Job.load(found.dir), workers().state(found.id)))}

        return EventSourceResponse(stream(), ping=15)

    @app.post("/api/jobs/{job_id}/rerun", status_code=202, tags=["jobs"])
    def rerun(job_id: str, body: Rerun) -> dict[str, Any]:
        """Run the job again: from a stage on (as `cpwx run --from`), all of it (`force`), or what changed."""
        from cpwhisperx.stages import get_stage

        found = load_job(job_id)
        if body.from_stage:
            get_stage(body.from_stage)
        checked_settings(body.settings)
        with job_lock(found.id):
            idle(found)
            run_later(found, body.from_stage, body.force, body.settings)
        return {**job_summary(found, workers().state(found.id)), "status": "queued"}

    # ---- cues --------------------------------------------------------------------------------

    @app.get("/api/jobs/{job_id}/cues/{language}", tags=["cues"])
    def cues(job_id: str, language: str) -> dict[str, Any]:
        from cpwhisperx.review.flags import cue_sheet

        found = load_job(job_id)
        return cue_sheet(found, language_of(found, language), options.low_confidence)

    @app.put("/api/jobs/{job_id}/cues/{language}/{index}", tags=["cues"])
    def edit_cue(job_id: str, language: str, index: int, body: CueEdit) -> JSONResponse:
        """One cue's text, times or lyrics mark; the subtitle files get a new revision and what depends on them runs again."""
        from cpwhisperx.review.editing import current_cues

        found = load_job(job_id)
        language_of(found, language)
        _, current = current_cues(found, language)
        if not 0 <= index < len(current):
            raise Refused(404, f"job {found.id} has no {language} cue {index} (it has {len(current)}, numbered from 0)")
        edited = list(current)
        edited[index] = _edited(current[index], body, index)
        return save(found, language, edited)

    @app.put("/api/jobs/{job_id}/cues/{language}", tags=["cues"])
    def edit_cues(job_id: str, language: str, body: CueList) -> JSONResponse:
        """The whole cue list as reviewed (cues split, merged, re-timed or re-worded); each cue needs its start and end."""
        found = load_job(job_id)
        language_of(found, language)
        from cpwhisperx.review.cues import TimedText

        edited = []
        for number, cue in enumerate(body.cues):
            if cue.start is None or cue.end is None:
                raise Refused(422, f"cue {number} has no start or end", "give every cue of the list its start and end in seconds")
            edited.append(_edited(TimedText(cue.start, cue.end, ()), cue, number))
        return save(found, language, edited)

    def save(found: Job, language: str, edited: list[Any]) -> JSONResponse:
        from cpwhisperx.review.editing import save_edits

        for number, (before, after) in enumerate(zip(edited, edited[1:]), start=1):
            if after.start < before.end - 1e-3:
                raise Refused(400, f"cue {number} ({after.start:.3f} s) starts before cue {number - 1} ends ({before.end:.3f} s)",
                              "keep the cues in time order, each ending before the next starts")
        with job_lock(found.id):
            idle(found)
            report = save_edits(found, language, edited, "review page", rerun=lambda stage: run_later(found, stage))
        body = {"language": language, "changed": report.changed_cues, "stored": report.stored, "not_stored": report.not_stored,
                "revision": report.revision.relative_to(found.dir).as_posix() if report.revision else None,
                "rerun_from": report.from_stage if report.revision else None, "status": workers().state(found.id) or "unchanged"}
        return JSONResponse(body, status_code=202 if report.revision else 200)

    @app.post("/api/jobs/{job_id}/restore", status_code=202, tags=["cues"])
    def restore(job_id: str, body: Restore) -> dict[str, Any]:
        """Bring back a segment the hallucination filter dropped (or drop it again); the job runs again from that filter."""
        found = load_job(job_id)
        with job_lock(found.id):
            return _restore(found, body)

    def _restore(found: Job, body: Restore) -> dict[str, Any]:
        from cpwhisperx.review.cues import load_restored, save_restored
        from cpwhisperx.review.flags import HALLUCINATION_DIR

        idle(found)
        dropped_file = found.dir / HALLUCINATION_DIR / "hallucinations.json"
        dropped = {int(s["id"]): str(s["text"]) for s in json.loads(dropped_file.read_text(encoding="utf-8"))} if dropped_file.is_file() else {}
        restored = load_restored(found.dir)
        if body.restore:
            if body.segment not in dropped:
                raise Refused(404, f"job {found.id} dropped no segment {body.segment}", "GET the cues: 'dropped' lists the segments that can be restored")
            restored[body.segment] = dropped[body.segment]
        elif restored.pop(body.segment, None) is None:
            raise Refused(404, f"segment {body.segment} of job {found.id} was not restored")
        save_restored(found.dir, restored)
        run_later(found, "hallucination_removal")
        return {"segment": body.segment, "restored": body.restore, "status": "queued"}

    # ---- media -------------------------------------------------------------------------------

    def servable_media(found: Job) -> Path:
        path = found.media_path
        if not allowed(path):
            raise Refused(403, f"the media of job {found.id} is outside the media roots this service may read",
                          "start the service with --media-root naming the folder the film is in")
        if not path.is_file():
            raise Refused(404, f"the media of job {found.id} ('{path.name}') is no longer there")
        return path

    @app.get("/api/jobs/{job_id}/media", tags=["media"])
    def media(job_id: str) -> FileResponse:
        """The job's original media (byte ranges served, for seeking)."""
        return FileResponse(servable_media(load_job(job_id)))

    @app.get("/api/jobs/{job_id}/preview.webm", tags=["media"])
    def preview(job_id: str) -> FileResponse:
        """The film as WebM, for a browser that cannot play the original: made once, kept in the job's review folder."""
        found = load_job(job_id)
        source = servable_media(found)
        target = found.dir / "review" / "preview.webm"
        with job_lock(found.id):
            if not target.is_file():
                make_preview(source, target)
        return FileResponse(target, media_type="video/webm")

    @app.get("/api/jobs/{job_id}/tracks/{language}.vtt", tags=["media"])
    def track(job_id: str, language: str) -> Response:
        """The job's subtitles of one language as WebVTT (the player's text track)."""
        import pysubs2

        from cpwhisperx.review.editing import current_subtitles

        found = load_job(job_id)
        language_of(found, language)
        path = current_subtitles(found, language)
        vtt = path.with_suffix(".vtt")
        text = vtt.read_text(encoding="utf-8") if vtt.is_file() else pysubs2.load(str(path), encoding="utf-8").to_string("vtt")
        return PlainTextResponse(text, media_type="text/vtt")

    # ---- pages -------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        rows = [job_summary(Job.load(d), workers().state(d.name)) for d in list_jobs(root)]
        return templates.TemplateResponse(request, "jobs.html", {"jobs": rows})

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def review_page(request: Request, job_id: str) -> Response:
        from cpwhisperx.review.editing import subtitle_languages
        from cpwhisperx.review.flags import spoken_language

        found = load_job(job_id)
        detail = job_detail(found, workers().state(found.id))
        languages = subtitle_languages(found)
        return templates.TemplateResponse(request, "review.html", {
            "job": detail, "languages": languages, "spoken": spoken_language(found) if languages else None,
            "media_type": _media_type(found.media_path), "media_ok": allowed(found.media_path) and found.media_path.is_file()})

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> Response:
        return templates.TemplateResponse(request, "login.html", {"next": next if next.startswith("/") else "/", "wrong": False})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4)
        token, target = str(form.get("token", "")), str(form.get("next", "/"))
        target = target if target.startswith("/") and not target.startswith("//") else "/"
        if options.token is None or hmac.compare_digest(token.encode(), options.token.encode()):
            response = RedirectResponse(target, status_code=303)
            if options.token:
                response.set_cookie(TOKEN_COOKIE, options.token, httponly=True, samesite="strict")
            return response
        return templates.TemplateResponse(request, "login.html", {"next": target, "wrong": True}, status_code=401)

    return app


def _host_name(host: str) -> str:
    """The name of a Host header without its port ("[::1]:8765" → "::1")."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _edited(cue: Any, edit: CueEdit, number: int) -> Any:
    from cpwhisperx.review.cues import TimedText, clean_lines

    lines = tuple(edit.lines) if edit.lines is not None else tuple(edit.text.split("\n")) if edit.text is not None else cue.lines
    start = cue.start if edit.start is None else edit.start
    end = cue.end if edit.end is None else edit.end
    if end <= start:
        raise Refused(400, f"cue {number} ends ({end:.3f} s) before it starts ({start:.3f} s)", "give the cue an end after its start")
    lines = clean_lines(lines)
    if not lines:
        raise Refused(400, f"cue {number} has no text", "give the cue its text, or leave it out of the list to delete it")
    return TimedText(start, end, lines, cue.lyrics if edit.lyrics is None else edit.lyrics)


def _media_type(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "video/mp4"


def store_upload(stream: Any, filename: str, uploads: Path) -> Path:
    """An upload copied to its own folder under the jobs root a megabyte at a time, kept only if FFmpeg reads it as media."""
    from cpwhisperx.media import probe

    name = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in Path(filename.replace("\\", "/")).name).strip(" .") or "upload"
    folder = uploads / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / name
    with open(target, "wb") as out:
        shutil.copyfileobj(stream, out, CHUNK)
    try:
        media = probe(target)
        if not media.audio_streams:
            raise InvalidInput(f"'{name}' has no audio stream", hint="upload a film or recording with sound")
    except InvalidInput as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Refused(415, exc.message, exc.hint) from None
    return target


def make_preview(source: Path, target: Path) -> None:
    from cpwhisperx.media import tool_path

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".webm", delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        subprocess.run([tool_path("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", "0:v:0?", "-map", "0:a:0?",
                        "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M", "-vf", "scale=-2:'min(480,ih)'",
                        "-c:a", "libopus", "-b:a", "96k", str(partial)], check=True, capture_output=True)
        partial.replace(target)
    except subprocess.CalledProcessError as exc:
        partial.unlink(missing_ok=True)
        raise Refused(500, f"FFmpeg could not make a WebM preview of '{source.name}': {exc.stderr.decode(errors='replace').strip()[-300:]}",
                      exit_code=ExitCode.STAGE_FAILED) from None


def readiness(root: Path) -> dict[str, dict[str, Any]]:
    """FFmpeg found, the model present, the jobs root writable: each with the problem when not."""
    from cpwhisperx import models
    from cpwhisperx.media import tool_path

    checks: dict[str, dict[str, Any]] = {}

    def check(name: str, probe: Any) -> None:
        try:
            checks[name] = {"ok": True, "detail": str(probe())}
        except CpwxError as exc:
            checks[name] = {"ok": False, "problem": exc.message, "fix": exc.hint}
        except OSError as exc:
            checks[name] = {"ok": False, "problem": f"{exc.strerror or exc}", "fix": "make the jobs root a folder this service may write to"}

    settings = load_config()
    check("ffmpeg", lambda: tool_path("ffmpeg"))
    check("model", lambda: models.resolve(settings.WHISPER_MODEL, settings.MODELS_DIR, allow_download=False).path)

    def writable() -> str:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".ready-"):
            pass
        return str(root)

    check("jobs_root", writable)
    return checks
