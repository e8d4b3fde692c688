"""The local stack runs every function in one process, while Lambda gives each its own: a request
to one API function must not see another function's request made at the same time. Powertools
keeps the current request on a class attribute (`BaseRouter.current_event`) that every resolver
of a process shares, so the stack runs its API functions one invocation at a time between them
(local_stack.functions). Before that, the gallery page's first `GET /media?page_size=12`, sent
beside `GET /uploads/limits`, sometimes listed 20 items (the other request's empty query string),
and a list could as well be answered for the other request's caller."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.media_api import awaiting, call, sub


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(Path(tmp_path_factory.mktemp("isolation")), pollers=False) as running:
        yield running


def held_inside(
    routes: Any, name: str, entered: threading.Event, release: threading.Event
) -> Callable[[], Any]:
    """`routes.<name>` (a service factory the route calls before it reads its caller), made to wait
    until `release`: the route is then in the middle of its request."""
    real = getattr(routes, name)

    def factory() -> Any:
        entered.set()
        assert release.wait(10)
        return real()

    return factory


def test_a_request_to_another_api_function_cannot_replace_a_running_request(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
):
    # Given alice and bob with media of their own, and the query function warm
    for user in ("alice", "alice", "bob"):
        awaiting(stack, user)
    assert call(stack, "GET", "/media?page_size=1", "alice").status_code == 200
    # ... and alice's next list held inside its route, after validation, before it reads the caller
    entered, release = threading.Event(), threading.Event()
    routes = sys.modules["query_routes"]
    monkeypatch.setattr(routes, "media_queries", held_inside(routes, "media_queries", entered, release))

    with ThreadPoolExecutor(max_workers=2) as pool:
        # When alice lists one item, and bob reads his upload limits (the uploads function) meanwhile
        alice = pool.submit(call, stack, "GET", "/media?page_size=1", "alice")
        assert entered.wait(10), "alice's request never reached its route"
        bob = pool.submit(call, stack, "GET", "/uploads/limits", "bob")
        time.sleep(0.5)  # bob's request is either waiting for alice's or done, replacing her event
        release.set()
        listed, limits = alice.result(timeout=30), bob.result(timeout=30)

    # Then each was answered for its own caller and query: alice got one item, hers
    assert limits.status_code == 200, limits.text
    assert listed.status_code == 200, listed.text
    assert [item["owner"] for item in listed.json()["items"]] == [sub("alice")]
