"""Request fields typed as JSON Schema types them, no looser and no stricter.

Pydantic's lax mode takes `"5"` and `true` for an integer, and `"yes"` for a
boolean; JSON Schema (the published contract) takes neither. Its strict mode goes
too far the other way: JSON Schema's `integer` includes `5.0`. `JsonInt` is the
integer the schema describes: any JSON number with no fraction, never a bool or a
string. Use `StrictBool` for booleans and `StrictFloat` for numbers.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a valid integer")
    return value


JsonInt = Annotated[int, BeforeValidator(json_number)]
# Bounds go before the validator: after it, pydantic cannot put them in the schema.
NonNegativeInt = Annotated[int, Field(ge=0), BeforeValidator(json_number)]
PositiveInt = Annotated[int, Field(ge=1), BeforeValidator(json_number)]
