"""Fixtures shared by the integration tests (each module starts its own local stack)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def clock() -> Iterator[list[float]]:
    """The query service's clock, shifted by the test (the functions run in this process)."""
    from media_core import wiring  # the layer as the test's local stack loaded it

    queries = wiring.media_queries()
    original = queries.clock
    shift = [0.0]
    queries.clock = lambda: original() + shift[0]
    yield shift
    queries.clock = original
