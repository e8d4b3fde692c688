"""Static files of the page (`web/`) for GET requests that no API route matches."""

from __future__ import annotations

import mimetypes
from pathlib import Path


def static_file(web_dir: Path | None, path: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of `/` or `/web/...` inside `web_dir`; None when it is not one."""
    if web_dir is None:
        return None
    if path == "/":
        relative = "index.html"
    elif path.startswith("/web/"):
        relative = path[len("/web/") :] or "index.html"
    else:
        return None
    root = web_dir.resolve()
    file = (root / relative).resolve()
    if file.is_dir():
        file = file / "index.html"
    if not file.is_relative_to(root) or not file.is_file():
        return None
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
        content_type += "; charset=utf-8"
    return content_type, file.read_bytes()
