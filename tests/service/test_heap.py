"""The server and the desktop app freeze their start-up heap once the warm-up thread has
loaded what they keep (price tables, the JSON Schema validator), so
full garbage collections stop pausing every open stream; an app embedded elsewhere
(settle_heap off, the default) leaves the host's collector alone."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from connector.config import Settings
from connector.main import create_app
from tests.service.helpers import wait_until


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("settle", [True, False])
def test_start_up_heap_is_frozen_only_when_asked(
    settle: bool, make_settings: Callable[..., Settings], unfrozen: None
) -> None:
    app = create_app(make_settings(), settle_heap=settle)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/healthz").status_code == 200
        warmed = app.state.services.warmed_up
        assert warmed is not None
        assert wait_until(warmed.done, timeout=30), "the warm-up did not finish"
        assert warmed.exception() is None
        frozen = gc.get_freeze_count()
    if settle:
        # FastAPI, pydantic, SQLAlchemy, aiohttp and the prices: well over 100k objects.
        assert frozen > 100_000
    else:
        assert frozen == 0
