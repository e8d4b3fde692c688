"""The figures an operator watches (media_core/observability.py), read back from the CloudWatch
EMF documents the services print, with the template's service name and namespace: the names,
units, dimensions and values, and that the dashboard in template.yaml charts exactly those."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from media_core.domain.errors import MediaRejected
from media_core.domain.models import Kind
from media_core.processing.lifecycle import Outcome

from local_stack.template import load_template
from tests.unit.services.conftest import ALICE, World
from tests.unit.services.test_processing_pipeline import FIRST, FakeProcessor, upload
from tests.unit.services.test_upload_service import request

TEMPLATE = load_template(Path(__file__).resolve().parents[3] / "template.yaml")
GLOBALS = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
NAMESPACE, SERVICE = GLOBALS["POWERTOOLS_METRICS_NAMESPACE"], GLOBALS["POWERTOOLS_SERVICE_NAME"]
BY_KIND = {"UploadsStarted", "MediaReady", "MediaFailed", "ProcessingMs", "BytesIn", "BytesOut"}


@pytest.fixture(autouse=True)
def _deployed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)


def emitted(out: str) -> list[tuple[str, str, dict[str, str], float]]:
    """(metric, unit, dimensions, value) of every EMF document in `out`, in order."""
    found = []
    for line in out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document: dict[str, Any] = json.loads(line)
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE
        [dimension_names] = directive["Dimensions"]
        dimensions = {name: document[name] for name in dimension_names}
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            [value] = value if isinstance(value, list) else [value]
            found.append((metric["Name"], metric["Unit"], dimensions, float(value)))
    return found


def test_an_upload_started_counts_once_by_kind(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.uploads().create(ALICE, request(2048, content_type="application/pdf"))
    world.uploads().create(ALICE, request(4096, filename="photo.png", content_type="image/png"))

    documents = emitted(capsys.readouterr().out)

    assert [(name, unit, dims.get("Kind"), value) for name, unit, dims, value in documents] == [
        ("UploadsStarted", "Count", "document", 1.0),
        ("UploadsStarted", "Count", "image", 1.0),
    ]
    assert all(dims == {"Kind": dims["Kind"], "service": SERVICE} for _, _, dims, _ in documents)


def test_media_ready_reports_its_time_and_bytes_in_and_out(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"p" * 700
    record = world.awaiting(size=len(data))
    result = world.pipeline().handle(upload(world, record, data), FIRST, FakeProcessor())
    assert result.outcome == Outcome.READY
    ready = world.stored(record.media_id)

    figures = {
        name: (unit, dims["Kind"], value) for name, unit, dims, value in emitted(capsys.readouterr().out)
    }

    assert set(figures) == {"MediaReady", "ProcessingMs", "BytesIn", "BytesOut"}
    assert figures["MediaReady"] == ("Count", "image", 1.0)
    assert figures["BytesIn"] == ("Bytes", "image", 700.0)
    written = sum(v.bytes for v in ready.variants.values())
    assert written == 16 + 700  # FakeProcessor's thumb and large
    assert figures["BytesOut"] == ("Bytes", "image", float(written))
    unit, kind, elapsed = figures["ProcessingMs"]
    assert (unit, kind) == ("Milliseconds", "image") and elapsed >= 0


def test_a_failed_file_counts_as_failed_not_ready(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    record = world.awaiting(kind=Kind.DOCUMENT, extension="pdf")
    processor = FakeProcessor(failures=[MediaRejected("not a PDF")])
    result = world.pipeline().handle(upload(world, record, b"nope"), FIRST, processor)
    assert result.outcome == Outcome.FAILED

    documents = emitted(capsys.readouterr().out)

    assert [(name, dims["Kind"], value) for name, _, dims, value in documents] == [
        ("MediaFailed", "document", 1.0)
    ]


def test_the_dashboard_charts_every_kind_of_every_figure_and_nothing_else() -> None:
    body = TEMPLATE["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    charted = {
        (line[1], tuple(line[2:-1]))
        for widget in widgets
        for line in widget["properties"]["metrics"]
        if line[0] == NAMESPACE
    }
    expected = {(name, ("Kind", kind.value, "service", SERVICE)) for name in BY_KIND for kind in Kind}
    expected.add(("DlqRedriven", ("service", SERVICE)))  # put by tools/redrive.py
    assert charted == expected
