"""The table's key scheme, in one place. Every partition and sort key string is made here.

Item layout (one table):
  pk=MEDIA#{id}  sk=MEDIA                       the record
  owner_pk=OWNER#{owner}        owner_sk={created_at}#{id}          index ByOwner (newest first)
  entity_pk=ENTITY#{owner}#{type}#{id}  entity_sk={0 primary|1}#{created_at}  index ByEntity
  status_pk=STATUS#{status}     status_sk={updated_at}#{id}          index ByStatus (reapers, cleanup)
  moderation_pk=MODERATION#{m}  moderation_sk={created_at}#{id}      index ByModeration
  expires_at                    TTL (records never uploaded, deleted-record tombstones, audit entries)
  stats_bytes                   what the record adds to its owner's total_bytes
  pk=STATS#{owner} sk=STATS     the owner's counters;  pk=STATS#ALL sk=STATS  everyone's
  pk=ENTITY#{owner}#{type}#{id}  sk=PRIMARY  media_id              the entity's primary item (one)
  pk=MEDIA#{id}  sk=AUDIT#{at}#{uuid}                               the audit trail
  pk=DUP#{owner}#sha256#{hex} | DUP#{owner}#phash#{band}  sk={id}   the duplicate index
  pk=QUOTA#{owner}  sk=DAY#{yyyy-mm-dd}                             bytes started per day
  pk=OUTBOX  sk={at}#{media_id}#{uuid}  detail_type, detail        events not yet on the bus

Entity galleries belong to the entity's owner: the partition carries the owner, so nobody can
add to, reorder or demote another user's gallery (there is no shared `ENTITY#{type}#{id}`).

The primary marker is what makes "one primary per entity" hold: the ByEntity index is never
strongly consistent, so a primary is claimed by a conditional write of the marker, in the same
transaction as the records' is_primary changes (repository.MediaRepository.update). It carries
no index attributes, so it is in no index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from media_core.dal.dynamo.convert import from_dynamo, to_dynamo
from media_core.domain.counters import stored_bytes
from media_core.domain.models import MediaRecord, Moderation, Status, iso_timestamp

RECORD_SK = "MEDIA"
PRIMARY_SK = "PRIMARY"
STATS_SK = "STATS"
ALL_OWNERS = "ALL"
AUDIT_PREFIX = "AUDIT#"
INDEX_BY_OWNER = "ByOwner"
INDEX_BY_ENTITY = "ByEntity"
INDEX_BY_STATUS = "ByStatus"
INDEX_BY_MODERATION = "ByModeration"
# Attributes of the index keys: a tombstone (deleted record) drops out of every index.
INDEX_KEYS: dict[str, tuple[str, str]] = {
    INDEX_BY_OWNER: ("owner_pk", "owner_sk"),
    INDEX_BY_ENTITY: ("entity_pk", "entity_sk"),
    INDEX_BY_STATUS: ("status_pk", "status_sk"),
    INDEX_BY_MODERATION: ("moderation_pk", "moderation_sk"),
}
INDEX_ATTRIBUTES = tuple(a for pair in INDEX_KEYS.values() for a in pair)


def media_pk(media_id: str) -> str:
    return f"MEDIA#{media_id}"


def record_key(media_id: str) -> dict[str, str]:
    return {"pk": media_pk(media_id), "sk": RECORD_SK}


def stats_key(owner: str | None) -> dict[str, str]:
    return {"pk": f"STATS#{owner or ALL_OWNERS}", "sk": STATS_SK}


def owner_partition(owner: str) -> str:
    return f"OWNER#{owner}"


def entity_partition(owner: str, entity_type: str, entity_id: str) -> str:
    return f"ENTITY#{owner}#{entity_type}#{entity_id}"


def primary_key(owner: str, entity_type: str, entity_id: str) -> dict[str, str]:
    """The marker naming the primary item of an owner's entity (its `media_id`)."""
    return {"pk": entity_partition(owner, entity_type, entity_id), "sk": PRIMARY_SK}


def status_partition(status: Status) -> str:
    return f"STATUS#{status.value}"


def moderation_partition(moderation: Moderation) -> str:
    return f"MODERATION#{moderation.value}"


def status_sort_key(record: MediaRecord) -> str:
    return f"{iso_timestamp(record.updated_at)}#{record.media_id}"


def entity_sort_key(record: MediaRecord) -> str:
    return f"{0 if record.is_primary else 1}#{iso_timestamp(record.created_at)}"


def duplicate_exact_pk(owner: str, sha256: str) -> str:
    return f"DUP#{owner}#sha256#{sha256}"


def duplicate_band_pk(owner: str, band: str) -> str:
    return f"DUP#{owner}#phash#{band}"


OUTBOX_PK = "OUTBOX"


def outbox_key(at: str, media_id: str, unique: str) -> dict[str, str]:
    return {"pk": OUTBOX_PK, "sk": f"{at}#{media_id}#{unique}"}


def quota_day_key(owner: str, day: str) -> dict[str, str]:
    return {"pk": f"QUOTA#{owner}", "sk": f"DAY#{day}"}


def index_attributes(record: MediaRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "owner_pk": owner_partition(record.owner),
        "owner_sk": f"{iso_timestamp(record.created_at)}#{record.media_id}",
        "status_pk": status_partition(record.status),
        "status_sk": status_sort_key(record),
        "moderation_pk": moderation_partition(record.moderation),
        "moderation_sk": f"{iso_timestamp(record.created_at)}#{record.media_id}",
    }
    if record.entity:
        attrs["entity_pk"] = entity_partition(record.owner, record.entity.type, record.entity.id)
        attrs["entity_sk"] = entity_sort_key(record)
    return attrs


def record_to_item(record: MediaRecord, expires_at: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = record_key(record.media_id)
    item.update(to_dynamo(record.model_dump(mode="json")))
    item.update(index_attributes(record))
    item["stats_bytes"] = stored_bytes(record)
    if expires_at is not None:
        item["expires_at"] = expires_at
    return item


def item_to_record(item: Mapping[str, Any]) -> MediaRecord:
    return MediaRecord.model_validate(from_dynamo(dict(item)))
