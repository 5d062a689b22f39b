"""Client dialects: one module per protocol a client may speak to the connector.

    module             paths                                   clients
    openai_chat        /chat/completions*, /v1/*, /ws/*,       the openai SDKs, most frameworks,
                       and the connector's own routes          the UI
    ollama             /api/*                                  Open WebUI, VS Code, Zed, Continue,
                                                               the ollama libraries
    anthropic          /v1/messages*                           Claude Code, the anthropic SDKs
    openai_responses   /v1/responses*, /responses*             Codex CLI, the Agents SDK

Each dialect does three things and nothing else: turns its request into a
`ChatRequest`; turns the `ChatService` stream into its own blocking body and stream
framing; turns a `ConnectorError` into its own error body and status (its one
envelope producer, `error_response`). It never talks to an upstream, the database
or the monitor itself.

`error_response(path, exc)` answers any failure in the dialect of the path asked for:
route errors, validation, the security middleware's refusals and unknown paths alike.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from connector.dialects import anthropic, ollama, openai_chat, openai_responses
from connector.errors import ConnectorError

ErrorEncoder = Callable[[ConnectorError], Response]

# Path prefixes of each dialect, most specific first; every other path (the
# connector's own routes, /v1, unknown paths) speaks the OpenAI error object.
_BY_PREFIX: tuple[tuple[tuple[str, ...], ErrorEncoder], ...] = (
    (("/v1/messages",), anthropic.error_response),
    (("/v1/responses", "/responses"), openai_responses.error_response),
    (("/api/",), ollama.error_response),
)


def encoder_for(path: str) -> ErrorEncoder:
    for prefixes, encoder in _BY_PREFIX:
        if path.startswith(prefixes):
            return encoder
    return openai_chat.error_response


def error_response(path: str, exc: ConnectorError) -> Response:
    return encoder_for(path)(exc)
