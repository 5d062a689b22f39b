"""Settings changes from a non-loopback client: refused without the API token, even
though the image listens on 0.0.0.0. Tested at the ASGI level with a remote client
address, so no traffic ever goes to a non-loopback address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from starlette.testclient import TestClient

if TYPE_CHECKING:
    from connector.config import Settings

REMOTE = ("10.1.2.3", 1234)
LOOPBACK = ("127.0.0.1", 50000)
TOKEN = "tok-7d1f0c2b9e8a4653"
MOVED = {"default_model": "llama3.2"}


@contextmanager
def client(settings: Settings, address: tuple[str, int]) -> Iterator[TestClient]:
    from connector.main import create_app

    # Host is what a browser on `-p 8000:8000` sends: a loopback name.
    with TestClient(
        create_app(settings), base_url="http://localhost:8000", client=address
    ) as test_client:
        yield test_client


def container_settings(make_settings: Callable[..., Settings], **overrides: object) -> Settings:
    return make_settings(host="0.0.0.0", key_store="memory", openai_api_key=None, **overrides)


def test_remote_client_cannot_change_settings_without_token(
    make_settings: Callable[..., Settings],
) -> None:
    with client(container_settings(make_settings), REMOTE) as remote:
        for body in (MOVED, {"openai_api_key": "sk-stolen-0000111122223333"}):
            response = remote.post("/settings", json=body)
            assert response.status_code == 403, response.text
            error = response.json()["error"]
            assert set(error) == {"message", "type", "param", "code"}
        settings = remote.get("/settings").json()
        assert settings["default_model"] == "gpt-oss:20b"
        assert settings["openai_api_key"]["set"] is False


def test_loopback_client_can_change_settings(make_settings: Callable[..., Settings]) -> None:
    with client(container_settings(make_settings), LOOPBACK) as local:
        response = local.post("/settings", json=MOVED)
        assert response.status_code == 200, response.text
        assert response.json()["default_model"] == "llama3.2"


def test_remote_client_with_the_token_can_change_settings(
    make_settings: Callable[..., Settings],
) -> None:
    with client(container_settings(make_settings, api_token=TOKEN), REMOTE) as remote:
        assert remote.post("/settings", json=MOVED).status_code == 401
        wrong = remote.post("/settings", json=MOVED, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = remote.post("/settings", json=MOVED, headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200, right.text
        assert right.json()["default_model"] == "llama3.2"
