"""`media ls`, `get`, `download` and `rm` end to end, connection settings from a profile, and the
token never in any output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from local_stack.stack import LocalStack
from tests.clients.conftest import Cli
from tests.support import images
from tests.support.flow import get_media

pytestmark = pytest.mark.e2e


def test_list_get_download_and_delete(cli: Cli, stack: LocalStack, tmp_path: Path):
    # Given a photo and a text file uploaded and ready
    photo, notes = tmp_path / "beach.jpg", tmp_path / "notes.txt"
    photo.write_bytes(images.encode(images.photo_like((400, 300), seed=7), "JPEG", quality=85))
    notes.write_bytes(b"first line\nsecond line\n")
    up = cli("upload", str(photo), str(notes), "--wait", "--quiet")
    assert up.code == 0, up.err
    ids = {Path(line.split(": ")[0]).name: line.split(": ")[1].split()[0] for line in up.lines}
    outputs = [up.out + up.err]

    # When listed one record per page: the cursor is followed to the end, newest first
    listed = cli("ls", "--page-size", "1")
    outputs.append(listed.out + listed.err)
    assert listed.code == 0, listed.err
    assert sorted(line.split()[0] for line in listed.lines) == sorted(ids.values())
    assert all("ready" in line for line in listed.lines)
    as_json = [json.loads(line) for line in cli("ls", "--page-size", "1", "--json").lines]
    assert [r["media_id"] for r in as_json] == [line.split()[0] for line in listed.lines]
    assert [r["created_at"] for r in as_json] == sorted((r["created_at"] for r in as_json), reverse=True)
    # And filtered by kind, and by status
    images_only = cli("ls", "--kind", "image", "--json")
    assert [json.loads(line)["media_id"] for line in images_only.lines] == [ids["beach.jpg"]]
    assert cli("ls", "--status", "failed").lines == []

    # When one record is fetched: it is the API's JSON
    got = cli("get", ids["beach.jpg"])
    outputs.append(got.out + got.err)
    assert got.code == 0
    record = json.loads(got.out)
    assert record["media_id"] == ids["beach.jpg"] and record["status"] == "ready"
    assert record == {**get_media(stack, cli.user, ids["beach.jpg"]).json(), "variants": record["variants"]}

    # When the original is downloaded: the bytes are the file's
    original = tmp_path / "original.jpg"
    down = cli("download", ids["beach.jpg"], "-o", str(original))
    outputs.append(down.out + down.err)
    assert down.code == 0, down.err
    assert original.read_bytes() == photo.read_bytes()
    # And a variant into a directory: named after the original, a valid 150×150 JPEG
    (tmp_path / "out").mkdir()
    thumb = cli("download", ids["beach.jpg"], "--variant", "thumbnail", "-o", str(tmp_path / "out"))
    assert thumb.code == 0, thumb.err
    saved = tmp_path / "out" / "beach-thumbnail.jpg"
    with Image.open(io.BytesIO(saved.read_bytes())) as picture:
        assert (picture.format, picture.size) == ("JPEG", (150, 150))
    # And a variant the record does not have is an error with the API's reason
    missing = cli("download", ids["notes.txt"], "--variant", "thumbnail", "-o", str(tmp_path / "x"))
    assert missing.code == 1 and "has no variant 'thumbnail'" in missing.err
    assert not (tmp_path / "x").exists()

    # When both are removed
    removed = cli("rm", ids["beach.jpg"], ids["notes.txt"])
    outputs.append(removed.out + removed.err)
    assert removed.code == 0, removed.err
    assert removed.lines == [f"{ids['beach.jpg']}: deleted", f"{ids['notes.txt']}: deleted"]
    # Then they are gone from the API and from the listing
    assert get_media(stack, cli.user, ids["beach.jpg"]).status_code == 404
    assert cli("ls").lines == []
    gone = cli("get", ids["notes.txt"])
    assert gone.code == 1 and gone.err.startswith(f"{ids['notes.txt']}: not found: ")
    # And the token was never printed
    assert all(cli.token not in text for text in outputs)


def test_settings_come_from_a_profile_and_a_bad_token_is_refused_without_being_printed(
    cli: Cli, stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given no settings in the environment, only a profile in the config file
    monkeypatch.delenv("MEDIA_API_URL")
    monkeypatch.delenv("MEDIA_TOKEN")
    assert (missing := cli("ls")).code == 2 and "no API URL" in missing.err
    config = tmp_path / "config" / "media-pipeline" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[profile.local]\napi_url = "{stack.api_url}"\ntoken = "{cli.token}"\n', encoding="utf-8"
    )
    # When the profile is chosen, the command works
    listed = cli("--profile", "local", "ls")
    assert listed.code == 0, listed.err
    # And an unknown profile is a configuration error
    assert (unknown := cli("ls", "--profile", "nope")).code == 2 and "[profile.nope]" in unknown.err
    # And a token given on the command line wins; a wrong one is refused, and not echoed
    bad = "eyJhbGciOiJSUzI1NiJ9.not-a-real-token.signature"
    refused = cli("--profile", "local", "--token", bad, "ls")
    assert refused.code == 1
    assert "unauthorized" in refused.err.lower() or "401" in refused.err, refused.err
    assert bad not in refused.out + refused.err and cli.token not in refused.out + refused.err
