"""Logs and metrics, configured in one place.

Every module logs through Powertools' `Logger(child=True)` (the handler's Logger sets service,
level and the request context); the figures an operator watches are CloudWatch EMF metrics
through one Powertools `Metrics` instance, flushed by `@metrics.log_metrics` on each handler.
Namespace: POWERTOOLS_METRICS_NAMESPACE (template Globals). Metric names:

  UploadsStarted (Count, by Kind)   MediaReady / MediaFailed (Count, by Kind)
  ProcessingMs (Milliseconds, by Kind)   BytesIn / BytesOut (Bytes, by Kind)   DlqRedriven (Count)
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from media_core.domain.models import Kind

metrics = Metrics()


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


def dlq_redriven(count: int) -> None:
    metrics.add_metric(name="DlqRedriven", unit=MetricUnit.Count, value=count)
