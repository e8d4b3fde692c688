"""Documents are verified from their bytes and inspected within limits."""

from __future__ import annotations

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.documents import DOCUMENT_PREVIEW_PRESETS, DocumentLimits, process_document
from media_core.engines.imaging.render import render_variants

from tests.support import images


def reject(data: bytes, ext: str, limits: DocumentLimits | None = None) -> str:
    with pytest.raises(MediaRejected) as caught:
        process_document(
            data, declared_extension=ext, declared_content_type="", limits=limits or DocumentLimits()
        )
    return caught.value.message


def test_pdf_pages_info_and_preview() -> None:
    # Given a 3-page US-Letter PDF with /Title and /Author
    data = images.pdf_document(pages=3, title="Quarterly Report", author="Ada Lovelace")

    # When processed
    result = process_document(data, declared_extension=".PDF", declared_content_type="application/pdf")

    # Then page count and document info are recorded and page 1 is rendered to 1080 px tall
    metadata = result.metadata
    assert metadata["type"] == "pdf"
    assert metadata["page_count"] == 3
    assert (metadata["title"], metadata["author"]) == ("Quarterly Report", "Ada Lovelace")
    assert metadata["created_at"] == "2024-01-02T03:04:05+01:00"
    assert metadata["bytes"] == len(data) and len(result.sha256) == 64
    assert result.preview is not None
    assert result.preview.size == (835, 1080)  # 612x792 pt scaled to a 1080 px long side
    # the blue rectangle is drawn: the preview is not blank
    assert result.preview.getpixel((200, 800)) != (255, 255, 255)


def test_pdf_preview_renders_with_document_presets() -> None:
    # Given a landscape A4 PDF preview
    preview = process_document(
        images.pdf_document(pages=1, size=(842, 595)), declared_extension="pdf", declared_content_type=""
    ).preview
    assert preview is not None
    # When the lead renders it with the document presets
    rendered = render_variants(preview, DOCUMENT_PREVIEW_PRESETS)
    # Then
    width, height = preview.size
    assert width == 1080
    assert [(v.name, v.width, v.height) for v in rendered] == [
        ("thumbnail", 150, 150),
        ("small", 320, round(height * 320 / 1080)),
        ("medium", 640, round(height * 640 / 1080)),
    ]


def test_encrypted_pdf_is_refused() -> None:
    assert reject(images.encrypted_pdf(), "pdf") == "encrypted PDF: cannot be processed (password protected)"


def test_malformed_pdf_is_refused() -> None:
    assert reject(b"%PDF-1.7\n" + b"garbage " * 50, "pdf").startswith("malformed PDF")


def _pdf(*objects: str) -> bytes:
    """A PDF with a correct cross-reference table around `objects` (1 0 obj is the catalog)."""
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.mark.parametrize(
    "kids",
    ["[3 0 R]", "[9 0 R]"],
    ids=["a-kid-that-is-not-a-page", "a-kid-that-does-not-exist"],
)
def test_a_page_tree_counting_a_page_it_cannot_give_is_refused_with_a_reason(kids: str) -> None:
    # Given a PDF that opens and says it has 1 page, whose page cannot be loaded
    data = _pdf(
        "<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids {kids} /Count 1 >>", "<< /Type /Font >>"
    )
    # Then it is refused (MediaRejected: the record fails at once, no retries) with the reason
    assert reject(data, "pdf") == "malformed PDF: the first page cannot be loaded (Failed to load page.)"


@pytest.mark.parametrize(
    ("data", "ext", "reason"),
    [
        (images.zip_archive({"a.txt": b"x"}), "pdf", "not a PDF: the bytes are a ZIP archive"),
        (images.pdf_document(), "docx", "not a DOCX: the bytes are a PDF"),
        (images.pdf_document(), "zip", "not a ZIP archive: the bytes are a PDF"),
        (images.corpus("Canon_40D.jpg"), "txt", "not a text file: the bytes are a JPEG image"),
        (b"hello", "doc", "not a DOC: the bytes are text"),
        (
            images.zip_archive({"a.txt": b"x"}),
            "docx",
            "not a DOCX: the bytes are a ZIP archive without a Word document",
        ),
        (
            images.ole2_doc("Workbook"),
            "doc",
            "not a DOC: the bytes are an OLE2 compound file without a Word document",
        ),
        (images.ole2_doc("EncryptedPackage"), "docx", "encrypted Office document: cannot be processed"),
        (b"", "txt", "empty file (0 bytes)"),
        (b"x", "exe", "unsupported document type: exe"),
    ],
    ids=[
        "zip-as-pdf",
        "pdf-as-docx",
        "pdf-as-zip",
        "jpeg-as-txt",
        "text-as-doc",
        "zip-as-docx",
        "xls-as-doc",
        "encrypted-docx",
        "empty",
        "exe",
    ],
)
def test_type_is_verified_from_the_bytes(data: bytes, ext: str, reason: str) -> None:
    assert reject(data, ext) == reason


