"""The image's final stage, run outside Docker: `ImageProcess` starts its CMD with its
ENV (and `-e` overrides) in the virtualenv `stages.runtime_venv` built, the way
`docker run` would, and stops it with SIGTERM, the way `docker stop` does.

As in a container, the CMD runs as PID 1 of its own PID namespace (`unshare --pid
--fork`). That matters: the kernel ignores signals PID 1 has no handler for, so a
server that relied on SIGTERM's default action would hang until Docker kills it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from tests.docker import dockerfile

# Where the image keeps its virtualenv; the Dockerfile's PATH names it.
IMAGE_VENV = "/opt/venv"


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
        command = dockerfile.exec_form(dockerfile.final_stage().last("CMD").args)
        # --kill-child: should the test die, the server goes with it.
        argv = ["unshare", "--pid", "--fork", "--kill-child", *resolve_argv(command, self.venv)]
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
                logs = self.output()
                raise AssertionError(
                    f"the server exited with {self.proc.returncode} before answering:\n"
                    f"{logs.stdout}\n{logs.stderr}"
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"no /healthz within {timeout} s:\n{self.output().both}")

    def pid1(self) -> int:
        """The server's process id here (it is 1 inside its namespace)."""
        assert self.proc is not None, "not started"
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        children = path.read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def stop(self, timeout: float = 10.0) -> int:
        """`docker stop`: SIGTERM to PID 1, SIGKILL after the grace period (10 s);
        returns the exit status Docker would report (negative: killed by a signal)."""
        if self.proc is None:
            raise AssertionError("not started")
        if self.proc.poll() is None:
            os.kill(self.pid1(), signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # unshare --kill-child takes the server along
                self.proc.wait(5)
                self.returncode = -signal.SIGKILL
                return self.returncode
        self.returncode = self.proc.returncode
        return self.returncode

    def stop_cleanly(self) -> None:
        """`docker stop`, and assert the server shut down gracefully within Docker's
        grace period and exited 0."""
        started = time.monotonic()
        returncode = self.stop()
        out = self.output().both
        assert returncode == 0, (returncode, out[-3000:])
        assert time.monotonic() - started < 10
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
