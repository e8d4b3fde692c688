"""On-demand transformation benchmark: render latency (warm, cold) against reading an eager
variant, and the bytes `format=auto` saves over JPEG.

Run with `make bench-transform` (or `.venv/bin/python bench/bench_transform.py [--runs N]`).

Method:
- source: a generated 12 MP (4032x3024) photo-like JPEG, q 92, EXIF orientation 6 (how phones
  store portraits): smooth gradients, multi-scale value noise (texture at every scale, like
  foliage or fabric) and sensor grain. The eager "large" variant (1080 px) is made from it by
  the image processor (process_image), as in production.
- both paths read their source from S3 (a local moto server, in this process): the baseline is
  GET of the eager variant (what a browser gets without transformations); a transformation is
  GET of its source (choose_source: the large variant when it suffices, else the original)
  plus render_transform. Median ms over --runs after one warm-up.
- cold: a fresh Python process per run that imports the engine and renders once from bytes
  already on disk (no S3): import ms + first render ms (the part a Lambda cold start adds).
- bytes: 5 generated images of different character rendered 640 px wide at each format's
  default quality (JPEG 82, WebP 80, AVIF 60); savings vs JPEG in %, and PSNR of each against
  the lossless (PNG) render of the same size, because equal quality numbers are not equal
  fidelity across codecs: the figure is what the defaults deliver, at the fidelity shown.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "media_core"), str(ROOT)]

import numpy as np  # noqa: E402
from media_core.domain.transform import TransformOptions  # noqa: E402
from media_core.engines.imaging.image_job import process_image  # noqa: E402
from media_core.engines.imaging.transform import choose_source, render_transform  # noqa: E402
from PIL import Image  # noqa: E402

OUT = ROOT / "bench" / "out"
WIDTHS = (320, 640, 1280)
FORMATS = ("jpeg", "webp", "avif")
BUCKET = "bench-media"


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Smooth random field: a coarse random grid upscaled bicubically (one octave)."""
    h, w = shape
    grid = rng.random((max(2, cells * h // w), cells)).astype(np.float32)
    image = Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(image)


def photo(size: tuple[int, int], seed: int, grain: float = 3.0, detail: float = 1.0) -> Image.Image:
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack(
        [
            110 + 70 * np.sin(x / w * 2.1 + seed) + 30 * (y / h),
            120 + 60 * np.cos(y / h * 2.7 - seed),
            100 + 80 * (1 - y / h) + 20 * np.sin((x + y) / w * 3),
        ],
        axis=-1,
    )
    texture = sum(value_noise(rng, (h, w), c) * a for c, a in ((8, 60), (40, 30), (200, 18), (900, 10)))
    pixels = base + (texture[..., None] - 59) * detail * np.array([1.0, 0.8, 0.6], dtype=np.float32)
    pixels += rng.normal(0, grain, (h, w, 3)).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_12mp() -> bytes:
    path = OUT / "transform_12mp.jpg"
    if path.exists():
        return path.read_bytes()
    OUT.mkdir(parents=True, exist_ok=True)
    # Stored landscape 4032x3024 with orientation 6: upright it is a 3024x4032 portrait.
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    photo((4032, 3024), seed=12).save(buffer, "JPEG", quality=92, exif=exif)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def corpus() -> dict[str, bytes]:
    """Five images of different character (what `auto` saves depends a lot on content)."""

    def jpeg(image: Image.Image) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=92)
        return buffer.getvalue()

    def png(image: Image.Image) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return buffer.getvalue()

    rng = np.random.default_rng(5)
    # Flat-colour graphic with hard edges (screenshots, diagrams).
    graphic = Image.new("RGB", (1600, 1200), (245, 245, 240))
    arr = np.asarray(graphic).copy()
    for _ in range(40):
        x0, y0 = rng.integers(0, 1500), rng.integers(0, 1100)
        arr[y0 : y0 + rng.integers(10, 200), x0 : x0 + rng.integers(10, 300)] = rng.integers(0, 255, 3)
    # Soft sky: a gradient with almost no detail.
    y = np.linspace(0, 1, 1200, dtype=np.float32)[:, None, None]
    sky = np.clip(np.array([90, 150, 230]) * (1 - y) + np.array([230, 200, 170]) * y, 0, 255)
    sky = np.broadcast_to(sky, (1200, 1600, 3)) + np.random.default_rng(1).normal(0, 1.5, (1200, 1600, 3))
    return {
        "photo (12 MP, textured)": make_12mp(),
        "portrait (soft detail)": jpeg(photo((1500, 2000), seed=3, grain=2.0, detail=0.5)),
        "high detail (foliage-like)": jpeg(photo((1600, 1200), seed=7, grain=6.0, detail=2.5)),
        "flat graphic (PNG)": png(Image.fromarray(arr)),
        "sky gradient": jpeg(Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8))),
    }


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)


