"""Opaque page cursors: base64url of the index position (DynamoDB's LastEvaluatedKey) bound to
the query it came from. A cursor that does not decode, has the wrong shape, or was issued for
another query (another owner, entity or filter set) is refused with a 422 naming `cursor`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from media_core.domain.errors import InvalidRequest


def _scope_hash(scope: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(scope, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(key: Mapping[str, Any], scope: Mapping[str, Any]) -> str:
    payload = {"k": {k: str(v) for k, v in key.items()}, "s": _scope_hash(scope)}
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, scope: Mapping[str, Any]) -> dict[str, str]:
    """The position in `cursor`, which must have been issued for this `scope`; the data layer
    checks that the position itself belongs to the query's index partition."""
    bad = InvalidRequest("cursor", "not a cursor of this query; start again without one")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(payload, dict) or payload.get("s") != _scope_hash(scope):
        raise bad
    key = payload.get("k")
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise bad
    return {str(k): v for k, v in key.items()}
