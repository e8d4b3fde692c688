"""Query API benchmark: GET /media (page 1 and a deep page) and GET /media/stats through the query
function's handler, with 1,000 and with 100,000 records of one owner. Prints both sizes side by side.

Run with `make bench-query` (or `.venv/bin/python bench/bench_query.py [--sizes 1000 100000] [--runs N]`).

Method (be honest about it):
- The emulator is moto, in-process (mock_aws), with the table built from template.yaml's
  MediaTable (same keys and indexes). Records are seeded straight into moto's backend (a put per
  item through boto3 would take minutes for 100k): the same items MediaRepository writes, and the
  owner's counter item with the totals the transactions would have produced.
- Each figure is the median of --runs handler invocations after one warm-up, split into:
  `total` (the whole handler call), `store` (time inside DynamoDB calls: botocore before-call ->
  after-call, i.e. moto's work) and `handler` (total - store: our code, Powertools, pydantic,
  presigning the page's URLs). `items read` is DynamoDB's ScannedCount summed over the request's
  Queries (what DynamoDB bills and what its latency follows); `calls` the DynamoDB calls made.
- moto evaluates a GSI Query by walking every item of the table and sorting the matches, so its
  `store` time grows with the table size. DynamoDB reads only the index pages asked for: on AWS
  the cost is `items read`, which stays at page_size per page whatever the owner's count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "media_core"))

OWNER = "3f1c2a8e-6b7d-5e4f-9a0b-1c2d3e4f5a6b"
TABLE = "bench-media"
PAGE = 20


def environment() -> None:
    for name, value in {
        "TABLE_NAME": TABLE,
        "UPLOADS_BUCKET": "bench-uploads",
        "MEDIA_BUCKET": "bench-media-bucket",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)


def create_table() -> None:
    import boto3

    from local_stack.template import load_template

    props = load_template(ROOT / "template.yaml")["Resources"]["MediaTable"]["Properties"]
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )


def seed(count: int) -> list[dict[str, Any]]:
    """`count` ready images of OWNER (each with two variants) straight into moto's backend;
    returns their items newest first. The items are MediaRepository's (record_to_item of one
    record, re-stamped per id and time: pydantic per item would dominate the seeding)."""
    import json

    from boto3.dynamodb.types import TypeSerializer
    from media_core.dal.dynamo.repository import counted, record_to_item, stats_pk
    from media_core.domain.models import Kind, MediaRecord, Original, Status, Variant
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamo_type, dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    serializer = TypeSerializer()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    base_id = "f" * 32
    record = MediaRecord(
        media_id=base_id,
        owner=OWNER,
        kind=Kind.IMAGE,
        status=Status.READY,
        original=Original(
            key=f"uploads/image/{OWNER}/{base_id}/original.jpg",
            filename="photo.jpg",
            content_type="image/jpeg",
            size=100_000,
        ),
        variants={
            name: Variant(
                key=f"media/{OWNER}/{base_id}/r1/{name}.jpg", content_type="image/jpeg", bytes=5_000
            )
            for name in ("thumbnail", "medium")
        },
        tags=["bench"],
        created_at=start,
        updated_at=start,
    )
    template = json.dumps({k: serializer.serialize(v) for k, v in record_to_item(record).items()})
    stamp = start.isoformat().replace("+00:00", "Z")
    assert template.count(base_id) >= 5 and template.count(stamp) >= 4, template
    # moto re-measures the whole item for every attribute it stores (quadratic in attributes):
    # the size check is skipped while seeding (these items are ~1 KB; DynamoDB's limit is 400 KB).
    checked = dynamo_type.LimitedSizeDict.__setitem__
    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign,assignment]
    items = []
    try:
        for n in range(count):
            when = (start + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
            attrs = json.loads(template.replace(base_id, f"{n:032x}").replace(stamp, when))
            backend.put_item(TABLE, attrs)
            items.append({k: next(iter(v.values())) for k, v in attrs.items() if k in ITEM_KEYS})
        totals = {name: value * count for name, value in counted(record).items()}
        stats = {"pk": stats_pk(OWNER), "sk": "STATS", **totals}
        backend.put_item(TABLE, {k: serializer.serialize(v) for k, v in stats.items()})
    finally:
        dynamo_type.LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]
    return list(reversed(items))


ITEM_KEYS = ("pk", "sk", "owner_pk", "owner_sk")


def api_event(path: str, resource: str, query: dict[str, str] | None) -> dict[str, Any]:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "bench"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "GET",
            "path": path,
            "stage": "bench",
            "requestId": "bench",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": {"sub": OWNER, "token_use": "id"}},
        },
        "body": None,
        "isBase64Encoded": False,
    }


class Meter:
    """Time spent inside DynamoDB calls, their number and the items they read."""

    def __init__(self) -> None:
        self.store = 0.0
        self.calls = 0
        self.read = 0
        self._started = 0.0

    def reset(self) -> None:
        self.store, self.calls, self.read = 0.0, 0, 0

    def before(self, **_: Any) -> None:
        self._started = time.perf_counter()

    def after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.store += time.perf_counter() - self._started
        self.calls += 1
        self.read += int(parsed.get("ScannedCount", 1 if "Item" in parsed else 0))


def measure(handler: Any, context: Any, event: dict[str, Any], meter: Meter, runs: int) -> dict[str, float]:
    handler(event, context)  # warm-up
    totals, stores, reads, calls = [], [], [], []
    for _ in range(runs):
        meter.reset()
        started = time.perf_counter()
        response = handler(event, context)
        totals.append(time.perf_counter() - started)
        assert response["statusCode"] == 200, response
        stores.append(meter.store)
        reads.append(meter.read)
        calls.append(meter.calls)
    total, store = statistics.median(totals) * 1000, statistics.median(stores) * 1000
    return {"total": total, "store": store, "handler": total - store, "read": max(reads), "calls": max(calls)}


def run_size(count: int, runs: int) -> dict[str, dict[str, float]]:
    from moto import mock_aws

    with mock_aws():
        environment()
        create_table()
        started = time.perf_counter()
        items = seed(count)
        seeded = time.perf_counter() - started
        print(f"seeded {count:,} records in {seeded:.1f} s", file=sys.stderr)
        import importlib.util

        from media_core.domain.cursor import encode_cursor
        from media_core.wiring import media_repository, reset_caches

        reset_caches()
        spec = importlib.util.spec_from_file_location(
            f"bench_query_app_{count}", ROOT / "functions/query/app.py"
        )
        assert spec and spec.loader
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)
        meter = Meter()
        events = media_repository(TABLE)._table.meta.client.meta.events
        events.register("before-call.dynamodb", meter.before)
        events.register("after-call.dynamodb", meter.after)

        class Context:
            function_name = "bench"
            memory_limit_in_mb = 512
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
            aws_request_id = "bench"

        middle = items[count // 2 - 1]
        deep_cursor = encode_cursor(
            {k: middle[k] for k in ("pk", "sk", "owner_pk", "owner_sk")}, {"route": "mine", "owner": OWNER}
        )
        page = {"page_size": str(PAGE)}
        cases = {
            "GET /media page 1": api_event("/media", "/media", page),
            f"GET /media page {count // 2 // PAGE + 1}": api_event(
                "/media", "/media", {**page, "cursor": deep_cursor}
            ),
            "GET /media/stats": api_event("/media/stats", "/media/stats", None),
        }
        results = {}
        for name, event in cases.items():
            key = name if name.endswith(("page 1", "stats")) else "GET /media deep page"
            results[key] = measure(app.handler, Context(), event, meter, runs)
        reset_caches()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    by_size = {size: run_size(size, args.runs) for size in args.sizes}
    cases = list(next(iter(by_size.values())))
    header = f"{'':24}" + "".join(f"| {f'{size:,} records':^44}" for size in args.sizes)
    columns = f"{'':24}" + "| total ms  store ms  handler ms  read  calls " * len(args.sizes)
    print(header)
    print(columns)
    for case in cases:
        row = f"{case:24}"
        for size in args.sizes:
            r = by_size[size][case]
            row += f"| {r['total']:8.1f} {r['store']:9.1f} {r['handler']:11.1f} "
            row += f"{r['read']:5.0f} {r['calls']:6.0f} "
        print(row)
    print(
        "\nstore = inside DynamoDB calls (moto walks the whole table for a GSI Query; DynamoDB does not);"
        "\nhandler = total - store (our code); read = items DynamoDB reads (ScannedCount);"
        "\ncalls = DynamoDB calls."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
