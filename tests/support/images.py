"""Generators of test images, documents and hostile files. Everything is built in memory, fast
(< 0.5 s each), with real encoders (Pillow, zlib, zipfile) or by hand where a hostile file must
break a rule an encoder would not let us break."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# The shared corpus sits beside the repository (../shared), as in CI; MEDIA_CORPUS_DIR overrides.
CORPUS = Path(
    os.environ.get("MEDIA_CORPUS_DIR", Path(__file__).resolve().parents[3] / "shared" / "corpus" / "photos")
)
ORIENTATION = CORPUS / "orientation"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def photo_like(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Smooth gradients plus blobs plus noise: compresses and hashes like a photo, unlike a flat fill."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 100 * np.sin(x / (w / 3.1) + seed)
    g = 128 + 100 * np.cos(y / (h / 2.3) - seed)
    b = 128 + 80 * np.sin((x + y) / (w / 5.7))
    for _ in range(6):
        cx, cy, rad = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(w / 12, w / 4)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * rad**2)) * rng.uniform(-90, 90)
        r, g = r + blob, g - blob / 2
    rgb = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def same_size(*files: bytes) -> list[bytes]:
    """JPEGs padded after their end marker (decoders ignore it) to one size: a replacement sent
    through the same presigned POST, whose policy pins the declared size."""
    size = max(len(f) for f in files)
    return [f + b"\0" * (size - len(f)) for f in files]


def jpeg_with_metadata(size: tuple[int, int] = (800, 600), orientation: int = 1) -> bytes:
    """JPEG carrying EXIF (camera, date, GPS), XMP and a comment: none of it may reach a variant."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0110] = "Model X"
    exif[0x0112] = orientation
    exif[0x0131] = "secret-software"
    exif.get_ifd(0x8769).update({0x9003: "2024:05:06 07:08:09", 0x829D: 2.8, 0x8827: 200})
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0), 6: 35.0})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/>secret-xmp</x:xmpmeta>'
    return encode(photo_like(size), "JPEG", quality=90, exif=exif, xmp=xmp, comment=b"secret-comment")


def rgba_png(size: tuple[int, int] = (400, 300)) -> bytes:
    """Left half opaque red, right half fully transparent."""
    image = Image.new("RGBA", size, (255, 0, 0, 255))
    image.paste((0, 0, 255, 0), (size[0] // 2, 0, size[0], size[1]))
    return encode(image, "PNG")


def palette_png_with_transparency(size: tuple[int, int] = (200, 200)) -> bytes:
    image = Image.new("P", size, 0)
    image.putpalette([0, 255, 0, 255, 255, 255] + [0] * 762)
    image.paste(1, (0, 0, size[0] // 2, size[1]))
    return encode(image, "PNG", transparency=1)


def la_png(size: tuple[int, int] = (200, 200)) -> bytes:
    image = Image.new("LA", size, (80, 255))
    image.paste((80, 0), (0, 0, size[0] // 2, size[1]))
    return encode(image, "PNG")


def png16(size: tuple[int, int] = (300, 200)) -> bytes:
    """16-bit greyscale ramp 0..65535 left to right (Pillow mode I;16)."""
    ramp = np.tile(np.linspace(0, 65535, size[0]).astype(np.uint16), (size[1], 1))
    return encode(Image.fromarray(ramp), "PNG")


def cmyk_jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    """Pure cyan in CMYK (Adobe JPEG, as print workflows export)."""
    return encode(Image.new("CMYK", size, (255, 0, 0, 0)), "JPEG", quality=95)


def animated_gif(frames: int = 5, size: tuple[int, int] = (120, 80)) -> bytes:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    images = [Image.new("RGB", size, colours[i % len(colours)]) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)


def many_frames_gif(frames: int) -> bytes:
    """A 1x1 GIF with `frames` frames, written by hand (Pillow would merge identical frames)."""
    header = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    # graphic control (delay 1), image descriptor 1x1, LZW: clear, pixel 0, end (min code size 2)
    frame = b"\x21\xf9\x04\x00\x01\x00\x00\x00" + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    frame += b"\x02\x02\x44\x01\x00"
    return header + loop + frame * frames + b"\x3b"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int = 20000) -> bytes:
    """A valid single-colour 1-bit PNG of side x side pixels (~50 KB for 20000: 400 MP)."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row) for _ in range(side)]
    idat = b"".join(chunks) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header claiming width x height RGB over a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF marker is rewritten to claim width x height."""
    data = bytearray(encode(Image.new("RGB", (16, 16), (10, 20, 30)), "JPEG"))
    at = data.find(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


# ---------------------------------------------------------------------------------- documents


def _pdf(objects: list[bytes], trailer_extra: bytes = b"", info: int | None = None) -> bytes:
    """Assemble numbered objects into a PDF with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R".encode()
    if info:
        trailer += f" /Info {info} 0 R".encode()
    out += b"trailer\n" + trailer + trailer_extra + b" >>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


def pdf_document(
    pages: int = 3,
    title: str = "Quarterly Report",
    author: str = "Ada Lovelace",
    size: tuple[int, int] = (612, 792),
) -> bytes:
    """A PDF with `pages` pages (a dark rectangle on each) and /Title, /Author in the Info dict."""
    content = b"0.2 0.3 0.8 rg 72 72 200 300 re f"
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    objects += [
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {size[0]} {size[1]}] /Contents 3 0 R >>".encode()
        for _ in range(pages)
    ]
    objects.append(
        f"<< /Title ({title}) /Author ({author}) /CreationDate (D:20240102030405+01'00') >>".encode()
    )
    return _pdf(objects, info=len(objects))


def encrypted_pdf() -> bytes:
    """A PDF whose trailer names a Standard security handler (RC4, R2) with a user password that
    is not empty: /U does not match the empty password, so readers must ask for one."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <"
        + b"11" * 32
        + b"> /U <"
        + b"22" * 32
        + b"> >>",
    ]
    return _pdf(objects, trailer_extra=b" /Encrypt 4 0 R /ID [<" + b"ab" * 16 + b"> <" + b"ab" * 16 + b">]")


def zip_archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def zip_bomb(megabytes: int = 24) -> bytes:
    """One entry of `megabytes` MB of zeros, streamed through the compressor (~1000x ratio)."""
    buffer = io.BytesIO()
    chunk = b"\x00" * (1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w") as entry,
    ):
        for _ in range(megabytes):
            entry.write(chunk)
    return buffer.getvalue()


def docx(
    title: str = "Design Notes", author: str = "Grace Hopper", pages: int = 2, words: int = 345
) -> bytes:
    return zip_archive(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/content-types"/>',
            "word/document.xml": b"<w:document><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p>"
            b"</w:body></w:document>",
            "docProps/core.xml": (
                f"<cp:coreProperties><dc:title>{title}</dc:title><dc:creator>{author}</dc:creator>"
                "</cp:coreProperties>"
            ).encode(),
            "docProps/app.xml": (
                f"<Properties><Pages>{pages}</Pages><Words>{words}</Words></Properties>"
            ).encode(),
        }
    )


def ole2_doc(stream: str = "WordDocument") -> bytes:
    """The CFB signature and a directory entry naming `stream` (enough for signature checks)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entry = stream.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
    return header + entry + b"\x00" * 384
