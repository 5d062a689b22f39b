"""The single-instance lock and the focus request, in-process."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from desktop.instance import InstanceInfo, InstanceLock, read_info, request_focus, wait_for_info
from desktop.launcher import add_focus_route
from tests.fakes.server import ServerThread


def test_second_lock_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    try:
        assert not second.acquire()
        assert not second.held
    finally:
        first.release()
    # Released: the next launch gets it.
    assert second.acquire()
    second.release()


def test_other_data_dirs_are_independent(tmp_path: Path) -> None:
    a, b = InstanceLock(tmp_path / "a"), InstanceLock(tmp_path / "b")
    assert a.acquire() and b.acquire()
    a.release()
    b.release()


def test_published_info_is_private_and_removed_on_release(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    assert lock.acquire()
    info = InstanceInfo(pid=os.getpid(), url="http://127.0.0.1:1234", window=True, token="t0k")
    lock.publish(info)
    assert read_info(lock.info_path) == info
    assert wait_for_info(lock.info_path, timeout=1) == info
    mode = stat.S_IMODE(lock.info_path.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)
    lock.release()
    assert not lock.info_path.exists()


def test_unreadable_info_is_none(tmp_path: Path) -> None:
    path = tmp_path / "desktop.json"
    assert read_info(path) is None
    path.write_text(json.dumps({"pid": "x"}))
    assert read_info(path) is None
    assert wait_for_info(path, timeout=0.3) is None


def _focus_app(token: str | None, calls: list[int]) -> Starlette:
    app = Starlette(
        routes=[Route("/{rest:path}", lambda r: PlainTextResponse("spa"), methods=["GET", "POST"])]
    )

    def focus() -> bool:
        calls.append(1)
        return True

    add_focus_route(app, focus, SecretStr(token) if token else None)
    return app


def test_focus_request_reaches_the_running_instance() -> None:
    calls: list[int] = []
    with ServerThread(_focus_app("s3cret", calls), lifespan="off") as server:
        good = InstanceInfo(pid=1, url=server.url, window=True, token="s3cret")
        assert request_focus(good)
        assert calls == [1]
        # The route sits before the catch-all, and it wants the token.
        wrong = InstanceInfo(pid=1, url=server.url, window=True, token="nope")
        assert not request_focus(wrong)
        assert not request_focus(InstanceInfo(pid=1, url=server.url, window=True))
        assert calls == [1]


def test_focus_request_to_nobody_is_false() -> None:
    from tests.fakes.server import closed_port_url

    assert not request_focus(InstanceInfo(pid=1, url=closed_port_url(), window=True), timeout=2)
