"""Real headless Chromium (Selenium + Debian's chromedriver) against a real Viva on a loopback port.

Skips, with the reason, where Chromium or chromedriver is not installed (CI installs both: `.ci/run`).
Screenshots go to ``tests/e2e/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import shutil
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.media import ANSWER_TEXT, speech
from tests.support import Api, live_server, make_settings, sqlite_copy

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
BASE_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--window-size=1280,900",
)


def _first(paths: tuple[str, ...]) -> str | None:
    return next((p for p in paths if Path(p).is_file()), None)


@pytest.fixture(scope="session")
def chrome_paths() -> tuple[str, str]:
    pytest.importorskip("selenium", reason="the e2e tests need the `selenium` package (the `test` extra)")
    browser = _first(CHROMIUM_PATHS) or shutil.which("chromium")
    driver = _first(DRIVER_PATHS) or shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    return browser, driver


@pytest.fixture(scope="session")
def answer_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spoken answer (Piper) as 16-bit mono WAV with silence around it: Chromium's fake microphone loops
    it, so the candidate speaks, pauses (the server's silence ends the answer), and speaks again."""
    pcm, rate = speech(ANSWER_TEXT)
    silence = np.zeros(int(rate * 2.5), np.int16)
    audio = np.concatenate([np.zeros(int(rate * 0.5), np.int16), pcm, silence])
    path = tmp_path_factory.mktemp("media") / "answer.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(audio.astype(np.int16).tobytes())
    return path


@pytest.fixture
def e2e_api(tmp_path: Path, sqlite_template: Path) -> Iterator[Api]:
    """A live Viva on SQLite with a shorter end-of-answer silence (the e2e suite must stay quick)."""
    settings = make_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), live_silence_ms=1200)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield Api(client, server)


@pytest.fixture
def browser(chrome_paths: tuple[str, str]) -> Iterator[Callable[..., Any]]:
    """A factory of Chrome drivers (``extra_flags``); every driver is quit at the end of the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser_path, driver_path = chrome_paths
    drivers: list[Any] = []

    def make(*extra_flags: str) -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = browser_path
        for flag in (*BASE_FLAGS, *extra_flags):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        driver.set_page_load_timeout(30)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()
