"""Running ffmpeg/ffprobe: input options per source, hardening, timeouts and error translation.

Hardening: uploaded files are hostile. ffmpeg demuxers can follow references inside a file (an HLS
playlist or a concat list renamed `.mp4` reads other files or URLs: a known SSRF/local-file-read
vector). Every invocation therefore pins `-protocol_whitelist` (file only for local paths; the
scheme's own transport for URLs) and `-format_whitelist` (the demuxers the kind accepts).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from media_core.domain.errors import MediaRejected, redact
from media_core.engines.av.binaries import ca_bundle, find_binaries

T = TypeVar("T")

logger = Logger(child=True)

# Demuxer short names accepted per kind (mov covers mp4/m4a/3gp/mov; matroska covers webm/mkv).
VIDEO_DEMUXERS: tuple[str, ...] = ("mov", "matroska", "avi", "mpegts", "mpeg", "flv", "asf", "ogg")
AUDIO_DEMUXERS: tuple[str, ...] = ("mp3", "wav", "ogg", "aac", "flac", "mov", "aiff", "matroska", "caf")

URL_RW_TIMEOUT_US = 30_000_000  # a stalled read fails after 30 s instead of hanging the function


class SourceUnavailableError(RuntimeError):
    """The source could not be read (network error, HTTP 403/404/5xx, TLS): retryable, not the
    file's fault."""


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def check_source(source: str) -> None:
    """Accept a local path or an http(s) URL; refuse other schemes (file:, data:, concat:, ...)."""
    if is_url(source):
        return
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", source):
        raise ValueError(f"unsupported source scheme: {source.split(':', 1)[0]}")
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(source)
    if path.stat().st_size == 0:
        raise MediaRejected("empty file")


# A fixed TCP receive buffer for URL inputs. ffmpeg reads through a forward seek shorter than the
# socket's receive window instead of asking for a new range, and Linux grows that window with the
# reader's pace: left to autotuning, a probe or a poster read more (up to half again) on a busy
# machine. 128 KiB keeps what they read small and the same run to run, and still streams far
# faster than any transcode consumes (128 KiB per round trip: ~60 MB/s at a 2 ms S3 RTT).
URL_RECV_BUFFER_BYTES = 128 * 1024


def input_options(source: str, demuxers: Sequence[str]) -> dict[str, str | int]:
    """Options placed before `-i source` (ffmpeg-python kwargs: `ffmpeg.input(source, **opts)`)."""
    opts: dict[str, str | int] = {"format_whitelist": ",".join(demuxers)}
    if source.startswith("https://"):
        opts["protocol_whitelist"] = "https,tls,tcp"
        opts["tls_verify"] = 1
        bundle = ca_bundle()
        if bundle:
            opts["ca_file"] = bundle
        opts["rw_timeout"] = URL_RW_TIMEOUT_US
        opts["recv_buffer_size"] = URL_RECV_BUFFER_BYTES
    elif source.startswith("http://"):
        opts["protocol_whitelist"] = "http,tcp"
        opts["rw_timeout"] = URL_RW_TIMEOUT_US
        opts["recv_buffer_size"] = URL_RECV_BUFFER_BYTES
    else:
        opts["protocol_whitelist"] = "file"
    return opts


def input_args(source: str, demuxers: Sequence[str]) -> list[str]:
    """The same options as a flat argument list (for ffprobe, which ffmpeg-python does not build)."""
    args: list[str] = []
    for key, value in input_options(source, demuxers).items():
        args += [f"-{key}", str(value)]
    return args


@dataclass(frozen=True)
class RunResult:
    stdout: bytes
    stderr: str


