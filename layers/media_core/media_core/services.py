"""Cached factories: each service and its data-access objects are built once per cold start."""

from __future__ import annotations

from functools import cache

from media_core.aws import dynamodb_table, s3_client
from media_core.duplicates import DuplicateIndex
from media_core.processing.pipeline import ProcessingPipeline
from media_core.queries import MediaQueries
from media_core.repository import MediaRepository
from media_core.settings import common_settings, processor_settings, upload_settings
from media_core.storage import ObjectStore
from media_core.uploads import UploadService


@cache
def media_repository(table_name: str) -> MediaRepository:
    return MediaRepository(dynamodb_table(table_name))


@cache
def object_store() -> ObjectStore:
    return ObjectStore(s3_client())


@cache
def upload_service() -> UploadService:
    settings = upload_settings()
    return UploadService(media_repository(settings.table_name), object_store(), settings)


@cache
def media_queries() -> MediaQueries:
    settings = common_settings()
    return MediaQueries(media_repository(settings.table_name), object_store(), settings)


@cache
def processing_pipeline() -> ProcessingPipeline:
    settings = processor_settings()
    return ProcessingPipeline(media_repository(settings.table_name), object_store(), settings)


@cache
def duplicate_index(max_distance: int) -> DuplicateIndex:
    return DuplicateIndex(dynamodb_table(common_settings().table_name), max_distance)


def reset_caches() -> None:
    """For tests and the local stack, which change the environment between invocations."""
    from media_core import aws, settings

    factories = (
        media_repository,
        object_store,
        upload_service,
        media_queries,
        processing_pipeline,
        duplicate_index,
    )
    for module in (aws, settings):
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_clear"):
                value.cache_clear()
    for factory in factories:
        factory.cache_clear()
