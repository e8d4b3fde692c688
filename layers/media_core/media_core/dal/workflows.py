"""Step Functions executions (implements ports.WorkflowRuns)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError


def execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:...:stateMachine:NAME -> arn:...:execution:NAME:EXECUTION (how Step Functions names them)."""
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"


class StepFunctionsRuns:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        try:
            response = self._client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return execution_arn(self.state_machine_arn, name)
            raise
        return str(response["executionArn"])

    def status(self, execution_arn: str) -> str | None:
        try:
            response = self._client.describe_execution(executionArn=execution_arn)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("ExecutionDoesNotExist", "ResourceNotFound"):
                return None
            raise
        return str(response["status"])
