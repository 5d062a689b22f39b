"""The image's runtime outside Docker: the wheel installed without GUI packages, the
CMD started with the image's ENV (HOST=0.0.0.0), then checked over 127.0.0.1 as a
user of the seed README's `docker run` line would: /healthz, the HEALTHCHECK, the UI,
chats through the recorded upstreams, the Host rules, the start-up warning."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.docker import dockerfile
from tests.docker.conftest import StartImage, container_env
from tests.docker.runtime import ImageProcess
from tests.docker.stages import GUI_MODULES, venv_python
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream

ENV_KEY = "sk-env-3f9a1c0d7be24e55"
# Where a refused settings change would have pointed Ollama (loopback all the same).
MOVED_OLLAMA = "http://127.0.0.1:9"
CHAT = {"messages": [{"role": "user", "content": "Say hi"}]}


@pytest.fixture(scope="module")
def container(
    image_venv: Path,
    _upstream_server: FakeUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ImageProcess]:
    """The seed README's `docker run -e OPENAI_API_KEY=... -e OLLAMA_BASE_URL=...`,
    plus compose.yaml's CONNECTOR_ALLOWED_HOSTS."""
    work = tmp_path_factory.mktemp("container")
    env = container_env(
        _upstream_server, work / "data", OPENAI_API_KEY=ENV_KEY, CONNECTOR_ALLOWED_HOSTS="connector"
    )
    with ImageProcess(image_venv, work, env) as process:
        yield process


