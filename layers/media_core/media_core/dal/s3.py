"""Data access for objects (S3): presigned POST / multipart / GET, and plain reads and writes.
Uses boto3's own presigning and multipart; knows nothing of records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from botocore.exceptions import ClientError

from media_core.domain.transfers import (
    ListedObject,
    ObjectInfo,
    PartUrl,
    PostPolicy,
    PresignedPost,
    StorageError,
    UploadedPart,
    UrlTarget,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

# The tag every original carries until a processor claims it. A lifecycle rule expires objects
# still tagged this way, so bytes uploaded without ever being claimed by a record don't linger.
UNCLAIMED_TAG = ("media-state", "unclaimed")
_TAG_XML = "<Tag><Key>{}</Key><Value>{}</Value></Tag>".format(*UNCLAIMED_TAG)
UNCLAIMED_TAGGING_XML = f"<Tagging><TagSet>{_TAG_XML}</TagSet></Tagging>"
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


class ObjectStore:
    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    def presigned_post(self, policy: PostPolicy, *, expires_in: int) -> PresignedPost:
        """A POST policy that pins the key, the exact Content-Type, the exact size and the tag."""
        fields = {"Content-Type": policy.content_type}
        conditions: list[Any] = [
            {"Content-Type": policy.content_type},
            ["content-length-range", policy.size, policy.size],
        ]
        if policy.tag_unclaimed:
            fields["tagging"] = UNCLAIMED_TAGGING_XML
            conditions.append({"tagging": UNCLAIMED_TAGGING_XML})
        post = self._s3.generate_presigned_post(
            Bucket=policy.bucket, Key=policy.key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        return PresignedPost(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})

    def start_multipart(self, bucket: str, key: str, *, content_type: str) -> str:
        created = self._s3.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type, Tagging=f"{UNCLAIMED_TAG[0]}={UNCLAIMED_TAG[1]}"
        )
        return created["UploadId"]

    def sign_parts(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, int]], *, expires_in: int
    ) -> list[PartUrl]:
        """Part URLs for (part number, exact size): Content-Length is a signed header, so S3
        refuses a part of any other size (a 1-byte declaration cannot carry 5 GiB)."""
        return [
            PartUrl(
                number,
                self._s3.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": bucket,
                        "Key": key,
                        "UploadId": upload_id,
                        "PartNumber": number,
                        "ContentLength": size,
                    },
                    ExpiresIn=expires_in,
                ),
                size,
            )
            for number, size in parts
        ]

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[UploadedPart]:
        """Every part S3 holds for the upload (ListParts, all pages)."""
        found: list[UploadedPart] = []
        try:
            for page in self._s3.get_paginator("list_parts").paginate(
                Bucket=bucket, Key=key, UploadId=upload_id
            ):
                found.extend(
                    UploadedPart(p["PartNumber"], p["ETag"].strip('"'), p["Size"])
                    for p in page.get("Parts", [])
                )
        except ClientError as err:
            raise StorageError(
                err.response["Error"]["Code"], err.response["Error"].get("Message", "")
            ) from err
        return found

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        try:
            self._s3.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
            )
        except ClientError as err:
            raise StorageError(
                err.response["Error"]["Code"], err.response["Error"].get("Message", "")
            ) from err

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        try:
            self._s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError as err:
            if err.response["Error"]["Code"] not in ("NoSuchUpload", "404"):
                raise

    def copy(
        self, bucket: str, key: str, to_key: str, *, if_match: str | None = None, tag_claimed: bool = True
    ) -> ObjectInfo:
        """Server-side copy within `bucket` (managed: multipart above 5 GB), Content-Type and
        Cache-Control kept.
        `if_match`: only the object whose ETag is this one (else StorageError PreconditionFailed):
        the bytes a claim was made for. `tag_claimed`: the copy is tagged claimed (originals)."""
        extra: dict[str, Any] = (
            {"TaggingDirective": "REPLACE", "Tagging": "media-state=claimed"} if tag_claimed else {}
        )
        if if_match is not None:
            extra["CopySourceIfMatch"] = f'"{if_match}"'
        try:
            self._s3.copy({"Bucket": bucket, "Key": key}, bucket, to_key, ExtraArgs=extra)
        except ClientError as err:
            code = err.response["Error"]["Code"]
            raise StorageError(
                "PreconditionFailed" if code in ("412", "PreconditionFailed") else code,
                f"{key} is not the version that was claimed"
                if code in ("412", "PreconditionFailed")
                else code,
            ) from err
        copied = self.head(bucket, to_key)
        if copied is None:
            raise StorageError("NoSuchKey", f"the copy of {key} is missing")
        return copied

    def presigned_get(self, target: UrlTarget, *, expires_in: int) -> str:
        return self._s3.generate_presigned_url("get_object", Params=get_params(target), ExpiresIn=expires_in)

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo | None:
        try:
            head = (
                self._s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
                if version_id
                else self._s3.head_object(Bucket=bucket, Key=key)
            )
        except ClientError as err:
            if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(
            head["ContentLength"], head["ETag"].strip('"'), head.get("ContentType"), head.get("VersionId")
        )

    def read(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        if version_id:
            return self._s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
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

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ListedObject]:
        """Every object under `prefix`, in key order (ListObjectsV2: 1,000 per request)."""
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield ListedObject(obj["Key"], obj["Size"], obj["LastModified"])


def get_params(target: UrlTarget) -> dict[str, Any]:
    """The GetObject parameters a presigned GET of `target` signs."""
    params: dict[str, Any] = {"Bucket": target.bucket, "Key": target.key}
    if target.download_name:
        params["ResponseContentDisposition"] = content_disposition(target.download_name)
    if target.version_id:
        params["VersionId"] = target.version_id
    return params


def content_disposition(filename: str) -> str:
    """RFC 6266 attachment header with an ASCII fallback and the UTF-8 name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
