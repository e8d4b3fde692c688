"""EnableCdn=false: no distribution, no Transform function, no /cdn paths; variant URLs are S3
presigned GETs signed at the window's start, so they are still byte-identical within a window."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.media_api import call, ready_image


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(
        tmp_path_factory.mktemp("no-cdn"), pollers=False, params={"EnableCdn": "false"}
    ) as running:
        yield running


def test_without_the_cdn_urls_are_windowed_s3_presigned_gets_and_there_is_no_srcset(stack: LocalStack):
    assert "TransformFunction" not in stack.functions
    assert stack.gateway is not None and stack.gateway.cdn is None
    media_id = ready_image(stack, "alice")
    first, second = (call(stack, "GET", f"/media/{media_id}").json() for _ in range(2))
    # Byte-identical within the window, and presigned by S3 (SigV4) with the window's start time
    assert first["variants"] == second["variants"]
    small = first["variants"]["small"]["url"]
    query = parse_qs(urlsplit(small).query)
    assert small.startswith(stack.aws_endpoint) and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Date"][0].endswith("0000Z")  # the window (an hour) starts on the hour
    assert int(query["X-Amz-Expires"][0]) == 3600 + 3600  # TTL + window
    assert requests.get(small, timeout=30).status_code == 200
    # No transformations are offered, and the gateway has no CDN paths
    assert first["srcset"] == []
    assert requests.get(f"{stack.api_url}/cdn/t/{media_id}/w_320/x", timeout=30).status_code == 403
