"""ChatService chunks -> Responses output items, stream events and the response object."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from connector.dialects.base import dumps, public_message
from connector.dialects.openai_responses.request import new_id
from connector.errors import ConnectorError, RateLimitError
from connector.schemas import ChatCompletionChunk, ToolCall, Usage
from connector.schemas.responses import ResponsesRequest

Event = dict[str, Any]
OnFinal = Callable[[dict[str, Any]], Awaitable[None]]


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
    goes out, so a client that continues from this response at once finds it.

    `response.created` and `response.in_progress` go out in one write with the first
    chunk's events: the first chunk is already in hand when this starts
    (`open_stream`), and each write is a send through the server and a system call."""
    head = b"".join(frame(event) for event in builder.start())
    try:
        async for chunk in chunks:
            events = builder.add(chunk)
            if events:
                body = b"".join(frame(event) for event in events)
                if head:
                    body, head = head + body, b""
                yield body
        closing, response = builder.finish()
    except ConnectorError as exc:
        closing, response = builder.fail(exc)
    if on_final is not None:
        await on_final(response)
    yield head + b"".join(frame(event) for event in closing)
