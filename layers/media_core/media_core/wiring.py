"""Cached factories: each service and its data-access objects are built once per cold start.

Each factory imports what it builds (cold start, docs/cold-start.md): a function loads only the
services and data-access modules of the paths it serves, e.g. the upload API never imports the
query service, the deleter or the delivery URL signers."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from media_core.dal.clients import (
    cloudfront_client,
    dynamodb_table,
    events_client,
    s3_client,
    secrets_client,
    session_credentials,
    sqs_client,
    stepfunctions_client,
)
from media_core.settings import (
    CommonSettings,
    ModerationMode,
    cleanup_settings,
    common_settings,
    delivery_settings,
    manage_settings,
    processor_settings,
    query_settings,
    reaper_settings,
    transform_settings,
    upload_settings,
)

if TYPE_CHECKING:
    from media_core.dal.dynamo.audit import AuditLog
    from media_core.dal.dynamo.duplicates import DuplicateIndex
    from media_core.dal.dynamo.repository import MediaRepository
    from media_core.dal.events import EventBridgePublisher, NullPublisher
    from media_core.dal.s3 import ObjectStore
    from media_core.dal.url_signing import CloudFrontUrlSigner, DeliveryUrls
    from media_core.domain.transform import SigningKeys
    from media_core.ports import DeliveryUrlSource, Invalidator, WorkflowRuns
    from media_core.processing.lifecycle import ProcessingPipeline
    from media_core.services.cleanup import Cleanup
    from media_core.services.deletion import MediaDeleter
    from media_core.services.management import MediaManagement
    from media_core.services.outbox_relay import OutboxRelay
    from media_core.services.publication import Publication
    from media_core.services.queries import MediaQueries
    from media_core.services.reaper import Reaper
    from media_core.services.transforms import TransformService
    from media_core.services.uploads import UploadService
    from media_core.services.uppy import UppyS3Service


@cache
def media_repository(table_name: str, audit_retention_days: int | None = None) -> MediaRepository:
    """`audit_retention_days`: for the audit entries written with a change (the processors')."""
    from media_core.dal.dynamo.repository import MediaRepository

    if audit_retention_days is None:
        return MediaRepository(dynamodb_table(table_name))
    return MediaRepository(dynamodb_table(table_name), audit_retention_days)


@cache
def object_store() -> ObjectStore:
    from media_core.dal.s3 import ObjectStore

    return ObjectStore(s3_client())


@cache
def upload_service() -> UploadService:
    from media_core.dal.dynamo.usage import DailyUsage
    from media_core.services.uploads import UploadService

    settings = upload_settings()
    table = dynamodb_table(settings.table_name)
    return UploadService(media_repository(settings.table_name), object_store(), settings, DailyUsage(table))


@cache
def uppy_service() -> UppyS3Service:
    from media_core.services.uppy import UppyS3Service

    return UppyS3Service(upload_service())


@cache
def audit_log() -> AuditLog:
    from media_core.dal.dynamo.audit import AuditLog

    settings = common_settings()
    return AuditLog(dynamodb_table(settings.table_name), settings.audit_retention_days)


@cache
def event_bus() -> EventBridgePublisher | NullPublisher:
    from media_core.dal.events import EventBridgePublisher, NullPublisher

    bus = common_settings().event_bus_name
    return EventBridgePublisher(events_client(), bus) if bus else NullPublisher()


@cache
def outbox_relay() -> OutboxRelay:
    from media_core.dal.dynamo.outbox import DynamoOutbox
    from media_core.services.outbox_relay import OutboxRelay

    return OutboxRelay(DynamoOutbox(dynamodb_table(common_settings().table_name)), event_bus())


@cache
def media_queries() -> MediaQueries:
    from media_core.services.queries import MediaQueries

    settings = query_settings()
    return MediaQueries(
        media_repository(settings.table_name),
        object_store(),
        settings,
        audit_log(),
        urls=delivery_urls(),
        transform_keys=transform_signing_keys(),
        delivery=delivery_settings(),
    )


@cache
def processing_pipeline() -> ProcessingPipeline:
    from media_core.processing.lifecycle import ProcessingPipeline

    settings = processor_settings()
    return ProcessingPipeline(
        media_repository(settings.table_name, settings.audit_retention_days),
        object_store(),
        settings,
        outbox_relay(),
        audit_log(),
        on_settled=publication().reconcile,
    )


@cache
def workflow_runs(state_machine_arn: str) -> WorkflowRuns | None:
    """The segment-parallel transcode's executions; None when no state machine is configured."""
    from media_core.dal.workflows import StepFunctionsRuns

    return StepFunctionsRuns(stepfunctions_client(), state_machine_arn) if state_machine_arn else None


def _deleter(settings: CommonSettings, duplicate_distance: int) -> MediaDeleter:
    from media_core.services.deletion import MediaDeleter

    return MediaDeleter(
        media_repository(settings.table_name),
        object_store(),
        duplicate_index(duplicate_distance),
        audit_log(),
        outbox_relay(),
        settings,
        cdn_invalidator(),
    )


@cache
def media_management() -> MediaManagement:
    from media_core.dal.queue import WorkQueue
    from media_core.services.management import MediaManagement

    settings = manage_settings()
    return MediaManagement(
        media_repository(settings.table_name),
        object_store(),
        audit_log(),
        _deleter(settings, settings.image_duplicate_distance),
        WorkQueue(sqs_client()),
        settings,
        publication(),
    )


@cache
def cleanup_job() -> Cleanup:
    from media_core.dal.dynamo.status_index import StatusIndex
    from media_core.services.cleanup import Cleanup

    settings = cleanup_settings()
    return Cleanup(
        StatusIndex(dynamodb_table(settings.table_name)),
        _deleter(settings, settings.image_duplicate_distance),
        settings,
        publication(),
    )


@cache
def duplicate_index(max_distance: int) -> DuplicateIndex:
    from media_core.dal.dynamo.duplicates import DuplicateIndex

    return DuplicateIndex(dynamodb_table(common_settings().table_name), max_distance)


@cache
def reaper() -> Reaper:
    from media_core.dal.dynamo.status_index import StatusIndex
    from media_core.services.reaper import Reaper

    settings = reaper_settings()
    return Reaper(
        media_repository(settings.table_name),
        StatusIndex(dynamodb_table(settings.table_name)),
        object_store(),
        settings.media_bucket,
        settings.stuck_after(),
        uploads_bucket=settings.uploads_bucket,
        max_receive_count=settings.max_receive_count,
        relay=outbox_relay(),
        workflows=workflow_runs(settings.transcode_state_machine_arn),
    )


def reset_caches() -> None:
    """For tests and the local stack, which change the environment between invocations: every
    cached factory here, in media_core.settings and in media_core.dal.clients starts again."""
    import sys

    from media_core import settings
    from media_core.dal import clients as aws

    for module in (aws, settings, sys.modules[__name__]):
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_clear"):
                value.cache_clear()


# ---------------------------------------------------------------- delivery (CDN)


@cache
def delivery_urls() -> DeliveryUrls:
    """Variant URLs identical within a window: CloudFront signed with a distribution, windowed S3
    presigned GETs without one; the private key is read from Secrets Manager once per cold start."""
    from media_core.dal.url_signing import DeliveryUrls, WindowedS3Presigner

    settings = delivery_settings()
    window = settings.url_window_seconds
    presigner = WindowedS3Presigner(s3_client(), session_credentials(), window_seconds=window)
    signer = cdn_url_signer(settings.cdn_base) if settings.cdn_base else None
    return DeliveryUrls(
        presigner,
        cloudfront=signer,
        public_base=settings.cdn_base,  # published copies: `{cdn}/public/...`, unsigned
        ttl_seconds=settings.download_url_ttl_seconds,
    )


@cache
def cdn_url_signer(base_url: str) -> CloudFrontUrlSigner | None:
    """CloudFront signed URLs under `base_url` ("" for relative ones), when a key pair is set."""
    from media_core.dal.cloudfront import read_secret
    from media_core.dal.url_signing import CloudFrontUrlSigner

    settings = delivery_settings()
    if not (settings.cdn_key_pair_id and settings.cdn_private_key_secret_arn):
        return None
    pem = read_secret(secrets_client(), settings.cdn_private_key_secret_arn).encode()
    return CloudFrontUrlSigner(
        base_url, settings.cdn_key_pair_id, pem, window_seconds=settings.url_window_seconds
    )


@cache
def transform_signing_keys() -> SigningKeys | None:
    """The transformation HMAC keys ("current[,previous]"), or None when none are configured."""
    from media_core.dal.cloudfront import read_secret
    from media_core.domain.transform import SigningKeys

    arn = delivery_settings().transform_signing_keys_secret_arn
    return SigningKeys.from_config(read_secret(secrets_client(), arn)) if arn else None


@cache
def cdn_invalidator() -> Invalidator:
    from media_core.dal.cloudfront import CloudFrontInvalidator, NullInvalidator

    distribution = delivery_settings().cdn_distribution_id
    return CloudFrontInvalidator(cloudfront_client(), distribution) if distribution else NullInvalidator()


@cache
def transform_service() -> TransformService:
    # Imported here, as every factory's: it pulls in Pillow, which the API functions never load.
    from media_core.dal.url_signing import RelativeCloudFrontUrls
    from media_core.services.transforms import TransformService

    settings = transform_settings()
    keys = transform_signing_keys()
    if keys is None:
        raise RuntimeError("TRANSFORM_SIGNING_KEYS_SECRET_ARN is not set: nothing can be verified")
    # Redirect targets: under CDN_BASE_URL when it is known (a custom domain, the local CDN), else
    # relative CloudFront signed URLs (the template cannot give the distribution's own domain).
    relative = None if settings.cdn_base else cdn_url_signer("")
    urls: DeliveryUrlSource = (
        RelativeCloudFrontUrls(relative, ttl_seconds=settings.download_url_ttl_seconds)
        if relative is not None
        else delivery_urls()
    )
    return TransformService(media_repository(settings.table_name), object_store(), urls, settings, keys)


@cache
def publication() -> Publication:
    """Published copies of public media under the CDN's `/public/*` (none without a distribution)."""
    from media_core.services.publication import Publication

    settings = delivery_settings()
    return Publication(
        media_repository(settings.table_name),
        object_store(),
        cdn_invalidator(),
        settings.media_bucket,
        post_moderation=settings.moderation_mode == ModerationMode.POST,
        enabled=bool(settings.cdn_distribution_id),
    )
