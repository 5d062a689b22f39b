"""The image's runtime, replayed outside Docker.

`build_wheel` does what the `wheel` stage does (the SPA comes from the frontend build
the test command runs first, standing in for the `spa` stage); `runtime_venv` installs
that wheel with its base dependencies only into a virtualenv, as the stage does into
/opt/venv; `ImageProcess` starts the final stage's CMD with its ENV, the way
`docker run` would, and stops it with SIGTERM, the way `docker stop` does.

The virtualenv is cached under build/docker-runtime/, keyed by the Python version and
the wheel's dependency list; a changed wheel is reinstalled into it (--no-deps), so
every run tests the current code while unchanged dependencies are not resolved again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from tests.docker import dockerfile
from tests.docker.context import copy_context
from tests.docker.dockerfile import REPO

CACHE = REPO / "build" / "docker-runtime"
# Where the image keeps its virtualenv; the Dockerfile's PATH names it.
IMAGE_VENV = "/opt/venv"
GUI_MODULES = ("PyQt6", "PySide6", "webview", "qtpy")


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result  # type: ignore[no-any-return]


def build_wheel(work: Path) -> Path:
    """Build the wheel from the Docker build context, as the `wheel` stage does."""
    static = REPO / "connector" / "static" / "index.html"
    assert static.is_file(), (
        "connector/static/index.html is missing: build the SPA first "
        "(bash scripts/setup/frontend.sh, run by the test command)"
    )
    context = work / "context"
    copy_context(context)
    src = work / "src"
    src.mkdir()
    wheel_stage = next(s for s in dockerfile.load() if s.name == "wheel")
    for copy in dockerfile.copies(wheel_stage):
        if copy.from_stage == "spa":
            # The `spa` stage's output: the SPA the test command built.
            sources = [REPO / "connector" / "static"]
        else:
            assert copy.from_stage is None, copy
            sources = [context / s.rstrip("/") for s in copy.sources]
        # Docker's COPY: a directory's contents go into the destination; a file goes
        # into it when the destination ends in "/" (all relative to WORKDIR /src).
        dest = src / copy.dest
        for source in sources:
            assert source.exists(), f"COPY source {source.name} is not in the build context"
            if source.is_dir():
                shutil.copytree(source, dest, dirs_exist_ok=True)
            elif copy.dest.endswith("/"):
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / source.name)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)
    out = work / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(src)])
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def wheel_digest(wheel: Path) -> str:
    """A hash of the wheel's contents (not its bytes: zip timestamps differ per build)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as zf:
        for name in sorted(zf.namelist()):
            digest.update(name.encode() + b"\0" + hashlib.sha256(zf.read(name)).digest())
    return digest.hexdigest()


def wheel_requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        metadata = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(metadata).decode().splitlines()
    return sorted(line for line in lines if line.startswith("Requires-Dist:"))


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def runtime_venv(wheel: Path) -> Path:
    """A virtualenv with `wheel` and its base dependencies, as the image's /opt/venv."""
    CACHE.mkdir(parents=True, exist_ok=True)
    # Two test runs at once (a developer's and a hook's) must not build it together.
    with open(CACHE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _runtime_venv(wheel)


def _runtime_venv(wheel: Path) -> Path:
    deps_key = hashlib.sha256(
        "\n".join([sys.version, *wheel_requirements(wheel)]).encode()
    ).hexdigest()
    venv = CACHE / "venv"
    deps_stamp = CACHE / "venv.deps"
    wheel_stamp = CACHE / "venv.wheel"
    if not venv_python(venv).exists() or _read(deps_stamp) != deps_key:
        shutil.rmtree(venv, ignore_errors=True)
        wheel_stamp.unlink(missing_ok=True)
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(venv_python(venv)), "-m", "pip", "install", "-q", str(wheel)])
        deps_stamp.write_text(deps_key)
        wheel_stamp.write_text(wheel_digest(wheel))
    elif _read(wheel_stamp) != wheel_digest(wheel):
        _run(
            [
                str(venv_python(venv)),
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--force-reinstall",
                str(wheel),
            ]
        )
        wheel_stamp.write_text(wheel_digest(wheel))
    return venv


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def image_env(venv: Path, home: Path, overrides: dict[str, str]) -> dict[str, str]:
    """The environment `docker run` gives the final stage: its ENV (with /opt/venv
    mapped to `venv`) plus `-e` overrides; nothing of this machine's environment."""
    env = {"PATH": os.defpath, "HOME": str(home), "LANG": "C.UTF-8"}
    for key, value in dockerfile.env(dockerfile.final_stage()).items():
        value = value.replace(IMAGE_VENV, str(venv)).replace("$PATH", env["PATH"])
        env[key] = value
    env.update(overrides)
    return env


def resolve_argv(argv: list[str], venv: Path) -> list[str]:
    """A command's program as the image's PATH would find it."""
    program = venv / "bin" / argv[0]
    assert program.exists(), f"{argv[0]} is not installed in the image's virtualenv"
    return [str(program), *argv[1:]]


@dataclass
class Output:
    stdout: str
    stderr: str

    @property
    def both(self) -> str:
        return self.stdout + self.stderr


class ImageProcess:
    """The final stage's CMD running as `docker run` would start it."""

    def __init__(self, venv: Path, workdir: Path, overrides: dict[str, str]) -> None:
        self.venv = venv
        self.workdir = workdir
        self.home = workdir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = image_env(venv, self.home, overrides)
        self.port = int(self.env["PORT"])
        # Loopback, whatever HOST the server binds: tests never leave this machine.
        self.url = f"http://127.0.0.1:{self.port}"
        self._stdout_path = workdir / "stdout.log"
        self._stderr_path = workdir / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    def start(self, timeout: float = 60.0) -> ImageProcess:
        argv = resolve_argv(
            dockerfile.exec_form(dockerfile.final_stage().last("CMD").args), self.venv
        )
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            # The image's WORKDIR is the user's home, outside any source tree, so the
            # installed package (not the checkout) is what gets imported.
            self.proc = subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.home,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.output()
                raise AssertionError(
                    f"the server exited with {self.proc.returncode} before answering:\n"
                    f"{out.stdout}\n{out.stderr}"
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"no /healthz within {timeout} s:\n{self.output().both}")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as `docker stop` sends; SIGKILL after `timeout` (Docker's is 10 s)."""
        if self.proc is None:
            raise AssertionError("not started")
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.returncode = self.proc.returncode
        return self.returncode

    def stop_cleanly(self) -> None:
        """`docker stop`, and assert the server shut down gracefully: uvicorn finishes
        its shutdown, then re-raises the SIGTERM it caught, so the exit status is the
        signal's (Docker reports 143), never a kill after the grace period."""
        returncode = self.stop()
        out = self.output().both
        assert returncode in (0, -signal.SIGTERM), (returncode, out[-3000:])
        assert "Application shutdown complete" in out, out[-3000:]
        assert "Traceback" not in out, out[-3000:]

    def output(self) -> Output:
        return Output(
            self._stdout_path.read_text(errors="replace"),
            self._stderr_path.read_text(errors="replace"),
        )

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """Run another command inside "the container": same venv, env and workdir."""
        return subprocess.run(
            resolve_argv(argv, self.venv),
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def __enter__(self) -> ImageProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
