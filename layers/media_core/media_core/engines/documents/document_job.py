"""process_document: verify the declared type from the bytes, then inspect within limits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from media_core.domain.errors import MediaRejected
from media_core.engines.documents.archive import human_bytes, inspect_docx, inspect_zip, open_zip
from media_core.engines.documents.limits import DocumentLimits
from media_core.engines.documents.pdf import inspect_pdf
from media_core.engines.documents.text import inspect_text
from media_core.engines.imaging.sniff import sniff

__all__ = ["DOCUMENT_TYPES", "ProcessedDocument", "document_type", "process_document"]

# type -> (label used in reasons, content type recorded)
DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    "pdf": ("PDF", "application/pdf"),
    "txt": ("text file", "text/plain"),
    "doc": ("DOC", "application/msword"),
    "docx": ("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "zip": ("ZIP archive", "application/zip"),
}
_BY_CONTENT_TYPE = {ct: t for t, (_, ct) in DOCUMENT_TYPES.items()} | {
    "application/x-zip-compressed": "zip",
    "application/x-pdf": "pdf",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class ProcessedDocument:
    metadata: dict[str, Any]
    sha256: str
    preview: Image.Image | None = field(default=None)
    """First page of a PDF (RGB, long side = limits.preview_long_side): render it with
    `render_variants(preview, DOCUMENT_PREVIEW_PRESETS)`."""


def document_type(declared_extension: str, declared_content_type: str) -> str:
    """Which type the uploader claims: the extension wins, the content type is the fallback."""
    ext = declared_extension.lower().lstrip(".")
    if ext in DOCUMENT_TYPES:
        return ext
    by_type = _BY_CONTENT_TYPE.get(declared_content_type.split(";")[0].strip().lower())
    if by_type:
        return by_type
    claimed = declared_extension or declared_content_type or "unknown"
    raise MediaRejected(f"unsupported document type: {claimed}")


def _mismatch(expected: str, data: bytes) -> MediaRejected:
    return MediaRejected(f"not a {DOCUMENT_TYPES[expected][0]}: the bytes are {sniff(data).label}")


def _inspect_doc(data: bytes) -> dict[str, Any]:
    # The CFB directory names its streams in UTF-16LE; a Word file has "WordDocument".
    if "WordDocument".encode("utf-16-le") not in data:
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise MediaRejected("encrypted Office document: cannot be processed")
        raise MediaRejected("not a DOC: the bytes are an OLE2 compound file without a Word document")
    return {}


def process_document(
    data: bytes,
    *,
    declared_extension: str,
    declared_content_type: str = "",
    limits: DocumentLimits = DocumentLimits(),  # noqa: B008  (frozen dataclass: safe as a default)
) -> ProcessedDocument:
    """Verify and inspect a document; raise MediaRejected with a reason for unusable files."""
    kind = document_type(declared_extension, declared_content_type)
    if not data:
        raise MediaRejected("empty file (0 bytes)")
    if len(data) > limits.max_bytes:
        raise MediaRejected(
            f"too large: {human_bytes(len(data))} exceeds the {human_bytes(limits.max_bytes)} limit"
        )
    metadata: dict[str, Any] = {
        "type": kind,
        "content_type": DOCUMENT_TYPES[kind][1],
        "declared_content_type": declared_content_type,
        "bytes": len(data),
    }
    preview: Image.Image | None = None
    head = data[:1024]
    if kind == "pdf":
        if b"%PDF-" not in head:
            raise _mismatch(kind, data)
        details, preview = inspect_pdf(data, limits)
    elif kind in ("zip", "docx"):
        if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            if kind == "docx" and data.startswith(_OLE2) and "EncryptedPackage".encode("utf-16-le") in data:
                raise MediaRejected("encrypted Office document: cannot be processed")
            raise _mismatch(kind, data)
        what = DOCUMENT_TYPES[kind][0]
        archive = open_zip(data, limits, what)
        with archive:
            details = inspect_zip(archive, limits, what)
            if kind == "docx":
                details |= inspect_docx(archive)
    elif kind == "doc":
        if not data.startswith(_OLE2):
            raise _mismatch(kind, data)
        details = _inspect_doc(data)
    else:
        sniffed = sniff(data)
        # "other" may be Latin-1 text: inspect_text gives the precise reason for those.
        if sniffed.kind not in ("text", "other"):
            raise MediaRejected(f"not a text file: the bytes are {sniffed.label}")
        details = inspect_text(data)
    metadata |= details
    digest = hashlib.sha256(data).hexdigest()
    metadata["sha256"] = digest
    return ProcessedDocument(metadata=metadata, sha256=digest, preview=preview)
