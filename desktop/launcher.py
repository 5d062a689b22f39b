"""Start-up and shut-down of the app, windowed or headless.

lock the data dir -> bind the port -> build the app -> serve in a thread
-> window (or wait for a signal) -> stop the server (bounded) -> unlock
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

from connector.config import Settings
from desktop.instance import (
    FOCUS_PATH,
    InstanceInfo,
    InstanceLock,
    request_focus,
    wait_for_info,
)
from desktop.logs import setup_logging
from desktop.ports import PortMemory, bind_listen_socket, bind_stable_socket
from desktop.server import EmbeddedServer, ServerStartError

log = logging.getLogger("desktop")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ALREADY_RUNNING = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ai-connector",
        description="AI Connector: a window on the local gateway, or the gateway alone.",
    )
    parser.add_argument("--headless", action="store_true", help="serve without a window")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000, or PORT)")
    parser.add_argument("--data-dir", type=Path, help="where the database lives")
    parser.add_argument("--self-check", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> Settings:
    settings = Settings.model_validate({})  # reads the environment like Settings()
    update: dict[str, Any] = {}
    if args.data_dir is not None:
        update["data_dir"] = args.data_dir.resolve()
    if args.host:
        update["host"] = args.host
    elif not args.headless:
        # The window talks to the server over loopback; HOST is for headless serving.
        update["host"] = "127.0.0.1"
    if args.port is not None:
        update["port"] = args.port
    return settings.model_copy(update=update)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = load_settings(args)
    log_file = setup_logging(settings.log_level, console=args.headless)
    mode = "headless" if args.headless else "window"
    log.info("AI Connector starting (%s); log file %s", mode, log_file)

    lock = InstanceLock(Path(settings.data_dir))
    if not lock.acquire():
        return second_launch(lock, headless=args.headless)
    try:
        if args.headless:
            return run_headless(settings, lock)
        return run_window(settings, lock, args.self_check)
    finally:
        lock.release()


def second_launch(lock: InstanceLock, *, headless: bool) -> int:
    info = wait_for_info(lock.info_path, timeout=15.0)
    if info is None:
        message = (
            f"AI Connector is already running on {lock.data_dir} but does not answer; "
            "not starting a second server on the same data."
        )
    elif not headless and info.window and request_focus(info):
        message = "AI Connector is already running; its window was brought to the front."
        _tell(message)
        return EXIT_OK
    else:
        message = (
            f"AI Connector is already running at {info.url} (process {info.pid}); "
            f"not starting a second server on {lock.data_dir}."
        )
    _tell(message)
    return EXIT_ALREADY_RUNNING


def _tell(message: str) -> None:
    log.info(message)
    if sys.stdout is not None:
        print(message, flush=True)


def _build_app(settings: Settings, focus: Callable[[], bool]) -> Any:
    from connector.main import create_app

    app = create_app(settings, settle_heap=True)
    add_focus_route(app, focus, settings.api_token)
    return app


def add_focus_route(app: Any, focus: Callable[[], bool], token: SecretStr | None) -> None:
    """`POST /desktop/focus`: a second launch asks this instance to come forward."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from connector.dialects import openai_chat
    from connector.errors import AuthenticationError

    async def focus_endpoint(request: Request) -> JSONResponse:
        if token is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
                return openai_chat.error_response(
                    AuthenticationError("Missing or wrong API token.", code="invalid_api_token")
                )
        focused = await run_in_threadpool(focus)
        return JSONResponse({"focused": focused})

    # First, so no catch-all (the SPA's) can shadow it.
    app.router.routes.insert(0, Route(FOCUS_PATH, focus_endpoint, methods=["POST"]))


def run_headless(settings: Settings, lock: InstanceLock) -> int:
    sock = bind_listen_socket(settings.host, settings.port, fallback=False)
    app = _build_app(settings, focus=lambda: False)
    server = EmbeddedServer(app, sock, log_level=settings.log_level)
    try:
        server.start()
    except ServerStartError as exc:
        log.error("%s", exc)
        server.stop()
        return EXIT_FAILED
    token = settings.api_token.get_secret_value() if settings.api_token else None
    lock.publish(InstanceInfo(pid=os.getpid(), url=server.base_url, window=False, token=token))
    _tell(f"AI Connector serving at {server.base_url} (Ctrl+C stops)")

    stop = threading.Event()
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    while not stop.wait(0.25):
        if not server.is_running():
            log.error("the server stopped on its own")
            return EXIT_FAILED
    log.info("stopping")
    return EXIT_OK if server.stop() else EXIT_FAILED