def py(venv: Path, code: str) -> str:
    return subprocess.run(
        [str(venv_python(venv)), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=venv,
        timeout=60,
    ).stdout.strip()


def test_runtime_has_the_package_and_no_gui_packages(image_venv: Path) -> None:
    missing = py(
        image_venv,
        "import importlib.util as u; "
        f"print(','.join(m for m in {GUI_MODULES!r} if u.find_spec(m) is None))",
    )
    assert missing.split(",") == list(GUI_MODULES)
    # Nor an installer: the image's virtualenv has no pip or setuptools.
    tools = py(
        image_venv,
        "import importlib.util as u; print(u.find_spec('pip'), u.find_spec('setuptools'))",
    )
    assert tools == "None None"
    where = py(image_venv, "import connector; print(connector.__file__)")
    assert Path(where).is_relative_to(image_venv), where  # the wheel, not the checkout
    static = py(
        image_venv,
        "import connector, pathlib; "
        "print(pathlib.Path(connector.__file__).parent / 'static' / 'index.html')",
    )
    assert Path(static).is_file()


def test_listens_on_every_interface_at_port(container: ImageProcess) -> None:
    logs = container.output()
    # Logs go to stdout, line-buffered (PYTHONUNBUFFERED): `docker logs` shows them live.
    assert f"Uvicorn running on http://0.0.0.0:{container.port}" in logs.stdout, logs
    out = logs.both
    assert "Started server process [1]" in out  # PID 1, as the CMD is in a container
    settings = httpx.get(container.url + "/settings").json()
    # `url` is the address a program on this machine uses (loopback, for a 0.0.0.0 bind).
    assert settings["listen"] == {
        "host": "0.0.0.0",
        "port": container.port,
        "url": f"http://127.0.0.1:{container.port}",
    }
    assert settings["keyring_available"] is False  # CONNECTOR_KEY_STORE=memory


def test_healthz_and_the_images_healthcheck(container: ImageProcess, tmp_path: Path) -> None:
    response = httpx.get(container.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    _, command = dockerfile.healthcheck(dockerfile.final_stage())
    healthy = container.run(command)
    assert healthy.returncode == 0, healthy.stderr
    # The same probe against a port where nothing listens reports unhealthy.
    down = subprocess.run(
        [str(venv_python(container.venv)), *command[1:]],
        env={**container.env, "PORT": closed_port_url().rsplit(":", 1)[1]},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert down.returncode != 0


def test_serves_the_web_ui(container: ImageProcess) -> None:
    installed = py(
        container.venv,
        "import connector, pathlib; print((pathlib.Path("
        "connector.__file__).parent / 'static' / 'index.html').read_text())",
    )
    # As a browser asks: a program (no text/html in Accept) gets Ollama's probe answer.
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    response = httpx.get(container.url + "/", headers=browser, follow_redirects=True)
    assert response.status_code == 200
    assert response.url.path.startswith("/app")  # / opens the first page of the UI
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.strip() == installed.strip()
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', response.text)
    assert assets, response.text
    for asset in assets:
        assert httpx.get(container.url + asset).status_code == 200, asset
    assert httpx.get(container.url + "/app/settings").text.strip() == installed.strip()


def test_browser_names_on_the_published_port(container: ImageProcess) -> None:
    """`-p 8000:8000` in a browser sends Host: localhost:8000; compose's service name
    is allowed by CONNECTOR_ALLOWED_HOSTS; any other name is refused."""
    for host, status in [
        ("localhost:8000", 200),
        ("127.0.0.1:8000", 200),
        ("connector:8000", 200),
        ("gpu-box.lan:8000", 403),
    ]:
        response = httpx.get(container.url + "/models", headers={"Host": host})
        assert response.status_code == status, (host, response.text)


def test_chat_through_ollama(container: ImageProcess, upstream: FakeUpstream) -> None:
    response = httpx.post(container.url + "/chat/completions", json=CHAT, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provider"] == "ollama"
    assert body["choices"][0]["message"]["content"]
    assert upstream.last("/api/chat").json["model"] == "gpt-oss:20b"


def test_chat_through_openai_with_the_env_key(
    container: ImageProcess, upstream: FakeUpstream
) -> None:
    response = httpx.post(
        container.url + "/chat/completions",
        json={**CHAT, "provider": "openai", "model": "gpt-4o-mini"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]
    sent = upstream.last("/v1/chat/completions")
    assert sent.headers["authorization"] == f"Bearer {ENV_KEY}"
    settings = httpx.get(container.url + "/settings").json()
    assert settings["openai_api_key"]["storage"] == "env"
    assert settings["openai_api_key"]["set"] is True
    assert ENV_KEY not in httpx.get(container.url + "/settings").text


def test_streaming_chat(container: ImageProcess, upstream: FakeUpstream) -> None:
    with httpx.stream(
        "POST", container.url + "/chat/completions/stream", json=CHAT, timeout=30
    ) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert len(lines) > 2


def test_websockets_work_with_the_images_dependencies(container: ImageProcess) -> None:
    """WebSockets need a library uvicorn finds at run time; the base install has one."""
    ws_url = container.url.replace("http://", "ws://")
    with connect(ws_url + "/ws/monitoring", open_timeout=10) as monitor:
        snapshot = json.loads(monitor.recv(timeout=10))
    assert snapshot["type"] == "snapshot"
    with connect(ws_url + "/ws/chat", open_timeout=10) as chat:
        chat.send(json.dumps({"type": "chat", "id": "r1", "request": CHAT}))
        for _ in range(200):
            message = json.loads(chat.recv(timeout=30))
            if message["type"] != "chunk":
                break
    assert message["type"] == "done", message
    assert message["id"] == "r1"


def test_start_up_warns_that_the_port_is_open(container: ImageProcess) -> None:
    out = container.output().both
    warnings = [line for line in out.splitlines() if "CONNECTOR_API_TOKEN" in line]
    assert warnings, out
    assert any("WARNING" in line and "0.0.0.0" in line for line in warnings), warnings
    assert f"port {container.port} can use" in out  # says who can use the key


def test_with_a_token_no_warning_and_the_healthcheck_still_passes(
    start_image: StartImage,
) -> None:
    token = "tok-2b8e5f0a9c1d4e73"
    container = start_image(CONNECTOR_API_TOKEN=token)
    assert "SECURITY WARNING" not in container.output().both
    _, command = dockerfile.healthcheck(dockerfile.final_stage())
    assert container.run(command).returncode == 0  # /healthz needs no token
    assert httpx.get(container.url + "/models").status_code == 401
    authorized = httpx.get(container.url + "/models", headers={"Authorization": f"Bearer {token}"})
    assert authorized.status_code == 200
    container.stop_cleanly()
    assert token not in container.output().both


def test_remote_client_behind_a_local_proxy_cannot_change_settings(
    container: ImageProcess,
) -> None:
    """A reverse proxy on the loopback forwards a remote client: X-Forwarded-For is
    trusted from 127.0.0.1, so the remote address is what counts (the request itself
    never leaves loopback)."""
    response = httpx.post(
        container.url + "/settings",
        json={"ollama_base_url": MOVED_OLLAMA},
        headers={"X-Forwarded-For": "10.1.2.3"},
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "remote_settings_refused"
    assert httpx.get(container.url + "/settings").json()["ollama_base_url"] != MOVED_OLLAMA


def test_stays_healthy_and_says_why_when_ollama_is_unreachable(start_image: StartImage) -> None:
    """The seed's line with Ollama not (yet) reachable at OLLAMA_BASE_URL: the container
    stays healthy, and the API names the URL it could not reach."""
    ollama = closed_port_url()
    container = start_image(OLLAMA_BASE_URL=ollama)
    _, command = dockerfile.healthcheck(dockerfile.final_stage())
    assert container.run(command).returncode == 0
    models = httpx.get(container.url + "/models", timeout=30).json()
    (provider,) = [p for p in models["providers"] if p["name"] == "ollama"]
    assert provider["available"] is False
    assert ollama in provider["reason"], provider
    chat = httpx.post(container.url + "/chat/completions", json=CHAT, timeout=30)
    assert chat.status_code == 503
    assert ollama in chat.json()["error"]["message"]
    container.stop_cleanly()
