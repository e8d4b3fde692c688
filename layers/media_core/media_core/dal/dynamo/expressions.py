"""Update and condition expressions, built from domain arguments with generated placeholders.

Conditions are a list of clauses joined with AND; a clause is parenthesised only when it holds
an OR. DynamoDB refuses redundant parentheses ("((a) AND (b))" is a ValidationException), which
is how a hand-written guard once sent messages to the DLQ."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from media_core.dal.dynamo.convert import to_dynamo
from media_core.dal.dynamo.keys import entity_partition
from media_core.domain.counters import stored_bytes
from media_core.domain.guards import RecordGuard
from media_core.domain.models import MediaRecord, Status
from media_core.domain.paging import MediaFilter


class Expression:
    """Placeholders shared by an item's UpdateExpression and ConditionExpression."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.adds: list[str] = []
        self.conditions: list[str] = []

    # ---------------------------------------------------------------- placeholders
    def name(self, path: str) -> str:
        """`a.b` -> `#n0.#n1` (a nested attribute path)."""
        parts = []
        for attribute in path.split("."):
            placeholder = f"#n{len(self.names)}"
            self.names[placeholder] = attribute
            parts.append(placeholder)
        return ".".join(parts)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = to_dynamo(value)
        return placeholder

    # ---------------------------------------------------------------- update
    def set(self, attribute: str, value: Any) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.value(value)}")

    def remove(self, attribute: str) -> None:
        self.removes.append(self.name(attribute))

    def add(self, attribute: str, amount: int) -> None:
        self.adds.append(f"{self.name(attribute)} {self.value(amount)}")

    def bump_version(self) -> None:
        version = self.name("version")
        self.sets.append(f"{version} = {version} + {self.value(1)}")

    def update_expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        if self.adds:
            parts.append("ADD " + ", ".join(self.adds))
        return " ".join(parts)

    # ---------------------------------------------------------------- conditions
    def require(self, clause: str) -> None:
        self.conditions.append(f"({clause})" if " OR " in clause else clause)

    def exists(self) -> None:
        self.require("attribute_exists(pk)")

    def not_exists(self) -> None:
        self.require("attribute_not_exists(pk)")

    def equals(self, attribute: str, value: Any) -> None:
        self.require(f"{self.name(attribute)} = {self.value(value)}")

    def differs(self, attribute: str, value: Any) -> None:
        """The attribute is absent or holds another value."""
        name = self.name(attribute)
        self.require(f"attribute_not_exists({name}) OR {name} <> {self.value(value)}")

    def at_most(self, attribute: str, limit: int) -> None:
        """A counter is absent (zero) or at most `limit` (callers make sure limit >= 0)."""
        name = self.name(attribute)
        self.require(f"attribute_not_exists({name}) OR {name} <= {self.value(limit)}")

    def in_state(self, record: MediaRecord) -> None:
        """The stored record is in the state the counters were computed from: same status, and for
        a ready record the same counted bytes."""
        self.exists()
        self.equals("status", record.status.value)
        if record.status == Status.READY:
            name = self.name("stats_bytes")
            self.require(f"attribute_not_exists({name}) OR {name} = {self.value(stored_bytes(record))}")

    def guarded(self, guard: RecordGuard | None) -> None:
        for condition in guard.conditions() if guard is not None else []:
            if condition.equal:
                self.equals(condition.path, condition.value)
            else:
                self.differs(condition.path, condition.value)

    def names_primary(self, media_id: str | None) -> None:
        """A primary marker (keys.primary_key) names `media_id`; None: there is no marker."""
        if media_id is None:
            self.not_exists()
        else:
            self.exists()
            self.equals("media_id", media_id)

    def is_primary_of(self, owner: str, entity_type: str, entity_id: str) -> None:
        """The stored record is the primary item of the owner's entity (a tombstone never is: it
        left the entity index). An equality fails on a missing item: no attribute_exists needed."""
        self.equals("owner", owner)
        self.equals("is_primary", True)
        self.equals("entity_pk", entity_partition(owner, entity_type, entity_id))

    def condition_expression(self) -> str:
        return " AND ".join(self.conditions)

    def _conditioned(self, operation: dict[str, Any]) -> dict[str, Any]:
        if self.conditions:
            operation["ConditionExpression"] = self.condition_expression()
        if self.names:
            operation["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            operation["ExpressionAttributeValues"] = dict(self.values)
        return operation

    def put(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        """A `Put` of TransactWriteItems, under this expression's conditions."""
        return {"Put": self._conditioned({"TableName": table, "Item": item})}

    def delete(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        """A `Delete` of TransactWriteItems, under this expression's conditions."""
        return {"Delete": self._conditioned({"TableName": table, "Key": key})}

    def item(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        """An `Update` of TransactWriteItems (or UpdateItem kwargs without TableName)."""
        return self._conditioned(
            {"TableName": table, "Key": key, "UpdateExpression": self.update_expression()}
        )


def filter_condition(media_filter: MediaFilter, owner: str) -> ConditionBase | None:
    """A FilterExpression for the owner's list (filters combine with AND)."""
    parts: list[ConditionBase] = []
    if media_filter.kind:
        parts.append(Attr("kind").eq(media_filter.kind.value))
    if media_filter.status:
        parts.append(Attr("status").eq(media_filter.status.value))
    if media_filter.tag:
        parts.append(Attr("tags").contains(media_filter.tag))
    if media_filter.moderation:
        parts.append(Attr("moderation").eq(media_filter.moderation.value))
    if media_filter.entity_type and media_filter.entity_id:
        partition = entity_partition(owner, media_filter.entity_type, media_filter.entity_id)
        parts.append(Attr("entity_pk").eq(partition))
    elif media_filter.entity_type:
        parts.append(Attr("entity.type").eq(media_filter.entity_type))
    elif media_filter.entity_id:
        parts.append(Attr("entity.id").eq(media_filter.entity_id))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined
