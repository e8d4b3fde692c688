"""A thin typed client over the media pipeline API: one method per route, the request and reply
models generated from openapi.json (models.py), retries with exponential backoff on 5xx and
connection errors, and the API's own error message in every `ApiError`."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from media_pipeline_client import models

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

RETRY_STATUSES = frozenset({500, 502, 503, 504})


class ApiError(Exception):
    """An error answer of the API (or the bucket); `message` is the server's, for a person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.replace('_', ' ')}: {self.message}" if self.code else self.message

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        code, message = "", ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            try:
                error = models.ErrorReply.model_validate(body)
                code, message = error.error, error.message
            except ValueError:
                message = str(body.get("message") or body.get("Message") or "")
        if not message:
            text = response.text.strip()
            if text.startswith("<"):  # S3's XML error: <Code>EntityTooLarge</Code><Message>…</Message>
                found = re.search(r"<Message>(.*?)</Message>", text, re.S)
                s3_code = re.search(r"<Code>(.*?)</Code>", text)
                code = code or (s3_code[1] if s3_code else "")
                message = found[1] if found else ""
            message = text[:200] if text and not text.startswith("<") else response.reason_phrase
        if not code and response.status_code == 401:  # the gateway's own answer carries no code
            code, message = "unauthorized", f"the token was refused ({message or 'no reason given'})"
        # The API prefixes the field it blames ("size: 25.1 MB exceeds …"); the code says it already.
        if code and ": " in message and message.split(": ", 1)[0] in ("size", "content_type", "filename"):
            message = message.split(": ", 1)[1]
        return cls(response.status_code, code, message or f"HTTP {response.status_code}")


class Retry:
    """Exponential backoff with jitter: attempt n waits base·2ⁿ (capped), for `attempts` tries."""

    def __init__(self, attempts: int = 5, base: float = 0.25, cap: float = 8.0) -> None:
        self.attempts = max(1, attempts)
        self.base = base
        self.cap = cap

    def delays(self) -> Iterator[float]:
        for n in range(self.attempts - 1):
            yield min(self.cap, self.base * 2**n) * (0.5 + random.random() / 2)  # noqa: S311 - jitter

    def run(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """`send()` until it answers below 500 (or the tries run out); connection errors retried."""
        delays = self.delays()
        while True:
            try:
                response = send()
            except (httpx.TransportError, OSError):
                delay = next(delays, None)
                if delay is None:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                delay = next(delays, None)
                if delay is None:
                    return response
            time.sleep(delay)


class MediaClient:
    """The API, for one caller (the bearer token). Thread-safe: uploads share it across threads."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        retry: Retry | None = None,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.retry = retry or Retry()
        self._token = token
        self.http = http or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:  # never the token
        return f"MediaClient({self.api_url!r})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MediaClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing
    def request(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: Mapping[str, str | int] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        content = body.model_dump_json(exclude_unset=True) if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        response = self.retry.run(
            lambda: self.http.request(
                method, f"{self.api_url}{path}", headers=headers, content=content, params=params
            )
        )
        if response.status_code not in expect:
            raise ApiError.from_response(response)
        return response

    @staticmethod
    def _parse(model: type[M], response: httpx.Response) -> M:
        return model.model_validate_json(response.content)

    # ------------------------------------------------------------------ uploads
    def create_upload(self, request: models.CreateUploadBody) -> models.CreateUploadReply:
        return self._parse(
            models.CreateUploadReply, self.request("POST", "/uploads", body=request, expect=(201,))
        )

    def complete_upload(self, media_id: str, parts: list[models.CompletedPart]) -> models.CompleteUploadReply:
        response = self.request(
            "POST",
            f"/uploads/{media_id}/complete",
            body=models.CompleteUploadBody(parts=parts),
            expect=(202,),
        )
        reply: models.CompleteUploadReply = TypeAdapter(models.CompleteUploadReply).validate_json(
            response.content
        )
        return reply

    def abort_upload(self, media_id: str) -> None:
        self.request("DELETE", f"/uploads/{media_id}", expect=(204,))

    def list_parts(self, media_id: str) -> models.ListPartsReply:
        return self._parse(models.ListPartsReply, self.request("GET", f"/uploads/{media_id}/parts"))

    def sign_parts(self, media_id: str, part_numbers: list[int]) -> models.SignPartsReply:
        body = models.SignPartsBody(part_numbers=part_numbers)
        return self._parse(
            models.SignPartsReply, self.request("POST", f"/uploads/{media_id}/parts", body=body)
        )

    # ------------------------------------------------------------------ media
    def get_media(self, media_id: str) -> models.GetMediaReply:
        return self._parse(models.GetMediaReply, self.request("GET", f"/media/{media_id}"))

    def list_media_page(
        self, cursor: str | None = None, page_size: int = 100, filters: Mapping[str, str] | None = None
    ) -> models.ListMediaReply:
        """One page; `filters` are the route's query parameters (kind, status, tag, entity_type, …)."""
        params: dict[str, str | int] = {k: v for k, v in (filters or {}).items() if v}
        params["page_size"] = page_size
        if cursor:
            params["cursor"] = cursor
        return self._parse(models.ListMediaReply, self.request("GET", "/media", params=params))

    def iter_media(
        self, filters: Mapping[str, str] | None = None, page_size: int = 100
    ) -> Iterator[models.MediaView]:
        """Every record matching the filters, following `next` cursors to the last page."""
        cursor: str | None = None
        while True:
            page = self.list_media_page(cursor, page_size, filters)
            yield from page.items
            if not page.next:
                return
            cursor = page.next

    def wait_settled(
        self, media_id: str, timeout: float = 600.0, interval: float = 0.5
    ) -> models.GetMediaReply:
        """Poll the record until it is `ready` or `failed` (TimeoutError after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.get_media(media_id)
            if record.status in (models.Status.READY, models.Status.FAILED, models.Status.DELETED):
                return record
            if time.monotonic() > deadline:
                raise TimeoutError(f"still {record.status.value} after {timeout:g} s")
            time.sleep(interval)
            interval = min(interval * 1.5, 5.0)

    def delete_media(self, media_id: str) -> None:
        self.request("DELETE", f"/media/{media_id}", expect=(204,))

    def batch_delete(self, ids: list[str]) -> models.BatchDeleteReply:
        body = models.BatchDeleteBody(ids=ids)
        return self._parse(models.BatchDeleteReply, self.request("POST", "/media/batch-delete", body=body))

    def download_url(self, media_id: str, variant: str | None = None) -> str:
        """The presigned GET the API redirects to: the original, or the named variant."""
        params = {"variant": variant} if variant else None
        response = self.request("GET", f"/media/{media_id}/download", params=params, expect=(302, 303, 307))
        location: str = response.headers.get("Location") or ""
        if not location:
            raise ApiError(response.status_code, "bad_redirect", "the download answer has no Location")
        return location

    def download(self, media_id: str, write: Callable[[bytes], Any], variant: str | None = None) -> int:
        """Stream the original (or a variant) to `write`; returns the byte count. The presigned URL
        is fetched without the bearer token (S3 refuses a request carrying two authorizations)."""
        url = self.download_url(media_id, variant)
        total = 0
        with self.http.stream("GET", url) as response:
            if response.status_code != 200:
                response.read()
                raise ApiError.from_response(response)
            for chunk in response.iter_bytes(1 << 16):
                write(chunk)
                total += len(chunk)
        return total
