"""llama.cpp's server's prompt-counting pair, `POST /apply-template` (the chat rendered
as its template would) and `POST /tokenize`, both at the server's root as llama-server
serves them. The template is a stand-in (`<|role|>content` a message, then the tools'
JSON) and a token is a whitespace-separated word, so tests can count what reached it.
Scenario "no_tokenizer" answers 404, as OpenAI itself, vLLM and Ollama's /v1 do."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from tests.fakes.upstream import FakeUpstream

# llama-server's body for an unknown path.
NOT_FOUND = {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(str(p.get("text", "")) for p in content or [] if isinstance(p, dict))


def render(body: dict[str, Any]) -> str:
    prompt = "".join(
        f"<|{m.get('role')}|> {_text(m.get('content'))}\n" for m in body.get("messages") or []
    )
    if body.get("tools"):
        prompt += json.dumps(body["tools"])
    return prompt


def count(text: str) -> int:
    return len(text.split())


def routes(up: FakeUpstream) -> list[Route]:
    async def apply_template(request: Request) -> Response:
        body = await up.record(request)
        if up.scenario == "no_tokenizer":
            return JSONResponse(NOT_FOUND, status_code=404)
        return JSONResponse({"prompt": render(body or {})})

    async def tokenize(request: Request) -> Response:
        body = await up.record(request)
        if up.scenario == "no_tokenizer":
            return JSONResponse(NOT_FOUND, status_code=404)
        return JSONResponse({"tokens": list(range(count(str((body or {}).get("content", "")))))})

    return [
        Route("/apply-template", apply_template, methods=["POST"]),
        Route("/tokenize", tokenize, methods=["POST"]),
    ]
