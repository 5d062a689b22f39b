"""The pywebview window: the app's own origin only, every other link in the browser.

Three layers keep foreign pages out of the window (which carries the per-launch API
token):
1. a click handler injected into each page sends links to other origins to the
   system browser (links in chat replies are the common case);
2. pywebview's OPEN_EXTERNAL_LINKS_IN_BROWSER does the same for `target=_blank`
   and `window.open`;
3. if a foreign page loads anyway (a script navigating), it is handed to the system
   browser and the window goes back to the app.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from webview import Window

log = logging.getLogger(__name__)
T = TypeVar("T")

TITLE = "AI Connector"
EXTERNAL_SCHEMES = ("http", "https", "mailto")

_LINK_GUARD_JS = """
(() => {
  if (window.__aiConnectorLinkGuard) { return true; }
  window.__aiConnectorLinkGuard = true;
  const handle = (event) => {
    const target = event.target;
    const anchor = target && target.closest ? target.closest('a[href]') : null;
    if (!anchor) { return; }
    let url;
    try { url = new URL(anchor.href, window.location.href); } catch (err) { return; }
    if (url.origin === window.location.origin) { return; }
    event.preventDefault();
    event.stopPropagation();
    if (window.pywebview && window.pywebview.api && window.pywebview.api.open_external) {
      window.pywebview.api.open_external(url.href);
    }
  };
  document.addEventListener('click', handle, true);
  document.addEventListener('auxclick', handle, true);
  return true;
})()
"""


def call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run a pywebview call that may never return (they wait on the GUI thread without
    a timeout, and a window closing mid-call leaves them waiting forever) on a daemon
    thread, so neither the caller nor process exit can hang on it."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:
            box.put((False, exc))

    threading.Thread(target=run, name="webview-call", daemon=True).start()
    try:
        ok, value = box.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"the window did not answer within {timeout:.0f} s") from None
    if ok:
        return cast(T, value)
    raise value


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class ExternalLinks:
    """Opens URLs in the system browser; remembers them (the self-check reads this)."""

    def __init__(self, app_origin: str) -> None:
        self.app_origin = app_origin
        self.opened: list[str] = []
        self._lock = threading.Lock()

    def open(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in EXTERNAL_SCHEMES:
            log.warning("refused to open a %r link outside the app", parts.scheme)
            return False
        if parts.scheme != "mailto" and origin_of(url) == self.app_origin:
            return False
        log.info("opening %s://%s in the system browser", parts.scheme, parts.netloc)
        opened = bool(webbrowser.open(url, new=2))
        with self._lock:
            self.opened.append(url)
        return opened


class JsApi:
    """What the page may call as `window.pywebview.api.*`: only opening links."""

    def __init__(self, links: ExternalLinks) -> None:
        self._links = links

    def open_external(self, url: str) -> bool:
        return self._links.open(str(url))


class AppWindow:
    def __init__(
        self, app_url: str, *, title: str = TITLE, width: int = 1200, height: int = 800
    ) -> None:
        import webview

        self.app_url = app_url
        self.origin = origin_of(app_url)
        self.links = ExternalLinks(self.origin)
        self.focus_requests = 0
        self.shown_at: float | None = None
        self.loaded_at: float | None = None
        webview.settings["OPEN_EXTERNAL_LINKS_IN_BROWSER"] = True
        window = webview.create_window(
            title,
            app_url,
            js_api=JsApi(self.links),
            width=width,
            height=height,
            min_size=(720, 520),
            text_select=True,
            zoomable=True,
        )
        if window is None:  # pragma: no cover - create_window returns None only on Android
            raise RuntimeError("pywebview did not create a window")
        self.window: Window = window
        window.events.shown += self._on_shown
        window.events.loaded += self._on_loaded

    def _on_shown(self) -> None:
        self.shown_at = time.time()
        log.info("window shown")

    def _on_loaded(self) -> None:
        try:
            url = self.current_url()
        except Exception:  # the window may be closing
            return
        if url.startswith(("about:", "data:")) or not url:
            return
        if origin_of(url) != self.origin:
            log.warning("a foreign page loaded in the window; sending it to the browser")
            self.links.open(url)
            self.window.load_url(self.app_url)
            return
        if self.loaded_at is None:
            self.loaded_at = time.time()
        try:
            self.eval_js(_LINK_GUARD_JS)
        except Exception as exc:
            log.warning("could not install the link guard: %r", exc)

    def current_url(self, timeout: float = 5.0) -> str:
        return call_with_timeout(self.window.get_current_url, timeout) or ""

    def eval_js(self, script: str, timeout: float = 10.0) -> Any:
        return call_with_timeout(lambda: self.window.evaluate_js(script), timeout)

    def focus(self) -> bool:
        """Bring the window to the front (a second launch asks for this)."""
        self.focus_requests += 1
        try:
            self.window.show()
            self.window.restore()
        except Exception:
            log.exception("could not bring the window forward")
            return False
        return True

    def close(self) -> None:
        self.window.destroy()

    def release_pending_scripts(self) -> int:
        """Answer scripts the closed window will never answer; how many there were.

        pywebview's Qt backend waits on a semaphore for each script's result. When
        the window closes while a page is loading, pywebview's own loader thread
        (``generate_js_object``) stays blocked on one for ever and a non-daemon
        thread keeps the process alive. Call this after ``webview.start()`` returns.
        """
        pending = getattr(getattr(self.window, "native", None), "_js_results", None)
        if not isinstance(pending, dict):
            return 0
        released = 0
        for entry in list(pending.values()):
            semaphore = entry.get("semaphore") if isinstance(entry, dict) else None
            if semaphore is not None:
                entry["result"] = None
                semaphore.release()
                released += 1
        if released:
            log.info("answered %d script(s) left pending by the closed window", released)
        return released


class QtMainThread:
    """Runs callables on Qt's GUI thread (widgets may only be touched there).

    Create it on the main thread before `webview.start()`; its queued signal is
    delivered once the event loop runs."""

    def __init__(self) -> None:
        from qtpy.QtCore import QObject, Signal

        class _Invoker(QObject):
            call = Signal(object)

            def __init__(self) -> None:
                super().__init__()
                self.call.connect(self._run)

            def _run(self, fn: Callable[[], None]) -> None:
                fn()

        self._invoker = _Invoker()

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._invoker.call.emit(run)
        return future.result(timeout)


def grab_screenshot(window: Window, path: str) -> bool:
    """Save what the X server (or compositor) shows of the window. GUI thread only."""
    from qtpy.QtWidgets import QApplication

    native: Any = window.native
    screen: Any = QApplication.primaryScreen()
    pixmap = screen.grabWindow(int(native.winId()))
    if pixmap.isNull() or pixmap.width() == 0:
        pixmap = native.grab()
    return bool(pixmap.save(path, "PNG"))
