"""Cached factories: each service and its data-access objects are built once per cold start."""

from __future__ import annotations

from functools import cache

from media_core.dal.clients import dynamodb_table, events_client, s3_client, sqs_client, stepfunctions_client
from media_core.dal.dynamo.audit import AuditLog
from media_core.dal.dynamo.duplicates import DuplicateIndex
from media_core.dal.dynamo.outbox import DynamoOutbox
from media_core.dal.dynamo.repository import MediaRepository
from media_core.dal.dynamo.status_index import StatusIndex
from media_core.dal.dynamo.usage import DailyUsage
from media_core.dal.events import EventBridgePublisher, NullPublisher
from media_core.dal.queue import WorkQueue
from media_core.dal.s3 import ObjectStore
from media_core.dal.workflows import StepFunctionsRuns
from media_core.ports import WorkflowRuns
from media_core.processing.lifecycle import ProcessingPipeline
from media_core.services.cleanup import Cleanup
from media_core.services.deletion import MediaDeleter
from media_core.services.management import MediaManagement
from media_core.services.outbox_relay import OutboxRelay
from media_core.services.queries import MediaQueries
from media_core.services.reaper import Reaper
from media_core.services.uploads import UploadService
from media_core.services.uppy import UppyS3Service
from media_core.settings import (
    CommonSettings,
    cleanup_settings,
    common_settings,
    manage_settings,
    processor_settings,
    query_settings,
    reaper_settings,
    upload_settings,
)


@cache
def media_repository(table_name: str) -> MediaRepository:
    return MediaRepository(dynamodb_table(table_name))


@cache
def object_store() -> ObjectStore:
    return ObjectStore(s3_client())


@cache
def upload_service() -> UploadService:
    settings = upload_settings()
    table = dynamodb_table(settings.table_name)
    return UploadService(media_repository(settings.table_name), object_store(), settings, DailyUsage(table))


@cache
def uppy_service() -> UppyS3Service:
    return UppyS3Service(upload_service())


@cache
def audit_log() -> AuditLog:
    settings = common_settings()
    return AuditLog(dynamodb_table(settings.table_name), settings.audit_retention_days)


@cache
def event_bus() -> EventBridgePublisher | NullPublisher:
    bus = common_settings().event_bus_name
    return EventBridgePublisher(events_client(), bus) if bus else NullPublisher()


@cache
def outbox_relay() -> OutboxRelay:
    return OutboxRelay(DynamoOutbox(dynamodb_table(common_settings().table_name)), event_bus())


@cache
def media_queries() -> MediaQueries:
    settings = query_settings()
    return MediaQueries(media_repository(settings.table_name), object_store(), settings, audit_log())


@cache
def processing_pipeline() -> ProcessingPipeline:
    settings = processor_settings()
    return ProcessingPipeline(
        media_repository(settings.table_name), object_store(), settings, outbox_relay(), audit_log()
    )


@cache
def workflow_runs(state_machine_arn: str) -> WorkflowRuns | None:
    """The segment-parallel transcode's executions; None when no state machine is configured."""
    return StepFunctionsRuns(stepfunctions_client(), state_machine_arn) if state_machine_arn else None


def _deleter(settings: CommonSettings, duplicate_distance: int) -> MediaDeleter:
    return MediaDeleter(
        media_repository(settings.table_name),
        object_store(),
        duplicate_index(duplicate_distance),
        audit_log(),
        outbox_relay(),
        settings,
    )


@cache
def media_management() -> MediaManagement:
    settings = manage_settings()
    return MediaManagement(
        media_repository(settings.table_name),
        object_store(),
        audit_log(),
        _deleter(settings, settings.image_duplicate_distance),
        WorkQueue(sqs_client()),
        settings,
    )


@cache
def cleanup_job() -> Cleanup:
    settings = cleanup_settings()
    return Cleanup(
        StatusIndex(dynamodb_table(settings.table_name)),
        _deleter(settings, settings.image_duplicate_distance),
        settings,
    )


@cache
def duplicate_index(max_distance: int) -> DuplicateIndex:
    return DuplicateIndex(dynamodb_table(common_settings().table_name), max_distance)


@cache
def reaper() -> Reaper:
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
    """For tests and the local stack, which change the environment between invocations."""
    from media_core import settings
    from media_core.dal import clients as aws

    factories = (
        media_repository,
        object_store,
        upload_service,
        media_queries,
        processing_pipeline,
        duplicate_index,
        audit_log,
        event_bus,
        outbox_relay,
        media_management,
        cleanup_job,
        workflow_runs,
        reaper,
    )
    for module in (aws, settings):
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_clear"):
                value.cache_clear()
    for factory in factories:
        factory.cache_clear()
