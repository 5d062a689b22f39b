"""OpenAI Responses (`/v1/responses`, `/responses`): Codex CLI, the OpenAI Agents SDK
and `client.responses.*` of the openai SDKs.

    ResponsesRequest + earlier items (previous_response_id) -> to_chat() -> ChatRequest
    ChatService chunks -> ResponseBuilder -> `event:`/`data:` frames, or the response
    ConnectorError -> OpenAI's error object (openai_chat's one producer)

Stream events follow what the openai SDK (`lib/streaming/responses`) and Codex
(`codex-api/src/sse/responses.rs`) parse: `response.created`, `response.in_progress`,
per output item `response.output_item.added` / `.done`, per content part
`response.content_part.added` / `.done` around its deltas (`response.output_text.*`,
`response.reasoning_text.*`), `response.function_call_arguments.*` for calls, and last
`response.completed`, `response.incomplete` or `response.failed` with the whole
response. Every event carries a `sequence_number`. The model's thinking is a reasoning
item whose `content` holds `reasoning_text`, as OpenAI returns raw reasoning of open
models; the connector has no summariser, so `summary` stays empty.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from connector.dialects import openai_chat
from connector.dialects.base import dumps, public_message
from connector.errors import BadRequestError, ConnectorError, RateLimitError
from connector.schemas import (
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    FunctionCall,
    JsonSchemaFormat,
    ResponseFormat,
    ToolCall,
    Usage,
)
from connector.schemas.responses import (
    ContentPart,
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionTool,
    InputFile,
    InputImage,
    InputItem,
    MessageItem,
    OtherItem,
    OtherTool,
    ReasoningItem,
    ResponsesRequest,
    TextFormatJsonObject,
    TextFormatJsonSchema,
)
from connector.services.structured import requested_schema

log = logging.getLogger(__name__)

# OpenAI's error object, from the one producer of it.
error_response = openai_chat.error_response

_ITEMS: TypeAdapter[list[InputItem]] = TypeAdapter(list[InputItem])
_TOOL_CHOICE_MODES = ("auto", "none", "required")
Event = dict[str, Any]
OnFinal = Callable[[dict[str, Any]], Awaitable[None]]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


# -- request -> ChatRequest ---------------------------------------------------------------
@dataclass(slots=True)
class Turn:
    """What one request asks for: the chat request, and its own input as items (ids
    filled in) for storage and `input_items`."""

    chat: ChatRequest
    input_items: list[dict[str, Any]]
    tools: list[dict[str, Any]]


def parse_items(stored: Sequence[dict[str, Any]]) -> list[Any]:
    """Stored items (a response's input and output) back into typed input items."""
    return list(_ITEMS.validate_python(list(stored)))


def to_chat(body: ResponsesRequest, history: Sequence[Any] = ()) -> Turn:
    """The chat request for `body`, after `history` (typed items of the responses it
    continues). Unknown item kinds and tools the connector cannot run are left out,
    with one log line for the request."""
    items: list[Any] = (
        [MessageItem(role="user", content=body.input)]
        if isinstance(body.input, str)
        else body.input
    )
    left_out: list[str] = []
    messages: list[ChatMessage] = []
    if body.instructions:
        messages.append(ChatMessage(role="system", content=body.instructions))
    messages += _messages([*history, *items], left_out)
    if not messages:
        raise BadRequestError("input must contain at least one message.", param="input")

    functions = [t for t in body.tools or () if isinstance(t, FunctionTool)]
    left_out += [f"tool {t.type}" for t in body.tools or () if isinstance(t, OtherTool)]
    if left_out:
        log.info(
            "Responses request: left out what the connector cannot run: %s", ", ".join(left_out)
        )
    functions, tool_choice = _tool_choice(body.tool_choice, functions)
    fields: dict[str, Any] = {
        "provider": body.provider,
        "model": body.model,
        "messages": messages,
        "stream": True,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "max_completion_tokens": body.max_output_tokens,
        "reasoning_effort": body.reasoning.effort if body.reasoning else None,
        "response_format": _response_format(body),
    }
    if functions:
        fields["tools"] = [_chat_tool(t) for t in functions]
        fields["tool_choice"] = tool_choice
        if body.parallel_tool_calls is not None:
            # OpenAI refuses parallel_tool_calls without tools, so only with them.
            fields["parallel_tool_calls"] = body.parallel_tool_calls
    chat = ChatRequest(**{k: v for k, v in fields.items() if v is not None})
    return Turn(
        chat=chat,
        input_items=[_stored_item(item) for item in items],
        tools=[t.model_dump(exclude_none=True) for t in functions],
    )


def _stored_item(item: Any) -> dict[str, Any]:
    data: dict[str, Any] = item.model_dump(exclude_none=True, by_alias=True, mode="json")
    if isinstance(item, MessageItem) and isinstance(item.content, str):
        kind = "output_text" if item.role == "assistant" else "input_text"
        data["content"] = [{"type": kind, "text": item.content}]
    if "id" not in data:
        prefix = {"message": "msg", "function_call": "fc", "reasoning": "rs"}.get(
            data["type"], "item"
        )
        data["id"] = new_id(prefix)
    return data


def _messages(items: Sequence[Any], left_out: list[str]) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    thinking: list[str] = []  # reasoning items belong to the assistant turn after them
    for item in items:
        if isinstance(item, ReasoningItem):
            parts = item.content if item.content else item.summary
            thinking += [p.text for p in parts if p.text]
        elif isinstance(item, MessageItem):
            if item.role == "assistant":
                messages.append(
                    ChatMessage(
                        role="assistant",
                        content=_plain_text(item.content, left_out, "an assistant message"),
                        reasoning_content="\n".join(thinking) or None,
                    )
                )
                thinking = []
            else:
                messages.append(ChatMessage(role=item.role, content=_user_content(item.content)))
        elif isinstance(item, FunctionCallItem):
            call = ToolCall(
                id=item.call_id, function=FunctionCall(name=item.name, arguments=item.arguments)
            )
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant" and not thinking:
                # Text and calls of one assistant turn are one chat message.
                last.tool_calls = [*(last.tool_calls or []), call]
            else:
                messages.append(
                    ChatMessage(
                        role="assistant",
                        content=None,
                        tool_calls=[call],
                        reasoning_content="\n".join(thinking) or None,
                    )
                )
                thinking = []
        elif isinstance(item, FunctionCallOutputItem):
            messages.append(
                ChatMessage(
                    role="tool",
                    tool_call_id=item.call_id,
                    content=_plain_text(item.output, left_out, "a function_call_output"),
                )
            )
        elif isinstance(item, OtherItem):
            left_out.append(f"item {item.type}")
    return messages


def _plain_text(content: str | list[Any], left_out: list[str], where: str) -> str:
    """The text of `content`. Images and files cannot go where chat takes only text
    (tool results, assistant turns): they are left out rather than refused, because an
    agent resends its whole history every turn and one refusal would end its session."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for part in content:
        if isinstance(part, InputImage | InputFile):
            left_out.append(f"{part.type} in {where}")
        else:
            texts.append(part.refusal if part.type == "refusal" else part.text)
    return "\n".join(texts)


def _user_content(content: str | list[ContentPart]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    if not any(isinstance(part, InputImage | InputFile) for part in content):
        return _plain_text(content, [], "a message")
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, InputFile):
            raise BadRequestError(
                "input_file is not supported by this connector; send the text as input_text.",
                param="input",
            )
        if isinstance(part, InputImage):
            if not part.image_url:
                raise BadRequestError(
                    "input_image needs image_url (a URL or a data: URL); file_id is not supported.",
                    param="input",
                )
            image: dict[str, Any] = {"url": part.image_url}
            if part.detail in ("low", "high", "auto"):
                image["detail"] = part.detail
            parts.append({"type": "image_url", "image_url": image})
        else:
            text = part.refusal if part.type == "refusal" else part.text
            parts.append({"type": "text", "text": text})
    return parts


def _chat_tool(tool: FunctionTool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    for key in ("description", "parameters", "strict"):
        value = getattr(tool, key)
        if value is not None:
            function[key] = value
    return {"type": "function", "function": function}


def _tool_choice(
    choice: str | dict[str, Any] | None, functions: list[FunctionTool]
) -> tuple[list[FunctionTool], str | dict[str, Any] | None]:
    """Responses' tool_choice in Chat's words (and the tools it leaves on offer)."""
    if choice is None or not functions:
        return functions, None
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICE_MODES:
            raise BadRequestError(
                f"tool_choice must be one of {', '.join(_TOOL_CHOICE_MODES)}, or an object.",
                param="tool_choice",
            )
        return functions, choice
    names = {t.name for t in functions}
    kind = choice.get("type")
    if kind == "function":
        name = choice.get("name")
        if name not in names:
            raise BadRequestError(
                f"tool_choice names function {name!r}, which is not among the tools.",
                param="tool_choice",
            )
        return functions, {"type": "function", "function": {"name": name}}
    if kind == "allowed_tools":
        allowed = {t.get("name") for t in choice.get("tools") or () if isinstance(t, dict)}
        kept = [t for t in functions if t.name in allowed]
        mode = choice.get("mode", "auto")
        return kept, (mode if mode in _TOOL_CHOICE_MODES else "auto") if kept else None
    # A hosted tool (web_search, file_search, ...) that is not offered to the model.
    return functions, "auto"


def _response_format(body: ResponsesRequest) -> ResponseFormat | None:
    fmt = body.text.format if body.text else None
    if isinstance(fmt, TextFormatJsonObject):
        return ResponseFormat(type="json_object")
    if not isinstance(fmt, TextFormatJsonSchema):
        return None
    result = ResponseFormat(
        type="json_schema",
        json_schema=JsonSchemaFormat(
            name=fmt.name, description=fmt.description, schema=fmt.schema_, strict=fmt.strict
        ),
    )
    try:  # the same check every surface gets, reported under this API's own name
        requested_schema(result)
    except BadRequestError as exc:
        message = exc.message.replace("response_format.json_schema.schema", "text.format.schema")
        raise BadRequestError(message, param="text.format.schema") from exc
    return result


# -- ChatService stream -> output items and events ----------------------------------------
@dataclass(slots=True)
class _Item:
    kind: str  # reasoning | message | function_call
    id: str
    index: int
    parts: list[str] = field(default_factory=list)
    call_id: str = ""
    name: str = ""
    tool_index: int | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def body(self, status: str) -> dict[str, Any]:
        if self.kind == "reasoning":
            return {
                "id": self.id,
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": self.text}],
                "status": status,
            }
        if self.kind == "message":
            return {
                "id": self.id,
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": [_output_text(self.text)],
            }
        return {
            "id": self.id,
            "type": "function_call",
            "status": status,
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.text,
        }


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _usage(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    }


def _failure_code(exc: ConnectorError) -> str:
    if exc.code:
        return exc.code
    return "rate_limit_exceeded" if isinstance(exc, RateLimitError) else "server_error"


class ResponseBuilder:
    """Builds one response from the chat stream: output items, the stream's events
    (numbered), and the final response object. Blocking and streaming answers both go
    through it, so they cannot differ in shape."""

    def __init__(self, body: ResponsesRequest, model: str, tools: list[dict[str, Any]]) -> None:
        self.id = new_id("resp")
        self.created_at = int(time.time())
        self._sequence = 0
        self._current: _Item | None = None
        self._output: list[dict[str, Any]] = []
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        fmt = body.text.format if body.text and body.text.format else None
        self._echo: dict[str, Any] = {
            "instructions": body.instructions,
            "max_output_tokens": body.max_output_tokens,
            "metadata": body.metadata or {},
            "model": model,
            "parallel_tool_calls": body.parallel_tool_calls is not False,
            "previous_response_id": body.previous_response_id,
            "reasoning": {
                "effort": body.reasoning.effort if body.reasoning else None,
                "summary": body.reasoning.summary if body.reasoning else None,
            },
            "store": body.store,
            "temperature": body.temperature,
            "text": {
                "format": fmt.model_dump(by_alias=True, exclude_none=True)
                if fmt
                else {"type": "text"}
            },
            "tool_choice": body.tool_choice if body.tool_choice is not None else "auto",
            "tools": tools,
            "top_p": body.top_p,
            "truncation": "disabled",
            "user": None,
        }

    # -- the response object ---------------------------------------------------------
    def response(
        self,
        status: str,
        *,
        usage: Usage | None = None,
        error: ConnectorError | None = None,
    ) -> dict[str, Any]:
        output = self._output if status != "in_progress" else []
        text = "".join(
            part["text"]
            for item in output
            if item["type"] == "message"
            for part in item["content"]
            if part["type"] == "output_text"
        )
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "completed_at": int(time.time()) if status == "completed" else None,
            "status": status,
            "error": {"code": _failure_code(error), "message": public_message(error)}
            if error is not None
            else None,
            "incomplete_details": {"reason": "max_output_tokens"}
            if status == "incomplete"
            else None,
            **self._echo,
            "output": list(output),
            "output_text": text,
            "usage": _usage(usage),
        }

    # -- events ------------------------------------------------------------------------
    def _event(self, kind: str, **payload: Any) -> Event:
        event = {"type": kind, **payload, "sequence_number": self._sequence}
        self._sequence += 1
        return event

    def start(self) -> list[Event]:
        snapshot = self.response("in_progress")
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def add(self, chunk: ChatCompletionChunk) -> list[Event]:
        if not chunk.choices:  # the last chunk: usage
            self._usage = chunk.usage
            return []
        choice = chunk.choices[0]
        delta = choice.delta
        events: list[Event] = []
        if delta.reasoning_content:
            events += self._text("reasoning", delta.reasoning_content)
        if delta.content:
            events += self._text("message", delta.content)
        for call in delta.tool_calls or ():
            events += self._call(call)
        if choice.finish_reason:
            self._finish_reason = choice.finish_reason
        return events

    def finish(self) -> tuple[list[Event], dict[str, Any]]:
        """The closing events and the final response (completed, or incomplete when
        the token limit cut the answer)."""
        status = "incomplete" if self._finish_reason == "length" else "completed"
        events = self._close("incomplete" if status == "incomplete" else "completed")
        if not self._output:  # an empty answer is still one (empty) message
            events += self._open("message")
            events += self._close("completed")
        response = self.response(status, usage=self._usage)
        events.append(self._event(f"response.{status}", response=response))
        return events, response

    def fail(self, exc: ConnectorError) -> tuple[list[Event], dict[str, Any]]:
        """After a failure mid-stream: an `error` event, then `response.failed` (what
        Codex acts on: it retries with the message)."""
        events = self._close("incomplete")
        response = self.response("failed", usage=self._usage, error=exc)
        events.append(
            self._event(
                "error", code=_failure_code(exc), message=public_message(exc), param=exc.param
            )
        )
        events.append(self._event("response.failed", response=response))
        return events, response

    def _open(self, kind: str, call: ToolCall | None = None) -> list[Event]:
        prefix = {"reasoning": "rs", "message": "msg", "function_call": "fc"}[kind]
        item = _Item(kind=kind, id=new_id(prefix), index=len(self._output))
        self._current = item
        if call is not None:
            item.call_id = call.id or new_id("call")
            item.name = call.function.name or ""
            item.tool_index = call.index
        added = item.body("in_progress")
        if kind == "reasoning":
            added["content"] = []
        elif kind == "message":
            added["content"] = []
        events = [self._event("response.output_item.added", output_index=item.index, item=added)]
        if kind != "function_call":
            events.append(self._part_event("response.content_part.added", item, ""))
        return events

    def _part_event(self, kind: str, item: _Item, text: str) -> Event:
        part = (
            {"type": "reasoning_text", "text": text}
            if item.kind == "reasoning"
            else _output_text(text)
        )
        return self._event(
            kind, item_id=item.id, output_index=item.index, content_index=0, part=part
        )

    def _close(self, status: str) -> list[Event]:
        item = self._current
        if item is None:
            return []
        self._current = None
        where = {"item_id": item.id, "output_index": item.index}
        if item.kind == "reasoning":
            events = [
                self._event(
                    "response.reasoning_text.done", **where, content_index=0, text=item.text
                ),
                self._part_event("response.content_part.done", item, item.text),
            ]
        elif item.kind == "message":
            events = [
                self._event(
                    "response.output_text.done",
                    **where,
                    content_index=0,
                    text=item.text,
                    logprobs=[],
                ),
                self._part_event("response.content_part.done", item, item.text),
            ]
        else:
            events = [
                self._event(
                    "response.function_call_arguments.done",
                    **where,
                    name=item.name,
                    arguments=item.text,
                )
            ]
        done = item.body(status)
        self._output.append(done)
        events.append(self._event("response.output_item.done", output_index=item.index, item=done))
        return events

    def _text(self, kind: str, text: str) -> list[Event]:
        events: list[Event] = []
        if self._current is None or self._current.kind != kind:
            events += self._close("completed")
            events += self._open(kind)
        item = self._current
        assert item is not None
        item.parts.append(text)
        where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        if kind == "reasoning":
            events.append(self._event("response.reasoning_text.delta", **where, delta=text))
        else:
            events.append(
                self._event("response.output_text.delta", **where, delta=text, logprobs=[])
            )
        return events

    def _call(self, call: ToolCall) -> list[Event]:
        events: list[Event] = []
        item = self._current
        same = (
            item is not None
            and item.kind == "function_call"
            and (call.index is None or call.index == item.tool_index)
            and not (call.id and call.id != item.call_id)
        )
        if not same:
            events += self._close("completed")
            events += self._open("function_call", call)
        item = self._current
        assert item is not None
        if not item.name and call.function.name:
            item.name = call.function.name
        if call.function.arguments:
            item.parts.append(call.function.arguments)
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item.id,
                    output_index=item.index,
                    delta=call.function.arguments,
                )
            )
        return events


# -- answers ---------------------------------------------------------------------------------
def frame(event: Event) -> bytes:
    return f"event: {event['type']}\ndata: {dumps(event)}\n\n".encode()


async def complete(
    chunks: AsyncIterator[ChatCompletionChunk], builder: ResponseBuilder, on_final: OnFinal | None
) -> dict[str, Any]:
    """The blocking answer: the same stream, drained."""
    async for chunk in chunks:
        builder.add(chunk)
    _, response = builder.finish()
    if on_final is not None:
        await on_final(response)
    return response


async def sse_events(
    chunks: AsyncIterator[ChatCompletionChunk],
    *,
    builder: ResponseBuilder,
    on_final: OnFinal | None,
) -> AsyncIterator[bytes]:
    """The stream as OpenAI frames it. `on_final` (storage) runs before the last event
    goes out, so a client that continues from this response at once finds it."""
    for event in builder.start():
        yield frame(event)
    try:
        async for chunk in chunks:
            events = builder.add(chunk)
            if events:
                yield b"".join(frame(event) for event in events)
        closing, response = builder.finish()
    except ConnectorError as exc:
        closing, response = builder.fail(exc)
    if on_final is not None:
        await on_final(response)
    yield b"".join(frame(event) for event in closing)
