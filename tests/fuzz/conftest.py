"""One test id per fuzzed operation, so pytest-xdist runs every one.

schemathesis 4.32 (with pytest 9) gives all the items of one `parametrize()` the function's node id
(`test_api_fuzz.py::test_every_operation_as_a_user`) while their names carry the operation
(`test_every_operation_as_a_user[GET /media]`). pytest alone runs them all, but xdist schedules by
node id: under `make test -n 2` only the first operation of each test function ran (148 requests
instead of 1,660, measured). The id is rebuilt from the name here, and a repeated id stops the run
instead of shrinking it in silence.
"""

from __future__ import annotations

from collections import Counter

import pytest
from _pytest.nodeid import NodeId


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.parent is not None and "[" in item.name and not item.nodeid.endswith(f"::{item.name}"):
            # pytest 9 builds the id from `originalname` and a callspec, which schemathesis has not.
            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")
    repeated = [nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1]
    if repeated:
        raise pytest.UsageError(f"test ids collected more than once (xdist runs one of each): {repeated}")
