"""Who is calling, and what they may see. Claims come only from the authorizer's request context."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from media_core.errors import NotFound, Unauthorized
from media_core.keys import check_owner
from media_core.models import MediaRecord, Status


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: frozenset[str]
    admin_group: str = "admin"

    @property
    def is_admin(self) -> bool:
        return self.admin_group in self.groups


def parse_groups(raw: Any) -> frozenset[str]:
    """`cognito:groups` arrives as a list, a JSON list, or API Gateway's "[a, b]" / "a,b" string."""
    if raw is None or raw == "":
        return frozenset()
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    text = str(raw).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return frozenset(str(g) for g in parsed)
        except json.JSONDecodeError:
            text = text.strip("[]")
    return frozenset(g for g in (part.strip() for part in text.replace(",", " ").split()) if g)


def caller_from_claims(claims: Mapping[str, Any] | None, admin_group: str = "admin") -> Caller:
    if not claims or not claims.get("sub"):
        raise Unauthorized("missing or invalid token")
    return Caller(
        sub=check_owner(str(claims["sub"])),
        groups=parse_groups(claims.get("cognito:groups")),
        admin_group=admin_group,
    )


def owned_record(caller: Caller, record: MediaRecord | None, media_id: str) -> MediaRecord:
    """The record if the caller owns it (or is an admin); NotFound otherwise — never a hint which."""
    if (
        record is None
        or record.status == Status.DELETED
        or (record.owner != caller.sub and not caller.is_admin)
    ):
        raise NotFound(f"media {media_id} not found")
    return record
