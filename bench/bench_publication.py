"""Published copies (services/publication.py): what publishing one record and sweeping `public/`
cost, in AWS calls and (moto) time, beside a baseline measured in the same run.

Run with `.venv/bin/python bench/bench_publication.py [--records N] [--variants V] [--runs R]`.

Method (be honest about it):
- moto in-process (mock_aws), the table built from template.yaml's MediaTable, the real
  MediaRepository and ObjectStore; each variant is a 20 KB object. Calls are counted with
  botocore's `before-call` event (what AWS would bill), times with perf_counter.
- publish: `Publication.reconcile` of a ready, public, approved record (V copies, one marker write);
  baseline: writing the same V variants with `ObjectStore.put` (what processing already pays).
- sweep: one shard (`public/{hex}`) and all 16, over N published records with nothing to remove;
  baseline: the same listing and one GetItem per id without reconciling (the floor of any sweep).
- moto's latencies are not S3's or DynamoDB's: the call counts transfer to AWS, the times only
  as ratios within this run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "media_core"))

TABLE, BUCKET = "bench-media", "bench-media-bucket"


def environment() -> None:
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


class Calls:
    """AWS calls made by the clients it watches, by operation."""

    def __init__(self, *clients: Any) -> None:
        self.counts: Counter[str] = Counter()
        for client in clients:
            client.meta.events.register("before-call.*.*", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    def take(self) -> Counter[str]:
        taken, self.counts = self.counts, Counter()
        return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=320)
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    environment()

    import boto3
    from media_core.dal.cloudfront import NullInvalidator
    from media_core.dal.dynamo.repository import MediaRepository
    from media_core.dal.s3 import ObjectStore
    from media_core.domain.models import (
        Kind,
        MediaRecord,
        Moderation,
        Original,
        Status,
        Variant,
        Visibility,
        utc_now,
    )
    from media_core.services.publication import SWEEP_SHARDS, Publication
    from moto import mock_aws

    from local_stack.template import load_template

    with mock_aws():
        props = load_template(ROOT / "template.yaml")["Resources"]["MediaTable"]["Properties"]
        dynamodb = boto3.resource("dynamodb")
        dynamodb.meta.client.create_table(
            TableName=TABLE,
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
            BillingMode="PAY_PER_REQUEST",
        )
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        table = dynamodb.Table(TABLE)
        repository, store = MediaRepository(table), ObjectStore(s3)
        service = Publication(repository, store, NullInvalidator(), BUCKET)
        calls = Calls(s3, table.meta.client)
        body = os.urandom(20_000)

        def ready_record() -> tuple[MediaRecord, float]:
            """A ready, public, approved record; returns it and the time its variant writes took."""
            media_id, run = uuid.uuid4().hex, uuid.uuid4().hex[:12]
            keys = [f"media/bench-owner/{media_id}/{run}/v{n}.webp" for n in range(args.variants)]
            started = time.perf_counter()
            for key in keys:
                store.put(BUCKET, key, body, content_type="image/webp")
            wrote = time.perf_counter() - started
            record = MediaRecord(
                media_id=media_id,
                owner="bench-owner",
                kind=Kind.IMAGE,
                status=Status.READY,
                run_id=run,
                visibility=Visibility.PUBLIC,
                moderation=Moderation.APPROVED,
                original=Original(
                    key=f"uploads/image/bench-owner/{media_id}/original.jpg",
                    filename="p.jpg",
                    content_type="image/jpeg",
                    size=1,
                ),
                variants={
                    f"v{n}": Variant(key=k, content_type="image/webp", bytes=len(body))
                    for n, k in enumerate(keys)
                },
            )
            repository.create(record)
            return record, wrote

        publish_times, write_times = [], []
        per_publish: Counter[str] = Counter()
        for _ in range(args.records):
            record, wrote = ready_record()
            write_times.append(wrote)
            calls.take()
            started = time.perf_counter()
            published = service.reconcile(record)
            publish_times.append(time.perf_counter() - started)
            per_publish = calls.take()
            assert published is not None and published.public_copy is not None

        print(f"{args.records} records, {args.variants} variants of {len(body):,} B each (moto, in-process)")
        print(
            f"publish one record: median {statistics.median(publish_times) * 1000:.1f} ms; "
            f"calls {dict(sorted(per_publish.items()))}"
        )
        print(
            f"  baseline, writing its variants: median {statistics.median(write_times) * 1000:.1f} ms; "
            f"calls {{'PutObject': {args.variants}}}"
        )

        now = utc_now()
        for label, shards in (
            ("one shard", ["0"]),
            ("all 16 shards", [f"{h:x}" for h in range(SWEEP_SHARDS)]),
        ):
            sweep_times, floor_times = [], []
            sweep_calls: Counter[str] = Counter()
            floor_calls: Counter[str] = Counter()
            for _ in range(args.runs):
                calls.take()
                started = time.perf_counter()
                examined = sum(service.sweep(now, shard=s).examined for s in shards)
                sweep_times.append(time.perf_counter() - started)
                sweep_calls = calls.take()
                started = time.perf_counter()
                for shard in shards:
                    ids = {o.key.split("/")[1] for o in store.list_objects(BUCKET, f"public/{shard}")}
                    for media_id in ids:
                        repository.get(media_id)
                floor_times.append(time.perf_counter() - started)
                floor_calls = calls.take()
            print(
                f"sweep, {label}: {examined} ids; median {statistics.median(sweep_times) * 1000:.0f} ms; "
                f"calls {dict(sorted(sweep_calls.items()))}"
            )
            print(
                f"  baseline, list + GetItem per id: median {statistics.median(floor_times) * 1000:.0f} ms; "
                f"calls {dict(sorted(floor_calls.items()))}"
            )


if __name__ == "__main__":
    main()
