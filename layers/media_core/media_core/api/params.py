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
UploadId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9._~-]{1,1024}$", description="The multipart upload's id (S3's UploadId)")
]
UploadKey = Annotated[
    str,
    Query(min_length=1, max_length=1024, description="The object key the server made for this upload"),
]
PartNumber = Annotated[int, Path(ge=1, le=10_000, description="Part number (1-based)")]
