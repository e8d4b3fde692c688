"""PDF inspection with PDFium: page count, document info, first page rendered for previews."""

from __future__ import annotations

import re
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from media_core.domain.errors import MediaRejected
from media_core.engines.documents.limits import DocumentLimits

__all__ = ["inspect_pdf"]

_DATE = re.compile(r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz]|[+-]\d{2}'?\d{2}'?)?")


def _pdf_date(raw: str) -> str | None:
    """PDF date "D:YYYYMMDDHHmmSS+hh'mm'" -> ISO-8601; None when unparseable."""
    match = _DATE.match(raw.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, tz = match.groups()
    text = f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    if tz and tz.upper() == "Z":
        text += "Z"
    elif tz:
        digits = tz.replace("'", "")
        text += f"{digits[:3]}:{digits[3:5]}"
    return text


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise MediaRejected("encrypted PDF: cannot be processed (password protected)") from None
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise MediaRejected("encrypted PDF: cannot be processed (unsupported security handler)") from None
        raise MediaRejected(f"malformed PDF: {exc}") from None


def _render_first_page(document: pdfium.PdfDocument, long_side: int) -> Image.Image:
    try:
        # A page tree that counts a page it cannot give (a missing or non-page kid) fails here.
        page = document[0]
    except pdfium.PdfiumError as exc:
        raise MediaRejected(f"malformed PDF: the first page cannot be loaded ({exc})") from None
    try:
        width, height = page.get_size()  # points (1/72 in), after /Rotate
        if not (width > 0 and height > 0):
            raise MediaRejected("malformed PDF: the first page has no size")
        # Fit the long side whatever the page size: a 1 pt page or a 200 in poster both give
        # a bounded bitmap.
        bitmap = page.render(scale=long_side / max(width, height), may_draw_forms=True)
        image: Image.Image = bitmap.to_pil().convert("RGB")  # copy: the bitmap's buffer is freed with it
        bitmap.close()
        return image
    except pdfium.PdfiumError as exc:
        raise MediaRejected(f"malformed PDF: the first page cannot be rendered ({exc})") from None
    finally:
        page.close()


def inspect_pdf(data: bytes, limits: DocumentLimits) -> tuple[dict[str, Any], Image.Image]:
    document = _open(data)
    try:
        pages = len(document)
        if pages < 1:
            raise MediaRejected("malformed PDF: the document has no pages")
        if pages > limits.max_pdf_pages:
            raise MediaRejected(f"too many pages: {pages} (limit {limits.max_pdf_pages})")
        info = document.get_metadata_dict(skip_empty=True)
        metadata: dict[str, Any] = {
            "page_count": pages,
            "pdf_version": document.get_version(),
            # Opened without a password but encrypted: only owner restrictions (print, copy...).
            "encrypted": pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw) != -1,
        }
        for key, name in (
            ("Title", "title"),
            ("Author", "author"),
            ("Subject", "subject"),
            ("Creator", "creator"),
            ("Producer", "producer"),
        ):
            value = "".join(ch for ch in str(info.get(key, "")) if ch.isprintable()).strip()
            if value:
                metadata[name] = value[:200]
        for key, name in (("CreationDate", "created_at"), ("ModDate", "modified_at")):
            date = _pdf_date(str(info.get(key, "")))
            if date:
                metadata[name] = date
        preview = _render_first_page(document, limits.preview_long_side)
        metadata["preview_width"], metadata["preview_height"] = preview.size
        return metadata, preview
    finally:
        document.close()
