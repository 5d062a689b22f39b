"""Eight streams at once, one per llama-server slot: all complete, they really overlap,
and /usage counts every one with the server's token numbers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.llama.helpers import DONE, TimedStream, body, read_stream
from tests.llama.server import SLOTS, LlamaServer

PROMPTS = [
    "Write a long story about a dragon.",
    "Describe the sea in a few sentences.",
    "Tell me about the moon.",
    "Write a poem about autumn.",
    "Explain what a computer is.",
    "Describe a busy city street.",
    "Tell me about cats.",
    "Write a short letter to a friend.",
]
MAX_TOKENS = 48


def test_eight_concurrent_streams_complete_and_are_counted(
    connector: str, llama: LlamaServer
) -> None:
    assert len(PROMPTS) == SLOTS
    url = f"{connector}/chat/completions/stream"
    peak_busy = 0

    with httpx.Client(timeout=180, limits=httpx.Limits(max_connections=SLOTS)) as client:

        def run(prompt: str) -> TimedStream:
            return read_stream(client, url, body(prompt, max_tokens=MAX_TOKENS))

        with ThreadPoolExecutor(max_workers=SLOTS) as pool:
            futures = [pool.submit(run, prompt) for prompt in PROMPTS]
            # While they run, the server shows several slots busy at once.
            while not all(f.done() for f in futures):
                peak_busy = max(peak_busy, len(llama.busy_slots()))
            streams = [f.result() for f in futures]

    usages = []
    for timed in streams:
        assert timed.events[-1] == DONE
        final = timed.events[-2]
        assert final["choices"] == [], final
        assert timed.text
        usage = final["usage"]
        assert 0 < usage["completion_tokens"] <= MAX_TOKENS
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        usages.append(usage)
    # The answers overlapped in time: every stream began before any one ended.
    first_ends = min(t.arrivals[-1] for t in streams)
    assert all(t.content_times()[0] < first_ends for t in streams)
    assert peak_busy >= 2, peak_busy

    summary = httpx.get(f"{connector}/usage", timeout=10).json()
    totals = summary["totals"]
    assert (totals["requests"], totals["ok"], totals["errors"], totals["cancelled"]) == (
        SLOTS,
        SLOTS,
        0,
        0,
    )
    assert totals["prompt_tokens"] == sum(u["prompt_tokens"] for u in usages)
    assert totals["completion_tokens"] == sum(u["completion_tokens"] for u in usages)
    assert totals["total_tokens"] == sum(u["total_tokens"] for u in usages)
    (model,) = summary["by_model"]
    assert (model["provider"], model["model"], model["requests"]) == ("openai", "smollm2", SLOTS)
    assert sorted(r["completion_tokens"] for r in summary["recent"]) == sorted(
        u["completion_tokens"] for u in usages
    )
