"""Progress of long work: what is being done, done/total, the time left; lines, not a bar, off a terminal."""

from __future__ import annotations

import logging
import time

import pytest

from cpwhisperx.progress import ProgressReporter


def test_plain_lines_say_what_how_far_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("cpwhisperx.test.progress")
    with caplog.at_level(logging.DEBUG, logger=logger.name), ProgressReporter("translating en→es", 0, logger, unit="sentences",
                                                                            min_interval=0) as bar:
        bar.set_total(40)
        for _ in range(4):
            time.sleep(0.01)
            bar.advance(10)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("translating en→es: 25% (10/40 sentences), about ") and lines[0].endswith(" s left")
    assert lines[3] == "translating en→es: 100% (40/40 sentences)"
    assert lines[4].startswith("translating en→es: done (40 sentences) in ")
    assert all(r.levelno == logging.INFO for r in caplog.records)


def test_quick_work_keeps_the_console_quiet(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("cpwhisperx.test.progress")
    with caplog.at_level(logging.DEBUG, logger=logger.name), ProgressReporter("writing film.mkv", 60, logger) as bar:
        bar.update(30)
        bar.update(60)
    assert [r.levelno for r in caplog.records] == [logging.DEBUG] * 3  # 50 %, 100 %, done: in the stage log only