_NETWORK_ERRORS = re.compile(
    r"HTTP error|Server returned|Connection (refused|reset|timed out)|Network is unreachable|"
    r"Could not resolve|Failed to resolve|tls|TLS|certificate|SSL|I/O error|Input/output error|"
    r"timed out",
)
_WHITELIST = re.compile(r"\[([\w,]+) @ [^\]]+\] Format not on whitelist")
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"moov atom not found"), "truncated or corrupt: moov atom not found"),
    (
        re.compile(r"(?i)truncat|end of file|partial file|stream ends prematurely"),
        "truncated or corrupt file",
    ),
    (re.compile(r"Invalid data found when processing input"), "not a media file"),
    (re.compile(r"Failed to find two consecutive MPEG audio frames"), "not a media file"),
    (
        re.compile(r"Output file (#0 )?does not contain any stream|Stream map .* matches no streams"),
        "no usable stream found",
    ),
)
_IMAGE_DEMUXERS = re.compile(r"_pipe$|^image2|^gif|^png|^webp")


def explain_failure(stderr: str, source: str, demuxers: Sequence[str]) -> Exception:
    """Turn ffmpeg's stderr into MediaRejected (the file's fault) or SourceUnavailableError (retry)."""
    if is_url(source) and _NETWORK_ERRORS.search(stderr) and "Invalid data" not in stderr:
        return SourceUnavailableError(_last_line(stderr))
    match = _WHITELIST.search(stderr)
    if match:
        detected = match.group(1).split(",")[0]
        if _IMAGE_DEMUXERS.search(detected):
            return MediaRejected(f"not a media file: looks like an image ({detected.removesuffix('_pipe')})")
        return MediaRejected(f"unsupported format: {detected} (accepted: {', '.join(demuxers)})")
    for pattern, reason in _HINTS:
        if pattern.search(stderr):
            return MediaRejected(reason)
    return MediaRejected(f"unreadable media: {_last_line(stderr) or 'ffmpeg failed'}")


def _last_line(stderr: str) -> str:
    stderr = redact(stderr)
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    line = lines[-1] if lines else ""
    return re.sub(r"^\[[^\]]+\]\s*", "", line)[:200]


def run(
    args: Sequence[str],
    *,
    source: str,
    demuxers: Sequence[str],
    timeout_s: float | None = None,
    timeout_reason: str = "processing took too long",
) -> RunResult:
    """Run one ffmpeg/ffprobe command; on failure raise what `explain_failure` says."""
    logger.debug("running ffmpeg", command=redact(" ".join(args)))
    try:
        proc = subprocess.run(
            list(args), capture_output=True, timeout=timeout_s, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        if is_url(source) and exc.stderr and _NETWORK_ERRORS.search(exc.stderr.decode(errors="replace")):
            raise SourceUnavailableError("reading the source timed out") from exc
        raise MediaRejected(timeout_reason) from exc
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        logger.info("ffmpeg failed", returncode=proc.returncode, stderr=redact(stderr[-2000:]))
        raise explain_failure(stderr, source, demuxers)
    return RunResult(stdout=proc.stdout, stderr=stderr)


def run_to_file(
    args: Sequence[str],
    partial: Path,
    out_path: Path,
    check: Callable[[Path], T],
    *,
    source: str,
    demuxers: Sequence[str],
    timeout_s: float | None = None,
    timeout_reason: str = "processing took too long",
) -> T:
    """Run an ffmpeg command that writes `partial`, `check` the file (its result is returned),
    then move it to `out_path`. On any failure the partial file is removed: nothing
    half-written is left behind."""
    try:
        run(args, source=source, demuxers=demuxers, timeout_s=timeout_s, timeout_reason=timeout_reason)
        checked = check(partial)
        partial.replace(out_path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return checked


def ffmpeg_head() -> list[str]:
    """The ffmpeg binary and the global options every command starts with (quiet, no prompt,
    overwrite): they go first, since ffmpeg >= 7 ignores trailing options."""
    return [str(find_binaries().ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-y"]


def partial_path(out_path: Path) -> Path:
    """The hidden name a file is written under before `run_to_file` moves it to `out_path`."""
    return out_path.with_name(f".{out_path.name}.partial")


def compile_ffmpeg(node: Any) -> list[str]:
    """Argument list for an ffmpeg-python output node, with `ffmpeg_head()` in front (ffmpeg-python
    appends `global_args`/`-y` after the output, where ffmpeg >= 7 ignores trailing options)."""
    compiled: list[str] = node.compile(cmd="ffmpeg")
    return [*ffmpeg_head(), *compiled[1:]]
