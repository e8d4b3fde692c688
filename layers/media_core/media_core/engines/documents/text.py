"""Plain text: must be UTF-8 (a BOM is allowed); anything binary is refused."""

from __future__ import annotations

import codecs
from typing import Any

from media_core.domain.errors import MediaRejected

__all__ = ["inspect_text"]


def inspect_text(data: bytes) -> dict[str, Any]:
    encoding = "utf-8"
    body = data
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8-sig", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise MediaRejected("unsupported text encoding: UTF-16 (save the file as UTF-8)")
    if b"\x00" in body:
        raise MediaRejected("not text: the bytes contain NUL characters (binary data)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = body[exc.start]
        raise MediaRejected(f"not UTF-8 text: invalid byte 0x{bad:02x} at offset {exc.start}") from None
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v\x1b")
    if control > max(8, len(text) // 100):
        raise MediaRejected("not text: too many control characters (binary data)")
    lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return {
        "encoding": encoding,
        "line_count": lines,
        "char_count": len(text),
        "word_count": len(text.split()),
    }
