"""Query API (reads): GET /media, /media/stats, /media/{media_id}, /media/{media_id}/download,
/media/{media_id}/hls/{playlist},
/media/{media_id}/activity, /entities/{type}/{id}/media, /admin/media, /openapi.json.

The routes are in query_routes.py: the resolver, the request models, their validation and the services
are built in this import on Lambda (its init phase) and on first use elsewhere
(media_core.api.lazy); the settings are read and checked here."""

from typing import TYPE_CHECKING

from media_core.api.lazy import LazyResolver
from media_core.settings import query_settings

if TYPE_CHECKING:
    import query_routes  # noqa: F401 - type-checked with the app

app = LazyResolver(query_settings(), routes="query_routes")  # settings validated at cold start
handler = app.handler
