"""The review page in headless Chromium (Debian chromium + chromium-driver, driven by Selenium)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serving import Service, follow, service, submit

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian chromium and chromium-driver (bootstrap.py installs them)")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
                 "--mute-audio", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def wait_for(check: Callable[[], object], seconds: float = 60) -> object:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {check}")
        time.sleep(0.1)


def test_review_page_plays_seeks_to_a_flagged_cue_checks_as_you_type_and_saves(browser: webdriver.Chrome, sample_film: Path,
                                                                                tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "media").mkdir()
    shutil.copy(sample_film, tmp_path / "media" / "sample_film.mp4")
    with service(tmp_path / "jobs", tmp_path / "media", "--low-confidence", "0.8") as served:
        job = submit(served.url, "sample_film.mp4", workflow="subtitle", source_language="en")
        assert follow(served.url, job["id"])[-1]["status"] == "success"
        (job_dir,) = (tmp_path / "jobs").glob(f"*/*/*/*/{job['id']}")
        srt = job_dir / "12_subtitle_generation" / "sample_film.en.srt"
        _check_page(browser, served, job["id"], srt, tmp_path)


def _check_page(browser: webdriver.Chrome, served: Service, job_id: str, srt: Path, tmp_path: Path) -> None:
    browser.get(f"{served.url}/jobs/{job_id}")
    cues = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue"))
    assert len(cues) == srt.read_text(encoding="utf-8").count(" --> ")
    video = browser.find_element(By.ID, "video")
    assert browser.execute_script("return arguments[0].textTracks.length", video) == 1

    # it plays: the clock moves
    browser.execute_async_script("const done = arguments[arguments.length - 1]; arguments[0].play().then(() => done(true), e => done(String(e)))", video)
    wait_for(lambda: browser.execute_script("return arguments[0].currentTime", video) > 0.5, 30)
    browser.execute_script("arguments[0].pause()", video)

    # a click on a flagged cue seeks the player to it
    flagged = [c for c in browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue.flagged") if int(c.get_attribute("data-index")) > 2]
    assert flagged, "no flagged cue on the page"
    target = flagged[0]
    start = float(target.get_attribute("data-start"))
    target.find_element(By.CSS_SELECTOR, ".flags").click() if target.find_elements(By.CSS_SELECTOR, ".flag") else target.click()
    wait_for(lambda: abs(browser.execute_script("return arguments[0].currentTime", video) - start) < 0.05, 10)
    assert "selected" in target.get_attribute("class")

    # typing re-checks the layout limits at once
    index = int(target.get_attribute("data-index"))
    area = target.find_element(By.TAG_NAME, "textarea")
    original = area.get_attribute("value")
    area.send_keys(Keys.END, " and a very long addition that no line of forty-two characters can hold")
    wait_for(lambda: "broken" in target.get_attribute("class"), 5)
    assert "characters" in target.find_element(By.CSS_SELECTOR, ".flags").text
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys("Reviewed line.")
    wait_for(lambda: "broken" not in target.get_attribute("class"), 5)
    assert original != "Reviewed line."

    # save: a new revision in the job, the files made again, the page reloaded from them
    browser.find_element(By.ID, "save").click()
    message = browser.find_element(By.ID, "message")
    wait_for(lambda: "up to date" in message.text, 120)
    assert "Reviewed line." in srt.read_text(encoding="utf-8")
    assert (srt.parent.parent / "review" / "en" / "rev-001" / srt.name).is_file()
    again = browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue textarea")[index]
    assert again.get_attribute("value") == "Reviewed line."
    saved_item = browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue")[index]
    assert saved_item.find_element(By.CSS_SELECTOR, ".flags").text == "reviewed"

    # the next-flagged shortcut moves the selection and the player
    browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue")[0].click()
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ALT, Keys.ARROW_DOWN)
    chosen = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue.selected"), 5)
    assert "flagged" in chosen[0].get_attribute("class")
    assert abs(browser.execute_script("return arguments[0].currentTime", video) - float(chosen[0].get_attribute("data-start"))) < 0.05

    # Alt+S splits the cue at the cursor and Alt+M merges it with the next; each saved as a revision
    count = len(browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue"))
    first = browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue textarea")[1]
    words = first.get_attribute("value").split()
    first.click()
    browser.execute_script("const a = arguments[0]; const at = a.value.indexOf(arguments[1]); a.setSelectionRange(at, at)", first,
                           " ".join(words[len(words) // 2:]))
    first.send_keys(Keys.ALT, "s")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue")) == count + 1, 5)
    browser.find_element(By.ID, "save").click()
    wait_for(lambda: "saved 2 cue(s) as review/en/rev-002" in message.text and "up to date" in message.text, 120)
    assert srt.read_text(encoding="utf-8").count(" --> ") == count + 1
    halves = [browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue textarea")[n].get_attribute("value") for n in (1, 2)]
    assert " ".join(halves).split() == words
    browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue textarea")[1].click()
    browser.switch_to.active_element.send_keys(Keys.ALT, "m")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#cue-list li.cue")) == count, 5)
    browser.find_element(By.ID, "save").click()
    wait_for(lambda: "rev-003" in message.text and "up to date" in message.text, 120)
    assert srt.read_text(encoding="utf-8").count(" --> ") == count

    shot = tmp_path / "review_page.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
