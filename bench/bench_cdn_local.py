"""The delivery path end to end on the local stack: a 12 MP photo uploaded and processed, then
HTTP GETs through the gateway's /cdn (the Transform function in-process, S3 in moto):

- eager: GET of the stored `large` variant (a CloudFront signed URL, checked locally);
- transform, first: the first GET of a srcset URL (render from the chosen source);
- transform, again: the same URL again (rendered again: locally there is no edge cache, so
  this is the warm miss cost; behind CloudFront a repeat is an edge hit);
- bytes of `auto` per Accept against JPEG for the same rendition.

Run: `.venv/bin/python bench/bench_cdn_local.py [--runs N]`. Median ms over N runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "media_core"), str(ROOT)]

import requests  # noqa: E402

from tests.support import images  # noqa: E402
from tests.support.flow import deliver, queued_messages, upload  # noqa: E402
from tests.support.local_stack import running_stack  # noqa: E402
from tests.support.media_api import call  # noqa: E402

ACCEPTS = {"avif": "image/avif,image/webp,*/*", "webp": "image/webp,*/*", "jpeg": "*/*"}


def timed(url: str, accept: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = requests.get(url, headers={"Accept": accept}, timeout=120)
    ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return ms, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    photo = images.encode(images.photo_like((4032, 3024), seed=1), "JPEG", quality=92)
    with tempfile.TemporaryDirectory() as data_dir, running_stack(Path(data_dir), pollers=False) as stack:
        media_id = upload(stack, "bench", "photo.jpg", "image/jpeg", photo)
        assert deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1)) == {
            "batchItemFailures": []
        }
        view = call(stack, "GET", f"/media/{media_id}", "bench").json()
        large = view["variants"]["large"]["url"]
        srcset = {e["width"]: e["url"] for e in view["srcset"]}
        eager = [timed(large, "*/*")[0] for _ in range(args.runs)]
        print(f"source {len(photo):,} B 4032x3024; eager large GET: {statistics.median(eager):.1f} ms")
        print("| width | format | first GET ms | again ms (median) | bytes |")
        print("|---:|---|---:|---:|---:|")
        for width in (320, 640, 1280):
            for fmt, accept in ACCEPTS.items():
                first, size = timed(srcset[width], accept)
                again = [timed(srcset[width], accept)[0] for _ in range(args.runs)]
                print(f"| {width} | {fmt} | {first:.0f} | {statistics.median(again):.0f} | {size:,} |")


if __name__ == "__main__":
    main()
