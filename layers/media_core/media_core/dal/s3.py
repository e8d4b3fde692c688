"""Data access for objects (S3): presigned POST / multipart / GET, and plain reads and writes.
Uses boto3's own presigning and multipart; knows nothing of records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

# The tag every original carries until a processor claims it. A lifecycle rule expires objects
# still tagged this way, so bytes uploaded without ever being claimed by a record don't linger.
UNCLAIMED_TAG = ("media-state", "unclaimed")
_TAG_XML = "<Tag><Key>{}</Key><Value>{}</Value></Tag>".format(*UNCLAIMED_TAG)
UNCLAIMED_TAGGING_XML = f"<Tagging><TagSet>{_TAG_XML}</TagSet></Tagging>"
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    content_type: str | None


class StorageError(Exception):
    """S3 refused an operation for a reason the caller can act on (`code` is S3's error code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ObjectStore:
    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    def presigned_post(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str,
        max_bytes: int,
        expires_in: int,
        tag_unclaimed: bool = True,
    ) -> PresignedPost:
        """A POST policy that pins the key, the exact Content-Type, the size range and the tag.

        `tag_unclaimed=False` only exists for S3 implementations without POST `tagging` support
        (SeaweedFS, used by the policy-enforcement tests)."""
        fields = {"Content-Type": content_type}
        conditions: list[Any] = [{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]]
        if tag_unclaimed:
            fields["tagging"] = UNCLAIMED_TAGGING_XML
            conditions.append({"tagging": UNCLAIMED_TAGGING_XML})
        post = self._s3.generate_presigned_post(
            Bucket=bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        return PresignedPost(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})

    def start_multipart(
        self, bucket: str, key: str, *, content_type: str, part_count: int, expires_in: int
    ) -> tuple[str, list[PartUrl]]:
        created = self._s3.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type, Tagging=f"{UNCLAIMED_TAG[0]}={UNCLAIMED_TAG[1]}"
        )
        upload_id = created["UploadId"]
        urls = [
            PartUrl(
                n,
                self._s3.generate_presigned_url(
                    "upload_part",
                    Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": n},
                    ExpiresIn=expires_in,
                ),
            )
            for n in range(1, part_count + 1)
        ]
        return upload_id, urls

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str:
        try:
            result = self._s3.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
            )
        except ClientError as err:
            raise StorageError(
                err.response["Error"]["Code"], err.response["Error"].get("Message", "")
            ) from err
        return result.get("ETag", "").strip('"')

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        try:
            self._s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError as err:
            if err.response["Error"]["Code"] not in ("NoSuchUpload", "404"):
                raise

    def presigned_get(
        self, bucket: str, key: str, *, expires_in: int, download_name: str | None = None
    ) -> str:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition(download_name)
        return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(head["ContentLength"], head["ETag"].strip('"'), head.get("ContentType"))

    def read(self, bucket: str, key: str) -> bytes:
        return self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def put(self, bucket: str, key: str, data: bytes, *, content_type: str) -> None:
        self._s3.put_object(
            Bucket=bucket, Key=key, Body=data, ContentType=content_type, CacheControl=IMMUTABLE_CACHE_CONTROL
        )

    def upload_file(self, bucket: str, key: str, fileobj: BinaryIO, *, content_type: str) -> None:
        """Streams a local file with boto3's managed (multipart) transfer."""
        self._s3.upload_fileobj(
            fileobj,
            bucket,
            key,
            ExtraArgs={"ContentType": content_type, "CacheControl": IMMUTABLE_CACHE_CONTROL},
        )

    def mark_claimed(self, bucket: str, key: str) -> None:
        self._s3.put_object_tagging(
            Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": UNCLAIMED_TAG[0], "Value": "claimed"}]}
        )

    def delete_keys(self, bucket: str, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch: list[ObjectIdentifierTypeDef] = [{"Key": k} for k in keys[start : start + 1000]]
            self._s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        deleted = 0
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys: list[ObjectIdentifierTypeDef] = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self._s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
        return deleted


def content_disposition(filename: str) -> str:
    """RFC 6266 attachment header with an ASCII fallback and the UTF-8 name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
