"""Finding an owner's exact and near-duplicate images without scanning their media.

Index items in the media table (no extra GSI):
  pk=DUP#{owner}#sha256#{hex}      sk={media_id}                 exact copies
  pk=DUP#{owner}#phash#{band}      sk={media_id}  phash={hex}    near copies
The 64-bit perceptual hash is split into d+1 bands: two hashes within Hamming distance d agree
exactly on at least one band (pigeonhole), so a lookup is d+2 Queries whatever the owner's count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key

from media_core.dal.dynamo.keys import duplicate_band_pk, duplicate_exact_pk
from media_core.dal.dynamo.paging import query_items
from media_core.domain.similarity import hamming, hash_bands

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass
class DuplicateIndex:
    table: Table
    max_distance: int = 6

    def _exact_pk(self, owner: str, sha256: str) -> str:
        return duplicate_exact_pk(owner, sha256)

    def _band_pks(self, owner: str, phash: int) -> list[str]:
        return [duplicate_band_pk(owner, str(band)) for band in hash_bands(phash, self.max_distance)]

    def _query(self, pk: str) -> Iterable[Mapping[str, object]]:
        return query_items(self.table, KeyConditionExpression=Key("pk").eq(pk))

    def find(self, owner: str, media_id: str, sha256: str, phash: int | None) -> list[str]:
        """Ids of the owner's other media that are exact copies (first) or near copies."""
        exact = [str(i["sk"]) for i in self._query(self._exact_pk(owner, sha256)) if i["sk"] != media_id]
        near: list[str] = []
        if phash is not None:
            for pk in self._band_pks(owner, phash):
                for item in self._query(pk):
                    other = str(item["sk"])
                    if other == media_id or other in exact or other in near:
                        continue
                    if hamming(phash, int(str(item["phash"]), 16)) <= self.max_distance:
                        near.append(other)
        return exact + near

    def register(self, owner: str, media_id: str, sha256: str, phash: int | None) -> None:
        with self.table.batch_writer() as batch:
            batch.put_item(Item={"pk": self._exact_pk(owner, sha256), "sk": media_id})
            if phash is not None:
                for pk in self._band_pks(owner, phash):
                    batch.put_item(Item={"pk": pk, "sk": media_id, "phash": f"{phash:016x}"})

    def unregister(self, owner: str, media_id: str, sha256: str, phash: int | None) -> None:
        with self.table.batch_writer() as batch:
            batch.delete_item(Key={"pk": self._exact_pk(owner, sha256), "sk": media_id})
            if phash is not None:
                for pk in self._band_pks(owner, phash):
                    batch.delete_item(Key={"pk": pk, "sk": media_id})
