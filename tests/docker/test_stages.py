"""The image's build stages, replayed: the UI builds from the Docker context alone and
ends up in the wheel, which needs no GUI package."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.docker.stages import wheel_requirements

GUI_DISTRIBUTIONS = ("pywebview", "pyqt6", "pyqt6-webengine", "qtpy", "pyside6")


def test_wheel_carries_the_ui_the_spa_stage_built(image_spa: Path, image_wheel: Path) -> None:
    static = image_spa / "src" / "connector" / "static"
    # Dotfiles (the build's .gitkeep placeholder) are not package data.
    built = {
        p.relative_to(static).as_posix()
        for p in static.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    assert "index.html" in built
    assert any(name.startswith("assets/") and name.endswith(".js") for name in built)
    with zipfile.ZipFile(image_wheel) as zf:
        names = set(zf.namelist())
        shipped = {n.removeprefix("connector/static/") for n in names if "static/" in n}
        assert built <= shipped, built - shipped
        assert zf.read("connector/static/index.html") == (static / "index.html").read_bytes()
    # Migrations run at start-up, so they must be in the package.
    assert any(n.startswith("connector/migrations/versions/") for n in names)
    assert not any(n.startswith(("tests/", "frontend/")) for n in names)


def test_wheel_needs_no_gui_package(image_wheel: Path) -> None:
    base = [r for r in wheel_requirements(image_wheel) if "extra ==" not in r]
    assert any("fastapi" in r for r in base)
    lowered = " ".join(base).lower()
    for name in GUI_DISTRIBUTIONS:
        assert f"requires-dist: {name}" not in lowered, name
