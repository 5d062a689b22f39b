"""The connector's route class documents a route exactly as FastAPI's own does, and
builds the fields of its other responses only when the OpenAPI document is written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from connector.api import routing
from connector.api.routing import DocumentedRoute
from connector.config import Settings


class Problem(BaseModel):
    message: str
    code: str | None = None


class Thing(BaseModel):
    id: int
    name: str


def _app(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(tags=["things"], route_class=route_class)

    @router.get(
        "/things/{thing_id}",
        response_model=Thing,
        responses={
            404: {"model": Problem, "description": "No such thing."},
            503: {"model": Problem},
        },
    )
    async def get_thing(thing_id: int) -> Thing:
        return Thing(id=thing_id, name="one")

    @router.post(
        "/things",
        status_code=201,
        responses={409: {"model": Problem}, 200: {"content": {"text/plain": {}}}},
    )
    async def add_thing(thing: Thing) -> Thing:
        return thing

    app = FastAPI()
    app.router.routes.extend(router.routes)
    return app


def test_the_document_is_fastapis_own(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = routing.create_model_field

    def counting(**kwargs: Any) -> Any:
        made.append(kwargs["name"])
        return real(**kwargs)

    monkeypatch.setattr(routing, "create_model_field", counting)
    ours = _app(DocumentedRoute)
    assert made == []  # nothing built for the documentation while declaring

    document = ours.openapi()
    assert sorted(made) == [
        "Response_404_get_thing_things__thing_id__get",
        "Response_409_add_thing_things_post",
        "Response_503_get_thing_things__thing_id__get",
    ]
    assert document == _app(APIRoute).openapi()
    responses = document["paths"]["/things/{thing_id}"]["get"]["responses"]
    assert responses["404"]["description"] == "No such thing."
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }

    ours.openapi_schema = None
    ours.openapi()
    assert len(made) == 3  # built once


def test_every_app_route_that_documents_error_models_uses_it(settings: Settings) -> None:
    from connector.main import create_app

    app = create_app(settings)
    eager = [
        route.path
        for route in app.routes
        if isinstance(route, APIRoute)
        and not isinstance(route, DocumentedRoute)
        and any("model" in doc for doc in route.responses.values())
    ]
    assert eager == []
    documented = [r for r in app.routes if isinstance(r, DocumentedRoute)]
    assert {"/v1/chat/completions", "/v1/messages", "/api/chat", "/keys"} <= {
        r.path for r in documented
    }
