"""A scripted run of the real window, for tests and benchmarks (`--self-check FILE`).

FILE is JSON: {"report": path, "screenshot": path|null, "foreign_url": url|null,
"hold_seconds": number, "timeout": number}. The app opens its window as usual, then
this code (on pywebview's worker thread) waits for the SPA to render and to call the
embedded server, clicks a link to a foreign origin, takes a screenshot, optionally
stays open for `hold_seconds` or until a second launch asks for focus, and closes
the window. The launcher adds exit facts (threads left, server stopped) and writes
the report.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.window import AppWindow, QtMainThread

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATIC_PREFIXES = ("/app", "/assets", "/favicon", "/index.html")


class RequestRecorder:
    """ASGI wrapper noting what the server saw: proof that the page talked to it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        entry: dict[str, Any] = {
            "type": scope["type"],
            "method": scope.get("method", "GET"),
            "path": scope["path"],
            "status": None,
            "authorized": b"authorization" in headers
            or b"token=" in (scope.get("query_string") or b""),
        }
        self.seen.append(entry)

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            elif message["type"] == "websocket.accept":
                entry["status"] = 101
            await send(message)

        await self.app(scope, receive, recording_send)

    def api_calls(self) -> list[dict[str, Any]]:
        """Calls the SPA made to the API (not the page and its static files)."""
        return [
            e
            for e in self.seen
            if e["path"] != "/"
            and not e["path"].startswith(STATIC_PREFIXES)
            and e["path"] not in ("/healthz", "/desktop/focus")
        ]


@dataclass
class SelfCheckConfig:
    report: Path
    screenshot: Path | None = None
    foreign_url: str | None = None
    hold_seconds: float = 0.0
    timeout: float = 45.0

    @classmethod
    def load(cls, path: Path) -> SelfCheckConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            report=Path(raw["report"]),
            screenshot=Path(raw["screenshot"]) if raw.get("screenshot") else None,
            foreign_url=raw.get("foreign_url"),
            hold_seconds=float(raw.get("hold_seconds", 0.0)),
            timeout=float(raw.get("timeout", 45.0)),
        )


@dataclass
class SelfCheck:
    config: SelfCheckConfig
    recorder: RequestRecorder | None = None
    results: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    focused: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    _closed: threading.Event | None = None

    def wrap(self, app: ASGIApp) -> ASGIApp:
        self.recorder = RequestRecorder(app)
        return self.recorder

    def _wait(self, what: str, probe: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self._closed is not None and self._closed.is_set():
                self.errors.append(f"the window closed while waiting for {what}")
                return None
            try:
                last = probe()
            except Exception as exc:  # the page may be mid-navigation
                last = repr(exc)
            else:
                if last:
                    return last
            time.sleep(0.2)
        self.errors.append(f"timed out waiting for {what} (last: {last!r})")
        return None

    def run(self, app_window: AppWindow, gui: QtMainThread | None) -> None:
        """pywebview calls this on its worker thread once the GUI loop runs."""
        window = app_window.window
        self.thread = threading.current_thread()
        try:
            self._run(app_window, gui)
        except Exception as exc:
            self.errors.append(f"self-check failed: {exc!r}")
        finally:
            if not window.events.closed.is_set():
                window.destroy()

    def _run(self, app_window: AppWindow, gui: QtMainThread | None) -> None:
        window = app_window.window
        self._closed = window.events.closed._event  # set when the window is gone
        timeout = self.config.timeout
        self.results["shown"] = bool(
            self._wait("the window to show", window.events.shown.is_set, timeout)
        )
        self.results["loaded"] = bool(
            self._wait("the page to load", window.events.loaded.is_set, timeout)
        )
        rendered = self._wait(
            "the SPA to render",
            lambda: app_window.eval_js(
                "(() => { const r = document.getElementById('root');"
                " return r ? r.childElementCount : 0; })()"
            ),
            timeout,
        )
        self.results["root_children"] = rendered or 0
        self.results["spa_ready_at"] = time.time()
        recorder = self.recorder

        def answered_calls() -> list[dict[str, Any]]:
            calls = recorder.api_calls() if recorder else []
            ok = [c for c in calls if c["status"] and c["status"] < 400]
            # An HTTP call (not only the WebSocket handshake) proves REST works too.
            return ok if any(c["type"] == "http" for c in ok) else []

        api_calls = self._wait("the SPA to call the API", answered_calls, timeout)
        self.results["api_calls_ok"] = api_calls or []
        self.results["requests_seen"] = list(recorder.seen) if recorder else []
        self.results["page"] = app_window.eval_js(
            "JSON.stringify({title: document.title, origin: window.location.origin,"
            " path: window.location.pathname, text: document.body.innerText.slice(0, 300)})"
        )
        if self.config.foreign_url:
            self._check_links(app_window)
        if self.config.screenshot is not None and gui is not None:
            from desktop.window import grab_screenshot

            shot = self.config.screenshot
            shot.parent.mkdir(parents=True, exist_ok=True)
            time.sleep(0.5)  # let the last paint reach the screen
            self.results["screenshot"] = gui.call(lambda: grab_screenshot(window, str(shot)))
        if self.config.hold_seconds > 0:
            # Held open for the caller; a focus request or the window closing ends it.
            deadline = time.monotonic() + self.config.hold_seconds
            while time.monotonic() < deadline and not window.events.closed.is_set():
                if self.focused.wait(0.1):
                    break
            self.results["focused_while_held"] = self.focused.is_set()
        self.results["focus_requests"] = app_window.focus_requests
        self.results["shown_at"] = app_window.shown_at
        self.results["loaded_at"] = app_window.loaded_at

    def _check_links(self, app_window: AppWindow) -> None:
        link = f"{self.config.foreign_url}/link-in-reply"
        # The guard is installed on `loaded`; make sure it is there before clicking.
        self._wait(
            "the link guard",
            lambda: app_window.eval_js("window.__aiConnectorLinkGuard === true"),
            10,
        )
        app_window.eval_js(
            "(() => { const a = document.createElement('a'); a.href = "
            + json.dumps(link)
            + "; a.textContent = 'x'; document.body.appendChild(a); a.click(); a.remove();"
            " return true; })()"
        )
        self.results["link_opened_externally"] = bool(
            self._wait("the link to open outside", lambda: link in app_window.links.opened, 10)
        )
        self.results["url_after_link"] = app_window.current_url()

        # A script navigating the window itself: the page goes to the browser and the
        # window comes back to the app.
        nav = f"{self.config.foreign_url}/navigated"
        app_window.eval_js(f"window.location.href = {json.dumps(nav)}; true")
        self.results["navigation_opened_externally"] = bool(
            self._wait("the navigation to open outside", lambda: nav in app_window.links.opened, 15)
        )
        back = self._wait(
            "the window to return to the app",
            lambda: (app_window.current_url() or "").startswith(app_window.origin + "/"),
            15,
        )
        self.results["url_after_navigation"] = app_window.current_url() if back else None
        # The page reloaded: wait for its `loaded` handling (the guard) to finish.
        self._wait(
            "the link guard after returning",
            lambda: app_window.eval_js("window.__aiConnectorLinkGuard === true"),
            10,
        )

    def write(self, extra: dict[str, Any]) -> None:
        report = {**self.results, **extra, "errors": self.errors}
        self.config.report.parent.mkdir(parents=True, exist_ok=True)
        self.config.report.write_text(json.dumps(report, indent=2, default=str), "utf-8")
