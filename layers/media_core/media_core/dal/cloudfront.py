"""CloudFront invalidations (revocation on delete) and the delivery secrets (read once per cold start).

Invalidation is the fast path of revocation only: a deleted object is already gone from the
origin, a cached copy is what the invalidation removes. Signed URLs that were handed out keep
their signature until they expire (at most TTL + window); the Transform function refuses deleted
media itself, whatever the edge still holds."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cloudfront.client import CloudFrontClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

__all__ = ["CloudFrontInvalidator", "NullInvalidator", "read_secret"]

logger = Logger(child=True)

MAX_PATHS = 3000  # CloudFront: at most 3,000 paths (15 wildcard paths) in progress per distribution


class CloudFrontInvalidator:
    def __init__(self, client: CloudFrontClient, distribution_id: str) -> None:
        self._cloudfront = client
        self.distribution_id = distribution_id

    def invalidate(self, paths: Sequence[str]) -> str | None:
        """Start one invalidation of `paths` (each starting with "/"); returns its id."""
        wanted = sorted(set(paths))
        if not wanted:
            return None
        if len(wanted) > MAX_PATHS or any(not p.startswith("/") for p in wanted):
            raise ValueError(f"expected at most {MAX_PATHS} absolute paths, got {wanted[:3]}...")
        try:
            answer = self._cloudfront.create_invalidation(
                DistributionId=self.distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(wanted), "Items": wanted},
                    # Unique per call: a retried delete starts a new invalidation (idempotent).
                    "CallerReference": f"{int(time.time())}-{uuid.uuid4().hex}",
                },
            )
        except ClientError as err:
            # E.g. TooManyInvalidationsInProgress (15 wildcard paths at once) during a batch
            # delete: the delete stands; cached copies then live until their URLs expire.
            logger.warning("invalidation failed", paths=wanted, error=str(err))
            return None
        return answer["Invalidation"]["Id"]


class NullInvalidator:
    """No distribution configured: nothing is cached anywhere but the browser's own cache."""

    def invalidate(self, paths: Sequence[str]) -> str | None:
        return None


def read_secret(client: SecretsManagerClient, secret_id: str) -> str:
    """The secret's string value (a PEM private key, or "current[,previous]" HMAC keys)."""
    value = client.get_secret_value(SecretId=secret_id).get("SecretString")
    if not value:
        raise RuntimeError(f"secret {secret_id} has no string value")
    return value
