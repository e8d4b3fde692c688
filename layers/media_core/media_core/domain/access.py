"""Who is calling, and what they may see. Claims come only from the authorizer's request context.

The rules, in one place:
- the owner and admins see and manage everything of a record, originals included;
- any other authenticated caller sees the *public view* of public media that is `ready` and, under
  pre-moderation (the default), approved; under post-moderation, not rejected. The public view
  has variants only: no original, no owner id, no duplicate links, no GPS, a safe EXIF subset.
Everything else answers 404 on every route: never the data, never a hint that it exists.

What the public view may show is also what gets *published*: copied under `public/` and served
unsigned by the CDN (media_core.services.publication, docs/delivery.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from media_core.domain.errors import Forbidden, NotFound, Unauthorized
from media_core.domain.keys import check_owner
from media_core.domain.models import MediaRecord, Moderation, Status, Variant, Visibility


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: frozenset[str]
    admin_group: str = "admin"

    @property
    def is_admin(self) -> bool:
        return self.admin_group in self.groups


def parse_groups(raw: Any) -> frozenset[str]:
    """`cognito:groups` arrives as a list, a JSON list, or API Gateway's "[a, b]" / "a,b" string."""
    if raw is None or raw == "":
        return frozenset()
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    text = str(raw).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return frozenset(str(g) for g in parsed)
        except json.JSONDecodeError:
            text = text.strip("[]")
    return frozenset(g for g in (part.strip() for part in text.replace(",", " ").split()) if g)


def caller_from_claims(claims: Mapping[str, Any] | None, admin_group: str = "admin") -> Caller:
    if not claims or not claims.get("sub"):
        raise Unauthorized("missing or invalid token")
    return Caller(
        sub=check_owner(str(claims["sub"])),
        groups=parse_groups(claims.get("cognito:groups")),
        admin_group=admin_group,
    )


def owned_record(caller: Caller, record: MediaRecord | None, media_id: str) -> MediaRecord:
    """The record if the caller owns it (or is an admin); NotFound otherwise — never a hint which."""
    if record is None or record.status == Status.DELETED or not is_manager(caller, record):
        raise NotFound(f"media {media_id} not found")
    return record


def is_manager(caller: Caller, record: MediaRecord) -> bool:
    return record.owner == caller.sub or caller.is_admin


def publicly_visible(record: MediaRecord, post_moderation: bool = False) -> bool:
    """What anyone but the owner may see (the public view): see the module's rules."""
    if record.visibility != Visibility.PUBLIC or record.status != Status.READY:
        return False
    if post_moderation:
        return record.moderation != Moderation.REJECTED
    return record.moderation == Moderation.APPROVED


# Indexes whose content names sibling objects (the HLS playlists, the storyboard VTT): the API's
# streaming route signs each URI inside them, so a copy of the index alone would be useless.
UNPUBLISHED_VARIANTS = frozenset({"hls", "storyboard"})


def publishable_variants(record: MediaRecord) -> dict[str, Variant]:
    """The variants a publication copies under `public/`."""
    return {name: v for name, v in record.variants.items() if name not in UNPUBLISHED_VARIANTS}


def public_copy_key(prefix: str, name: str, variant: Variant) -> str:
    """`{prefix}{name}.{ext}`: the published copy of one variant."""
    return f"{prefix}{name}.{variant.key.rsplit('.', 1)[-1]}"


def is_published(record: MediaRecord, post_moderation: bool = False) -> bool:
    """Its published copies may be handed out: the public view may show it, and the copies that
    exist (the marker, written only after all of them) are of its current run."""
    copy = record.public_copy
    return (
        copy is not None
        and record.run_id is not None
        and copy.run_id == record.run_id
        and publicly_visible(record, post_moderation)
    )


def published_keys(record: MediaRecord, post_moderation: bool = False) -> dict[str, str]:
    """Variant key -> its published copy's key, for a published record (else empty)."""
    if not is_published(record, post_moderation) or record.public_copy is None:
        return {}
    prefix = record.public_copy.prefix
    return {v.key: public_copy_key(prefix, name, v) for name, v in publishable_variants(record).items()}


def can_view(caller: Caller, record: MediaRecord, post_moderation: bool = False) -> bool:
    if record.status == Status.DELETED:
        return False
    return is_manager(caller, record) or publicly_visible(record, post_moderation)


def visible_record(
    caller: Caller, record: MediaRecord | None, media_id: str, post_moderation: bool = False
) -> MediaRecord:
    """The record if the caller may read it (see the module's rules); NotFound otherwise."""
    if record is None or not can_view(caller, record, post_moderation):
        raise NotFound(f"media {media_id} not found")
    return record


# EXIF fields safe to show to others: the camera, not the time or place.
PUBLIC_EXIF = frozenset({"make", "model", "lens", "exposure_time", "f_number", "iso", "focal_length"})
_PRIVATE_METADATA = frozenset({"gps", "phash", "sha256", "tags"})


def public_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata of the public view: never GPS or fingerprints, a safe EXIF subset."""
    shown = {k: v for k, v in metadata.items() if k not in _PRIVATE_METADATA}
    if isinstance(shown.get("exif"), dict):
        shown["exif"] = {k: v for k, v in shown["exif"].items() if k in PUBLIC_EXIF}
    return shown


def require_admin(caller: Caller) -> None:
    """Admin-only routes: 403 for anyone else (whatever the id: nothing is revealed)."""
    if not caller.is_admin:
        raise Forbidden("this route is for admins")
