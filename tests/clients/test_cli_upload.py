"""`media upload`: a directory of mixed files goes up and becomes ready; a bad file in a batch is
reported with the API's reason while the others still upload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_stack.stack import LocalStack
from tests.clients.conftest import MIB, Cli
from tests.support import images
from tests.support.av_media import AvMedia
from tests.support.flow import get_media

pytestmark = pytest.mark.e2e

RESULT = re.compile(r"^(?P<path>.+): (?P<id>[0-9a-f]{32}) (?P<status>ready|uploaded)$")


def results(lines: list[str]) -> dict[str, tuple[str, str]]:
    """path → (media id, status) from the CLI's result lines."""
    found = {}
    for line in lines:
        match = RESULT.match(line)
        assert match, f"unexpected result line {line!r}"
        found[Path(match["path"]).name] = (match["id"], match["status"])
    return found


def test_a_directory_of_mixed_files_uploads_and_every_file_becomes_ready(
    cli: Cli, stack: LocalStack, tmp_path: Path
):
    # Given a directory with a photo, a PNG, a PDF, a text file (above the 5 MiB multipart threshold
    # of this stack, so it goes up in parts) and an MP3, one of them in a subdirectory
    folder = tmp_path / "holiday"
    (folder / "docs").mkdir(parents=True)
    (folder / "photo.jpg").write_bytes(images.encode(images.photo_like((320, 240)), "JPEG", quality=85))
    (folder / "icon.png").write_bytes(images.rgba_png((64, 48)))
    (folder / "docs" / "guide.pdf").write_bytes(images.pdf_document())
    (folder / "docs" / "minutes.txt").write_bytes(
        b"Minutes of the meeting, line after line.\n" * (6 * MIB // 41)
    )
    (folder / "tone.mp3").write_bytes(AvMedia(tmp_path / "av").mp3().read_bytes())
    # When it is uploaded with --wait, asking for multipart above 5 MiB
    run = cli("upload", str(folder), "--wait", "--tag", "holiday", "--multipart-threshold", "5MiB", "--quiet")
    # Then the command succeeds and names every file as ready
    assert run.code == 0, run.err
    done = results(run.lines)
    assert set(done) == {"photo.jpg", "icon.png", "guide.pdf", "minutes.txt", "tone.mp3"}
    assert all(status == "ready" for _, status in done.values()), done
    # And the API agrees: each record is ready, tagged, with the original's size
    for name, (media_id, _) in done.items():
        response = get_media(stack, cli.user, media_id)
        assert response.status_code == 200, response.text
        record = response.json()
        assert record["status"] == "ready", record
        assert record["tags"] == ["holiday"]
        assert record["original"]["filename"] == name
    assert (
        "minutes.txt" in done
        and get_media(stack, cli.user, done["minutes.txt"][0]).json()["original"]["size"]
        == (folder / "docs" / "minutes.txt").stat().st_size
    )
    # And --quiet printed no progress, only results
    assert run.err == ""


def test_a_disallowed_and_an_oversize_file_fail_with_the_reason_and_the_others_still_upload(
    cli: Cli, stack: LocalStack, tmp_path: Path
):
    # Given a batch with a program, a 21 MB "image" (above the 20 MB image limit) and a good photo
    (tmp_path / "setup.exe").write_bytes(b"MZ" + b"\0" * 1000)
    with (tmp_path / "huge.png").open("wb") as big:
        big.truncate(21 * 1024 * 1024)
    (tmp_path / "good.jpg").write_bytes(images.encode(images.photo_like((160, 120), seed=3), "JPEG"))
    # When they are uploaded together
    run = cli(
        "upload",
        str(tmp_path / "setup.exe"),
        str(tmp_path / "huge.png"),
        str(tmp_path / "good.jpg"),
        "--wait",
    )
    # Then the command fails, with one line per bad file carrying the API's reason
    assert run.code == 1
    errors = [line for line in run.err.splitlines() if line.startswith(str(tmp_path))]
    assert len(errors) == 2, run.err
    assert any(
        line.startswith(f"{tmp_path / 'setup.exe'}: unsupported type: ") and "is not allowed" in line
        for line in errors
    ), errors
    assert f"{tmp_path / 'huge.png'}: too large: 21.0 MB exceeds the image limit of 20.0 MB" in errors
    # And the good photo was uploaded all the same and is ready
    done = results(run.lines)
    assert list(done) == ["good.jpg"]
    record = get_media(stack, cli.user, done["good.jpg"][0]).json()
    assert record["status"] == "ready", record
    # And the summary counts it
    assert "1 of 3 files ready" in run.err


def test_a_file_whose_bytes_are_not_what_it_claims_is_reported_failed_with_the_reason(
    cli: Cli, tmp_path: Path
):
    # Given a PDF named .jpg
    (tmp_path / "invoice.jpg").write_bytes(images.pdf_document())
    # When it is uploaded with --wait
    run = cli("upload", str(tmp_path / "invoice.jpg"), "--wait", "--quiet")
    # Then the processor's failure reason is printed and the exit status is 1
    assert run.code == 1
    assert re.search(r"invoice\.jpg: [0-9a-f]{32} failed: .*not an image: the bytes are a PDF", run.err), (
        run.err
    )
