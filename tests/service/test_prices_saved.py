"""Prices kept in the data directory: a later start prices its models without loading
genai-prices, with the same figures, and a file it cannot trust is priced again."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connector.services import pricing

REPO = Path(__file__).resolve().parents[2]

_START = textwrap.dedent(
    """
    import asyncio, json, sys
    from connector.config import Settings
    from connector.main import create_app
    from connector.services import pricing

    settings = Settings(key_store="memory", ollama_base_url="http://127.0.0.1:9")
    app = create_app(settings)

    async def main():
        async with app.router.lifespan_context(app):
            services = app.state.services
            await services.warmed_up
            # What a cloud request on this model does before its upstream call.
            await pricing.prepare("openai/gpt-4o")
            cost = pricing.chat_costs(False, "openai/gpt-4o", 1000, 500, "gpt-4o-mini")
            saved = pricing.chat_costs(True, "llama3", 1000, 500, "gpt-4o-mini")
            loaded = [m for m in ("genai_prices", "jsonschema") if m in sys.modules]
            print(json.dumps({"cost": cost, "saved": saved, "loaded": loaded}))

    asyncio.run(main())
    """
)


def _start(data_dir: Path) -> dict[str, object]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "CONNECTOR_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-c", _START], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def test_a_later_start_prices_its_models_without_loading_genai_prices(tmp_path: Path) -> None:
    first = _start(tmp_path)
    assert first["loaded"] == ["genai_prices"]  # nothing saved yet; no JSON Schema either
    saved = json.loads((tmp_path / "prices.json").read_text())
    assert set(saved["rates"]) == {"gpt-4o", "gpt-4o-mini"}
    assert all(r is not None and r[0] > 0 and r[1] > 0 for r in saved["rates"].values())

    later = _start(tmp_path)
    assert later["loaded"] == []
    assert later["cost"] == first["cost"] and later["saved"] == first["saved"]
    cost, reference = first["cost"], first["saved"]
    assert isinstance(cost, list) and cost[0] > 0 and cost[1] is None
    assert isinstance(reference, list) and reference[0] == 0.0 and reference[1] > 0


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's pricing without what other tests priced or saved."""
    monkeypatch.setattr(pricing, "_known", {})
    monkeypatch.setattr(pricing, "_saved_path", None)


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize(
    "body",
    [
        '{"data": "other-release", "rates": {"gpt-4o": [1.0, 1.0]}}',  # other genai-prices data
        '{"data": null, "rates": {"gpt-4o": [1.0, 1.0]}}',
        "not json",
        '{"rates": {"gpt-4o": 5}}',
        "[]",
    ],
)
def test_saved_prices_it_cannot_trust_are_priced_again(tmp_path: Path, body: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(body)
    pricing.use_saved(path)
    assert not pricing.known("gpt-4o")
    rates = pricing.openai_cost("gpt-4o", 1_000_000, 0)
    assert rates is not None and rates != 1.0  # genai-prices' figure, not the file's
    rewritten = json.loads(path.read_text())
    assert rewritten["data"] == pricing._data_id() and "gpt-4o" in rewritten["rates"]


@pytest.mark.usefixtures("fresh")
def test_saved_prices_of_this_data_are_taken_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    rates = {"gpt-4o": [2e-6, 8e-6], "not-a-model": None}
    path.write_text(json.dumps({"data": pricing._data_id(), "rates": rates}))
    pricing.use_saved(path)
    assert pricing.known("openai/gpt-4o") and pricing.known("not-a-model")
    assert pricing.openai_cost("openai/gpt-4o", 1000, 1000) == pytest.approx(1000 * 2e-6 + 8e-3)
    assert pricing.openai_cost("not-a-model", 1000, 1000) is None


@pytest.mark.usefixtures("fresh")
def test_client_chosen_model_names_are_not_kept_without_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pricing, "_MAX_KNOWN", 3)
    pricing.use_saved(tmp_path / "prices.json")
    for i in range(6):
        assert pricing.openai_cost(f"no-such-model-{i}", 10, 10) is None
    assert len(json.loads((tmp_path / "prices.json").read_text())["rates"]) == 3
    assert not pricing.known("no-such-model-5")


@pytest.mark.usefixtures("fresh")
def test_a_data_directory_that_is_not_there_saves_nothing(tmp_path: Path) -> None:
    pricing.use_saved(tmp_path / "missing" / "prices.json")
    assert pricing.openai_cost("gpt-4o", 10, 10) is not None
    assert not (tmp_path / "missing").exists()
