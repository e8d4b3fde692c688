"""The local stack behind `make run`: moto provisioned from template.yaml, an API Gateway-style
HTTP front with a Cognito-like authorizer, SQS pollers and schedules invoking the template's
functions in-process. See `python -m local_stack` and `python -m local_stack.token`."""

from __future__ import annotations

LOCAL_HOST = "127.0.0.1"

__all__ = ["LOCAL_HOST"]
