"""Which files the pipeline accepts, and of which kind each one is.

The kind is decided from the declared content type *and* extension, both from allowlists and
case-insensitively; the processor later verifies the real type from the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from media_core.domain.errors import UnsupportedType
from media_core.domain.models import Kind


@dataclass(frozen=True)
class FileType:
    kind: Kind
    extension: str  # canonical, without the dot: what the stored key ends with
    content_types: frozenset[str]
    extensions: frozenset[str]


def _t(kind: Kind, ext: str, content_types: set[str], extensions: set[str] | None = None) -> FileType:
    return FileType(kind, ext, frozenset(content_types), frozenset(extensions or {ext}))


FILE_TYPES: tuple[FileType, ...] = (
    _t(Kind.IMAGE, "jpg", {"image/jpeg", "image/pjpeg"}, {"jpg", "jpeg", "jpe", "jfif"}),
    _t(Kind.IMAGE, "png", {"image/png"}),
    _t(Kind.IMAGE, "gif", {"image/gif"}),
    _t(Kind.IMAGE, "webp", {"image/webp"}),
    _t(Kind.IMAGE, "bmp", {"image/bmp", "image/x-ms-bmp"}),
    _t(Kind.IMAGE, "tiff", {"image/tiff"}, {"tif", "tiff"}),
    _t(Kind.IMAGE, "heic", {"image/heic", "image/heic-sequence"}, {"heic"}),
    _t(Kind.IMAGE, "heif", {"image/heif", "image/heif-sequence"}, {"heif"}),
    _t(Kind.IMAGE, "avif", {"image/avif"}),
    _t(Kind.VIDEO, "mp4", {"video/mp4"}, {"mp4", "m4v"}),
    _t(Kind.VIDEO, "mov", {"video/quicktime"}, {"mov", "qt"}),
    _t(Kind.VIDEO, "avi", {"video/x-msvideo", "video/avi", "video/msvideo"}),
    _t(Kind.VIDEO, "mkv", {"video/x-matroska", "video/matroska"}),
    _t(Kind.VIDEO, "webm", {"video/webm"}),
    _t(Kind.VIDEO, "ogv", {"video/ogg"}, {"ogv", "ogg"}),
    _t(Kind.AUDIO, "mp3", {"audio/mpeg", "audio/mp3"}),
    _t(Kind.AUDIO, "wav", {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
    _t(Kind.AUDIO, "ogg", {"audio/ogg", "audio/opus", "audio/vorbis"}, {"ogg", "oga", "opus"}),
    _t(Kind.AUDIO, "aac", {"audio/aac", "audio/x-aac"}),
    _t(Kind.AUDIO, "m4a", {"audio/mp4", "audio/x-m4a", "audio/m4a"}),
    _t(Kind.AUDIO, "flac", {"audio/flac", "audio/x-flac"}),
    _t(Kind.DOCUMENT, "pdf", {"application/pdf"}),
    _t(Kind.DOCUMENT, "txt", {"text/plain"}, {"txt", "text"}),
    _t(Kind.DOCUMENT, "doc", {"application/msword"}),
    _t(
        Kind.DOCUMENT,
        "docx",
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    ),
    _t(Kind.DOCUMENT, "zip", {"application/zip", "application/x-zip-compressed"}),
)


def _base_content_type(content_type: str) -> str:
    # "text/plain; charset=utf-8" -> "text/plain"
    return content_type.split(";", 1)[0].strip().lower()


def extension_of(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lstrip(".").lower()


def resolve_file_type(filename: str, content_type: str) -> FileType:
    """The file type both the content type and the extension agree on, or UnsupportedType."""
    ctype = _base_content_type(content_type)
    ext = extension_of(filename)
    by_type = [t for t in FILE_TYPES if ctype in t.content_types]
    if not by_type:
        raise UnsupportedType(
            f"content_type '{ctype}' is not allowed; allowed: {', '.join(allowed_content_types())}"
        )
    if not ext:
        raise UnsupportedType(f"filename '{filename}' has no extension; expected one of: {_exts(by_type)}")
    for file_type in by_type:
        if ext in file_type.extensions:
            return file_type
    if not any(ext in t.extensions for t in FILE_TYPES):
        raise UnsupportedType(f"extension '.{ext}' is not allowed")
    raise UnsupportedType(
        f"extension '.{ext}' does not match content_type '{ctype}' (expected {_exts(by_type)})"
    )


def _exts(types: list[FileType]) -> str:
    return ", ".join(sorted("." + e for t in types for e in t.extensions))


def allowed_content_types() -> list[str]:
    return sorted({c for t in FILE_TYPES for c in t.content_types})
