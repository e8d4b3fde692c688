"""Image pipeline benchmark: media_core.engines.imaging.process_image beside a naive Pillow baseline.

Run with `make bench-images` (or `.venv/bin/python bench/bench_images.py [--runs N]`).

Method (be honest about it):
- time: median wall-clock ms over --runs runs per image, after one warm-up run, both approaches in
  this one process, same default presets and output formats/qualities. The pipeline figure
  includes everything process_image does (sniff, guards, decode, ICC, variants, EXIF, sha256,
  pHash, blurhash, dominant colour); the naive one only decodes, transposes and encodes.
- memory: peak RSS (VmHWM) of a fresh subprocess per approach that imports, then processes
  the 12 MP photo once; "delta" subtracts that subprocess's peak RSS after imports only.
- reject: median ms for process_image to refuse a 64 MP / 60 MP header (never decoded).

The 12 MP input is the corpus phone photo resized to 4032x3024 with added grain, saved at JPEG quality 92
with EXIF orientation 6 (how phones store portrait shots); cached under bench/out/.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "media_core")]

import numpy as np  # noqa: E402
from media_core.domain.errors import MediaRejected  # noqa: E402
from media_core.engines.imaging.image_job import process_image  # noqa: E402
from media_core.engines.imaging.presets import DEFAULT_PRESETS  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

CORPUS = Path(os.environ.get("MEDIA_CORPUS_DIR", ROOT.parent / "shared" / "corpus" / "photos"))
OUT = ROOT / "bench" / "out"
BIG = OUT / "photo_12mp.jpg"


def make_12mp() -> bytes:
    """4032x3024 photo-like JPEG (cached): real content, real grain, so the codecs work as hard as
    on a phone photo."""
    if BIG.exists():
        return BIG.read_bytes()
    OUT.mkdir(parents=True, exist_ok=True)
    # The phone photo brings real fine detail (stretched to 4:3), the noise brings sensor grain.
    source = Image.open(CORPUS / "phone_HMD_Nokia_8.3_5G.jpg").convert("RGB")
    base = source.resize((4032, 3024), Image.Resampling.LANCZOS)
    rng = np.random.default_rng(12)
    pixels = np.asarray(base, dtype=np.int16) + rng.normal(0, 4, (3024, 4032, 3)).astype(np.int16)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Bench", "12MP", 6
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=92, exif=exif)
    BIG.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def naive(data: bytes) -> list[bytes]:
    """What most apps do: full decode, exif_transpose, copy().thumbnail per variant."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    image = image.convert("RGBA" if "A" in image.mode else "RGB")
    outputs = []
    for preset in DEFAULT_PRESETS:
        if preset.fit == "cover":
            variant = ImageOps.fit(image, preset.box, Image.Resampling.LANCZOS)
        else:
            variant = image.copy()
            variant.thumbnail(preset.box, Image.Resampling.LANCZOS)
        if preset.format == "JPEG":
            variant = variant.convert("RGB")
        buffer = io.BytesIO()
        variant.save(buffer, preset.format, quality=preset.quality, **dict(preset.extras))
        outputs.append(buffer.getvalue())
    return outputs


def pipeline(data: bytes) -> object:
    return process_image(data, declared_content_type="image/jpeg")


APPROACHES: dict[str, Callable[[bytes], object]] = {"pipeline": pipeline, "naive": naive}


def median_ms(function: Callable[[], object], runs: int) -> float:
    function()  # warm-up: plugin imports, codec init, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _rss_kb() -> int:
    # VmHWM (peak RSS of this address space). Not ru_maxrss: Linux carries the parent's
    # ru_maxrss across fork+exec, so a child would report its parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(approach: str, path: str) -> None:
    """Fresh-process memory probe: peak RSS after imports, then after one run."""
    data = Path(path).read_bytes()
    imports_kb = _rss_kb()
    APPROACHES[approach](data)
    print(json.dumps({"imports_kb": imports_kb, "peak_kb": _rss_kb()}))


def peak_rss(approach: str, path: Path) -> dict[str, int]:
    output = subprocess.run(
        [sys.executable, __file__, "--worker", approach, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, int] = json.loads(output)
    return result


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _jpeg_header(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    at = data.find(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def reject_ms(data: bytes, runs: int) -> float:
    def attempt() -> None:
        try:
            pipeline(data)
        except MediaRejected:
            return
        raise AssertionError("expected a rejection")

    return median_ms(attempt, runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--worker", nargs=2, metavar=("APPROACH", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return

    big = make_12mp()
    print(
        f"# image bench: median of {args.runs} runs after a warm-up; one process; Pillow {Image.__version__}"
    )
    print(f"{'image':42} {'pixels':>9} {'pipeline ms':>12} {'naive ms':>9} {'speedup':>8}")
    inputs = [("12MP synthetic (orientation 6)", big)] + [
        (str(p.relative_to(CORPUS)), p.read_bytes())
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg", ".heic", ".heif")
    ]
    speedup_12mp = 0.0
    for index, (name, data) in enumerate(inputs):
        runs = args.runs if index == 0 else max(3, args.runs // 2)
        width, height = Image.open(io.BytesIO(data)).size
        fast = median_ms(lambda d=data: pipeline(d), runs)  # type: ignore[misc]
        slow = median_ms(lambda d=data: naive(d), runs)  # type: ignore[misc]
        if index == 0:
            speedup_12mp = slow / fast
        print(f"{name:42} {width * height / 1e6:8.1f}M {fast:12.1f} {slow:9.1f} {slow / fast:7.2f}x")

    print("\n# peak RSS, fresh subprocess per approach, one run on the 12 MP photo (VmHWM)")
    for approach in APPROACHES:
        rss = peak_rss(approach, BIG)
        delta = (rss["peak_kb"] - rss["imports_kb"]) / 1024
        print(
            f"{approach:10} peak {rss['peak_kb'] / 1024:7.1f} MB  "
            f"(after imports {rss['imports_kb'] / 1024:.1f} MB, delta {delta:.1f} MB)"
        )

    print("\n# refusing an oversized header (no decode), median ms")
    png_ms = reject_ms(_png_header(8000, 8000), 21)
    jpeg_ms = reject_ms(_jpeg_header(10000, 6000), 21)
    print(f"reject_64mp_png_ms: {png_ms:.2f}")
    print(f"reject_60mp_jpeg_ms: {jpeg_ms:.2f}")
    print(f"speedup_vs_naive_12mp: {speedup_12mp:.2f}")


if __name__ == "__main__":
    main()
