"""The pages in a real browser (headless Chromium driven by selenium): the channel page lists
what repodata.json holds and filters it as one types; the nightly page shows each target's
result and a timeline with one bar per build. Screenshots are saved under the test's tmp dir
(paths printed)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from orchestrator import cache
from orchestrator.serve import tokens
from serve_support import Server, build_tiny_packages, served_config, upload

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900")


@pytest.fixture
def browser(tmp_path):
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def screenshot(driver, path) -> None:
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def record_builds(cache_dir) -> None:
    """Three builds of a run on two slots, as the scheduler records them."""
    end = datetime.now(UTC)
    runs = [("//recipes/base", "success", 30.0, end - timedelta(seconds=50)),
            ("//recipes/side", "failed", 60.0, end - timedelta(seconds=5)),
            ("//recipes/top", "success", 20.0, end)]
    for number, (target, result, duration, finished) in enumerate(runs):
        record = cache.BuildRecord(target, f"{number:x}" * 64, result, duration, (),
                                   finished.isoformat(timespec="milliseconds"))
        cache.write_record(cache_dir, record)
        log = cache.log_path(cache_dir, target, record.hash)
        log.write_text("".join(f"{target} line {i} <b>not html</b>\n" for i in range(30)))


def test_the_channel_page_lists_and_filters_packages(browser, tmp_path):
    from selenium.webdriver.common.by import By

    config = served_config(tmp_path / "served", channels=("testing",))
    packages = build_tiny_packages(tmp_path / "tiny", 12)
    with Server(config) as server:
        uploader = tokens.create_token(config.root, "testing", "upload")
        for package in packages:
            assert upload(server.url, "testing", package, uploader)[0] == 201
        reader = tokens.create_token(config.root, "testing", "read")
        browser.get(f"{server.url}/t/{reader}/testing/")
        rows = wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                                               "tr.package")) == 12 or None)
        assert rows
        assert browser.find_element(By.ID, "count").text == "12 of 12 packages"
        screenshot(browser, tmp_path / "channel-page.png")
        browser.find_element(By.ID, "search").send_keys("1.0.1")
        wait_for(browser, lambda d: d.find_element(By.ID, "count").text.startswith("4 of"))
        versions = sorted(e.text for e in browser.find_elements(
            By.CSS_SELECTOR, "tr.package td:nth-child(2)"))
        assert versions == ["1.0.1", "1.0.10", "1.0.11", "1.0.12"]
        screenshot(browser, tmp_path / "channel-page-filtered.png")


def test_the_nightly_page_shows_results_and_a_timeline(browser, tmp_path):
    from selenium.webdriver.common.by import By

    record_builds(tmp_path / "cache")
    config = served_config(tmp_path / "served", channels=("testing",),
                           cache_dir=tmp_path / "cache")
    with Server(config) as server:
        browser.get(f"{server.url}/builds/")
        screenshot(browser, tmp_path / "nightly-page.png")
        bars = browser.find_elements(By.CSS_SELECTOR, "#timeline .bar")
        tops = {b.get_attribute("textContent"): b.location["y"] for b in bars}
        assert sorted(tops) == ["//recipes/base", "//recipes/side", "//recipes/top"]
        assert tops["//recipes/base"] == tops["//recipes/top"] != tops["//recipes/side"]
        results = {r.find_element(By.CSS_SELECTOR, "td").text:
                   r.find_elements(By.CSS_SELECTOR, "td")[1].text
                   for r in browser.find_elements(By.CSS_SELECTOR, "tr.target")}
        assert results == {"//recipes/base": "success", "//recipes/side": "failed",
                           "//recipes/top": "success"}
        assert "line 29 <b>not html</b>" in browser.find_element(By.ID, "results").text