def psnr(reference: np.ndarray, other: np.ndarray) -> float:
    """PSNR (dB) against the lossless render of the same size: higher is closer."""
    mse = float(np.mean((reference - other) ** 2))
    return round(10 * np.log10(255**2 / mse), 1) if mse else float("inf")


def jpeg_matching(data: bytes, reference: np.ndarray, target_db: float) -> tuple[int, int]:
    """Lowest JPEG quality (and its bytes) whose PSNR reaches `target_db` (bisection)."""
    lo, hi = 10, 100
    best: tuple[int, int] | None = None
    while lo <= hi:
        q = (lo + hi) // 2
        out = render_transform(data, TransformOptions(width=640, format="jpeg", quality=q))
        if psnr(reference, decoded(out.data)) >= target_db:
            best, hi = (q, out.size), q - 1
        else:
            lo = q + 1
    assert best is not None
    return best


def median_ms(function: Callable[[], object], runs: int) -> float:
    function()  # warm-up: codecs initialised, caches filled
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1)


COLD = """
import json, sys, time
t0 = time.perf_counter()
sys.path[:0] = [{layer!r}, {root!r}]
from media_core.domain.transform import TransformOptions
from media_core.engines.imaging.transform import render_transform
t1 = time.perf_counter()
data = open({path!r}, "rb").read()
render_transform(data, TransformOptions(width={width}, format={fmt!r}))
t2 = time.perf_counter()
print(json.dumps({{"import_ms": (t1 - t0) * 1000, "render_ms": (t2 - t1) * 1000}}))
"""


