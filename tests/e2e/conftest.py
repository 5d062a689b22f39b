"""Browser fixtures: Debian's Chromium driven by Playwright against a real connector
(the `live_server` fixture) whose upstream is the fake Ollama + OpenAI server.

Chromium must be at /usr/bin/chromium (scripts/setup/system.sh installs it); the UI
must be built into connector/static (scripts/setup/frontend.sh). Missing either is a
failure, not a skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.main import STATIC_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


# Package scope, not session: while sync Playwright is running, its event loop counts as
# the thread's running loop, which would break `asyncio.run` in the tests collected after
# this package.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup/system.sh (Debian's chromium)")
    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail("the UI is not built into connector/static: run scripts/setup/frontend.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Opens pages in fresh browser contexts; each page fails the test on a JS error.
    A failing test leaves a screenshot of each page in artifacts/e2e/."""
    contexts: list[Any] = []
    pages: list[Any] = []
    errors: list[str] = []

    def open_page(color_scheme: str = "light", **options: Any) -> Any:
        options.setdefault("viewport", VIEWPORT)
        context = browser.new_context(color_scheme=color_scheme, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
        return page

    yield open_page
    if request.node.stash.get(_FAILED, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(pages):
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{i}.png"))
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()
