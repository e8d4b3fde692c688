"""File-type allowlists, server-made keys and filename sanitising: no AWS involved."""

import re

import pytest
from media_core.domain.errors import Unauthorized, UnsupportedType
from media_core.domain.keys import original_key, parse_upload_key, sanitize_filename, variant_key
from media_core.domain.kinds import FILE_TYPES, resolve_file_type
from media_core.domain.models import Kind


@pytest.mark.parametrize(
    ("filename", "content_type", "kind", "ext"),
    [
        ("IMG_0001.JPG", "image/jpeg", Kind.IMAGE, "jpg"),
        ("photo.jpeg", "IMAGE/JPEG", Kind.IMAGE, "jpg"),
        ("scan.TIF", "image/tiff", Kind.IMAGE, "tiff"),
        ("iphone.HEIC", "image/heic", Kind.IMAGE, "heic"),
        ("pic.heif", "image/heif", Kind.IMAGE, "heif"),
        ("a.avif", "image/avif", Kind.IMAGE, "avif"),
        ("clip.MOV", "video/quicktime", Kind.VIDEO, "mov"),
        ("clip.mkv", "video/x-matroska", Kind.VIDEO, "mkv"),
        ("clip.ogg", "video/ogg", Kind.VIDEO, "ogv"),
        ("song.ogg", "audio/ogg", Kind.AUDIO, "ogg"),
        ("song.m4a", "audio/mp4", Kind.AUDIO, "m4a"),
        ("song.FLAC", "audio/flac", Kind.AUDIO, "flac"),
        ("notes.txt", "text/plain; charset=utf-8", Kind.DOCUMENT, "txt"),
        (
            "cv.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind.DOCUMENT,
            "docx",
        ),
        ("bundle.zip", "application/zip", Kind.DOCUMENT, "zip"),
    ],
)
def test_kind_comes_from_content_type_and_extension_case_insensitively(filename, content_type, kind, ext):
    file_type = resolve_file_type(filename, content_type)
    assert (file_type.kind, file_type.extension) == (kind, ext)


@pytest.mark.parametrize(
    ("filename", "content_type", "message"),
    [
        ("evil.exe", "application/x-msdownload", "content_type 'application/x-msdownload' is not allowed"),
        ("evil.exe", "image/jpeg", "extension '.exe' is not allowed"),
        ("clip.mp4", "image/jpeg", "extension '.mp4' does not match content_type 'image/jpeg'"),
        ("noext", "image/png", "has no extension"),
        ("page.html", "text/html", "content_type 'text/html' is not allowed"),
        ("vector.svg", "image/svg+xml", "content_type 'image/svg+xml' is not allowed"),
    ],
)
def test_disallowed_or_mismatched_types_are_refused_with_a_reason(filename, content_type, message):
    with pytest.raises(UnsupportedType, match=re.escape(message)):
        resolve_file_type(filename, content_type)


def test_every_kind_has_allowlisted_types():
    assert {t.kind for t in FILE_TYPES} == set(Kind)


def test_original_key_is_made_by_the_server_and_parses_back():
    key = original_key(Kind.VIDEO, "owner-1", "0" * 32, "mov")
    assert key == f"uploads/video/owner-1/{'0' * 32}/original.mov"
    parsed = parse_upload_key(key)
    assert parsed is not None
    assert (parsed.kind, parsed.owner, parsed.media_id, parsed.extension) == (
        Kind.VIDEO,
        "owner-1",
        "0" * 32,
        "mov",
    )


def test_keys_as_s3_events_deliver_them_are_url_decoded():
    encoded = f"uploads%2Fimage%2Fowner-1%2F{'a' * 32}%2Foriginal.jpg"
    parsed = parse_upload_key(encoded)
    assert parsed is not None and parsed.media_id == "a" * 32


@pytest.mark.parametrize(
    "key",
    [
        "uploads/image/owner/../../etc/original.jpg",
        "uploads/executable/owner/" + "a" * 32 + "/original.jpg",
        "media/owner/" + "a" * 32 + "/thumb.jpg",
        "uploads/image/owner/" + "a" * 32 + "/other.jpg",
    ],
)
def test_foreign_keys_are_not_ours(key):
    assert parse_upload_key(key) is None


def test_an_owner_id_that_could_escape_its_prefix_is_refused():
    with pytest.raises(Unauthorized):
        original_key(Kind.IMAGE, "../alice", "a" * 32, "jpg")


def test_variant_keys_live_under_the_media_prefix_per_run():
    assert variant_key("o", "m", "r1", "thumbnail", "jpg") == "media/o/m/r1/thumbnail.jpg"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\bob\\My Photo.JPG", "My Photo.JPG"),
        ('a"b<c>|d.png', "a_b_c_d.png"),
        ("line\nbreak\r.txt", "line_break_.txt"),
        ("...", "file"),
        ("   ", "file"),
        ("é" * 300 + ".jpeg", "é" * 195 + ".jpeg"),
        ("Ünïcödé 写真.jpg", "Ünïcödé 写真.jpg"),
    ],
)
def test_filenames_are_kept_but_sanitised(raw, clean):
    assert sanitize_filename(raw) == clean
