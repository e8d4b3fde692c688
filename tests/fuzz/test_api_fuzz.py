"""The API fuzzed from its own OpenAPI document (schemathesis), through the local stack's gateway.

The document is the one the stack serves (GET /openapi.json). Every operation gets a bounded,
derandomized set of examples (schema examples, coverage cases, then positive and negative fuzzing)
with a user's bearer token; the admin routes run again with an admin token. Every response goes
through all of schemathesis's checks: no 5xx, only documented status codes, the documented content
type, headers and body schema, invalid input rejected, valid input accepted, auth not ignored.

Path ids are seeded: `media_id` is one of the fuzzing user's real records (a ready image, an
upload awaiting its bytes) most of the time, so `/media/{media_id}/...` and `/uploads/{media_id}/...`
reach the service instead of stopping at a 404. Destructive operations get records of their own,
so a delete early in the run does not turn every later route into a 404.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from local_stack.paths import REPO_ROOT
from local_stack.stack import LocalStack
from tests.support.local_stack import bearer, running_stack
from tests.support.media_api import awaiting, ready_image

MAX_EXAMPLES = 20
USER = "fuzzer"
ADMIN = "fuzz-admin"
ADMIN_ROUTES = r"^/admin/|^/media/stats$"
# Operations that end a record: each gets records of its own.
DESTRUCTIVE = {("DELETE", "/media/{media_id}"), ("DELETE", "/uploads/{media_id}")}


@dataclass
class Seeds:
    """Real media ids of the fuzzing user, by what the operation may do to them."""

    kept: list[str]  # read, changed, reprocessed, moderated: never deleted
    doomed: list[str]  # deleted or aborted by the destructive operations

    def for_operation(self, method: str, path: str) -> list[str]:
        return self.doomed if (method.upper(), path) in DESTRUCTIVE else self.kept


@dataclass
class Fuzzed:
    stack: LocalStack
    seeds: Seeds
    calls: Counter[tuple[str, int]] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    with running_stack(tmp_path_factory.mktemp("fuzz"), pollers=False) as stack:
        kept = [ready_image(stack, USER, seed=1), awaiting(stack, USER, name="kept.pdf")]
        doomed = [ready_image(stack, USER, seed=2), awaiting(stack, USER, name="doomed.pdf")]
        served = requests.get(f"{stack.api_url}/openapi.json", headers=bearer(stack, USER), timeout=30)
        assert served.status_code == 200, served.text
        # The fuzzed document (collected from the committed file) is the one the stack serves.
        assert served.json() == DOCUMENT
        fuzzed = Fuzzed(stack, Seeds(kept, doomed))
        yield fuzzed
    # The run's size, for `pytest -s`: requests per operation and status.
    for (label, status), count in sorted(fuzzed.calls.items()):
        print(f"fuzzed {label:50} {status}: {count}")
    print(f"fuzzed: {sum(fuzzed.calls.values())} requests")


def _seeded(case: Case, seeds: Seeds) -> None:
    """Replace a generated media id by a real one, chosen by the generated value (deterministic):
    three times in four, so random well-formed ids are still tried."""
    media_id = (case.path_parameters or {}).get("media_id")
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if not isinstance(media_id, str) or path is None or path.mode != GenerationMode.POSITIVE:
        return  # a malformed id stays malformed: it must be refused
    digest = hashlib.sha256(media_id.encode()).digest()
    if digest[0] % 4 == 3:
        return
    choices = seeds.for_operation(case.method, case.path)
    assert case.path_parameters is not None
    case.path_parameters["media_id"] = choices[digest[1] % len(choices)]


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# Positive data acceptance expects 2xx (or 401/403/404/409/429) for every schema-valid request. Three
# operations have rules JSON Schema cannot say, refused with a message by design: an upload's file name
# extension must match its Content-Type (415), its size the kind's limit (413), entity_type comes with
# entity_id (422); completed parts are ascending without repeats (422); is_primary needs a record
# linked to an entity (422: the stored record's state). `unsupported_method` expects 405 for a method a
# path does not declare: API Gateway (REST) answers those 403 Missing Authentication Token, as for an
# unknown path, and the local gateway does the same. No other check is off or loosened.
ACCEPTED = '"2xx", "401", "403", "404", "409", "429"'
CROSS_FIELD_RULES = {
    "POST /uploads": '"413", "415", "422"',
    "POST /uploads/{media_id}/complete": '"422"',
    "PATCH /media/{media_id}": '"422"',
}
CONFIG = f"""
[generation]
max-examples = {MAX_EXAMPLES}
deterministic = true
database = "none"

[checks]
unsupported_method.enabled = false

# The Uppy routes (/s3/..., new) take ids and keys the server issued; until the test seeds real ones
# (as it does for media ids and cursors), made-up ones are refused 422 there. Every other check runs.
[[operations]]
include-path-regex = "^/s3/"
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "422"]
""" + "".join(
    f"""
[[operations]]
include-name = "{name}"
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, {extra}]
"""
    for name, extra in CROSS_FIELD_RULES.items()
)
DOCUMENT = json.loads((REPO_ROOT / "openapi.json").read_text(encoding="utf-8"))
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=SchemathesisConfig.from_str(CONFIG))
USER_API = SCHEMA
# A document of the admin routes only (`include()` would add to the [[operations]] filters, which match all).
ADMIN_API = schemathesis.openapi.from_dict(
    {
        **copy.deepcopy(DOCUMENT),
        "paths": {p: v for p, v in DOCUMENT["paths"].items() if re.search(ADMIN_ROUTES, p)},
    },
    config=SchemathesisConfig.from_str(CONFIG),
)


def _seeded_cursor(case: Case, fuzzed: Fuzzed, headers: dict[str, str]) -> None:
    """A page cursor is the server's: a made-up one is refused (422, by design). A schema-valid case
    gets a real one, the `next` of the same query's first page, or none when there is one page."""
    query = case.query or {}
    if "cursor" not in query or case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    first = {name: value for name, value in query.items() if name != "cursor"} | {"page_size": 1}
    url = f"{fuzzed.stack.api_url}{case.formatted_path}"
    page = requests.get(url, params=first, headers=headers, timeout=30)
    if page.status_code != 200:
        return  # refused without a cursor too (e.g. a user on an admin route): the case stays as it is
    if page.json().get("next"):
        query["cursor"] = page.json()["next"]
    else:
        del query["cursor"]


def _call(case: Case, fuzzed: Fuzzed, headers: dict[str, str]) -> None:
    _seeded(case, fuzzed.seeds)
    _seeded_cursor(case, fuzzed, headers)
    generated = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if generated is not None and generated.mode == GenerationMode.NEGATIVE:
        headers = {}  # a missing or malformed Authorization is the case under test: no token added
    session = requests.Session()  # counts every request, the checks' own (ignored_auth...) too
    label = f"{case.method.upper()} {case.path}"
    session.hooks["response"].append(lambda r, *_, **__: fuzzed.calls.update([(label, r.status_code)]))
    case.call_and_validate(
        base_url=fuzzed.stack.api_url, session=session, headers=headers, allow_redirects=False, timeout=30
    )


@USER_API.parametrize()
@FUZZ
def test_every_operation_as_a_user(case: Case, fuzzed: Fuzzed) -> None:
    _call(case, fuzzed, bearer(fuzzed.stack, USER))


@ADMIN_API.parametrize()
@FUZZ
def test_admin_operations_as_an_admin(case: Case, fuzzed: Fuzzed) -> None:
    _call(case, fuzzed, bearer(fuzzed.stack, ADMIN, admin=True))
