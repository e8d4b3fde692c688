"""The cold-start benchmark's reading of `-X importtime`: who imported what, and the cost beyond
the baseline's modules (what a lazy import could save)."""

from __future__ import annotations

from bench.bench_cold_start import parse_importtime

# Children first, two spaces of indent per level, as CPython prints it.
SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |       botocore
import time:       300 |        400 |     boto3
import time:        50 |        450 |   media_core.dal.dynamo.audit
import time:      1000 |       1000 |   aws_xray_sdk.core
import time:        20 |         20 |     media_core.domain.units
import time:        30 |         50 |   media_core.api.http
import time:         5 |       1505 | app
"""


def test_each_module_knows_its_importer() -> None:
    # Given importtime output with nested imports
    # When parsing it
    modules = parse_importtime(SAMPLE)
    # Then parents follow the indentation
    assert modules["botocore"].parent == "boto3"
    assert modules["boto3"].parent == "media_core.dal.dynamo.audit"
    assert modules["media_core.domain.units"].parent == "media_core.api.http"
    assert modules["aws_xray_sdk.core"].parent == "app"
    assert modules["app"].parent == ""
    assert modules["media_core.dal.dynamo.audit"].cumulative_us == 450


def test_cost_beyond_the_baseline_leaves_out_the_baselines_modules() -> None:
    # Given boto3 and botocore are imported by the baseline too
    baseline = frozenset({"boto3", "botocore"})
    # When parsing
    modules = parse_importtime(SAMPLE, baseline)
    # Then media_core.dal.dynamo.audit costs only its own 50 us beyond the baseline, though it pulled boto3 in
    assert modules["media_core.dal.dynamo.audit"].beyond_us == 50
    assert modules["aws_xray_sdk.core"].beyond_us == 1000
    assert modules["app"].beyond_us == 5 + 50 + 1000 + 50
