"""One app per data directory.

The first launch holds an OS file lock on `<data_dir>/desktop.lock` for its lifetime
(the OS drops it if the process dies, so a crash never leaves a stale lock) and
publishes where it listens in `<data_dir>/desktop.json`. A second launch finds the lock
taken, reads the file and asks the running app to bring its window forward
(`POST /desktop/focus`), instead of starting a second server on the same database.

The JSON file carries the running app's API token so the second launch can call the
endpoint; it is private to the user (0600), like the database beside it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

LOCK_NAME = "desktop.lock"
INFO_NAME = "desktop.json"
FOCUS_PATH = "/desktop/focus"


@dataclass(frozen=True)
class InstanceInfo:
    pid: int
    url: str
    window: bool
    token: str | None = None


class InstanceLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.lock_path = data_dir / LOCK_NAME
        self.info_path = data_dir / INFO_NAME
        self._handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+b")  # held for the app's lifetime
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    @property
    def held(self) -> bool:
        return self._handle is not None

    def publish(self, info: InstanceInfo) -> None:
        """Write where this instance listens (atomically, readable only by the user)."""
        tmp = self.info_path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(info), out)
        os.replace(tmp, self.info_path)

    def release(self) -> None:
        if self._handle is None:
            return
        info = read_info(self.info_path)
        if info is not None and info.pid == os.getpid():
            self.info_path.unlink(missing_ok=True)
        try:
            _unlock(self._handle)
        finally:
            self._handle.close()
            self._handle = None


def _lock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_info(path: Path) -> InstanceInfo | None:
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return InstanceInfo(
            pid=int(raw["pid"]),
            url=str(raw["url"]),
            window=bool(raw["window"]),
            token=raw.get("token"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def wait_for_info(path: Path, timeout: float) -> InstanceInfo | None:
    """The running instance writes its info once its server answers; a launch racing
    a starting instance waits for it (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        info = read_info(path)
        if info is not None or time.monotonic() >= deadline:
            return info
        time.sleep(0.1)


def request_focus(info: InstanceInfo, timeout: float = 5.0) -> bool:
    """Ask the running instance to bring its window forward; True when it did."""
    req = urllib.request.Request(f"{info.url}{FOCUS_PATH}", data=b"{}", method="POST")
    req.add_header("Content-Type", "application/json")
    if info.token:
        req.add_header("Authorization", f"Bearer {info.token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = json.loads(resp.read() or b"{}")
            return resp.status == 200 and bool(body.get("focused"))
    except (OSError, urllib.error.URLError, ValueError):
        return False
