"""Prices from genai-prices, kept per model as linear per-token rates.

The one rule for cost and savings: a request served by an endpoint priced `local`
costs 0 and carries what the same tokens would have cost on the reference model, which
is what it saved (`saved_usd`, stored on the record); an endpoint priced `cloud` costs
the model's price and saves nothing.

genai-prices holds every provider's tables in Python: importing it takes about 0.1 s
and 6 MB for as long as the process lives (measured 2026-12-03), for the handful of
models one machine uses. So the rates of every model priced are kept in a small file
in the data directory (`use_saved`), tied to the installed genai-prices data; a start
that finds its models there never imports the library. A model not yet priced is
priced in a thread (`prepare`), before the request that needs it is recorded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_PER = 1_000_000
# Model names come from clients: past this many, new ones are priced every time, not kept.
_MAX_KNOWN = 512
Rates = tuple[float, float]  # USD per input token, per output token

# Rates by model name (None: genai-prices does not know it), of the data `_data_id`
# names; read from and written to `_saved_path`.
_known: dict[str, Rates | None] = {}
_saved_path: Path | None = None
_write_lock = threading.Lock()


def _data_id() -> str | None:
    """Which genai-prices data is installed: its data module's size and modification
    time (asking the package metadata for its version takes 60 ms here)."""
    spec = importlib.util.find_spec("genai_prices")
    if spec is None or spec.origin is None:
        return None
    try:
        stat = os.stat(Path(spec.origin).with_name("data.py"))
    except OSError:
        return None
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def use_saved(path: Path) -> None:
    """Take the rates saved in `path` when they come from the installed data, and save
    newly priced models there (blocking: call off-loop). An unreadable or outdated file
    is ignored and written again."""
    global _saved_path
    if not path.parent.is_dir():  # a database elsewhere, and no data directory made
        return
    _saved_path = path
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("data") != _data_id():
            return
        for name, rates in saved["rates"].items():
            _known.setdefault(name, None if rates is None else (float(rates[0]), float(rates[1])))
    except FileNotFoundError:
        return
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        log.warning("Ignoring the saved prices in %s: %s", path, exc)


def _name(model: str) -> str:
    return model.split("/", 1)[-1]


def known(model: str) -> bool:
    """Whether `model`'s rates are at hand without genai-prices."""
    return _name(model) in _known


def _rates(model: str) -> Rates | None:
    """USD per input token and per output token, or None for an unknown model."""
    name = _name(model)
    if name in _known:
        return _known[name]
    # Imported on first use, so a start whose models are saved never loads it.
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    try:
        inp = calc_price(PriceUsage(input_tokens=_PER, output_tokens=0), name, provider_id="openai")
        out = calc_price(PriceUsage(input_tokens=0, output_tokens=_PER), name, provider_id="openai")
        rates: Rates | None = (float(inp.total_price) / _PER, float(out.total_price) / _PER)
    except LookupError:
        rates = None
    if len(_known) < _MAX_KNOWN:
        _known[name] = rates
        _save()
    return rates


def _save() -> None:
    path = _saved_path
    if path is None or not path.parent.is_dir():  # a data directory since removed
        return
    with _write_lock:
        body = {
            "data": _data_id(),
            "rates": {k: None if v is None else list(v) for k, v in sorted(_known.items())},
        }
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # a cache: pricing goes on without it
            log.warning("Could not save prices to %s: %s", path, exc)


async def prepare(*models: str) -> None:
    """Price `models` in a thread unless they are known: the first price lookup may
    import genai-prices, which must not stall the event loop."""
    missing = [m for m in models if not known(m)]
    if missing:
        await asyncio.to_thread(lambda: [_rates(m) for m in missing])


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
    """Price the reference model (every local request needs it) before a request does
    (blocking: call off-loop); with its rates saved, this loads nothing."""
    _rates(reference_model)
