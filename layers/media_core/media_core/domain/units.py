"""Sizes for people: the wording of limit messages in the API and on failed records."""

from __future__ import annotations


def human_bytes(size: float) -> str:
    """1023 -> "1023 bytes", 20 * 2**20 -> "20.0 MB" (binary multiples, as the limits are set)."""
    if size < 1024:
        return f"{size:.0f} bytes"
    for unit in ("KB", "MB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GB"
