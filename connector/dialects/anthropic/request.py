"""An Anthropic Messages request as the connector's `ChatRequest`."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from connector.dialects.base import dumps
from connector.errors import BadRequestError
from connector.schemas import ChatMessage, ChatRequest, FunctionCall, ToolCall
from connector.schemas.anthropic import (
    CountTokensRequest,
    CustomTool,
    ImageBlock,
    MessageParam,
    MessagesRequest,
    OtherBlock,
    OutputConfig,
    RedactedThinkingBlock,
    TextBlock,
    Thinking,
    ThinkingBlock,
    ThinkingDisabled,
    ThinkingEnabled,
    ToolChoice,
    ToolResultBlock,
    ToolUseBlock,
)

log = logging.getLogger("connector.dialects.anthropic")

# Claude Code's first system block is billing metadata for Anthropic, not an
# instruction; it changes between versions and sits at the very front of the prompt,
# where any change makes a local server re-read the whole 19,000-token prompt
# instead of reusing its cached prefix.
_BILLING_PREFIX = "x-anthropic-billing-header:"
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "max": "xhigh", "xhigh": "xhigh"}


def _system_text(system: str | list[TextBlock] | None) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    return "\n".join(b.text for b in system if not b.text.startswith(_BILLING_PREFIX))


def _image_url(block: ImageBlock) -> str:
    source = block.source
    if source.type == "base64":
        return f"data:{source.media_type};base64,{source.data}"
    return source.url


def _other_text(block: OtherBlock) -> str | None:
    """Text a block the connector does not model still carries (a plain-text
    `document`, a `search_result`'s text), else None."""
    extra = block.model_extra or {}
    text = extra.get("text")
    if isinstance(text, str):
        return text
    source = extra.get("source")
    if isinstance(source, dict) and source.get("type") == "text":
        data = source.get("data")
        return data if isinstance(data, str) else None
    return None


def _result_text(block: ToolResultBlock, images: list[str]) -> str:
    if isinstance(block.content, str):
        text = block.content
    else:
        parts: list[str] = []
        for item in block.content or []:
            if isinstance(item, TextBlock):
                parts.append(item.text)
            elif isinstance(item, ImageBlock):
                images.append(_image_url(item))  # tool messages carry no images
            elif (other := _other_text(item)) is not None:
                parts.append(other)
        text = "\n".join(parts)
    # Chat tool messages have no error flag; the model is told in words.
    return f"Error: {text}" if block.is_error else text


def _user_content(texts: list[str], images: list[str]) -> str | list[dict[str, Any]]:
    if not images:
        return "\n".join(texts)
    parts: list[dict[str, Any]] = [{"type": "text", "text": t} for t in texts]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
    return parts


def _messages(message: MessageParam, tool_names: dict[str, str]) -> list[ChatMessage]:
    if isinstance(message.content, str):
        return [ChatMessage(role=message.role, content=message.content)]
    texts: list[str] = []
    images: list[str] = []
    thinking: list[str] = []
    calls: list[ToolCall] = []
    results: list[ChatMessage] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ImageBlock):
            images.append(_image_url(block))
        elif isinstance(block, ToolUseBlock):
            tool_names[block.id] = block.name
            calls.append(
                ToolCall(
                    id=block.id,
                    function=FunctionCall(name=block.name, arguments=dumps(block.input)),
                )
            )
        elif isinstance(block, ToolResultBlock):
            results.append(
                ChatMessage(
                    role="tool",
                    tool_call_id=block.tool_use_id,
                    name=tool_names.get(block.tool_use_id),
                    content=_result_text(block, images),
                )
            )
        elif isinstance(block, ThinkingBlock):
            thinking.append(block.thinking)
        elif isinstance(block, RedactedThinkingBlock):
            continue  # encrypted by Anthropic: nothing a local model can read
        elif (other := _other_text(block)) is not None:
            texts.append(other)
    out = list(results)  # a tool result answers the call just before it
    if message.role == "assistant":
        if texts or calls or thinking:
            out.append(
                ChatMessage(
                    role="assistant",
                    content="\n".join(texts) if texts or not calls else None,
                    tool_calls=calls or None,
                    reasoning_content="".join(thinking) or None,
                )
            )
    elif texts or images or not results:
        out.append(ChatMessage(role=message.role, content=_user_content(texts, images)))
    return out


def _tools(tools: list[Any] | None) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    out: list[dict[str, Any]] = []
    left_out: list[str] = []
    for tool in tools:
        if not isinstance(tool, CustomTool):
            left_out.append(f"{tool.name or '?'} ({tool.type})")
            continue
        function: dict[str, Any] = {"name": tool.name, "parameters": tool.input_schema}
        if tool.description:
            function["description"] = tool.description
        out.append({"type": "function", "function": function})
    if left_out:
        log.info(
            "Left out %d Anthropic server tool(s) a local model cannot run: %s",
            len(left_out),
            ", ".join(left_out),
        )
    return out or None


def _tool_choice(choice: ToolChoice | None) -> tuple[str | dict[str, Any] | None, bool | None]:
    if choice is None:
        return None, None
    parallel = None if choice.type == "none" or not choice.disable_parallel_tool_use else False
    if choice.type == "tool":
        return {"type": "function", "function": {"name": choice.name}}, parallel
    return {"auto": "auto", "any": "required", "none": "none"}[choice.type], parallel


def reasoning_effort(thinking: Thinking | None, output: OutputConfig | None) -> str | None:
    """`thinking` as the provider's reasoning control. A budget maps to the level
    Claude Code's own keywords ask for (think 4k: low, think hard 10k: medium,
    ultrathink 32k: high); `adaptive` (or no `thinking`) leaves it to
    `output_config.effort` when given, as Ollama does."""
    if isinstance(thinking, ThinkingDisabled):
        return "none"
    if isinstance(thinking, ThinkingEnabled):
        budget = thinking.budget_tokens
        return "low" if budget < 8192 else "medium" if budget < 24576 else "high"
    effort = (output.effort or "").strip().lower() if output else ""
    return _EFFORTS.get(effort)


def to_chat_request(body: CountTokensRequest) -> ChatRequest:
    """The Anthropic request as the connector's ChatRequest (the model keeps its
    `ollama/` or `openai/` prefix; ChatService resolves it)."""
    messages: list[ChatMessage] = []
    if system := _system_text(body.system):
        messages.append(ChatMessage(role="system", content=system))
    tool_names: dict[str, str] = {}
    for message in body.messages:
        messages.extend(_messages(message, tool_names))
    choice, parallel = _tool_choice(body.tool_choice)
    fields: dict[str, Any] = {
        "model": body.model,
        "messages": messages,
        "tools": _tools(body.tools),
        "tool_choice": choice,
        "reasoning_effort": reasoning_effort(body.thinking, body.output_config),
    }
    if parallel is not None:
        fields["parallel_tool_calls"] = parallel
    if isinstance(body, MessagesRequest):
        fields.update(
            max_tokens=body.max_tokens,
            stop=body.stop_sequences or None,
            temperature=body.temperature,
            top_p=body.top_p,
            stream=body.stream,
        )
        if body.top_k is not None:
            fields["top_k"] = body.top_k  # passed on as llama.cpp, vLLM and Ollama take it
    try:
        return ChatRequest(**fields)
    except ValidationError as exc:  # e.g. nothing left to send once blocks are read
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "messages"
        raise BadRequestError(
            f"Invalid request: {where}: {exc.errors()[0]['msg']}", param=where
        ) from exc
