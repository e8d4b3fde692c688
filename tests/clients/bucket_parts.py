"""Counting (and holding, or failing) the multipart parts that reach the emulated bucket: a wrapper
around moto's UploadPart handler, which runs in the test process (the stack is in-process)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moto.s3.responses import S3Response

SLOW_DOWN = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"


class PartCounter:
    """Wraps the emulated bucket's UploadPart handler: records each part that arrives, can hold one
    part number until released and then refuse it, and can answer 503 SlowDown to a part once
    (neither of those is stored)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, int]] = []
        self.hold: int | None = None
        self.fail_once: set[int] = set()
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = S3Response.upload_part
        counter = self

        def upload_part(handler: Any) -> Any:
            upload_id, number = handler._get_param("uploadId"), handler._get_int_param("partNumber")
            with counter._lock:
                counter.received.append((upload_id, number))
                fail = number in counter.fail_once
                counter.fail_once.discard(number)
            if fail:
                return 503, {}, SLOW_DOWN
            if number == counter.hold:
                counter.holding.set()
                counter.release.wait(60)
                return 500, {}, SLOW_DOWN  # the client is gone by now: the part is not stored
            return original(handler)

        monkeypatch.setattr(S3Response, "upload_part", upload_part)
