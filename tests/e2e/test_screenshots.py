"""Screenshots of the four pages in light and dark, with some data in them, written to
docs/screenshots/ (committed, so the look of the UI is reviewable)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import ollama

from tests.fakes.upstream import FakeUpstream

from .helpers import send_message, wait_reply_done

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = ("chat", "monitoring", "settings", "profile")
# A saved turn with code, a list and a table, so the screenshots show how replies render.
RICH_QUESTION = "Show me how to call the connector from Python."
RICH_ANSWER = """Use the official `openai` package and point it at the connector:

```python
from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused")
reply = client.chat.completions.create(
    model="ollama/gpt-oss:20b",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(reply.choices[0].message.content)
```

| prefix | goes to |
|---|---|
| `ollama/` | your local Ollama |
| `openai/` | OpenAI, with your key |
"""


def add_rich_turn(base_url: str, conversation_id: str) -> None:
    """Appends RICH_QUESTION/RICH_ANSWER to a saved conversation through the API."""
    path = f"{base_url}/conversations/{conversation_id}"
    messages = httpx.get(path).raise_for_status().json()["messages"]
    kept = [
        {k: m.get(k) for k in ("role", "content", "reasoning_content", "parsed", "metrics")}
        for m in messages
    ]
    metrics = dict(kept[-1]["metrics"] or {})
    kept += [
        {"role": "user", "content": RICH_QUESTION},
        {"role": "assistant", "content": RICH_ANSWER, "metrics": metrics},
    ]
    httpx.put(path + "/messages", json={"messages": kept}).raise_for_status()


def test_screenshots_of_every_page(
    new_page: Callable[..., Any], live_server: str, upstream: FakeUpstream
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    upstream.chunk_delay = 0.01  # tokens paced like a model's, so timings and rates show
    seed = new_page()
    seed.goto(live_server + "/app/profile")
    seed.fill("#display-name", "Ada Lovelace")
    seed.fill("#email", "ada@example.com")
    seed.get_by_role("button", name="Save profile").click()
    seed.get_by_text("Profile saved.").wait_for()
    seed.goto(live_server + "/app/chat")
    # One cloud request, so cost shows next to the local runs' savings.
    seed.wait_for_selector("#model-input:not([value=''])")
    seed.select_option("#provider-select", "openai")
    seed.fill("#model-input", "gpt-4o-mini")
    send_message(seed, "Say hello")
    wait_reply_done(seed)
    seed.get_by_role("button", name="+ New chat").click()
    seed.select_option("#provider-select", "ollama")
    seed.fill("#model-input", "gpt-oss:20b")
    upstream.scenario = "thinking"
    send_message(seed, "What is 1+1?")
    wait_reply_done(seed)
    upstream.scenario = "default"
    send_message(seed, "Why is the sky blue?")
    wait_reply_done(seed)
    seed.locator(".conv.active .conv-meta", has_text="4 msg").wait_for()
    # A program on Ollama's API too, so Monitoring's "By client" table has two callers.
    ollama.Client(host=live_server).chat(
        model="gpt-oss:20b", messages=[{"role": "user", "content": "Why is the sky blue?"}]
    )
    # A script with its own app key and a daily token budget, so Monitoring shows
    # "By key" with a budget bar.
    made = httpx.post(
        f"{live_server}/keys", json={"name": "ci-script", "limits": {"tokens_per_day": 1000}}
    )
    httpx.post(
        f"{live_server}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "Why is the sky blue?"}]},
        headers={"Authorization": f"Bearer {made.raise_for_status().json()['key']}"},
    ).raise_for_status()
    chat_url = seed.url
    add_rich_turn(live_server, chat_url.rsplit("/", 1)[-1])

    written = []
    for scheme in ("light", "dark"):
        page = new_page(color_scheme=scheme)
        for name in PAGES:
            page.goto(chat_url if name == "chat" else f"{live_server}/app/{name}")
            if name == "chat":
                page.wait_for_selector(".msg-assistant .reply pre code.hljs")
                page.locator(".thinking-toggle").first.click()
                page.locator(".transcript").evaluate("el => { el.scrollTop = el.scrollHeight }")
            elif name == "monitoring":
                page.get_by_test_id("live-state").get_by_text("Live").wait_for()
                page.wait_for_selector("[data-testid=recent] tbody tr")
            elif name == "settings":
                page.get_by_test_id("key-status").wait_for()
            else:
                page.wait_for_selector("#display-name")
            theme = page.evaluate("document.documentElement.dataset.theme")
            assert theme == scheme, f"{name}: theme {theme}, wanted {scheme}"
            page.wait_for_timeout(300)  # let transitions settle
            path = OUT / f"{name}-{scheme}.png"
            page.screenshot(path=str(path))
            written.append(path)
            if name == "settings":
                # The app keys, further down: the keyed script's budget bar.
                keys = page.locator("#keys")
                keys.get_by_text("ci-script").wait_for()
                keys.scroll_into_view_if_needed()
                path = OUT / f"keys-{scheme}.png"
                keys.screenshot(path=str(path))
                written.append(path)
    for path in written:
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"
