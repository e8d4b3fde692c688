"""boto3 clients, built once per cold start. Honours AWS_ENDPOINT_URL (the local stack)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudfront.client import CloudFrontClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_sqs.client import SQSClient


RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def s3_client() -> S3Client:
    # Presigned URLs must be SigV4; the local emulator is addressed path-style.
    style = os.environ.get("S3_ADDRESSING_STYLE", "auto")
    s3_config = Config(signature_version="s3v4", s3={"addressing_style": style})  # type: ignore[arg-type]
    return boto3.client("s3", config=RETRIES.merge(s3_config))


@cache
def dynamodb_table(name: str) -> Table:
    return boto3.resource("dynamodb", config=RETRIES).Table(name)


@cache
def sqs_client() -> SQSClient:
    return boto3.client("sqs", config=RETRIES)


@cache
def events_client() -> EventBridgeClient:
    return boto3.client("events", config=RETRIES)


@cache
def secrets_client() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=RETRIES)


@cache
def cloudfront_client() -> CloudFrontClient:
    return boto3.client("cloudfront", config=RETRIES)


@cache
def stepfunctions_client() -> Any:
    return boto3.client("stepfunctions", config=RETRIES)


def session_credentials() -> Callable[[], Any]:
    """The runtime's credentials, read per call (they rotate): signers made outside botocore.
    The default session's, the one the clients use: a second Session would register botocore's
    handlers and list its services again (~30 ms of a cold start)."""
    return boto3._get_default_session().get_credentials
