"""Logs and metrics, configured in one place.

Every module logs through Powertools' `Logger(child=True)` (the handler's Logger sets service,
level and the request context); the figures an operator watches are CloudWatch EMF metrics,
each written as its own Powertools `single_metric` document when it happens: a batch handler
that crashes later has still reported what it finished, and no handler needs a flushing
decorator. Namespace: POWERTOOLS_METRICS_NAMESPACE (template Globals). Metric names:

  UploadsStarted (Count, by Kind)   MediaReady / MediaFailed (Count, by Kind)
  ProcessingMs (Milliseconds, by Kind)   BytesIn / BytesOut (Bytes, by Kind)

`DlqRedriven` (Count) is put by the operator's tool that redrives (tools/redrive.py), not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from media_core.domain.models import Kind


@dataclass(frozen=True)
class KindMetrics:
    kind: Kind

    def _add(self, name: str, unit: MetricUnit, value: float) -> None:
        # One EMF document per metric keeps the Kind dimension off the function-wide metrics.
        with single_metric(name=name, unit=unit, value=value) as one:
            one.add_dimension(name="Kind", value=self.kind.value)

    def upload_started(self) -> None:
        self._add("UploadsStarted", MetricUnit.Count, 1)

    def ready(self, elapsed_ms: float, *, bytes_in: int, bytes_out: int) -> None:
        self._add("MediaReady", MetricUnit.Count, 1)
        self._add("ProcessingMs", MetricUnit.Milliseconds, elapsed_ms)
        self._add("BytesIn", MetricUnit.Bytes, bytes_in)
        self._add("BytesOut", MetricUnit.Bytes, bytes_out)

    def failed(self) -> None:
        self._add("MediaFailed", MetricUnit.Count, 1)


def metrics_for(kind: Kind) -> KindMetrics:
    return KindMetrics(kind)
