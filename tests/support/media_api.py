"""The query and management API as a client calls it through the local stack's gateway, plus
the shortest real path to a `ready` image (upload, then deliver the queued S3 event)."""

from __future__ import annotations

from typing import Any

import requests

from local_stack.auth import user_sub
from local_stack.stack import LocalStack
from tests.support import images
from tests.support.flow import deliver, queued_messages, start_upload, upload
from tests.support.local_stack import bearer


def call(
    stack: LocalStack, method: str, path: str, user: str = "alice", admin: bool = False, **kwargs: Any
) -> requests.Response:
    kwargs.setdefault("timeout", 30)
    kwargs.setdefault("allow_redirects", False)
    return requests.request(method, f"{stack.api_url}{path}", headers=bearer(stack, user, admin), **kwargs)


def sub(user: str) -> str:
    return user_sub(user)


def ready_image(stack: LocalStack, user: str = "alice", seed: int = 0, **extra: Any) -> str:
    """Upload a small JPEG and run the image processor on its event: a `ready` record."""
    data = images.encode(images.photo_like((320, 240), seed=seed), "JPEG", quality=85)
    media_id = upload(stack, user, f"photo {seed}.jpg", "image/jpeg", data, **extra)
    result = deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
    assert result == {"batchItemFailures": []}, result
    return media_id


def failed_image(stack: LocalStack, user: str = "alice", **extra: Any) -> str:
    """Upload bytes that are not an image: the processor fails the record with a reason."""
    media_id = upload(stack, user, "broken.jpg", "image/jpeg", b"not a jpeg at all", **extra)
    deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
    return media_id


def awaiting(stack: LocalStack, user: str = "alice", name: str = "later.pdf", **extra: Any) -> str:
    """A record whose bytes never arrive."""
    return str(start_upload(stack, user, name, "application/pdf", 1000, **extra)["media_id"])
