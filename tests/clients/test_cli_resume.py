"""Multipart uploads that are interrupted or hit errors. A killed CLI (SIGKILL, no chance to clean
up) resumes: the same command run again sends only the parts the bucket does not have (counted
where they arrive: the emulated S3's UploadPart), completes the same upload, and the stored
original is byte for byte the file. A part the bucket fails is retried; Ctrl-C keeps the state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from local_stack.stack import LocalStack
from tests.clients.bucket_parts import PartCounter
from tests.clients.conftest import MIB, Cli
from tests.support.flow import get_media

pytestmark = pytest.mark.e2e

PART = 5 * MIB


def test_a_killed_multipart_upload_resumes_without_resending_the_parts_the_bucket_has(
    cli: Cli, stack: LocalStack, parts: PartCounter, tmp_path: Path
):
    # Given a 15.1 MiB text file: 4 parts of 5 MiB on this stack
    big = tmp_path / "ledger.txt"
    line = b"2026-12-01;account 4711;credit;100.00;the ledger goes on and on\n"
    big.write_bytes(line * ((3 * PART + 100_000) // len(line)))
    state_dir = tmp_path / "state"
    # And a first run, one part at a time, that is killed while part 3 is on the wire
    parts.hold = 3
    command = [sys.executable, "-c", AS_FROM_A_TERMINAL, "upload", str(big), "--jobs", "1"]
    command += ["--multipart-threshold", "5MiB", "--state-dir", str(state_dir), "--quiet"]
    env = {**os.environ, "MEDIA_API_URL": stack.api_url, "MEDIA_TOKEN": cli.token}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert parts.holding.wait(120), "the first run never reached part 3"
    finally:
        first.kill()
        out, err = first.communicate(timeout=30)
        parts.release.set()
    assert first.returncode != 0, (out, err)
    assert cli.token.encode() not in out + err
    first_upload = {upload_id for upload_id, _ in parts.received}
    assert len(first_upload) == 1 and [n for _, n in parts.received] == [1, 2, 3]
    # And the bucket holds parts 1 and 2 of that upload, and the state file names it
    assert len(list(state_dir.glob("*.json"))) == 1
    parts.received.clear()
    parts.hold = None

    # When the same command runs again (here in-process, parts in parallel) and waits
    run = cli("upload", str(big), "--jobs", "2", "--multipart-threshold", "5MiB", "--wait", "--quiet")

    # Then it succeeds: the file is ready, its original is the file's bytes exactly
    assert run.code == 0, run.err
    media_id = run.lines[-1].split(": ", 1)[1].split(" ", 1)[0]
    record = get_media(stack, cli.user, media_id).json()
    assert record["status"] == "ready", record
    assert record["original"]["size"] == big.stat().st_size
    downloaded = tmp_path / "back.txt"
    assert cli("download", media_id, "-o", str(downloaded)).code == 0
    assert downloaded.read_bytes() == big.read_bytes()
    # And only the parts the bucket did not have were sent, to the same upload
    assert sorted(n for _, n in parts.received) == [3, 4], parts.received
    assert {upload_id for upload_id, _ in parts.received} == first_upload
    # And the finished upload leaves no state behind
    assert list(state_dir.glob("*.json")) == []


def test_a_part_the_bucket_fails_is_retried_and_the_upload_completes(
    cli: Cli, stack: LocalStack, parts: PartCounter, tmp_path: Path
):
    # Given an 11 MiB file (3 parts) and a bucket that fails part 2 the first time
    big = tmp_path / "retry.txt"
    big.write_bytes(b"retry me, please, once more\n" * ((2 * PART + 1_000_000) // 28))
    parts.fail_once = {2}
    # When it is uploaded one part at a time
    run = cli("upload", str(big), "--jobs", "1", "--multipart-threshold", "5MiB", "--wait")
    # Then part 2 was sent twice, the others once, and the file is ready
    assert run.code == 0, run.err
    assert [n for _, n in parts.received] == [1, 2, 2, 3]
    assert "retrying part 2" in run.err
    media_id = run.lines[-1].split(": ", 1)[1].split(" ", 1)[0]
    assert get_media(stack, cli.user, media_id).json()["status"] == "ready"


# The CLI as a terminal starts it, with Ctrl-C raising KeyboardInterrupt. A child inherits an
# ignored SIGINT, and Python then leaves it ignored: a suite started in the background (`make test
# &`, a CI runner's background job) would otherwise see the signal ignored and 5 retries, exit 1.
AS_FROM_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('media_pipeline_client', run_name='__main__', alter_sys=True)"
)


def test_ctrl_c_stops_starting_parts_keeps_the_state_and_exits_130(
    cli: Cli, stack: LocalStack, parts: PartCounter, tmp_path: Path
):
    # Given a 4-part upload, one part at a time, interrupted (SIGINT) while part 2 is on the wire
    big = tmp_path / "interrupted.txt"
    big.write_bytes(b"interrupt me\n" * ((3 * PART + 5_000) // 13))
    state_dir = tmp_path / "state"
    parts.hold = 2
    command = [sys.executable, "-c", AS_FROM_A_TERMINAL, "upload", str(big), "--jobs", "1"]
    command += ["--multipart-threshold", "5MiB", "--state-dir", str(state_dir)]
    env = {**os.environ, "MEDIA_API_URL": stack.api_url, "MEDIA_TOKEN": cli.token}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert parts.holding.wait(120), "the upload never reached part 2"
        process.send_signal(signal.SIGINT)
        parts.release.set()  # the bucket answers the held part (500, not stored)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # Then it exits 130 with one line saying how to resume, and no part after 2 was started
    # (part 2 may be retried if its 500 arrives before the signal is handled)
    assert process.returncode == 130, (out, err)
    assert b"interrupted (run the same command again to resume an upload)" in err
    sent = [n for _, n in parts.received]
    assert sent[0] == 1 and set(sent[1:]) == {2}, sent
    # And the state needed to resume is kept; the token was not printed
    assert len(list(state_dir.glob("*.json"))) == 1
    assert cli.token.encode() not in out + err
