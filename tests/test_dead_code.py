"""No dead code: every function, class, method and variable of the package is used somewhere
(by the package, its tests or its benchmarks)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

# Names that frameworks use without the code calling them by name.
USED_BY_FRAMEWORKS = (
    "model_config",  # pydantic
    "size_bytes", "last_run",  # fields of job.json, written by pydantic
    "updated",  # a field of batch.json, written by pydantic
    "msg",  # logging.LogRecord, rewritten by the redacting filter
    "log_message", "do_GET", "do_HEAD",  # http.server
    "tb",  # the __exit__ protocol
    "pre_tokenizer",  # tokenizers, set by the tiny test models
    "mtime_ns",  # a functools.lru_cache key: a changed file is read again
    "collect",  # prometheus_client's Collector protocol
    "pytestmark", "binary_location",  # pytest; Selenium's ChromeOptions
)


def test_no_dead_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vulture", "src", "tests", "benchmarks", "bootstrap.py", "--min-confidence", "60",
         "--ignore-decorators", "@field_validator,@model_validator,@pytest.fixture,@app.*", "--ignore-names", ",".join(USED_BY_FRAMEWORKS)],
        cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
