"""Uploading local files: ask the API for an upload, then send the bytes straight to the bucket —
one presigned POST, or a multipart upload with parallel, retried parts that resumes after an
interruption (state file + the server's ListParts). Progress is reported as events."""

from __future__ import annotations

import contextlib
import math
import mimetypes
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from media_pipeline_client import models
from media_pipeline_client.client import ApiError, MediaClient
from media_pipeline_client.state import StateStore, UploadState

MIB = 1024 * 1024
SIGN_BATCH = 100  # the API signs at most 100 part URLs per call
CHUNK = 256 * 1024
# Answers to ListParts after which a saved upload cannot be resumed: no such route (403 from API
# Gateway, 404/405), an upload that is not the caller's or is gone (404), or closed (409).
RESTART_STATUSES = frozenset({403, 404, 405, 409})

# Types the standard library does not know everywhere; the server's allowlist decides the rest.
EXTRA_TYPES = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".webp": "image/webp",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".aac": "audio/aac",
    ".opus": "audio/ogg",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def guess_content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in EXTRA_TYPES:
        return EXTRA_TYPES[suffix]
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


# ---------------------------------------------------------------------- events
@dataclass(frozen=True)
class Started:
    path: Path
    size: int
    media_id: str
    method: Literal["POST", "MULTIPART"]
    already_sent: int  # bytes the bucket had before this run (a resumed upload)


@dataclass(frozen=True)
class Progress:
    path: Path
    bytes: int  # sent since the last event; negative when a failed part's bytes are re-sent


@dataclass(frozen=True)
class PartSent:
    path: Path
    part_number: int
    size: int


@dataclass(frozen=True)
class Retrying:
    path: Path
    what: str
    reason: str


Event = Started | Progress | PartSent | Retrying
Listener = Callable[[Event], None]


class UploadError(Exception):
    """A file that could not be uploaded; the message is for a person (the API's when it has one)."""


class UploadCancelled(UploadError):
    """`Uploader.cancel()` was called (Ctrl-C): no new part starts; the saved state allows a resume."""


@dataclass(frozen=True)
class UploadOptions:
    entity: tuple[str, str] | None = None
    tags: tuple[str, ...] = ()
    public: bool = False
    # Above this size ask for a multipart upload (the server also switches above its own threshold).
    multipart_threshold: int = 32 * MIB
    jobs: int = 4  # parts in flight per file
    part_attempts: int = 5


@dataclass
class Uploaded:
    path: Path
    media_id: str
    method: str
    resumed: bool = False
    parts_sent: list[int] = field(default_factory=list)


