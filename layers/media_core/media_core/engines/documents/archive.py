"""ZIP (and DOCX, which is a ZIP) inspection from the central directory only: nothing is ever
extracted to disk, and the limits are checked before anything is decompressed."""

from __future__ import annotations

import html
import io
import re
import zipfile
from typing import Any

from media_core.domain.errors import MediaRejected
from media_core.engines.documents.limits import DocumentLimits

__all__ = ["human_bytes", "inspect_docx", "inspect_zip", "open_zip"]

_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".7z", ".rar", ".tar", ".bz2", ".xz", ".jar")
_XML_READ_CAP = 256 * 1024  # docProps files are a few hundred bytes


def human_bytes(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


def _declared_entries(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile parses a
    possibly enormous directory. None for ZIP64 (0xFFFF) or when the record is missing."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if at < 0 or at + 12 > len(data):
        return None
    count = int.from_bytes(data[at + 10 : at + 12], "little")
    return None if count == 0xFFFF else count


def _directory_headers(data: bytes, limit: int) -> int:
    """Central directory headers actually present (at most limit + 1 are counted). The EOCD's
    count can lie, and zipfile would then parse a directory of any size: count the signatures
    from where the directory starts instead (a signature inside file data only over-counts)."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    start = int.from_bytes(data[at + 16 : at + 20], "little") if at >= 0 and at + 20 <= len(data) else 0
    start = start if start < len(data) else 0
    count, position = 0, data.find(_CENTRAL, start)
    while position >= 0 and count <= limit:
        count += 1
        position = data.find(_CENTRAL, position + 46)  # a header is at least 46 bytes
    return count


def open_zip(data: bytes, limits: DocumentLimits, what: str = "ZIP") -> zipfile.ZipFile:
    declared = _declared_entries(data)
    if declared is not None and declared > limits.zip_max_entries:
        raise MediaRejected(
            f"too many entries: the {what} declares {declared} (limit {limits.zip_max_entries})"
        )
    present = _directory_headers(data, limits.zip_max_entries)
    if present > limits.zip_max_entries:
        raise MediaRejected(
            f"too many entries: the {what} holds more than {limits.zip_max_entries} "
            f"(it declares {declared if declared is not None else 'a ZIP64 count'})"
        )
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, IndexError) as exc:
        raise MediaRejected(f"malformed {what}: {exc}") from None


def _check_bombs(archive: zipfile.ZipFile, limits: DocumentLimits, what: str) -> list[zipfile.ZipInfo]:
    entries = archive.infolist()
    if len(entries) > limits.zip_max_entries:
        raise MediaRejected(
            f"too many entries: the {what} has {len(entries)} (limit {limits.zip_max_entries})"
        )
    total = sum(e.file_size for e in entries)
    if total > limits.zip_max_uncompressed:
        raise MediaRejected(
            f"zip bomb suspected: the {what} expands to {human_bytes(total)} "
            f"(limit {human_bytes(limits.zip_max_uncompressed)})"
        )
    for entry in entries:
        if entry.file_size < limits.zip_ratio_min_size:
            continue
        ratio = entry.file_size / entry.compress_size if entry.compress_size else float("inf")
        if ratio > limits.zip_max_ratio:
            raise MediaRejected(
                f"zip bomb suspected: entry {entry.filename[:80]!r} expands {ratio:.0f}x "
                f"(limit {limits.zip_max_ratio:g}x)"
            )
    return entries


def _unsafe(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def inspect_zip(archive: zipfile.ZipFile, limits: DocumentLimits, what: str = "ZIP") -> dict[str, Any]:
    """Entry counts and sizes as declared by the central directory (declared sizes are what an
    extractor would allocate; a lying entry fails its CRC when read, which we never do here)."""
    entries = _check_bombs(archive, limits, what)
    files = [e for e in entries if not e.is_dir()]
    return {
        "entry_count": len(entries),
        "file_count": len(files),
        "total_uncompressed": sum(e.file_size for e in entries),
        "total_compressed": sum(e.compress_size for e in entries),
        "encrypted_entries": sum(1 for e in entries if e.flag_bits & 0x1),
        "unsafe_paths": sum(1 for e in entries if _unsafe(e.filename)),
        "nested_archives": sum(1 for e in files if e.filename.lower().endswith(_ARCHIVE_SUFFIXES)),
    }


def _read_small(archive: zipfile.ZipFile, name: str) -> str:
    try:
        with archive.open(name) as handle:
            return handle.read(_XML_READ_CAP).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return ""


def _tag(xml: str, tag: str) -> str | None:
    # A regex, not an XML parser: these few flat tags need no entity expansion (no XML bombs).
    match = re.search(rf"<{tag}(?:\s[^>]*)?>([^<]{{0,1000}})</{tag}>", xml)
    if not match:
        return None
    value = html.unescape(match.group(1)).strip()
    return value[:200] or None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def inspect_docx(archive: zipfile.ZipFile) -> dict[str, Any]:
    """Title/author from docProps/core.xml; pages/words as last saved by Word (docProps/app.xml)."""
    names = set(archive.namelist())
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        raise MediaRejected("not a DOCX: the bytes are a ZIP archive without a Word document")
    core = _read_small(archive, "docProps/core.xml") if "docProps/core.xml" in names else ""
    app = _read_small(archive, "docProps/app.xml") if "docProps/app.xml" in names else ""
    fields = {
        "title": _tag(core, "dc:title"),
        "author": _tag(core, "dc:creator"),
        "page_count": _int(_tag(app, "Pages")),
        "word_count": _int(_tag(app, "Words")),
    }
    return {k: v for k, v in fields.items() if v is not None}
