"""The result cache on real files: entries, corruption, concurrent writers, statistics, upkeep, `cpwx cache`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import cpwx

from cpwhisperx.cache import ResultCache, cache_key
from cpwhisperx.cache.maintenance import TEMP_MAX_AGE_S, cleanup, clear, stats, validate
from cpwhisperx.cache.store import STATS_FILE

DAY = 86400.0


def entry_path(root: Path, namespace: str, key: str) -> Path:
    return root / namespace / key[:2] / f"{key}.json"


def age(path: Path, days: float) -> None:
    """Last used `days` ago."""
    moment = time.time() - days * DAY
    os.utime(path, (moment, moment))


def fill(root: Path, namespace: str, count: int, size: int = 1000) -> list[str]:
    cache = ResultCache(root, namespace)
    keys = [cache_key(namespace, i) for i in range(count)]
    for key in keys:
        cache.put(key, {"text": "x" * size})
    return keys


def all_entries(root: Path) -> set[Path]:
    return {p for p in root.rglob("*.json") if not p.name.startswith(".")}


def test_round_trip_keys_and_nested_namespaces(tmp_path: Path) -> None:
    asr = ResultCache(tmp_path, "asr")
    key = cache_key("audio", 1)
    nested_ns = f"asr/{key[:2]}"  # a nested namespace whose folder shares its name with a key prefix
    nested = ResultCache(tmp_path, nested_ns)
    asr.put(key, {"text": "namaste", "n": [1, 2]})
    nested.put("deadbeef", [1])
    assert asr.get(key) == {"text": "namaste", "n": [1, 2]} and asr.get("missing") is None
    assert (asr.hits, asr.misses) == (1, 1)
    assert asr.keys() == [key] and nested.keys() == ["deadbeef"]
    assert asr.kind == nested.kind == "asr"
    assert entry_path(tmp_path, nested_ns, "deadbeef").is_file()
    assert ResultCache(tmp_path, "asr", enabled=False).keys() == [] and ResultCache(tmp_path, "vad").keys() == []


def test_a_hit_marks_the_entry_used_and_a_miss_changes_nothing(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "vad")
    cache.put("aa11", {"regions": []})
    path = entry_path(tmp_path, "vad", "aa11")
    age(path, 30)
    before = path.stat().st_mtime
    assert cache.get("bb22") is None and path.stat().st_mtime == before
    assert cache.get("aa11") == {"regions": []}
    assert time.time() - path.stat().st_mtime < 60


def _valid_entry(tmp_path: Path) -> tuple[ResultCache, Path]:
    cache = ResultCache(tmp_path, "translations")
    cache.put("cafe01", {"raw": "Buenas noches."})
    return cache, entry_path(tmp_path, "translations", "cafe01")


def edit_payload(path: Path) -> None:
    """The payload changed by hand, the checksum left as it was."""
    entry = json.loads(path.read_text(encoding="utf-8"))
    entry["payload"] = {**entry["payload"], "edited": True}
    path.write_text(json.dumps(entry), encoding="utf-8")


def _wrong_checksum(path: Path) -> None:
    entry = json.loads(path.read_text(encoding="utf-8"))
    entry["checksum"] = "0" * 64
    path.write_text(json.dumps(entry), encoding="utf-8")


CORRUPTIONS = {
    "garbage bytes": lambda p: p.write_bytes(b"\xff\xfe\x00garbage\x9c"),
    "cut-off JSON": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "empty file": lambda p: p.write_bytes(b""),
    "wrong checksum": _wrong_checksum,
    "payload edited": edit_payload,
    "no entry object": lambda p: p.write_text('["payload", "checksum"]', encoding="utf-8"),
}


@pytest.mark.parametrize("damage", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_entry_is_a_miss_with_a_warning_naming_it(damage: Callable[[Path], None], tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    cache, path = _valid_entry(tmp_path)
    damage(path)
    with caplog.at_level(logging.WARNING, logger="cpwhisperx.cache"):
        assert cache.get("cafe01") is None
    assert (cache.corrupt, cache.misses, cache.hits) == (1, 1, 0)
    assert str(path) in caplog.text and "corrupt" in caplog.text
    cache.put("cafe01", {"raw": "Buenas noches."})  # computed again, and kept whole
    assert cache.get("cafe01") == {"raw": "Buenas noches."}


WRITER = """
import sys
from pathlib import Path
from cpwhisperx.cache import ResultCache
cache = ResultCache(Path(sys.argv[1]), "asr")
payload = {"writer": sys.argv[2], "text": sys.argv[2] * 200000}
for _ in range(int(sys.argv[3])):
    cache.put("same-key", payload)
