"""Upload API: POST /uploads, POST /uploads/{media_id}/complete, DELETE /uploads/{media_id}, the
parts routes, GET /uploads/limits, and Uppy's S3 contract under /s3 (docs/uppy.md).

The routes are in upload_routes.py: the resolver, the request models, their validation and the services
are built in this import on Lambda (its init phase) and on first use elsewhere
(media_core.api.lazy); the settings are read and checked here."""

from typing import TYPE_CHECKING

from media_core.api.lazy import LazyResolver
from media_core.settings import upload_settings

if TYPE_CHECKING:
    import upload_routes  # noqa: F401 - type-checked with the app

app = LazyResolver(upload_settings(), routes="upload_routes")  # settings validated at cold start
handler = app.handler