def run_window(settings: Settings, lock: InstanceLock, self_check_file: Path | None) -> int:
    started = time.time()
    _prepare_qt_runtime()
    import webview

    from desktop.window import AppWindow, QtMainThread

    token = (
        settings.api_token.get_secret_value() if settings.api_token else secrets.token_urlsafe(32)
    )
    sock = bind_stable_socket(settings.host, settings.port, PortMemory(Path(settings.data_dir)))
    port = int(sock.getsockname()[1])
    # The per-launch token guards the admin surface and the UI's data; the model API
    # stays open to programs on this machine, as Ollama's is (unless the user asks
    # for the token everywhere with CONNECTOR_API_TOKEN_SCOPE=all, or turns on
    # "Programs need a key"). The settings the UI shows name the port in use.
    scope = settings.api_token_scope if "api_token_scope" in settings.model_fields_set else "admin"
    settings = settings.model_copy(
        update={"port": port, "api_token": SecretStr(token), "api_token_scope": scope}
    )

    holder: dict[str, AppWindow] = {}
    check = None
    if self_check_file is not None:
        from desktop.selfcheck import SelfCheck, SelfCheckConfig

        check = SelfCheck(SelfCheckConfig.load(self_check_file))

    def focus() -> bool:
        window = holder.get("window")
        done = window.focus() if window else False
        if check is not None:
            check.focused.set()
        return done

    def build() -> Any:
        app = _build_app(settings, focus)
        return check.wrap(app) if check is not None else app

    # The connector loads in the server thread while the toolkit starts here; the
    # window's first request waits in the listening socket's backlog until then.
    server = EmbeddedServer(None, sock, build=build, log_level=settings.log_level)
    server.launch()

    app_url = f"http://127.0.0.1:{port}/app/chat#token={token}"
    window = AppWindow(app_url, title=f"AI Connector — 127.0.0.1:{port}")
    holder["window"] = window
    state: dict[str, float | bool] = {"failed": False}

    def after_gui_start(app_window: AppWindow, qt: QtMainThread | None) -> None:
        try:
            server.wait_ready(timeout=60)
        except ServerStartError as exc:
            log.error("%s", exc)
            state["failed"] = True
            app_window.close()
            return
        state["ready_at"] = time.time()
        log.info("server ready at %s after %.2f s", server.base_url, state["ready_at"] - started)
        info = InstanceInfo(pid=os.getpid(), url=server.base_url, window=True, token=token)
        lock.publish(info)
        if check is not None:
            check.run(app_window, qt)

    gui = _gui_name()
    qt = QtMainThread() if gui == "qt" else None
    _close_on_signals(window)
    webview.start(
        after_gui_start,
        (window, qt),
        gui=gui,
        private_mode=False,
        storage_path=str(Path(settings.data_dir) / "webview"),
    )
    log.info("window closed; stopping the server")
    window.release_pending_scripts()
    stop_started = time.monotonic()
    stopped = server.stop()
    stop_seconds = time.monotonic() - stop_started
    if check is not None and check.thread is not None:
        check.thread.join(10)
    leftover = _finish_threads(timeout=3.0)
    if check is not None:
        check.write(
            {
                "started_at": started,
                "server_ready_at": state.get("ready_at"),
                "port": port,
                "server_stopped": stopped,
                "stop_seconds": stop_seconds,
                "threads_at_exit": leftover,
            }
        )
    code = EXIT_OK if stopped and not state["failed"] else EXIT_FAILED
    if leftover:
        # A toolkit callback stuck on a destroyed window must not keep a windowless
        # process alive.
        log.warning("threads still running at exit: %s; exiting anyway", leftover)
        logging.shutdown()
        os._exit(code)
    return code


def _gui_name() -> Literal["qt"] | None:
    # Qt WebEngine on Linux (the build ships it); the native engines elsewhere.
    return "qt" if sys.platform.startswith("linux") else None


def _prepare_qt_runtime() -> None:
    if sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium's sandbox cannot run as root; without this Qt WebEngine aborts.
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            log.warning("running as root: Qt WebEngine's sandbox is off")
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()


def _close_on_signals(window: Any) -> None:
    def close(*_: object) -> None:
        # The handler runs on the GUI thread (pywebview's Qt backend wakes Python
        # with a timer); closing from a helper thread avoids re-entering the toolkit
        # from inside a signal handler.
        threading.Thread(target=window.close, name="close-window", daemon=True).start()

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), close)


def _finish_threads(timeout: float) -> list[str]:
    """Give non-daemon threads (toolkit event handlers) a moment to end; the names
    of those still running."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    return [
        t.name
        for t in threading.enumerate()
        if t is not threading.main_thread() and not t.daemon and t.is_alive()
    ]
