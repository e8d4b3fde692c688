"""Lists of records: the filters a caller may combine, and a page with its continuation.

A position is the data layer's opaque index key (strings only); services bind it to the query
it came from with media_core.domain.cursor before it reaches a client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from media_core.domain.models import Kind, MediaRecord, Moderation, Status

Position = dict[str, str]


@dataclass(frozen=True)
class MediaFilter:
    kind: Kind | None = None
    status: Status | None = None
    tag: str | None = None
    moderation: Moderation | None = None
    entity_type: str | None = None
    entity_id: str | None = None

    # entity_type and entity_id each narrow on their own (media linked to any entity of that type,
    # or to an entity of that id of any type); together they name one entity.

    def scope(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list to read: at most `size` records after `after` (None: from the start)
    that pass `accept`, a check the index cannot make (e.g. whether the caller may see a record)."""

    size: int
    after: Position | None = None
    accept: Callable[[MediaRecord], bool] | None = None


@dataclass(frozen=True)
class Page:
    records: list[MediaRecord]
    next_position: Position | None  # where to continue from (None: no more)
