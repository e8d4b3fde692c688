"""Data access: putting work on a processor's queue in exactly the shape S3 notifications have,
so a reprocess request takes the same path an upload does (media_core.processing.sqs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

from media_core.domain.models import utc_now

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

REPROCESS_EVENT_NAME = "ObjectCreated:Reprocess"


def s3_object_created_body(bucket: str, key: str, size: int, etag: str, region: str = "") -> str:
    """An S3 event notification body (one record), the key URL-encoded as S3 sends it."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": region,
                    "eventTime": utc_now().isoformat().replace("+00:00", "Z"),
                    "eventName": REPROCESS_EVENT_NAME,
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "reprocess",
                        "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag},
                    },
                }
            ]
        }
    )


@dataclass
class WorkQueue:
    client: SQSClient

    def send_object_created(self, queue_url: str, bucket: str, key: str, size: int, etag: str) -> None:
        region = self.client.meta.region_name or ""
        self.client.send_message(
            QueueUrl=queue_url, MessageBody=s3_object_created_body(bucket, key, size, etag, region)
        )
