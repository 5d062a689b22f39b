"""The image's build stages, replayed outside Docker.

Each stage's instructions run on this machine with a cache directory standing in for
the stage's filesystem root:

- `spa`: the stage's COPY (from the build context as `.dockerignore` filters it) and
  RUN lines (`npm ci`, `npm run build`) run as written, with this machine's Node.
- `wheel`: the same COPY lines, the `spa` output copied in as `COPY --from=spa` does,
  then `pip wheel --no-deps` and a base-only install (no extras) into a virtualenv,
  as the stage does into /opt/venv.

Like Docker's layer cache, results are kept under build/docker-runtime/ and reused
while their inputs are unchanged: the SPA by a hash of the frontend context and the
stage's instructions; the virtualenv by the Python version and the wheel's dependency
list (a changed wheel is reinstalled into it with --no-deps, so every run installs
the current code).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from tests.docker import dockerfile
from tests.docker.context import context_files
from tests.docker.dockerfile import REPO, Stage

CACHE = REPO / "build" / "docker-runtime"
GUI_MODULES = ("PyQt6", "PySide6", "webview", "qtpy")


def run(argv: list[str], cwd: Path | None = None, timeout: float = 900) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """One builder at a time: two test runs must not share a half-built cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def stage(name: str) -> Stage:
    return next(s for s in dockerfile.load() if s.name == name)


def _inside(root: Path, path: str, workdir: PurePosixPath) -> Path:
    """`path` as the stage sees it (absolute, or relative to WORKDIR) under `root`."""
    full = workdir / path  # an absolute `path` replaces workdir
    return root / str(full).lstrip("/")


def _copy(source: Path, dest: Path, into: bool) -> None:
    """Docker's COPY: a directory's contents go into `dest`; a file goes into `dest`
    when it names a directory (ends in "/"), else becomes `dest`."""
    assert source.exists(), f"COPY source {source} is missing (excluded by .dockerignore?)"
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True)
    elif into:
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / source.name)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)


def _context_copy(files: set[str], source: str, dest: Path, into: bool) -> None:
    source = source.rstrip("/")
    chosen = [f for f in files if f == source or f.startswith(source + "/")]
    assert chosen, f"COPY {source}: nothing of it is in the build context"
    for rel in chosen:
        if rel == source:
            _copy(REPO / rel, dest, into)
        else:
            _copy(REPO / rel, dest / rel[len(source) + 1 :], into=False)


def replay(st: Stage, root: Path, from_stages: dict[str, Path] | None = None) -> PurePosixPath:
    """Run a stage's WORKDIR, COPY and RUN instructions with `root` as its "/"."""
    files = set(context_files())
    workdir = PurePosixPath("/")
    for instruction in st.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = workdir / instruction.args
            _inside(root, ".", workdir).mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            copy = dockerfile.parse_copy(instruction.args)
            dest = _inside(root, copy.dest, workdir)
            into = copy.dest.endswith("/") or len(copy.sources) > 1
            for source in copy.sources:
                if copy.from_stage is None:
                    _context_copy(files, source, dest, into)
                else:
                    assert from_stages and copy.from_stage in from_stages, copy
                    origin = _inside(from_stages[copy.from_stage], source, PurePosixPath("/"))
                    _copy(origin, dest, into)
        elif instruction.keyword == "RUN":
            run(["sh", "-c", instruction.args], cwd=_inside(root, ".", workdir))
    return workdir


def _digest(paths: list[str], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for rel in sorted(paths):
        digest.update(rel.encode() + b"\0" + hashlib.sha256((REPO / rel).read_bytes()).digest())
    return digest.hexdigest()


def build_spa() -> Path:
    """The `spa` stage; returns its root (the UI is in <root>/src/connector/static)."""
    spa = stage("spa")
    frontend = [f for f in context_files() if f.startswith("frontend/")]
    key = _digest(frontend, repr(spa.instructions))
    root = CACHE / "spa"
    stamp = CACHE / "spa.key"
    with locked():
        built = root / "src" / "connector" / "static" / "index.html"
        if stamp.exists() and stamp.read_text() == key and built.is_file():
            return root
        shutil.rmtree(root, ignore_errors=True)
        stamp.unlink(missing_ok=True)
        replay(spa, root)
        assert built.is_file(), "the spa stage did not produce connector/static/index.html"
        stamp.write_text(key)
        return root


def build_wheel(work: Path, spa_root: Path) -> Path:
    """The `wheel` stage up to `pip wheel`; returns the wheel file."""
    wheel = stage("wheel")
    root = work / "wheel-stage"
    # Replay only COPY/WORKDIR here: the RUN line writes to /wheels and /opt/venv,
    # which `runtime_venv` maps onto the cache.
    copies_only = dockerfile.Stage(
        wheel.base, wheel.name, [i for i in wheel.instructions if i.keyword != "RUN"]
    )
    workdir = replay(copies_only, root, {"spa": spa_root})
    (install,) = wheel.all("RUN")
    # What this replay and `runtime_venv` do; if the stage changes, they must follow.
    for step in (
        "python -m pip wheel --no-deps --wheel-dir /wheels .",
        "python -m venv --without-pip /opt/venv",
        "python -m pip --python /opt/venv/bin/python install --no-cache-dir /wheels/*.whl",
    ):
        assert step in install.args, (step, install.args)
    out = work / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(out), "."],
        cwd=_inside(root, ".", workdir),
    )
    (built,) = out.glob("*.whl")
    return built


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
    """The image's /opt/venv: `wheel` with its base dependencies, no extras."""
    recipe = stage("wheel").last("RUN").args
    deps_key = hashlib.sha256("\n".join([sys.version, recipe, *wheel_requirements(wheel)]).encode())
    venv = CACHE / "venv"
    deps_stamp = CACHE / "venv.deps"
    wheel_stamp = CACHE / "venv.wheel"
    # As in the stage: a virtualenv without pip, filled by the outer pip.
    pip = [sys.executable, "-m", "pip", "--python", str(venv_python(venv)), "install", "-q"]
    with locked():
        current = deps_stamp.read_text() if deps_stamp.exists() else None
        if not venv_python(venv).exists() or current != deps_key.hexdigest():
            shutil.rmtree(venv, ignore_errors=True)
            wheel_stamp.unlink(missing_ok=True)
            run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
            run([*pip, str(wheel)])
            deps_stamp.write_text(deps_key.hexdigest())
            wheel_stamp.write_text(wheel_digest(wheel))
        installed = wheel_stamp.read_text() if wheel_stamp.exists() else None
        if installed != wheel_digest(wheel):
            run([*pip, "--no-deps", "--force-reinstall", str(wheel)])
            wheel_stamp.write_text(wheel_digest(wheel))
    return venv
