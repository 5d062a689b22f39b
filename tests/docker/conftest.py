"""Fixtures for the Docker tier: the image's wheel, its runtime virtualenv, and
containers-without-Docker (the image's CMD started on loopback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.docker.runtime import ImageProcess
from tests.docker.stages import build_spa, build_wheel, runtime_venv
from tests.fakes.server import free_port
from tests.fakes.upstream import FakeUpstream

StartImage = Callable[..., ImageProcess]


@pytest.fixture(scope="session")
def image_spa() -> Path:
    """Root of the replayed `spa` stage (the UI is in src/connector/static)."""
    return build_spa()


@pytest.fixture(scope="session")
def image_wheel(image_spa: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("docker-build"), image_spa)


@pytest.fixture(scope="session")
def image_venv(image_wheel: Path) -> Path:
    return runtime_venv(image_wheel)


def container_env(upstream: FakeUpstream, data_dir: Path, **env: str) -> dict[str, str]:
    """`docker run -e ...` for a test: a free port instead of 8000, a temporary
    directory as the /data volume, the fake upstream as Ollama and OpenAI."""
    data_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "PORT": str(free_port()),
        "CONNECTOR_DATA_DIR": str(data_dir),
        "OLLAMA_BASE_URL": upstream.ollama_url,
        "OPENAI_BASE_URL": upstream.openai_url,
    }
    values.update(env)
    return values


@pytest.fixture
def start_image(image_venv: Path, tmp_path: Path, upstream: FakeUpstream) -> Iterator[StartImage]:
    """Start the image's CMD with `-e` overrides; every start in one test shares one
    data volume (tmp_path/data), like restarting a container on the same volume."""
    started: list[ImageProcess] = []

    def start(**env: str) -> ImageProcess:
        workdir = tmp_path / f"container-{len(started)}"
        process = ImageProcess(
            image_venv, workdir, container_env(upstream, tmp_path / "data", **env)
        )
        started.append(process)
        return process.start()

    yield start
    for process in started:
        if process.proc is not None and process.proc.poll() is None:
            process.stop()
