"""Headless Chromium for the web page's tests, benchmark and screenshot: Playwright for Python
driving the system's Chromium (Debian's ``chromium``), never a browser Playwright downloads.

``why_no_browser()`` says in one line why the browser cannot run here (``None`` if it can);
the tests skip with that line. ``chromium()`` launches it with a fresh profile (Playwright's
own temporary user-data-dir) and the flags below.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# SANDEX_CHROMIUM names another Chromium binary; by default the one on PATH (apt: chromium).
CHROMIUM_VARIABLE = "SANDEX_CHROMIUM"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    given = os.environ.get(CHROMIUM_VARIABLE)
    if given:
        return given if os.access(given, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def why_no_browser() -> str | None:
    """Why the browser tests cannot run on this machine, or ``None``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no browser tests: the playwright package is missing (pip install -e '.[test]')"
    if os.environ.get(CHROMIUM_VARIABLE) and chromium_path() is None:
        return f"no browser tests: {CHROMIUM_VARIABLE}={os.environ[CHROMIUM_VARIABLE]} is not " \
               "an executable"
    if chromium_path() is None:
        return ("no browser tests: no chromium on PATH (make test installs it with apt when "
                "run as root: apt-get install -y chromium)")
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A running headless Chromium (a Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