"""

READER = """
import json, sys
from pathlib import Path
from cpwhisperx.cache import ResultCache
root, stop = Path(sys.argv[1]), Path(sys.argv[2])
cache = ResultCache(root, "asr")
seen = {"miss": 0, "a": 0, "b": 0, "wrong": 0}
while not stop.exists() or sum(seen.values()) < 50:
    payload = cache.get("same-key")
    if payload is None:
        seen["miss"] += 1
    elif payload.get("writer") in ("a", "b") and payload == {"writer": payload["writer"], "text": payload["writer"] * 200000}:
        seen[payload["writer"]] += 1
    else:
        seen["wrong"] += 1
seen["corrupt"] = cache.corrupt
print(json.dumps(seen))
"""


def test_two_processes_writing_one_entry_leave_it_whole(tmp_path: Path) -> None:
    stop = tmp_path / "writers-done"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(tmp_path), str(stop)], stdout=subprocess.PIPE, text=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name, "150"]) for name in "ab"]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    stop.touch()
    output, _ = reader.communicate(timeout=300)
    seen = json.loads(output)
    assert reader.returncode == 0
    assert seen["wrong"] == 0 and seen["corrupt"] == 0, seen
    assert seen["a"] + seen["b"] > 0, seen
    final = ResultCache(tmp_path, "asr").get("same-key")
    assert final is not None and final["writer"] in ("a", "b") and final["text"] == final["writer"] * 200000
    assert [p.name for p in (tmp_path / "asr").rglob("*") if p.is_file()] == ["same-key.json"]  # no temporary file left


def test_record_stats_appends_what_changed_since_the_last_record(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "asr/blocks/ab12/3")
    cache.record_stats()
    assert not (tmp_path / STATS_FILE).exists()  # nothing counted, nothing written
    cache.put("k1", {"x": 1})
    for key in ("k1", "k1", "k2"):
        cache.get(key)
    cache.record_stats()
    cache.record_stats()
    cache.get("k3")
    cache.record_stats()
    lines = [json.loads(line) for line in (tmp_path / STATS_FILE).read_text(encoding="utf-8").splitlines()]
    assert [(r["kind"], r["hits"], r["misses"], r["corrupt"]) for r in lines] == [("asr", 2, 1, 0), ("asr", 0, 1, 0)]
    assert dt.datetime.fromisoformat(lines[0]["time"]).utcoffset() == dt.timedelta(0)
    assert (cache.hits, cache.misses) == (2, 2)  # the stage still reports its own totals


def test_record_stats_never_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    cache = ResultCache(blocker, "memory")
    assert cache.get("k") is None
    cache.record_stats()  # the cache root cannot exist: a debug line, no error
    assert blocker.read_text() == "not a folder\n"


def test_cleanup_removes_entries_older_than_the_ttl(tmp_path: Path) -> None:
    old = fill(tmp_path, "asr", 2)
    recent = fill(tmp_path, "translations", 2)
    for key in old:
        age(entry_path(tmp_path, "asr", key), 100)
    age(entry_path(tmp_path, "translations", recent[0]), 80)
    assert cleanup(tmp_path, ttl_days=0, max_size_gb=0).entries == 0  # no limits: nothing goes
    removed = cleanup(tmp_path, ttl_days=90, max_size_gb=0)
    assert removed.entries == 2 and removed.bytes > 2000
    assert all_entries(tmp_path) == {entry_path(tmp_path, "translations", k) for k in recent}


def test_cleanup_by_size_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    keys = fill(tmp_path, "vad", 5)
    paths = [entry_path(tmp_path, "vad", k) for k in keys]
    for days, path in zip((50, 40, 30, 20, 10), paths, strict=True):
        age(path, days)
    assert ResultCache(tmp_path, "vad").get(keys[0]) is not None  # the oldest, used just now
    size = paths[0].stat().st_size
    removed = cleanup(tmp_path, ttl_days=0, max_size_gb=3.5 * size / 1e9)
    assert removed.entries == 2 and removed.bytes == 2 * size
    assert all_entries(tmp_path) == {paths[0], paths[3], paths[4]}


def test_unfinished_writes_are_removed_once_stale(tmp_path: Path) -> None:
    (key,) = fill(tmp_path, "asr", 1)
    folder = entry_path(tmp_path, "asr", key).parent
    stale, fresh = folder / f".{key}.json.x1y2.part.json", folder / f".{key}.json.z3w4.part.json"
    for path in (stale, fresh):
        path.write_text('{"check')
    moment = time.time() - TEMP_MAX_AGE_S - 60
    os.utime(stale, (moment, moment))
    removed = cleanup(tmp_path, ttl_days=90, max_size_gb=10)
    assert (removed.entries, removed.temp_files) == (0, 1)
    assert not stale.exists() and fresh.exists() and len(all_entries(tmp_path)) == 1


def test_validate_removes_the_corrupt_and_keeps_the_valid(tmp_path: Path) -> None:
    asr = fill(tmp_path, "asr", 3)
    fill(tmp_path, "memory/hi-en", 2)
    broken = entry_path(tmp_path, "asr", asr[1])
    edit_payload(broken)
    (tmp_path / STATS_FILE).write_text("not json\n")  # the statistics file is no entry
    result = validate(tmp_path)
    assert result.valid == {"asr": 2, "memory": 2} and result.corrupt == {"asr": 1}
    assert result.removed == [broken] and not broken.exists()
    assert len(all_entries(tmp_path)) == 4 and (tmp_path / STATS_FILE).exists()
    assert ResultCache(tmp_path, "asr").get(asr[0]) == {"text": "x" * 1000}


def test_stats_per_kind_with_recorded_counts_since_a_date(tmp_path: Path) -> None:
    fill(tmp_path, "asr", 2, size=500)
    fill(tmp_path, "asr/blocks/ff/1", 1, size=500)
    fill(tmp_path, "models", 1)
    oldest = entry_path(tmp_path, "asr", cache_key("asr", 0))
    age(oldest, 5)
    lines = [{"time": "2024-01-01T00:00:00+00:00", "kind": "asr", "hits": 100, "misses": 100, "corrupt": 1},
             {"time": "2025-06-01T00:00:00+00:00", "kind": "asr", "hits": 3, "misses": 2, "corrupt": 0},
             {"time": "2025-06-02T00:00:00+00:00", "kind": "translations", "hits": 7, "misses": 0, "corrupt": 0}]
    (tmp_path / STATS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines) + "{broken\n")
    every = stats(tmp_path)
    assert set(every) == {"asr", "models", "translations"}
    assert (every["asr"].entries, every["asr"].hits, every["asr"].misses, every["asr"].corrupt) == (3, 103, 102, 1)
    assert every["translations"].entries == 0 and every["translations"].hits == 7
    assert every["asr"].bytes == sum(p.stat().st_size for p in (tmp_path / "asr").rglob("*.json"))
    assert every["asr"].oldest is not None and every["asr"].newest is not None
    assert (every["asr"].newest - every["asr"].oldest) > dt.timedelta(days=4)
    recent = stats(tmp_path, since=dt.datetime(2025, 1, 1))
    assert (recent["asr"].hits, recent["asr"].misses, recent["asr"].corrupt) == (3, 2, 0)
    assert stats(tmp_path / "nothing-here") == {}


def test_clear_one_kind_or_all(tmp_path: Path) -> None:
    fill(tmp_path, "asr", 2)
    fill(tmp_path, "translations", 3)
    fill(tmp_path, "models", 1)
    removed = clear(tmp_path, ["translations"])
    assert list(removed) == ["translations"] and removed["translations"].entries == 3
    assert not (tmp_path / "translations").exists()
    assert {p.parts[len(tmp_path.parts)] for p in all_entries(tmp_path)} == {"asr", "models"}
    removed = clear(tmp_path, ["all"])
    assert {k: v.entries for k, v in removed.items()} == {"asr": 2, "models": 1}
    assert all_entries(tmp_path) == set()


def test_cpwx_cache_commands(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    asr = fill(root, "asr", 2)
    translations = fill(root, "translations", 2)
    ResultCache(root, "translations").get(translations[0])
    age(entry_path(root, "asr", asr[0]), 200)
    edit_payload(entry_path(root, "translations", translations[1]))
    cache = ResultCache(root, "translations")
    cache.get("no-such-key")
    cache.record_stats()
    env = {"CACHE_DIR": str(root), "CACHE_TTL_DAYS": "90", "CACHE_MAX_SIZE_GB": "10"}

    shown = cpwx("cache", "stats", "--json", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["root"] == str(root)
    assert report["kinds"]["asr"]["entries"] == 2 and report["kinds"]["translations"]["misses"] == 1
    table = cpwx("cache", "stats", "--since", "2000-01-01", cwd=tmp_path, env=env)
    assert table.returncode == 0 and "translations" in table.stdout and "asr" in table.stdout
    future = cpwx("cache", "stats", "--json", "--since", "2999-01-01", cwd=tmp_path, env=env)
    assert json.loads(future.stdout)["kinds"]["translations"]["misses"] == 0

    checked = cpwx("cache", "validate", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert "translations: 1 valid, 1 corrupt" in checked.stdout and "removed 1 entry" in checked.stdout
    assert not entry_path(root, "translations", translations[1]).exists()

    cleaned = cpwx("cache", "cleanup", cwd=tmp_path, env=env)
    assert cleaned.returncode == 0 and "removed 1 entry" in cleaned.stdout and "CACHE_TTL_DAYS=90" in cleaned.stdout
    assert all_entries(root) == {entry_path(root, "asr", asr[1]), entry_path(root, "translations", translations[0])}

    cleared = cpwx("cache", "clear", "asr", cwd=tmp_path, env=env)
    assert cleared.returncode == 0 and "asr: removed 1 entry" in cleared.stdout
    assert all_entries(root) == {entry_path(root, "translations", translations[0])}
    wrong = cpwx("cache", "clear", "films", cwd=tmp_path, env=env)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
    bad_date = cpwx("cache", "stats", "--since", "yesterday", cwd=tmp_path, env=env)
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    everything = cpwx("cache", "clear", cwd=tmp_path, env=env)
    assert everything.returncode == 0 and "translations: removed 1 entry" in everything.stdout
    assert all_entries(root) == set() and (root / STATS_FILE).exists()
    empty = cpwx("cache", "stats", cwd=tmp_path, env={**env, "CACHE_DIR": str(tmp_path / "none")})
    assert empty.returncode == 0 and "is empty" in empty.stdout


def test_a_successful_run_cleans_the_cache(sample_film: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    old = fill(root, "translations", 3)
    for key in old[:2]:
        age(entry_path(root, "translations", key), 40)
    result = cpwx("transcribe", str(sample_film), "-s", "en", cwd=tmp_path,
                  env={"CACHE_DIR": str(root), "CACHE_TTL_DAYS": "30", "CACHE_MAX_SIZE_GB": "10"})
    assert result.returncode == 0, result.stderr
    kept = all_entries(root)
    assert entry_path(root, "translations", old[2]) in kept
    assert not {entry_path(root, "translations", key) for key in old[:2]} & kept
    # what the run itself cached (speech regions, transcript, the model's digest) stays
    assert {p.relative_to(root).parts[0] for p in kept} == {"translations", "demux", "vad", "asr", "models"}
    assert "removed 2 entries" in result.stderr
    logs = list(tmp_path.glob("out/*/*/*/*/job-*/logs/99_pipeline_*.log"))
    assert any("removed 2 entries" in log.read_text(encoding="utf-8") for log in logs)


def test_a_file_kept_beside_an_entry_is_counted_checked_and_removed_with_it(tmp_path: Path) -> None:
    from cpwhisperx.files import sha256_file

    cache = ResultCache(tmp_path, "demux")
    blobs = {}
    for number in range(2):
        key = cache_key("blob", number)
        blob = cache.blob_path(key, ".wav")
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(bytes([number]) * 400_000)
        cache.put(key, {"blob_sha256": sha256_file(blob)})
        blobs[key] = blob
        os.utime(cache.blob_path(key, ".json"), (time.time() - 100 + number, time.time() - 100 + number))
    assert stats(tmp_path)["demux"].bytes > 800_000
    # the size limit counts the files beside the entries: the older entry goes, with its file
    removed = cleanup(tmp_path, ttl_days=0, max_size_gb=0.0005)
    older, newer = blobs
    assert removed.entries == 1 and removed.bytes > 400_000
    assert not blobs[older].exists() and not cache.blob_path(older, ".json").exists() and blobs[newer].exists()
    # a changed file makes its entry corrupt
    blobs[newer].write_bytes(b"other samples")
    checked = validate(tmp_path)
    assert checked.corrupt == {"demux": 1} and not blobs[newer].exists()
    # a file left without its entry by an interrupted run goes once it is old
    orphan = cache.blob_path(cache_key("blob", 9), ".wav")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"x")
    os.utime(orphan, (time.time() - TEMP_MAX_AGE_S - 10,) * 2)
    assert cleanup(tmp_path, ttl_days=0, max_size_gb=0).temp_files == 1 and not orphan.exists()