class Uploader:
    def __init__(
        self,
        client: MediaClient,
        options: UploadOptions | None = None,
        *,
        state: StateStore | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.client = client
        self.options = options or UploadOptions()
        self.state = state
        self.listener = listener or (lambda _event: None)
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop starting parts and files (thread-safe); parts already on the wire finish."""
        self._cancelled.set()

    # ------------------------------------------------------------------ entry point
    def upload(self, path: Path) -> Uploaded:
        if self._cancelled.is_set():
            raise UploadCancelled("cancelled")
        try:
            stat = path.stat()
        except OSError as err:
            raise UploadError(err.strerror or str(err)) from err
        if stat.st_size == 0:
            raise UploadError("empty file")
        multipart = stat.st_size > self.options.multipart_threshold
        key = StateStore.key(self.client.api_url, path, stat.st_size, stat.st_mtime_ns)
        if self.state is not None:
            saved = self.state.load(key)
            if saved is not None:
                resumed = self._resume(path, key, saved)
                if resumed is not None:
                    return resumed
        request = models.CreateUploadBody(
            filename=path.name,
            content_type=guess_content_type(path),
            size=stat.st_size,
            multipart=multipart,
        )
        if self.options.entity:
            request.entity_type, request.entity_id = self.options.entity
        if self.options.tags:
            request.tags = list(self.options.tags)
        if self.options.public:
            request.visibility = models.Visibility.PUBLIC
        created = self.client.create_upload(request)
        plan = created.upload
        if isinstance(plan, models.PostUpload):
            self.listener(Started(path, stat.st_size, created.media_id, "POST", 0))
            self._post(path, plan)
            return Uploaded(path, created.media_id, "POST")
        part_count = plan.part_count or math.ceil(stat.st_size / plan.part_size)
        saved = UploadState(
            api_url=self.client.api_url,
            path=str(path.resolve()),
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            media_id=created.media_id,
            upload_id=plan.upload_id,
            part_size=plan.part_size,
            part_count=part_count,
        )
        if self.state is not None:
            self.state.save(key, saved)
        self.listener(Started(path, stat.st_size, created.media_id, "MULTIPART", 0))
        urls = {p.part_number: p.url for p in plan.parts}
        sent = self._send_parts(path, key, saved, {}, urls)
        return Uploaded(path, created.media_id, "MULTIPART", parts_sent=sent)

    # ------------------------------------------------------------------ single POST
    def _post(self, path: Path, plan: models.PostUpload) -> None:
        size = path.stat().st_size
        content_type = plan.fields.get("Content-Type") or guess_content_type(path)
        with path.open("rb") as handle:

            def send() -> httpx.Response:
                handle.seek(0)
                # The fields first, then the file, as S3's POST policy requires.
                return self.client.http.post(
                    plan.url, data=plan.fields, files={"file": (path.name, handle, content_type)}
                )

            response = self.client.retry.run(send)
        if response.status_code not in (200, 201, 204):
            raise UploadError(f"the bucket refused the file: {ApiError.from_response(response)}")
        self.listener(Progress(path, size))

    # ------------------------------------------------------------------ multipart
    def _resume(self, path: Path, key: str, saved: UploadState) -> Uploaded | None:
        """Carry on with a saved multipart upload; None when it must start again from zero."""
        assert self.state is not None
        try:
            listing = self.client.list_parts(saved.media_id)
        except ApiError as err:
            if err.status not in RESTART_STATUSES:
                raise  # e.g. an expired token: keep the state, the next run can still resume
            # An older server without ListParts, or an upload that is gone: start from zero. But
            # an upload that was completed just before the interruption is not sent twice.
            if self._already_completed(saved.media_id):
                self.state.drop(key)
                return Uploaded(path, saved.media_id, "MULTIPART", resumed=True)
            self._forget(key, saved, f"cannot resume ({err}); starting again")
            return None
        if listing.upload_id != saved.upload_id or listing.part_size != saved.part_size:
            self._forget(key, saved, "the server has another upload for this file; starting again")
            return None
        done: dict[int, str] = {}
        for part in listing.parts:
            if part.size == self._part_length(saved, part.part_number):  # a short part is sent again
                done[part.part_number] = part.etag
        saved.part_count = listing.part_count
        already = sum(self._part_length(saved, n) for n in done)
        self.listener(Started(path, saved.size, saved.media_id, "MULTIPART", already))
        sent = self._send_parts(path, key, saved, done, {})
        return Uploaded(path, saved.media_id, "MULTIPART", resumed=True, parts_sent=sent)

    def _already_completed(self, media_id: str) -> bool:
        try:
            return self.client.get_media(media_id).status != models.Status.AWAITING_UPLOAD
        except ApiError:
            return False

    def _forget(self, key: str, saved: UploadState, reason: str) -> None:
        assert self.state is not None
        self.listener(Retrying(Path(saved.path), "upload", reason))
        self.state.drop(key)
        # Best effort: the bucket's lifecycle rule aborts a forgotten upload after a day anyway.
        with contextlib.suppress(ApiError, httpx.HTTPError):
            self.client.abort_upload(saved.media_id)

    @staticmethod
    def _part_length(saved: UploadState, number: int) -> int:
        start = (number - 1) * saved.part_size
        return max(0, min(saved.part_size, saved.size - start))

    def _send_parts(
        self, path: Path, key: str, saved: UploadState, done: dict[int, str], urls: dict[int, str]
    ) -> list[int]:
        todo = [n for n in range(1, saved.part_count + 1) if n not in done]
        lock = threading.Lock()
        etags = dict(done)
        sent: list[int] = []

        def url_for(number: int) -> str:
            with lock:
                if number not in urls:
                    # Sign this part and the next missing ones in one call (≤ 100 per call).
                    wanted = [n for n in todo if n >= number and n not in urls][:SIGN_BATCH]
                    urls.update(
                        {p.part_number: p.url for p in self.client.sign_parts(saved.media_id, wanted).parts}
                    )
                return urls[number]

        def send(number: int) -> None:
            etag = self._put_part(path, saved, number, url_for)
            with lock:
                etags[number] = etag
                sent.append(number)
                saved.etags[str(number)] = etag
                if self.state is not None:
                    self.state.save(key, saved)
            self.listener(PartSent(path, number, self._part_length(saved, number)))

        pool = ThreadPoolExecutor(max_workers=max(1, self.options.jobs), thread_name_prefix="part")
        try:
            futures = [pool.submit(send, n) for n in todo]
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished:
                future.result()  # the first failure, if any
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        parts = [models.CompletedPart(part_number=n, etag=etags[n]) for n in sorted(etags)]
        try:
            self.client.complete_upload(saved.media_id, parts)
        except ApiError as err:
            if not (err.status == 409 and self._already_completed(saved.media_id)):
                raise
        if self.state is not None:
            self.state.drop(key)
        return sorted(sent)

    def _put_part(self, path: Path, saved: UploadState, number: int, url_for: Callable[[int], str]) -> str:
        if self._cancelled.is_set():
            raise UploadCancelled("cancelled")
        length = self._part_length(saved, number)
        with path.open("rb") as handle:
            handle.seek((number - 1) * saved.part_size)
            data = handle.read(length)
        attempts = max(1, self.options.part_attempts)
        delays = iter([min(8.0, 0.25 * 2**n) for n in range(attempts - 1)])
        resigned = False
        while True:
            progressed = 0

            def body() -> Iterator[bytes]:
                nonlocal progressed
                view = memoryview(data)
                for start in range(0, length, CHUNK):
                    chunk = bytes(view[start : start + CHUNK])
                    yield chunk
                    progressed += len(chunk)
                    self.listener(Progress(path, len(chunk)))

            reason: str
            try:
                # Each part URL is signed for exactly this many bytes: send Content-Length, not chunks.
                response = self.client.http.put(
                    url_for(number), content=body(), headers={"Content-Length": str(length)}
                )
            except (httpx.TransportError, OSError) as err:
                reason = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 200 and response.headers.get("ETag"):
                    return response.headers["ETag"]
                if response.status_code == 403 and not resigned:
                    # An expired URL (a long interruption): sign this part again, once.
                    resigned = True
                    with_new = self.client.sign_parts(saved.media_id, [number]).parts
                    url_for = {p.part_number: p.url for p in with_new}.__getitem__
                    self.listener(Progress(path, -progressed))
                    continue
                if response.status_code < 500:
                    raise UploadError(
                        f"part {number}: the bucket refused it: {ApiError.from_response(response)}"
                    )
                reason = f"HTTP {response.status_code}"
            if progressed:
                self.listener(Progress(path, -progressed))
            if self._cancelled.is_set():
                raise UploadCancelled("cancelled")
            delay = next(delays, None)
            if delay is None:
                raise UploadError(f"part {number}: gave up after {attempts} tries ({reason})")
            self.listener(Retrying(path, f"part {number}", reason))
            time.sleep(delay)
