"""Say what a byte string really is, from its leading signature (never from a name or a header).

Pure Python and Pillow-free so documents (and anything else) can use it cheaply. The label is
phrased to complete a sentence: "the bytes are {label}".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Sniffed", "looks_like_text", "sniff"]


@dataclass(frozen=True, slots=True)
class Sniffed:
    label: str
    """Human phrase, e.g. "a PDF", "a JPEG image", "text"."""
    image_format: str | None = None
    """Pillow format name when the bytes are a raster image we may decode."""
    kind: str = "other"
    """Coarse family: image, document, archive, video, audio, text, executable, empty, other."""


# ISO-BMFF (HEIF/AVIF/MP4/MOV) brands, read from the `ftyp` box.
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _ftyp(data: bytes) -> Sniffed | None:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    size = int.from_bytes(data[0:4], "big")
    end = min(max(size, 16), len(data), 256)
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, end - 3, 4)}
    # AVIF first: AVIF files also list the generic HEIF brand mif1.
    if brands & _AVIF_BRANDS:
        return Sniffed("an AVIF image", "AVIF", "image")
    if brands & _HEIF_BRANDS:
        return Sniffed("a HEIF/HEIC image", "HEIF", "image")
    if data[8:12] in _AUDIO_BRANDS:
        return Sniffed("an MPEG-4 audio file", kind="audio")
    return Sniffed("a video (MP4/QuickTime)", kind="video")


def looks_like_text(data: bytes) -> bool:
    """True when the head decodes as UTF-8 (or UTF-16 with a BOM) and has no control bytes."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    return _few_controls(text)


def _few_controls(text: str) -> bool:
    """At most 1 % control characters (tabs, line breaks and ESC do not count): text, not binary."""
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v\x1b")
    return control <= len(text) // 100


def _utf16le_text(data: bytes) -> bool:
    """The head after a UTF-16LE BOM decodes to characters with few control characters."""
    head = data[2:8194]
    text = head[: len(head) // 2 * 2].decode("utf-16-le", errors="replace")
    if not text or "\ufffd" in text[:-1]:
        return False
    return _few_controls(text)


def _text_label(data: bytes) -> Sniffed:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        return Sniffed("an SVG drawing (vector images are not supported)", kind="text")
    if head.startswith((b"<!doctype html", b"<html")):
        return Sniffed("an HTML document", kind="text")
    return Sniffed("text", kind="text")


def sniff(data: bytes) -> Sniffed:
    """Identify `data` from its signature; unknown binary data is "an unrecognised binary format"."""
    if not data:
        return Sniffed("empty", kind="empty")
    if data.startswith(b"\xff\xd8\xff"):
        return Sniffed("a JPEG image", "JPEG", "image")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("a PNG image", "PNG", "image")
    if data.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed("a GIF image", "GIF", "image")
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return Sniffed("a WebP image", "WEBP", "image")
    if data.startswith(b"BM") and len(data) >= 26:
        return Sniffed("a BMP image", "BMP", "image")
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return Sniffed("a TIFF image", "TIFF", "image")
    ftyp = _ftyp(data)
    if ftyp is not None:
        return ftyp
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return Sniffed("a PDF", kind="document")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return Sniffed("a ZIP archive", kind="archive")
    if data.startswith(_OLE2):
        return Sniffed("an OLE2 compound file (legacy Office)", kind="document")
    if data.startswith(b"\x1f\x8b"):
        return Sniffed("a gzip archive", kind="archive")
    if data.startswith(b"7z\xbc\xaf\x27\x1c"):
        return Sniffed("a 7-Zip archive", kind="archive")
    if data.startswith(b"Rar!\x1a\x07"):
        return Sniffed("a RAR archive", kind="archive")
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return Sniffed("a WAV audio file", kind="audio")
    if data.startswith(b"RIFF") and data[8:12] == b"AVI ":
        return Sniffed("an AVI video", kind="video")
    if data.startswith(b"\x1aE\xdf\xa3"):
        return Sniffed("a Matroska/WebM video", kind="video")
    if data.startswith(b"\xff\xfe") and _utf16le_text(data):
        # UTF-16LE's byte order mark is also an MPEG audio frame sync (FF Ex).
        return Sniffed("UTF-16 text", kind="text")
    mpeg_audio_sync = len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0
    if data.startswith((b"ID3", b"fLaC", b"OggS")) or mpeg_audio_sync:
        return Sniffed("an audio file", kind="audio")
    if data.startswith((b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"#!")):
        return Sniffed("an executable", kind="executable")
    if data.startswith(b"\x00\x00\x00\x0cjP  "):
        return Sniffed("a JPEG 2000 image (not supported)", kind="other")
    if looks_like_text(data):
        return _text_label(data)
    return Sniffed("an unrecognised binary format", kind="other")
