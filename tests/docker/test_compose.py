"""compose.yaml: valid against the Compose Specification, and wired as documented."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.docker import dockerfile
from tests.docker.context import is_ignored, load_patterns
from tests.docker.dockerfile import REPO

SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's `${VAR:-default}` / `${VAR}` with an empty (or given) environment."""
    env = env or {}

    def sub(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(":-")
        return env.get(name) or default

    return re.sub(r"\$\{([^}]+)\}", sub, value)


def test_compose_file_is_valid_against_the_compose_spec(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_check_is_live() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    bad = {"services": {"connector": {"image": "x", "healthcheck": {"tset": ["CMD"]}}}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))


def test_connector_talks_to_the_ollama_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"connector", "ollama"}
    assert services["ollama"]["image"].startswith("ollama/ollama")
    connector = services["connector"]
    assert connector["build"] == "."
    assert connector["environment"]["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert connector["depends_on"]["ollama"]["condition"] == "service_healthy"
    assert services["ollama"]["healthcheck"]["test"] == ["CMD", "ollama", "list"]


def test_both_services_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    mounts = {
        name: {v.split(":")[1]: v.split(":")[0] for v in svc["volumes"]}
        for name, svc in compose["services"].items()
    }
    assert mounts["connector"]["/data"] in declared
    assert mounts["ollama"]["/root/.ollama"] in declared
    assert dockerfile.env(dockerfile.final_stage())["CONNECTOR_DATA_DIR"] == "/data"


def test_key_comes_from_a_secret_file(compose: dict[str, Any]) -> None:
    connector = compose["services"]["connector"]
    env = connector["environment"]
    assert "OPENAI_API_KEY" not in env  # a secret, not an environment variable
    (secret,) = connector["secrets"]
    assert env["OPENAI_API_KEY_FILE"] == f"/run/secrets/{secret}"
    source = compose["secrets"][secret]["file"]
    # The key file sits beside compose.yaml, so it must never reach an image or a commit.
    assert is_ignored(source.removeprefix("./"), load_patterns())
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", source], cwd=REPO, check=False, capture_output=True
    )
    assert ignored.returncode == 0, f"{source} is not git-ignored"


def test_port_published_on_loopback_to_the_image_port(compose: dict[str, Any]) -> None:
    (port,) = compose["services"]["connector"]["ports"]
    host_ip, host_port, container_port = interpolate(port).split(":")
    assert host_ip == "127.0.0.1"
    assert host_port == "8000"
    assert container_port == dockerfile.final_stage().last("EXPOSE").args


def test_other_containers_may_use_the_service_name(compose: dict[str, Any]) -> None:
    env = compose["services"]["connector"]["environment"]
    allowed = interpolate(env["CONNECTOR_ALLOWED_HOSTS"]).split(",")
    assert "connector" in allowed
    assert (
        interpolate(env["CONNECTOR_ALLOWED_HOSTS"], {"CONNECTOR_ALLOWED_HOSTS": "a.example"})
        == "a.example"
    )
    assert interpolate(env["CONNECTOR_API_TOKEN"]) == ""  # empty means no token


def test_healthcheck_is_the_images(compose: dict[str, Any]) -> None:
    _, command = dockerfile.healthcheck(dockerfile.final_stage())
    assert compose["services"]["connector"]["healthcheck"]["test"] == ["CMD", *command]


def test_every_connector_variable_is_a_setting(compose: dict[str, Any]) -> None:
    from connector.config import Settings

    aliases = {f.validation_alias for f in Settings.model_fields.values()}
    names = set(compose["services"]["connector"]["environment"])
    assert names <= aliases, names - aliases
