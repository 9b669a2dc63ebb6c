"""Helpers for the e2e tests: full-page screenshots into ``tests/e2e/artifacts/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).parent / "artifacts"


def screenshot(driver: Any, name: str, width: int = 1280) -> Path:
    """Save a full-page screenshot of ``driver`` (``width`` px wide) as ``artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.set_window_size(width, 900)
    height = driver.execute_script("return Math.max(document.documentElement.scrollHeight, 900)")
    driver.set_window_size(width, min(int(height) + 40, 4000))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(path))
    return path
