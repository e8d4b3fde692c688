"""`media`: upload, list, fetch, download and delete media from the command line.

Results go to stdout, one line per file or record; errors to stderr, one line each
(`photo.jpg: too large: 25.1 MB exceeds the image limit of 20.0 MB`); progress bars to stderr.
Exit status: 0 all done, 1 at least one item failed, 2 usage or configuration error, 130 interrupted."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from media_pipeline_client import models
from media_pipeline_client.client import ApiError, MediaClient
from media_pipeline_client.config import ConfigError, resolve
from media_pipeline_client.state import StateStore, default_state_dir
from media_pipeline_client.uploads import (
    MIB,
    Event,
    PartSent,
    Retrying,
    Started,
    UploadCancelled,
    Uploaded,
    Uploader,
    UploadError,
    UploadOptions,
)
from media_pipeline_client.uploads import (
    Progress as ProgressEvent,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class Output:
    """stdout for results, stderr for errors; thread-safe lines."""

    def __init__(self, out: TextIO, err: TextIO, quiet: bool) -> None:
        self.out, self.err, self.quiet = out, err, quiet
        self._lock = threading.Lock()
        # While progress bars are live, errors go through their console so a redraw never hides them.
        self.live: Console | None = None

    def result(self, line: str) -> None:
        with self._lock:
            print(line, file=self.out, flush=True)

    def error(self, line: str) -> None:
        with self._lock:
            if self.live is not None:
                self.live.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                print(line, file=self.err, flush=True)

    def info(self, line: str) -> None:
        if not self.quiet:
            self.error(line)


def _size(text: str) -> int:
    units = {"k": 1024, "m": MIB, "g": 1024 * MIB}
    raw = text.strip().lower().removesuffix("ib").removesuffix("b")
    factor = units.get(raw[-1:], 1)
    try:
        return int(float(raw[:-1] if factor > 1 else raw) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 5242880, 5MiB, 64M)") from None


def _entity(text: str) -> tuple[str, str]:
    kind, sep, ident = text.partition(":")
    if not sep or not kind or not ident:
        raise argparse.ArgumentTypeError(f"expected TYPE:ID, got {text!r}")
    return kind, ident


def build_parser() -> argparse.ArgumentParser:
    # The connection options are accepted before or after the command (SUPPRESS: a subcommand's
    # unset option must not overwrite the value given before it).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-url", default=argparse.SUPPRESS, help="API base URL (env MEDIA_API_URL)")
    common.add_argument("--token", default=argparse.SUPPRESS, help="bearer ID token (env MEDIA_TOKEN)")
    common.add_argument("--profile", default=argparse.SUPPRESS, help="profile of the config file")
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="results/errors only"
    )

    parser = argparse.ArgumentParser(prog="media", description=__doc__.split("\n\n", 1)[0], parents=[common])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "upload", parents=[common], help="upload files (directories expand to their files)"
    )
    up.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    up.add_argument("--entity", type=_entity, metavar="TYPE:ID", help="link each file to an entity")
    up.add_argument("--tag", action="append", default=[], metavar="T", help="a tag (repeatable)")
    up.add_argument("--public", action="store_true", help="readable by any signed-in caller")
    up.add_argument("--wait", action="store_true", help="wait until each file is ready or failed")
    up.add_argument("--wait-timeout", type=float, default=600.0, metavar="S", help="per file (default 600)")
    up.add_argument("--jobs", "-j", type=int, default=4, metavar="N", help="files and parts in flight (4)")
    up.add_argument(
        "--multipart-threshold",
        type=_size,
        default=32 * MIB,
        metavar="SIZE",
        help="ask for a multipart upload above this size (default 32MiB; the server may switch sooner)",
    )
    up.add_argument("--state-dir", type=Path, help="resume state (default ~/.cache/media-pipeline/uploads)")
    up.add_argument("--no-resume", action="store_true", help="ignore saved state: start every upload anew")

    ls = commands.add_parser("ls", parents=[common], help="list your media, newest first")
    ls.add_argument("--kind", choices=[k.value for k in models.Kind])
    ls.add_argument("--status", choices=[s.value for s in models.Status])
    ls.add_argument("--tag")
    ls.add_argument("--json", action="store_true", help="one JSON record per line")
    ls.add_argument("--page-size", type=int, default=100, metavar="N", help="records per request (1-100)")

    get = commands.add_parser("get", parents=[common], help="print a record as JSON")
    get.add_argument("media_id", metavar="ID")

    down = commands.add_parser("download", parents=[common], help="download the original (or a variant)")
    down.add_argument("media_id", metavar="ID")
    down.add_argument("-o", "--output", type=Path, required=True, metavar="PATH", help="file or directory")
    down.add_argument("--variant", metavar="NAME", help="a variant (thumbnail, webp, mp4, …) instead")

    rm = commands.add_parser("rm", parents=[common], help="delete media (original, variants, record)")
    rm.add_argument("media_ids", nargs="+", metavar="ID")
    return parser


# ---------------------------------------------------------------------- upload
def expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a directory's files (recursively, hidden ones skipped), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


@dataclass
class _Bars:
    progress: Progress
    overall: TaskID
    tasks: dict[Path, TaskID]
    lock: threading.Lock

    def on_event(self, event: Event) -> None:
        with self.lock:
            task = self.tasks.get(event.path)
        if isinstance(event, Started):
            if task is not None and event.already_sent:
                self.progress.update(task, completed=event.already_sent)
                self.progress.update(self.overall, advance=event.already_sent)
        elif isinstance(event, ProgressEvent) and task is not None:
            self.progress.update(task, advance=event.bytes)
            self.progress.update(self.overall, advance=event.bytes)
        elif isinstance(event, Retrying):
            self.progress.console.print(f"[yellow]{event.path.name}: retrying {event.what}: {event.reason}")
        elif isinstance(event, PartSent):
            pass  # the bytes were counted as they went


def cmd_upload(args: argparse.Namespace, client: MediaClient, output: Output) -> int:
    files = expand(args.paths)
    if not files:
        output.error("nothing to upload")
        return EXIT_FAILED
    options = UploadOptions(
        entity=args.entity,
        tags=tuple(args.tag),
        public=args.public,
        multipart_threshold=args.multipart_threshold,
        jobs=max(1, args.jobs),
    )
    state = None if args.no_resume else StateStore(args.state_dir or default_state_dir())
    console = Console(file=output.err, stderr=True)
    progress = Progress(
        TextColumn("{task.description}", style="bold"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=output.quiet or not console.is_terminal,
    )
    sizes = {f: (f.stat().st_size if f.is_file() else 0) for f in files}
    bars = _Bars(progress, progress.add_task("all files", total=sum(sizes.values())), {}, threading.Lock())
    for f in files:
        bars.tasks[f] = progress.add_task(f.name, total=sizes[f] or 1)
    uploader = Uploader(client, options, state=state, listener=bars.on_event)
    failures = 0
    uploaded: list[tuple[Path, Uploaded]] = []

    def one(path: Path) -> tuple[Path, Uploaded | None]:
        try:
            return path, uploader.upload(path)
        except UploadCancelled:
            pass  # Ctrl-C: reported once, by main
        except (UploadError, ApiError) as err:
            output.error(f"{path}: {err}")
        except httpx.HTTPError as err:
            output.error(f"{path}: network error: {err}")
        return path, None

    output.live = None if progress.disable else console
    try:
        with progress:
            pool = ThreadPoolExecutor(max_workers=max(1, args.jobs), thread_name_prefix="file")
            try:
                for path, done in pool.map(one, files):
                    if done is None:
                        failures += 1
                    else:
                        uploaded.append((path, done))
            except BaseException:
                uploader.cancel()  # before the pool waits: no new part starts, the state is kept
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        output.live = None
    if not args.wait:  # results after the bars, on stdout, in the order given
        for path, done in uploaded:
            resumed = " (resumed)" if done.resumed else ""
            output.result(f"{path}: {done.media_id} uploaded{resumed}")
    if args.wait:
        for path, done in uploaded:
            try:
                record = client.wait_settled(done.media_id, timeout=args.wait_timeout)
            except (ApiError, TimeoutError, httpx.HTTPError) as err:
                output.error(f"{path}: {done.media_id} {err}")
                failures += 1
                continue
            if record.status == models.Status.READY:
                output.result(f"{path}: {done.media_id} ready")
            else:
                reason = record.failure_reason or "no reason given"
                output.error(f"{path}: {done.media_id} {record.status.value}: {reason}")
                failures += 1
    output.info(f"{len(files) - failures} of {len(files)} files {'ready' if args.wait else 'uploaded'}")
    return EXIT_FAILED if failures else EXIT_OK


# ---------------------------------------------------------------------- the rest
def _human(size: int) -> str:
    """Binary multiples labelled KB/MB/GB, as the API's own messages and limits are."""
    value = float(size)
    for unit in ("bytes", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def cmd_ls(args: argparse.Namespace, client: MediaClient, output: Output) -> int:
    filters: dict[str, str] = {"kind": args.kind or "", "status": args.status or "", "tag": args.tag or ""}
    for record in client.iter_media(filters, page_size=args.page_size):
        if args.json:
            output.result(record.model_dump_json())
        else:
            output.result(
                f"{record.media_id}  {record.kind.value:<8}  {record.status.value:<15}  "
                f"{_human(record.original.size):>9}  {record.created_at:%Y-%m-%d %H:%M}  "
                f"{record.original.filename}"
            )
    return EXIT_OK


def cmd_get(args: argparse.Namespace, client: MediaClient, output: Output) -> int:
    output.result(client.get_media(args.media_id).model_dump_json(indent=2))
    return EXIT_OK


def cmd_download(args: argparse.Namespace, client: MediaClient, output: Output) -> int:
    target: Path = args.output
    if target.is_dir():
        record = client.get_media(args.media_id)
        name = Path(record.original.filename).name
        if args.variant:
            stem, extension = Path(name).stem, record.variants.get(args.variant)
            suffix = (extension.content_type.rsplit("/", 1)[-1] if extension else "bin").replace(
                "jpeg", "jpg"
            )
            name = f"{stem}-{args.variant}.{suffix}"
        target = target / name
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as handle:
            size = client.download(args.media_id, handle.write, variant=args.variant)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    output.result(f"{target} ({size} bytes)")
    return EXIT_OK


def cmd_rm(args: argparse.Namespace, client: MediaClient, output: Output) -> int:
    failures = 0
    for media_id in dict.fromkeys(args.media_ids):
        try:
            client.delete_media(media_id)
            output.result(f"{media_id}: deleted")
        except ApiError as err:
            output.error(f"{media_id}: {err}")
            failures += 1
    return EXIT_FAILED if failures else EXIT_OK


COMMANDS = {"upload": cmd_upload, "ls": cmd_ls, "get": cmd_get, "download": cmd_download, "rm": cmd_rm}


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    args = build_parser().parse_args(argv)
    output = Output(stdout or sys.stdout, stderr or sys.stderr, getattr(args, "quiet", False))
    try:
        settings = resolve(
            getattr(args, "api_url", None), getattr(args, "token", None), getattr(args, "profile", None)
        )
    except ConfigError as err:
        output.error(f"media: {err}")
        return EXIT_USAGE
    try:
        with MediaClient(settings.api_url, settings.token) as client:
            return COMMANDS[args.command](args, client, output)
    except ApiError as err:
        output.error(f"{getattr(args, 'media_id', 'media')}: {err}")
        return EXIT_FAILED
    except httpx.HTTPError as err:
        output.error(f"media: cannot reach {settings.api_url}: {type(err).__name__}")
        return EXIT_FAILED
    except OSError as err:
        output.error(f"media: {err}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        output.error("media: interrupted (run the same command again to resume an upload)")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
