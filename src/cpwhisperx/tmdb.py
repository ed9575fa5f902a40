"""A client of the TMDB v3 API: search a film by title and year, then its cast and characters."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from cpwhisperx.errors import ServiceFailed

_YEAR = re.compile(r"(?:^|[\s._\-\[(])((?:19|20)\d{2})(?=$|[\s._\-\])])")
_YEAR_IN_BRACKETS = re.compile(r"[\[(]((?:19|20)\d{2})[\])]")
# Release tags end a title; "web" alone is a word of titles too, so only its tag forms count.
_RELEASE_TAGS = re.compile(r"[\s._\-\[(](?:2160p|1080p|720p|480p|x264|x265|h264|h265|hevc|bluray|brrip|webrip|web-dl|hdrip|dvdrip|"
                           r"hdtv|aac|dts|proper|remastered|extended|unrated)\b.*$", re.IGNORECASE)


def parse_title_year(stem: str) -> tuple[str, int | None]:
    """`Jaane Tu Ya Jaane Na (2008)` and `Jaane.Tu.Ya.Jaane.Na.2008.1080p` → ('Jaane Tu Ya Jaane Na', 2008).

    A year in brackets is the release year; otherwise the last year-like word after the first one
    is ("Blade.Runner.2049.2017" is from 2017; "1917 (2019)" keeps its title).
    """
    year, title = None, stem
    bracketed = _YEAR_IN_BRACKETS.search(stem)
    later = [m for m in _YEAR.finditer(stem) if m.start(1) > 0]
    if bracketed and bracketed.start() > 0:
        year, title = int(bracketed.group(1)), stem[: bracketed.start()]
    elif later:
        year, title = int(later[-1].group(1)), stem[: later[-1].start(1)]
    title = _RELEASE_TAGS.sub("", title)
    title = re.sub(r"[._]+", " ", title).strip(" -[(")
    return re.sub(r"\s+", " ", title), year


class TmdbAuthError(ServiceFailed):
    """The API key was refused."""


class TmdbClient:
    def __init__(self, base_url: str, api_key: str, timeout: float, max_retries: int,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        bearer = "." in api_key and len(api_key) > 60  # a v4 read-access token
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=timeout,
                                    headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"} if bearer else {"Accept": "application/json"})
        self._key_params = {} if bearer else {"api_key": api_key}
        self.max_retries = max_retries
        self.sleep = sleep
        self.requests = 0
        self.retries = 0

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(self.max_retries + 1):
            self.requests += 1
            try:
                response = self._client.get(path.lstrip("/"), params={**params, **self._key_params})
            except httpx.TimeoutException:
                problem = "TMDB did not answer in time"
            except httpx.TransportError as exc:
                problem = f"TMDB cannot be reached ({type(exc).__name__})"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()  # type: ignore[no-any-return]
                    except ValueError:
                        raise ServiceFailed(f"TMDB answered {path} with something that is not JSON",
                                            hint="check TMDB_BASE_URL points at the TMDB v3 API") from None
                if response.status_code == 401:
                    raise TmdbAuthError("TMDB refused the API key (401)", hint="check TMDB_API_KEY")
                if response.status_code == 404:
                    raise ServiceFailed(f"TMDB has no {path} (404)")
                if response.status_code != 429 and response.status_code < 500:
                    raise ServiceFailed(f"TMDB answered {response.status_code} to {path}")
                problem = f"TMDB answered {response.status_code}"
                if attempt < self.max_retries:
                    self.retries += 1
                    self.sleep(_retry_after(response, attempt))
                    continue
                raise ServiceFailed(f"{problem} {attempt + 1} times; giving up", hint="try again later")
            if attempt < self.max_retries and "in time" not in problem:
                self.retries += 1
                self.sleep(min(2.0 ** attempt, 30.0))
                continue
            raise ServiceFailed(problem, hint="check the network and TMDB_BASE_URL, or set TMDB_ENABLED=false")
        raise ServiceFailed("TMDB look-up failed")

    def find_film(self, title: str, year: int | None) -> dict[str, Any] | None:
        params: dict[str, Any] = {"query": title, "include_adult": "false"}
        if year:
            params["year"] = year
        results = self._get("search/movie", params).get("results") or []
        if not results and year:
            results = self._get("search/movie", {"query": title, "include_adult": "false"}).get("results") or []
        return results[0] if results else None

    def cast(self, movie_id: int, limit: int) -> list[dict[str, str]]:
        credits = self._get(f"movie/{movie_id}/credits", {})
        cast = sorted(credits.get("cast") or [], key=lambda c: c.get("order", 1 << 30))[:limit]
        return [{"name": c.get("name", ""), "character": c.get("character", "")} for c in cast]

    def close(self) -> None:
        self._client.close()


def _retry_after(response: httpx.Response, attempt: int) -> float:
    header = response.headers.get("Retry-After", "")
    if header.strip().isdigit():
        return min(float(header), 60.0)
    if header:
        try:
            when = email.utils.parsedate_to_datetime(header)
            return max(0.0, min(when.timestamp() - time.time(), 60.0))
        except (TypeError, ValueError):  # a header that is neither seconds nor a date: back off as usual
            pass
    return min(2.0 ** attempt, 30.0)