def cold(path: Path, width: int, fmt: str, runs: int) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        script = COLD.format(
            layer=str(ROOT / "layers" / "media_core"), root=str(ROOT), path=str(path), width=width, fmt=fmt
        )
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        sample = json.loads(out.stdout)
        sample["process_ms"] = (time.perf_counter() - start) * 1000
        samples.append(sample)
    return {k: round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()

    from local_stack.emulator import Emulator

    original = make_12mp()
    processed = process_image(original, declared_content_type="image/jpeg")
    variants = {v.name: v for v in processed.variants}
    upright = (processed.metadata["width"], processed.metadata["height"])
    # Full-frame JPEG variants a transformation may start from (not the cropped thumbnail).
    stored = {n: (variants[n].width, variants[n].height) for n in ("small", "medium", "large")}

    emulator = Emulator()
    emulator.start()
    results: dict[str, object] = {}
    try:
        s3 = emulator.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="original.jpg", Body=original)
        for name, variant in variants.items():
            s3.put_object(Bucket=BUCKET, Key=f"{name}.jpg", Body=variant.data)

        def get(key: str) -> bytes:
            return bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

        warm: list[dict[str, object]] = []
        baseline = {
            "large": median_ms(lambda: get("large.jpg"), args.runs),
            "medium": median_ms(lambda: get("medium.jpg"), args.runs),
        }
        for width in WIDTHS:
            for fmt in FORMATS:
                options = TransformOptions(width=width, format=fmt)  # type: ignore[arg-type]
                source = choose_source(options, upright, stored)
                key = f"{source}.jpg" if source else "original.jpg"

                def transform(key: str = key, options: TransformOptions = options) -> object:
                    return render_transform(get(key), options)

                result = render_transform(get(key), options)
                warm.append(
                    {
                        "width": width,
                        "format": fmt,
                        "source": source or "original",
                        "out": f"{result.width}x{result.height}",
                        "bytes": result.size,
                        "ms": median_ms(transform, args.runs),
                    }
                )
            # Same width from the 12 MP original, to show what choosing the source saves.
            if width <= 1080:
                options = TransformOptions(width=width, format="jpeg")
                warm.append(
                    {
                        "width": width,
                        "format": "jpeg",
                        "source": "original (forced)",
                        "out": "",
                        "bytes": 0,
                        "ms": median_ms(
                            lambda o=options: render_transform(get("original.jpg"), o), args.runs
                        ),
                    }
                )
        results["baseline_get_ms"] = baseline
        results["warm"] = warm
    finally:
        emulator.stop()

    large_path = OUT / "transform_large.jpg"
    large_path.write_bytes(variants["large"].data)
    results["cold"] = [
        {"width": w, "format": f, "source": src, **cold(p, w, f, args.cold_runs)}
        for w, f, src, p in (
            (320, "jpeg", "large", large_path),
            (640, "webp", "large", large_path),
            (640, "avif", "large", large_path),
            (1280, "jpeg", "original", OUT / "transform_12mp.jpg"),
        )
    ]

    savings = []
    for name, data in corpus().items():
        reference = decoded(render_transform(data, TransformOptions(width=640, format="png")).data)
        rendered = {f: render_transform(data, TransformOptions(width=640, format=f)) for f in FORMATS}  # type: ignore[arg-type]
        sizes = {f: r.size for f, r in rendered.items()}
        savings.append(
            {
                "image": name,
                **{f"{f}_bytes": sizes[f] for f in FORMATS},
                **{f"{f}_psnr_db": psnr(reference, decoded(r.data)) for f, r in rendered.items()},
                "webp_saving_pct": round(100 * (1 - sizes["webp"] / sizes["jpeg"]), 1),
                "avif_saving_pct": round(100 * (1 - sizes["avif"] / sizes["jpeg"]), 1),
            }
        )
        for f in ("webp", "avif"):
            target = float(savings[-1][f"{f}_psnr_db"])  # type: ignore[arg-type]
            same = jpeg_matching(data, reference, target)
            savings[-1][f"jpeg_q_same_psnr_as_{f}"] = same[0]
            savings[-1][f"jpeg_bytes_same_psnr_as_{f}"] = same[1]
            savings[-1][f"{f}_saving_pct_same_psnr"] = round(100 * (1 - sizes[f] / same[1]), 1)
    totals = {f: sum(int(s[f"{f}_bytes"]) for s in savings) for f in FORMATS}  # type: ignore[call-overload]
    same_psnr = {f: sum(int(s[f"jpeg_bytes_same_psnr_as_{f}"]) for s in savings) for f in ("webp", "avif")}  # type: ignore[call-overload]
    results["bytes_640"] = savings
    results["bytes_640_total_saving_pct"] = {
        f: round(100 * (1 - totals[f] / totals["jpeg"]), 1) for f in ("webp", "avif")
    }
    results["bytes_640_total_saving_pct_same_psnr"] = {
        f: round(100 * (1 - totals[f] / same_psnr[f]), 1) for f in ("webp", "avif")
    }
    results["machine"] = {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "pillow": Image.__version__,
        # The box is shared: load at the end of the run says how much to trust the times.
        "loadavg_1_5_15": [round(v, 2) for v in os.getloadavg()],
    }
    results["source_bytes"] = {"original_12mp": len(original), "large": variants["large"].size}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
