"""Reading Query results page by page (the one paging loop of the data layer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from media_core.domain.errors import InvalidRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def query_items(table: Table, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a Query returns, following LastEvaluatedKey."""
    while True:
        page = table.query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def checked_position(
    position: Mapping[str, str], attributes: Sequence[str], fixed: Mapping[str, str]
) -> dict[str, str]:
    """A client-carried index position must hold exactly this index's key attributes and stay in
    the partition of the query (e.g. the caller's own owner partition)."""
    if (
        set(position) != set(attributes)
        or not all(isinstance(v, str) and 0 < len(v) <= 512 for v in position.values())
        or any(position.get(name) != value for name, value in fixed.items())
    ):
        raise InvalidRequest("cursor", "not a cursor of this query; start again without one")
    return dict(position)
