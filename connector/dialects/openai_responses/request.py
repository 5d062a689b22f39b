"""Responses request -> `ChatRequest`: input items become chat messages, function
tools chat tools, `text.format` a `response_format`; what cannot run is left out."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from connector.errors import BadRequestError
from connector.schemas import (
    ChatMessage,
    ChatRequest,
    FunctionCall,
    JsonSchemaFormat,
    ResponseFormat,
    ToolCall,
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

_ITEMS: TypeAdapter[list[InputItem]] = TypeAdapter(list[InputItem])
_TOOL_CHOICE_MODES = ("auto", "none", "required")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


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
    if isinstance(choice, str):  # auto, none or required (the schema has checked)
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
