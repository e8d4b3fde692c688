"""The local stack runs every function in one process, while Lambda gives each its own: a request
to one API function must not see another function's request made at the same time. Powertools
keeps the current request on a class attribute (`BaseRouter.current_event`) that every resolver
of a process shares, so the stack runs its API functions one invocation at a time between them
(local_stack.functions). Before that, the gallery page's first `GET /media?page_size=12`, sent
beside `GET /uploads/limits`, sometimes listed 20 items (the other request's empty query string),
and a list could as well be answered for the other request's caller.

The same holds for the logs: the functions' Powertools Loggers share one formatter in this
process, and each invocation's context (function name, request id, correlation id) is kept to
its own thread (local_stack.log_context); before that, a request's log lines could name a
scheduled function that ran meanwhile, and that function's lines the request's correlation id."""

from __future__ import annotations

import json
import logging
import os
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


class LogLines(logging.Handler):
    """The records of the functions' shared Powertools logger, formatted by its own formatter (the
    one that adds each invocation's context), as they would be printed."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def test_a_function_running_meanwhile_keeps_its_log_context_out_of_a_requests_log_lines(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
):
    # Given the query function warm, a capture of what the functions' Powertools logger prints
    assert call(stack, "GET", "/media?page_size=1", "alice").status_code == 200
    service = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    (powertools,) = [h for h in service.handlers if h.formatter is not None]
    assert powertools.formatter is not None
    lines = LogLines(powertools.formatter)
    monkeypatch.setattr(service, "handlers", [*service.handlers, lines])
    # ... and alice's list held inside its route, where it logs once released
    entered, release = threading.Event(), threading.Event()
    routes = sys.modules["query_routes"]
    held = held_inside(routes, "media_queries", entered, release)

    def logging_factory() -> Any:
        queries = held()
        routes.logger.info("inside the query route")
        return queries

    monkeypatch.setattr(routes, "media_queries", logging_factory)

    with ThreadPoolExecutor(max_workers=1) as pool:
        # When the cleanup function runs (on its schedule) while alice's request is in its route
        alice = pool.submit(call, stack, "GET", "/media?page_size=1", "alice")
        assert entered.wait(10), "alice's request never reached its route"
        stack.functions["CleanupFunction"].invoke({}, "schedule")
        release.set()
        assert alice.result(timeout=30).status_code == 200

    # Then each function's line carries its own invocation's context, as on Lambda
    by_message = {line["message"]: line for line in lines.lines}
    query_name = stack.functions["QueryFunction"].spec.name
    cleanup_name = stack.functions["CleanupFunction"].spec.name
    assert by_message["cleanup run"]["function_name"] == cleanup_name
    route_line = by_message["inside the query route"]
    assert route_line["function_name"] == query_name, route_line
    assert route_line["function_request_id"] != by_message["cleanup run"]["function_request_id"]
    # ... and the cleanup's line no correlation id left by the API request before it
    assert by_message["cleanup run"].get("correlation_id") is None, by_message["cleanup run"]


def test_a_function_run_after_another_in_the_same_thread_logs_none_of_the_others_keys(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
):
    # Given a capture of the functions' log lines, and a request to the query function made in
    # this thread (a sample API Gateway event: its request id becomes the correlation id)
    service = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    (powertools,) = [h for h in service.handlers if h.formatter is not None]
    assert powertools.formatter is not None
    lines = LogLines(powertools.formatter)
    monkeypatch.setattr(service, "handlers", [*service.handlers, lines])
    event = json.loads((Path(__file__).resolve().parents[2] / "events" / "api_get_media.json").read_text())
    request_id = event["requestContext"]["requestId"]
    routes = sys.modules["query_routes"]
    real = routes.media_queries

    def logging_factory() -> Any:
        routes.logger.info("inside the query route")
        return real()

    monkeypatch.setattr(routes, "media_queries", logging_factory)
    assert stack.functions["QueryFunction"].invoke(event, "test")["statusCode"] == 404

    # When the cleanup function runs next in the same thread (as a test or a poller would run it)
    stack.functions["CleanupFunction"].invoke({}, "schedule")

    # Then the request's line has its correlation id and the cleanup's line none, as on Lambda
    by_message = {line["message"]: line for line in lines.lines}
    assert by_message["inside the query route"]["correlation_id"] == request_id
    cleanup = by_message["cleanup run"]
    assert cleanup.get("correlation_id") is None, cleanup
    assert cleanup["function_name"] == stack.functions["CleanupFunction"].spec.name
