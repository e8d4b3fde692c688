"""Python SDK and CLI for the media pipeline API (models generated from its openapi.json)."""

from media_pipeline_client import models
from media_pipeline_client.client import ApiError, MediaClient, Retry
from media_pipeline_client.state import StateStore
from media_pipeline_client.uploads import Uploaded, Uploader, UploadError, UploadOptions

__all__ = [
    "ApiError",
    "MediaClient",
    "Retry",
    "StateStore",
    "UploadError",
    "UploadOptions",
    "Uploaded",
    "Uploader",
    "models",
]
