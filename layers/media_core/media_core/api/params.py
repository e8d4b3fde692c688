"""Path and query parameter types shared by the API functions (validated by Powertools)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

MediaId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Media id")]
PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page (1-100)")]
Cursor = Annotated[
    str | None, Query(max_length=2048, description="The `next` value of the previous page (opaque)")
]
EntityType = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
EntityId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
OwnerId = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z0-9_-]{1,128}$", description="The entity's owner (default: the caller)"),
]
