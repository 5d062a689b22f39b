"""One command for the desktop bundle: `python build_scripts/build.py [--package]`.

1. builds the SPA into connector/static (scripts/setup/frontend.sh; skips itself when
   the frontend sources did not change),
2. runs PyInstaller with build_scripts/ai-connector.spec into a one-folder app under
   build/pyinstaller/dist (Vite owns frontend/dist),
3. with --package, wraps it for the current OS: a tar.gz with a .desktop entry
   (Linux), an Inno Setup installer (Windows), a .dmg (macOS).

PyInstaller is skipped when nothing it reads changed since the last build (sources,
spec, the SPA, installed package versions, Python), so repeated test runs stay fast.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "build_scripts"
SPEC = HERE / "ai-connector.spec"
OUT = ROOT / "build" / "pyinstaller"
DIST = OUT / "dist"
WORK = OUT / "work"
PACKAGES = OUT / "packages"
STAMP = OUT / "inputs.sha256"
STAGE = OUT / "stage" / "static"  # the SPA snapshot the spec bundles
APP_NAME = "ai-connector"
INPUT_DIRS = ("connector", "desktop")
INPUT_FILES = ("pyproject.toml", "build_scripts/ai-connector.spec", "build_scripts/build.py")
SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}


def version() -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def app_dir() -> Path:
    return DIST / APP_NAME


def executable() -> Path:
    """The frozen program inside the one-folder app."""
    return app_dir() / (f"{APP_NAME}.exe" if sys.platform == "win32" else APP_NAME)


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not SKIP_PARTS.intersection(child.parts):
                    yield child


def inputs_digest() -> str:
    digest = hashlib.sha256()
    roots = [ROOT / d for d in INPUT_DIRS] + [ROOT / f for f in INPUT_FILES]
    for path in _files(roots):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    digest.update("\n".join(dists).encode())
    digest.update(f"{sys.version}|{platform.platform()}".encode())
    return digest.hexdigest()


def build_frontend() -> None:
    script = ROOT / "scripts" / "setup" / "frontend.sh"
    bash = shutil.which("bash")
    if bash is None:
        raise SystemExit("bash is needed to build the frontend (scripts/setup/frontend.sh)")
    subprocess.run([bash, str(script)], cwd=ROOT, check=True)
    if not (ROOT / "connector" / "static" / "index.html").is_file():
        print("[build] warning: connector/static has no index.html; the app will have no UI")


def _missing_assets(static: Path) -> list[str]:
    """Files index.html refers to that are not there (a half-built or stale SPA)."""
    index = static / "index.html"
    if not index.is_file():
        return ["index.html"]
    refs = re.findall(r'(?:src|href)="/(assets/[^"]+)"', index.read_text(encoding="utf-8"))
    return [ref for ref in refs if not (static / ref).is_file()]


def stage_spa(attempts: int = 10) -> Path:
    """Copy connector/static to build/pyinstaller/stage/static and check the copy is
    whole, so the bundle never carries an index.html without its assets (the SPA may
    be rebuilt while this runs)."""
    source = ROOT / "connector" / "static"
    missing: list[str] = []
    for _ in range(attempts):
        if STAGE.exists():
            shutil.rmtree(STAGE)
        shutil.copytree(source, STAGE, ignore=shutil.ignore_patterns(".gitkeep"))
        missing = _missing_assets(STAGE)
        if not missing:
            return STAGE
        time.sleep(3)
    raise SystemExit(f"connector/static is incomplete (missing {missing}); build the SPA first")


def build_app(force: bool) -> bool:
    """Run PyInstaller unless the previous build used the same inputs; True if it ran."""
    want = inputs_digest()
    have = STAMP.read_text().strip() if STAMP.is_file() else ""
    if not force and have == want and executable().is_file():
        print(f"[build] up to date: {executable().relative_to(ROOT)}")
        return False
    STAMP.unlink(missing_ok=True)
    stage_spa()
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(WORK),
            str(SPEC),
        ],
        cwd=ROOT,
        check=True,
    )
    STAMP.parent.mkdir(parents=True, exist_ok=True)
    STAMP.write_text(want + "\n")
    print(f"[build] built {executable().relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    return True


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Same bytes for the same inputs: no owner names, fixed times.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def package_linux() -> Path:
    PACKAGES.mkdir(parents=True, exist_ok=True)
    target = PACKAGES / f"{APP_NAME}-{version()}-linux-{platform.machine()}.tar.gz"
    top = f"{APP_NAME}-{version()}"
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        for path in _files([app_dir()]):
            arc = f"{top}/{APP_NAME}/{path.relative_to(app_dir()).as_posix()}"
            tar.add(path, arcname=arc, filter=_reset)
        for extra in ("ai-connector.desktop", "ai-connector.svg", "install-desktop-entry.sh"):
            tar.add(HERE / "linux" / extra, arcname=f"{top}/{extra}", filter=_reset)
    return target


def package_windows() -> Path:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    default = Path("C:/Program Files (x86)/Inno Setup 6/ISCC.exe")
    if iscc is None and default.is_file():
        iscc = str(default)
    if iscc is None:
        raise SystemExit("Inno Setup (iscc) is needed for the Windows installer")
    PACKAGES.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            iscc,
            f"/DAppVersion={version()}",
            f"/DSourceDir={app_dir()}",
            f"/O{PACKAGES}",
            str(HERE / "windows" / "ai-connector.iss"),
        ],
        check=True,
    )
    return PACKAGES / f"ai-connector-{version()}-setup.exe"


def package_macos() -> Path:
    PACKAGES.mkdir(parents=True, exist_ok=True)
    target = PACKAGES / f"AI-Connector-{version()}.dmg"
    subprocess.run(
        ["bash", str(HERE / "macos" / "make_dmg.sh"), str(DIST / "AI Connector.app"), str(target)],
        check=True,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--package", action="store_true", help="also make the OS package")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--skip-frontend", action="store_true", help="use connector/static as is")
    args = parser.parse_args(argv)

    if not args.skip_frontend:
        build_frontend()
    build_app(args.force)
    if args.package:
        if sys.platform.startswith("linux"):
            made = package_linux()
        elif sys.platform == "win32":
            made = package_windows()
        elif sys.platform == "darwin":
            made = package_macos()
        else:
            raise SystemExit(f"no package format for {sys.platform}")
        print(f"[build] package: {made}")
    print(f"[build] executable: {executable()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
