"""The local stack behind `make run`: moto provisioned from template.yaml, an API Gateway-style
HTTP front with a Cognito-like authorizer, SQS pollers and schedules invoking the template's
functions in-process. See `python -m local_stack` and `python -m local_stack.token`."""

from __future__ import annotations

LOCAL_HOST = "127.0.0.1"
# The local user pool client's id: the template's `Ref UserPoolClient` and the tokens' audience.
LOCAL_CLIENT_ID = "media-local-client"

__all__ = ["LOCAL_CLIENT_ID", "LOCAL_HOST"]
