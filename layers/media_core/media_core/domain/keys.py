"""Object key scheme. Keys are made by the server only; a client's filename never becomes a path.

uploads bucket:  uploads/{kind}/{owner}/{media_id}/original.{ext}   the inbox a presigned upload writes
                 originals/{owner}/{media_id}/{etag}.{ext}          the pinned copy a processor claimed
media bucket:    media/{owner}/{media_id}/{run_id}/{variant}.{ext}
                 public/{media_id}/{run_id}-{token}/{variant}.{ext}  published copies (no owner id)

No upload policy can write under `originals/`: the bytes that were checked, processed and
moderated are the bytes that are served, whatever is later posted to the inbox key.

The kind prefix routes S3 notifications to the right queue (prefix filters, not suffix: S3 suffix
filters are case-sensitive). A new processing run writes under a new run id, so variants can be
served with an immutable Cache-Control.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from urllib.parse import unquote_plus

from media_core.domain.errors import Unauthorized
from media_core.domain.models import Kind

UPLOADS_PREFIX = "uploads/"
ORIGINALS_PREFIX = "originals/"
MEDIA_PREFIX = "media/"
PUBLIC_PREFIX = "public/"
_OWNER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_KEY = re.compile(
    r"^uploads/(?P<kind>image|video|audio|document)/(?P<owner>[A-Za-z0-9_-]{1,128})/"
    r"(?P<media_id>[0-9a-f]{32})/original\.(?P<ext>[a-z0-9]{1,8})$"
)


def new_media_id() -> str:
    return uuid.uuid4().hex


def is_media_id(value: str) -> bool:
    return bool(_MEDIA_ID.match(value))


def check_owner(owner: str) -> str:
    if not _OWNER.match(owner):
        raise Unauthorized("caller identity is not usable as an owner id")
    return owner


def kind_prefix(kind: Kind) -> str:
    return f"{UPLOADS_PREFIX}{kind.value}/"


def original_key(kind: Kind, owner: str, media_id: str, extension: str) -> str:
    return f"{kind_prefix(kind)}{check_owner(owner)}/{media_id}/original.{extension}"


def pinned_original_key(owner: str, media_id: str, etag: str, extension: str) -> str:
    return f"{originals_prefix(owner, media_id)}{re.sub(r'[^A-Za-z0-9-]', '_', etag)}.{extension}"


def originals_prefix(owner: str, media_id: str) -> str:
    return f"{ORIGINALS_PREFIX}{check_owner(owner)}/{media_id}/"


def variant_key(owner: str, media_id: str, run_id: str, name: str, extension: str) -> str:
    return f"{MEDIA_PREFIX}{owner}/{media_id}/{run_id}/{name}.{extension}"


def media_prefix(owner: str, media_id: str) -> str:
    return f"{MEDIA_PREFIX}{owner}/{media_id}/"


def public_prefix(media_id: str) -> str:
    """Every published copy of a record: the CDN serves `/public/*` unsigned."""
    return f"{PUBLIC_PREFIX}{media_id}/"


def public_copy_prefix(media_id: str, run_id: str, token: str) -> str:
    return f"{public_prefix(media_id)}{run_id}-{token}/"


@dataclass(frozen=True)
class UploadKey:
    kind: Kind
    owner: str
    media_id: str
    extension: str


def parse_upload_key(key: str) -> UploadKey | None:
    """Parse a key as S3 events deliver it (URL-encoded, '+' for space); None if not ours."""
    match = _UPLOAD_KEY.match(unquote_plus(key))
    if not match:
        return None
    return UploadKey(Kind(match["kind"]), match["owner"], match["media_id"], match["ext"])


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def sanitize_filename(filename: str, max_length: int = 200) -> str:
    """A display name safe for records and Content-Disposition: no path, no control characters."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        name = (
            (stem[: max_length - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:max_length]
        )
    return name or "file"
