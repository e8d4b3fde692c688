"""Starting the local stack from tests: ephemeral ports, a temporary data directory (its own JWT
signing key), no schedules, no parameter overrides from the caller's environment; always stopped.

    with running_stack(tmp_path) as stack:
        requests.get(f"{stack.api_url}/media/{media_id}", headers=bearer(stack, "alice"))

`pollers=False` leaves the queues to the test (to read S3 events before a processor does).
Only one stack runs per process at a time (moto's state and os.environ are process-global).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local_stack.paths import REPO_ROOT
from local_stack.stack import LocalStack
from local_stack.template import load_template
from local_stack.token import issue_token

TEMPLATE = REPO_ROOT / "template.yaml"


@contextmanager
def running_stack(
    data_dir: Path,
    *,
    template: Path = TEMPLATE,
    repo_root: Path = REPO_ROOT,
    params: dict[str, str] | None = None,
    schedules: bool = False,
    pollers: bool = True,
) -> Iterator[LocalStack]:
    stack = LocalStack(
        template,
        repo_root,
        aws_port=0,
        api_port=0,
        data_dir=data_dir,
        schedules=schedules,
        pollers=pollers,
        parameter_overrides=dict(params or {}),
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def derived_template(directory: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of template.yaml changed by `change` (long-form intrinsics), written as JSON.
    CodeUri/ContentUri stay relative to the repository root: pass repo_root=REPO_ROOT."""
    template = load_template(TEMPLATE)
    change(template)
    path = directory / "template.json"
    path.write_text(json.dumps(template, indent=1), encoding="utf-8")
    return path


def bearer(stack: LocalStack, username: str, admin: bool = False, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(stack.data_dir, username, admin, **kwargs)}"}


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """The first truthy value of predicate(), or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
