"""Python values <-> DynamoDB types (the table resource serialises; numbers must be Decimal)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def to_dynamo(value: Any) -> Any:
    """JSON-safe Python -> DynamoDB types (floats become Decimal; Decimals stay)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values for the table resource's client, which serialises Python types itself."""
    return {k: to_dynamo(v) for k, v in values.items()}