def test_zip_counts_from_the_central_directory() -> None:
    # Given a zip with three files, one in a folder, one with a traversal path
    data = images.zip_archive({"a.txt": b"a" * 100, "dir/b.txt": b"b" * 50, "../evil.txt": b"x"})
    # When processed
    metadata = process_document(
        data, declared_extension="zip", declared_content_type="application/zip"
    ).metadata
    # Then entries and sizes are counted; the traversal path is flagged, nothing extracted
    assert metadata["entry_count"] == 3
    assert metadata["total_uncompressed"] == 151
    assert metadata["unsafe_paths"] == 1


def test_zip_bomb_ratio_is_refused() -> None:
    # Given one entry of 24 MB of zeros compressed ~1000:1
    data = images.zip_bomb(24)
    assert len(data) < 100_000
    # When processed / Then the per-entry ratio cap refuses it
    assert reject(data, "zip") == "zip bomb suspected: entry 'zeros.bin' expands 1029x (limit 100x)"


def test_zip_total_size_and_entry_caps() -> None:
    data = images.zip_archive({f"f{i}.txt": b"y" * 1000 for i in range(20)})
    assert reject(data, "zip", DocumentLimits(zip_max_uncompressed=10_000)) == (
        "zip bomb suspected: the ZIP archive expands to 19.5 KiB (limit 9.8 KiB)"
    )
    assert reject(data, "zip", DocumentLimits(zip_max_entries=10)) == (
        "too many entries: the ZIP archive declares 20 (limit 10)"
    )


def test_docx_checks_and_properties() -> None:
    # Given a docx with core and app properties
    result = process_document(images.docx(), declared_extension="docx", declared_content_type="")
    # Then the zip checks ran and title/author/pages/words are read
    metadata = result.metadata
    assert metadata["entry_count"] == 4
    assert (metadata["title"], metadata["author"], metadata["page_count"], metadata["word_count"]) == (
        "Design Notes",
        "Grace Hopper",
        2,
        345,
    )
    assert result.preview is None


def test_doc_signature() -> None:
    assert (
        process_document(images.ole2_doc(), declared_extension="doc", declared_content_type="").metadata[
            "type"
        ]
        == "doc"
    )


def test_text_utf8_lines() -> None:
    # Given UTF-8 text with a BOM and non-ASCII characters
    data = "\ufeffhéllo wörld\nsecond line\nthird".encode()
    # When processed
    metadata = process_document(data, declared_extension="txt", declared_content_type="text/plain").metadata
    # Then encoding and counts are recorded
    assert (metadata["encoding"], metadata["line_count"], metadata["word_count"]) == ("utf-8-sig", 3, 5)


@pytest.mark.parametrize("bom", ["utf-16-le", "utf-16-be"])
def test_utf16_text_is_refused_as_utf16_not_taken_for_audio(bom: str) -> None:
    # Given UTF-16 text with its byte order mark (UTF-16LE's, FF FE, is also an MPEG audio sync)
    data = "\ufeffhello world\nsecond line\n".encode(bom)
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    # Then the reason says what to do, as for any UTF-16 text
    assert reject(data, "txt") == "unsupported text encoding: UTF-16 (save the file as UTF-8)"


def test_an_mpeg_audio_frame_is_still_audio() -> None:
    # An MPEG-1 Layer I frame with CRC starts FF FE as UTF-16LE does; its bytes are no text
    frame = b"\xff\xfe\x90\x04" + bytes(range(0, 256, 3)) * 4
    assert reject(frame, "txt") == "not a text file: the bytes are an audio file"


def test_text_that_is_not_utf8_is_refused() -> None:
    assert (
        reject("caf\xe9 au lait".encode("latin-1"), "txt") == "not UTF-8 text: invalid byte 0xe9 at offset 3"
    )


def test_a_zip_whose_end_record_lies_about_its_entry_count_is_refused_before_parsing() -> None:
    # Given a ZIP of 50 entries whose end-of-central-directory record claims 1
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(50):
            archive.writestr(f"f{i}.txt", b"x")
    data = bytearray(buffer.getvalue())
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 8 : eocd + 12] = (1).to_bytes(2, "little") * 2  # entries on this disk, and in all
    # When it is inspected with a limit of 10 entries, Then the real count is what is refused
    reason = reject(bytes(data), "zip", DocumentLimits(zip_max_entries=10))
    assert reason.startswith("too many entries") and "more than 10" in reason and "declares 1" in reason
