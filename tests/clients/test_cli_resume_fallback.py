"""Against a deployment without the ListParts/SignParts routes (the API answers 403 "Missing
Authentication Token" there, as API Gateway does), a saved multipart upload cannot be resumed:
the next run aborts it and starts again from zero, and the file still arrives whole."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.paths import REPO_ROOT
from local_stack.stack import LocalStack
from tests.clients.bucket_parts import PartCounter
from tests.clients.conftest import MIB, PARAMS, Cli
from tests.support.flow import get_media
from tests.support.local_stack import derived_template, running_stack

pytestmark = pytest.mark.e2e

PARTS_PATH = "/uploads/{media_id}/parts"


def without_parts_routes(template: dict[str, Any]) -> None:
    events = template["Resources"]["UploadsFunction"]["Properties"]["Events"]
    for name in [n for n, e in events.items() if e["Properties"].get("Path") == PARTS_PATH]:
        del events[name]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    directory = tmp_path_factory.mktemp("client-old-stack")
    template = derived_template(directory, without_parts_routes)
    with running_stack(directory / "data", template=template, repo_root=REPO_ROOT, params=PARAMS) as running:
        yield running


def test_without_list_parts_an_interrupted_upload_starts_again_and_completes(
    cli: Cli, stack: LocalStack, parts: PartCounter, tmp_path: Path
):
    # Given a server without the parts routes, and a 3-part upload killed while part 2 is on the wire
    big = tmp_path / "old-server.txt"
    big.write_bytes(b"an older deployment\n" * ((2 * 5 * MIB + 10_000) // 20))
    state_dir = tmp_path / "state"
    parts.hold = 2
    command = [sys.executable, "-m", "media_pipeline_client", "upload", str(big), "--jobs", "1"]
    command += ["--multipart-threshold", "5MiB", "--state-dir", str(state_dir), "--quiet"]
    env = {**os.environ, "MEDIA_API_URL": stack.api_url, "MEDIA_TOKEN": cli.token}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert parts.holding.wait(120), "the first run never reached part 2"
    finally:
        first.kill()
        first.communicate(timeout=30)
        parts.release.set()
    (first_upload,) = {upload_id for upload_id, _ in parts.received}
    parts.received.clear()
    parts.hold = None

    # When the same command runs again
    run = cli("upload", str(big), "--jobs", "2", "--multipart-threshold", "5MiB", "--wait")

    # Then it says why it starts again, sends every part of a new upload, and the file is ready
    assert run.code == 0, run.err
    assert "retrying upload: cannot resume" in run.err
    assert sorted(n for _, n in parts.received) == [1, 2, 3]
    assert first_upload not in {upload_id for upload_id, _ in parts.received}
    media_id = run.lines[-1].split(": ", 1)[1].split(" ", 1)[0]
    record = get_media(stack, cli.user, media_id).json()
    assert record["status"] == "ready" and record["original"]["size"] == big.stat().st_size
    # And the abandoned upload was aborted, not left in the bucket
    pending = stack.client("s3").list_multipart_uploads(Bucket=stack.buckets["UploadsBucket"])
    assert first_upload not in {u["UploadId"] for u in pending.get("Uploads", [])}
    assert list(state_dir.glob("*.json")) == []
