"""Fixtures of the browser tests: one headless Chromium per module (skipped, with the reason,
where it cannot run), a page per test that fails on any console error or uncaught exception,
and a screenshot of the page when a test fails (its path is printed with the failure)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser_kit import chromium, why_no_browser
from tests.support.rest_kit import Server

SCREENSHOTS = Path(tempfile.gettempdir()) / "sandex-ui-failures"
DESKTOP = {"width": 1280, "height": 800}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.ui_failed = report.failed  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = why_no_browser()
    if reason is not None:
        pytest.skip(reason)
    with chromium() as running:
        yield running


class Watched:
    """A page whose console errors and uncaught exceptions are collected; ``allow`` lets a
    test expect one (a 401 the page shows on purpose)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@contextmanager
def open_page(browser: Any, request: pytest.FixtureRequest, server: Server, path: str = "/ui/",
              viewport: dict[str, int] = DESKTOP) -> Iterator[Watched]:
    """The page loaded in a fresh browser context; a screenshot if what runs in it fails."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watched = Watched(page)
    failed = False
    try:
        page.goto(server.url + path)
        page.wait_for_selector("body[data-ready=true]")
        yield watched
        assert watched.unexpected() == [], "console errors"
    except BaseException:
        failed = True
        raise
    finally:
        if failed or getattr(request.node, "ui_failed", False):
            SCREENSHOTS.mkdir(exist_ok=True)
            shot = SCREENSHOTS / f"{os.getpid()}-{request.node.name}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failed page: {shot}")
        context.close()
