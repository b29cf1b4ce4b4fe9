"""Browser fixtures: a real fleet on loopback (mosquitto, kiosk-fleet serve, kiosk-fleet
simulate) per test module, and Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.console.stack import ConsoleStack, StackOptions, launch_chromium


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    with ConsoleStack(tmp_path_factory.mktemp("console-fleet"),
                      StackOptions(terminals=8, offline_grace_s=5.0)) as fleet:
        yield fleet


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$KIOSK_SCREENSHOT_DIR/console (default: a temporary folder) for people to look at."""
    base = os.environ.get("KIOSK_SCREENSHOT_DIR", "")
    folder = Path(base) / "console" if base else tmp_path_factory.mktemp("console-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
