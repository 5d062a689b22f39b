"""Prices from genai-prices, cached per model as linear per-token rates.

The one rule for cost and savings: a request served by an endpoint priced `local`
costs 0 and carries what the same tokens would have cost on the reference model, which
is what it saved (`saved_usd`, stored on the record); an endpoint priced `cloud` costs
the model's price and saves nothing.
"""

from __future__ import annotations

from functools import lru_cache

_PER = 1_000_000


@lru_cache(maxsize=256)
def _rates(model: str) -> tuple[float, float] | None:
    """USD per input token and per output token, or None for an unknown model."""
    # Imported on first use (~0.1 s and 5 MB with its tables), so start-up does not
    # wait for it: the app's services call `warm_up` in a thread once they serve.
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    name = model.split("/", 1)[-1]
    try:
        inp = calc_price(PriceUsage(input_tokens=_PER, output_tokens=0), name, provider_id="openai")
        out = calc_price(PriceUsage(input_tokens=0, output_tokens=_PER), name, provider_id="openai")
    except LookupError:
        return None
    return float(inp.total_price) / _PER, float(out.total_price) / _PER


def openai_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    rates = _rates(model)
    if rates is None:
        return None
    return prompt_tokens * rates[0] + completion_tokens * rates[1]


def chat_costs(
    local: bool, model: str, prompt_tokens: int, completion_tokens: int, reference_model: str
) -> tuple[float, float | None]:
    """(cost, reference cost) of a chat served by a local or a cloud endpoint."""
    if local:
        return 0.0, openai_cost(reference_model, prompt_tokens, completion_tokens)
    return openai_cost(model, prompt_tokens, completion_tokens) or 0.0, None


def saved_usd(local: bool, reference_cost_usd: float | None) -> float:
    """What a request saved: a local endpoint's reference cost; a cloud one's nothing."""
    return (reference_cost_usd or 0.0) if local else 0.0


def warm_up(reference_model: str) -> None:
    """Load the price data (it takes ~0.15 s) before a request needs it (blocking: call
    off-loop)."""
    _rates(reference_model)
