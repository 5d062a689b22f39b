"""Ollama's own API (`/api/*`), as Open WebUI, VS Code, Zed, Continue and the ollama
libraries speak it (github.com/ollama/ollama docs/api.md, api/types.go).

    /api/chat, /api/generate body -> ChatRequest (+ OllamaInput: `think` as written,
                                     generate's prompt fields) -> ChatService
    ChatService chunks            -> NDJSON lines: `message` (chat) or `response`
                                     (generate) pieces, then one `done: true` line with
                                     done_reason and Ollama's counters; `stream: false`
                                     is the same answer as one object
    ConnectorError                -> {"error": "..."} with the status Ollama uses

The done line carries Ollama's own timings when the upstream is Ollama, and the
connector's measurements (in ns) when it is OpenAI. Tool calls go out whole, with
JSON-object arguments, as Ollama sends them (OpenAI streams arguments in pieces).
"""

from connector.dialects.ollama.errors import error_body, error_line, error_response
from connector.dialects.ollama.request import (
    chat_request,
    embed_request,
    generate_request,
    is_unload,
    response_format,
)
from connector.dialects.ollama.response import (
    blocking_body,
    embed_answer,
    load_answer,
    ndjson_lines,
    ndjson_objects,
    timings,
)

__all__ = [
    "blocking_body",
    "chat_request",
    "embed_answer",
    "embed_request",
    "error_body",
    "error_line",
    "error_response",
    "generate_request",
    "is_unload",
    "load_answer",
    "ndjson_lines",
    "ndjson_objects",
    "response_format",
    "timings",
]
