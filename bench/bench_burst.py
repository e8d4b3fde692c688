"""`make bench-burst`: N photos (default 200) uploaded concurrently through the local stack, then
the time until every one is ready, and the checks that nothing was lost or done twice.

Loopback only and bounded: the stack (moto + gateway + pollers, `make run`'s code) starts in this
process on ephemeral 127.0.0.1 ports with a temporary data directory, and stops at the end; the
wait is capped (--timeout). Like one Lambda instance per function, each local poller runs one
invocation at a time (a batch of up to 5 images), so the figure is the local emulator's
throughput, not AWS's (where the image function scales out to many concurrent instances).

Prints: upload time, time until all settled, ready / failed / lost, duplicated variant sets
(a media id whose objects in the media bucket are not exactly one run's variant set), DLQ depth.
Exit status 0 only when all N are ready with one variant set each and every DLQ is empty.
Function logs go to bench/out/burst-functions.log.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "media_core"), str(ROOT)]

import requests  # noqa: E402
from media_core.dal.dynamo.repository import RECORD_SK, media_pk  # noqa: E402

from local_stack.stack import LocalStack  # noqa: E402
from local_stack.token import issue_token  # noqa: E402
from tests.support.images import encode, photo_like  # noqa: E402

USER = "burst"
FINAL = ("ready", "failed")


def make_photos(count: int, size: tuple[int, int]) -> list[bytes]:
    return [encode(photo_like(size, seed=i), "JPEG", quality=85) for i in range(count)]


def upload_one(api: str, token: str, index: int, data: bytes) -> str:
    session = requests.Session()
    created = session.post(
        f"{api}/uploads",
        headers={"Authorization": f"Bearer {token}"},
        json={"filename": f"burst-{index:04d}.jpg", "content_type": "image/jpeg", "size": len(data)},
        timeout=60,
    )
    created.raise_for_status()
    body = created.json()
    post = body["upload"]
    sent = session.post(
        post["url"], data=post["fields"], files={"file": (f"burst-{index:04d}.jpg", data)}, timeout=120
    )
    if sent.status_code not in (200, 201, 204):
        raise RuntimeError(f"bucket refused upload {index}: {sent.status_code} {sent.text[:200]}")
    return str(body["media_id"])


def statuses(stack: LocalStack, media_ids: list[str]) -> dict[str, str]:
    """Status of each record straight from the table (two BatchGetItem calls for 200 ids): cheaper
    for the CPU the processors need than 200 GET /media calls a round."""
    table = stack.tables["MediaTable"] if "MediaTable" in stack.tables else next(iter(stack.tables.values()))
    dynamodb = stack.client("dynamodb")
    found: dict[str, str] = {}
    for start in range(0, len(media_ids), 100):
        keys: list[dict[str, Any]] = [
            {"pk": {"S": media_pk(m)}, "sk": {"S": RECORD_SK}} for m in media_ids[start : start + 100]
        ]
        request: dict[str, Any] = {
            table: {
                "Keys": keys,
                "ProjectionExpression": "pk, #s",
                "ExpressionAttributeNames": {"#s": "status"},
            }
        }
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table, []):
                found[item["pk"]["S"].split("#", 1)[1]] = item["status"]["S"]
            request = answer.get("UnprocessedKeys") or {}
    return found


def variant_sets(stack: LocalStack) -> dict[str, dict[str, int]]:
    """media id -> {run id: object count} in the media bucket (media/{owner}/{id}/{run}/{variant})."""
    s3 = stack.client("s3")
    runs: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.buckets["MediaBucket"], Prefix="media/"
    ):
        for obj in page.get("Contents", []):
            parts = obj["Key"].split("/")
            if len(parts) >= 5:
                runs[parts[2]][parts[3]] += 1
    return runs


def queue_depths(stack: LocalStack) -> dict[str, int]:
    sqs = stack.client("sqs")
    depths = {}
    for logical_id, url in stack.queues.items():
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[logical_id] = int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )
    return depths


class ErrorCounter(logging.Handler):
    """Counts the emulator's (moto/werkzeug) request errors; their tracebacks go to the log file."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def run(args: argparse.Namespace, out: io.TextIOBase) -> int:
    emulator_errors = ErrorCounter()
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.addHandler(emulator_errors)
    werkzeug.addHandler(logging.FileHandler(args.log.with_suffix(".emulator.log"), mode="w"))
    werkzeug.propagate = False

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    width, height = (int(v) for v in args.size.split("x"))
    say(f"burst: generating {args.count} photos ({width}x{height} JPEG)…")
    photos = make_photos(args.count, (width, height))
    total_bytes = sum(map(len, photos))
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as data_dir:
        stack = LocalStack(
            ROOT / "template.yaml",
            ROOT,
            aws_port=0,
            api_port=0,
            data_dir=Path(data_dir),
            schedules=False,
            pollers=True,
            parameter_overrides={},
        )
        stack.start()
        try:
            say(
                f"burst: local stack up (API {stack.api_url}, AWS {stack.aws_endpoint}); "
                f"{args.count} uploads, {args.workers} at a time, {total_bytes / 1e6:.1f} MB"
            )
            token = issue_token(stack.data_dir, USER, ttl_seconds=3600)
            started = time.monotonic()
            with ThreadPoolExecutor(args.workers) as pool:
                media_ids = list(
                    pool.map(lambda item: upload_one(stack.api_url, token, *item), enumerate(photos))
                )
            uploaded = time.monotonic() - started
            say(f"burst: all {len(media_ids)} uploaded in {uploaded:.1f} s; waiting for processing…")
            deadline = started + args.timeout
            settled_at: float | None = None
            current: dict[str, str] = {}
            last_report = 0.0
            while time.monotonic() < deadline:
                current = statuses(stack, media_ids)
                done = sum(1 for m in media_ids if current.get(m) in FINAL)
                if done == len(media_ids):
                    settled_at = time.monotonic() - started
                    break
                if time.monotonic() - last_report > 10:
                    last_report = time.monotonic()
                    say(f"burst:   {time.monotonic() - started:6.1f} s  {done}/{len(media_ids)} settled")
                time.sleep(args.poll)
            # The user-visible truth: GET /media/{id} for each, after the clock stops.
            headers = {"Authorization": f"Bearer {token}"}
            with ThreadPoolExecutor(8) as pool:
                views = list(
                    pool.map(
                        lambda m: requests.get(
                            f"{stack.api_url}/media/{m}", headers=headers, timeout=60
                        ).json(),
                        media_ids,
                    )
                )
            ready = [v for v in views if v.get("status") == "ready"]
            failed = [v for v in views if v.get("status") == "failed"]
            lost = len(media_ids) - len(ready) - len(failed)
            runs = variant_sets(stack)
            duplicated = 0
            incomplete = 0
            for view in ready:
                media_runs = runs.get(view["media_id"], {})
                if len(media_runs) != 1:
                    duplicated += len(media_runs) > 1
                    incomplete += not media_runs
                elif next(iter(media_runs.values())) != len(view["variants"]):
                    duplicated += 1
            stray = sum(1 for m in runs if m not in set(media_ids))
            depths = queue_depths(stack)
            dlq = {k: v for k, v in depths.items() if "DeadLetter" in k or "Dlq" in k or "DLQ" in k}
            left = {k: v for k, v in depths.items() if k not in dlq and v}
        finally:
            stack.stop()

    say("")
    say(
        f"burst: {args.count} photos, {width}x{height}, {total_bytes / 1e6:.1f} MB, "
        f"{args.workers} concurrent uploads"
    )
    say(f"  uploads done after        {uploaded:7.1f} s ({args.count / uploaded:.1f} uploads/s)")
    if settled_at is not None:
        say(
            f"  all settled after         {settled_at:7.1f} s "
            f"({args.count / settled_at:.1f} photos/s end to end)"
        )
    else:
        say(f"  NOT all settled within    {args.timeout:7.1f} s")
    say(f"  ready {len(ready)}, failed {len(failed)}, lost {lost}")
    for view in failed[:5]:
        say(f"    failed {view['media_id']}: {view.get('failure_reason')}")
    say(
        f"  duplicated variant sets   {duplicated}   "
        f"(ready without variants: {incomplete}, stray sets: {stray})"
    )
    say(f"  DLQ depth                 {sum(dlq.values())}   {dict(sorted(dlq.items()))}")
    if left:
        say(f"  messages left on queues   {left}")
    if emulator_errors.count:
        say(
            f"  emulator request errors   {emulator_errors.count} (moto answered 500; the SDK retried; "
            f"see {args.log.with_suffix('.emulator.log')})"
        )
    say("  (local pollers run one invocation per function at a time, like one Lambda instance each)")
    ok = (
        settled_at is not None
        and len(ready) == args.count
        and lost == 0
        and duplicated == 0
        and incomplete == 0
        and not sum(dlq.values())
    )
    say(f"burst: {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", default="800x600", help="photo size WxH (default 800x600)")
    parser.add_argument("--workers", type=int, default=16, help="concurrent uploads")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before giving up")
    parser.add_argument("--poll", type=float, default=0.5, help="status poll interval, seconds")
    parser.add_argument("--log", type=Path, default=ROOT / "bench" / "out" / "burst-functions.log")
    args = parser.parse_args()
    # The functions log a JSON line per invocation to stdout: send fd 1 to a file, report on a copy.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    with args.log.open("w") as log:
        sys.stdout.flush()
        os.dup2(log.fileno(), 1)
        try:
            return run(args, out)
        finally:
            sys.stdout.flush()
            out.write(f"(function logs: {args.log})\n")
            out.flush()


if __name__ == "__main__":
    sys.exit(main())
