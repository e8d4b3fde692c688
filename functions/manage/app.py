"""Management API (writes): PATCH/DELETE /media/{media_id}, POST /media/batch-delete,
POST /media/{media_id}/reprocess, PATCH /admin/media/{media_id}/moderation.

The routes are in manage_routes.py: the resolver, the request models, their validation and the services
are built in this import on Lambda (its init phase) and on first use elsewhere
(media_core.api.lazy); the settings are read and checked here."""

from typing import TYPE_CHECKING

from media_core.api.lazy import LazyResolver
from media_core.settings import manage_settings

if TYPE_CHECKING:
    import manage_routes  # noqa: F401 - type-checked with the app

app = LazyResolver(manage_settings(), routes="manage_routes")  # settings validated at cold start
handler = app.handler
