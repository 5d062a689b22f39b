"""`.dockerignore` keeps the build context small and keeps everything the build needs."""

from __future__ import annotations

import subprocess

import pytest

from tests.docker import dockerfile
from tests.docker.context import context_files, is_ignored, load_patterns
from tests.docker.dockerfile import REPO

MAX_CONTEXT_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def context() -> list[str]:
    return context_files()


def test_every_copy_source_is_in_the_context(context: list[str]) -> None:
    files = set(context)
    for stage in dockerfile.load():
        for copy in dockerfile.copies(stage):
            if copy.from_stage is not None:
                continue
            for source in copy.sources:
                source = source.rstrip("/")
                assert source in files or any(f.startswith(source + "/") for f in files), (
                    f"COPY {source} (stage {stage.name}) is excluded by .dockerignore"
                )


def test_every_tracked_source_file_of_the_build_is_in_the_context(context: list[str]) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "pyproject.toml", "README.md", "connector", "desktop", "frontend"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    needed = [
        f for f in tracked if not f.startswith("connector/static/") and "__pycache__" not in f
    ]
    assert "pyproject.toml" in needed and any(f.startswith("connector/") for f in needed)
    missing = sorted(set(needed) - set(context))
    assert not missing, f"tracked files the build needs are ignored: {missing}"


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".venv/bin/python",
        "frontend/node_modules/react/index.js",
        "connector/static/index.html",  # the image builds its own UI
        "connector/__pycache__/main.cpython-311.pyc",
        "tests/docker/test_dockerignore.py",
        "build/docker-runtime/venv/bin/python",
        "dist/ai_connector-0.1.0-py3-none-any.whl",
        ".stamps/spa",
        "artifacts/report.txt",
        "secrets/openai_api_key",  # compose.yaml's secret file
        ".env",
        "connector.db",
        "frontend/dist/index.html",
        "ai_connector.egg-info/PKG-INFO",
        ".mypy_cache/3.11/x.json",
    ],
)
def test_what_the_build_does_not_need_is_ignored(path: str) -> None:
    assert is_ignored(path, load_patterns())


def test_no_ignored_tree_leaks_into_the_context(context: list[str]) -> None:
    leaked = [
        f
        for f in context
        if f.startswith(
            ("frontend/node_modules/", "connector/static/", ".git/", ".venv/", "tests/")
        )
        or "/__pycache__/" in f
    ]
    assert not leaked, leaked[:10]


def test_context_is_small(context: list[str]) -> None:
    size = sum((REPO / f).stat().st_size for f in context)
    print(f"build context: {len(context)} files, {size / 1024:.0f} KiB")
    assert size < MAX_CONTEXT_BYTES
    assert len(context) < 1000


@pytest.mark.parametrize(
    ("rules", "path", "ignored"),
    [
        ("*\n!connector/\n", "connector/providers/openai.py", False),
        ("*\n!connector/\n", "tests/conftest.py", True),
        ("*\n!connector/\nconnector/static/\n", "connector/static/assets/a.js", True),
        ("**/__pycache__/\n", "a/b/__pycache__/c.pyc", True),
        ("**/__pycache__/\n", "__pycache__/c.pyc", True),
        ("*.md\n!README.md\n", "README.md", False),
        ("*.md\n!README.md\n", "docs/API.md", False),  # `*` stays in one segment
        ("frontend/*.json\n", "frontend/src/api/openapi.json", False),
        ("frontend/**/*.json\n", "frontend/src/api/openapi.json", True),
    ],
)
def test_matcher_follows_docker_rules(rules: str, path: str, ignored: bool) -> None:
    assert is_ignored(path, load_patterns(rules)) is ignored
