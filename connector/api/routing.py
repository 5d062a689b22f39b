"""The connector's route class: FastAPI's `APIRoute`, with the models of a route's other
responses (its 400, 404, 503 ... bodies) made into fields when the OpenAPI document is
written rather than when the route is declared.

FastAPI reads those fields only to write the document (`fastapi.openapi.utils`), but
builds one pydantic adapter per status and route at import: 246 of the 362 adapters the
connector's routes made, about 0.1 s of every start, for a document most runs never
write. The document is the same either way (the OpenAPI drift check compares it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from fastapi.utils import create_model_field


class DocumentedRoute(APIRoute):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        responses: dict[int | str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        given = responses or {}
        # Declared without their models, so FastAPI builds no field for them now.
        bare = {code: {k: v for k, v in doc.items() if k != "model"} for code, doc in given.items()}
        super().__init__(path, endpoint, responses=bare, **kwargs)
        # The document writer reads `responses` (with their models, which it drops
        # itself) and `response_fields`, built on first use below.
        self.responses = given
        self._later = {code: doc["model"] for code, doc in given.items() if doc.get("model")}

    @property
    def response_fields(self) -> dict[int | str, Any]:
        later = self.__dict__.get("_later")
        if later:
            for code, model in later.items():
                # FastAPI's own call, with the name it would give the field.
                self._fields[code] = create_model_field(
                    name=f"Response_{code}_{self.unique_id}", type_=model, mode="serialization"
                )
            later.clear()
        return self._fields

    @response_fields.setter
    def response_fields(self, fields: dict[int | str, Any]) -> None:
        self._fields = fields
