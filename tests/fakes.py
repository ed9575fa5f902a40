"""Real HTTP servers on 127.0.0.1 playing the services cp-whisperx talks to: TMDB and the model hub."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

API_KEY = "k3y-0f-the-test-4f2a9c"
FILM = {"id": 86710, "title": "Jaane Tu... Ya Jaane Na", "original_title": "Jaane Tu... Ya Jaane Na", "release_date": "2008-07-04"}
CAST = [{"name": "Imran Khan", "character": "Jai Singh Rathore", "order": 0},
        {"name": "Genelia D'Souza", "character": "Aditi Mahant", "order": 1},
        {"name": "Naseeruddin Shah", "character": "Amar Singh Rathore (voice) / Photo", "order": 2}]


class FakeTmdb(BaseHTTPRequestHandler):
    """TMDB's search and credits, with scenarios: found, miss, 401, 429 (once, Retry-After 3), timeout."""

    scenario = "found"
    requests: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        FakeTmdb.requests.append({"path": url.path, **query})
        if query.get("api_key") != API_KEY or self.scenario == "401":
            return self._send(401, {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key."})
        if self.scenario == "timeout":
            time.sleep(2.0)
        if self.scenario == "429" and len(FakeTmdb.requests) == 1:
            return self._send(429, {"status_message": "Too many requests"}, {"Retry-After": "3"})
        if url.path == "/3/search/movie":
            found = self.scenario != "miss" and "jaane" in query.get("query", "").lower()
            return self._send(200, {"page": 1, "results": [FILM] if found else [], "total_results": int(found)})
        if url.path == f"/3/movie/{FILM['id']}/credits":
            return self._send(200, {"id": FILM["id"], "cast": CAST, "crew": []})
        return self._send(404, {"status_message": "not found"})


class FakeHub(BaseHTTPRequestHandler):
    """The Hugging Face Hub knowing no repository: records what it was asked, with the credentials."""

    requests: list[dict[str, str | None]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        FakeHub.requests.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        body = json.dumps({"error": "Repository not found"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Error-Code", "RepoNotFound")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """The handler on a free port of 127.0.0.1; yields http://127.0.0.1:PORT."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
