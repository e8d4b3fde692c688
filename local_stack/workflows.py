"""Step Functions locally: moto 5.2's ASL interpreter (ported from LocalStack) runs the template's
state machines, and its Lambda Task states are routed to the in-process functions.

* `enable_executions()`: moto executes state machines only when its user config has
  `stepfunctions.execute_state_machine` (moto.core.config.default_user_config; moto's server runs
  in this process, so the dict is shared).
* `create_state_machines()`: every `AWS::Serverless::StateMachine` is created from its
  `DefinitionUri` file with SAM's `DefinitionSubstitutions` applied (`${Name}` replaced by the
  resolved value): the same definition file AWS runs, no second copy.
* `LambdaTaskRouter`: the interpreter invokes `lambda:invoke` Task states through
  `moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils.
  _invoke_lambda_function` (a boto3 Invoke against moto's Lambda backend, which would need
  Docker). The router replaces that function while the stack runs: the payload goes to the
  in-process handler, a raised exception becomes Lambda's `FunctionError: Unhandled` with
  `{errorType, errorMessage}`, which the interpreter turns into the Task's error name (so Retry
  and Catch match `SegmentFailed` as on AWS).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local_stack.emulator import Emulator
from local_stack.functions import FunctionError, LocalFunction
from local_stack.resolve import Resolver

log = logging.getLogger("local_stack.workflows")

STATE_MACHINE_TYPE = "AWS::Serverless::StateMachine"
_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def enable_executions() -> bool:
    """Turn moto's interpreter on; returns the previous setting (for `disable`)."""
    from moto.core.config import default_user_config

    config = default_user_config.setdefault("stepfunctions", {})
    previous = bool(config.get("execute_state_machine", False))
    config["execute_state_machine"] = True
    return previous


def restore_executions(previous: bool) -> None:
    from moto.core.config import default_user_config

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = previous


def definition_text(resolver: Resolver, logical_id: str, repo_root: Path) -> str:
    """The state machine's definition with `DefinitionSubstitutions` applied (SAM's rule: every
    `${Key}` of the substitutions map is replaced; anything else is left alone)."""
    props = resolver.properties(logical_id)
    if "DefinitionUri" in props:
        uri = resolver.resolve(props["DefinitionUri"])
        if not isinstance(uri, str):
            raise ValueError(f"{logical_id}: DefinitionUri must be a local file")
        text = (repo_root / uri).read_text(encoding="utf-8")  # like CodeUri: relative to the repository
    else:
        text = json.dumps(resolver.resolve(props["Definition"]))
    substitutions = {
        k: str(v) for k, v in (resolver.resolve(props.get("DefinitionSubstitutions") or {})).items()
    }

    def replace(match: re.Match[str]) -> str:
        return substitutions.get(match.group(1), match.group(0))

    text = _SUBSTITUTION.sub(replace, text)
    json.loads(text)  # a broken definition fails the start, not the first execution
    return text


def create_state_machines(resolver: Resolver, emulator: Emulator, repo_root: Path) -> dict[str, str]:
    """logical id -> ARN of every state machine in the template."""
    sfn = emulator.client("stepfunctions")
    created: dict[str, str] = {}
    for lid, resource in resolver.resources.items():
        if resource.get("Type") != STATE_MACHINE_TYPE or not resolver.enabled(lid):
            continue
        props = resolver.resolve(resolver.properties(lid))
        name = resolver.physical_name(lid)
        args: dict[str, Any] = {
            "name": name,
            "definition": definition_text(resolver, lid, repo_root),
            "roleArn": f"arn:aws:iam::{resolver.context.account_id}:role/{name}-role",
            "type": str(props.get("Type", "STANDARD")),
        }
        if (props.get("Tracing") or {}).get("Enabled"):
            args["tracingConfiguration"] = {"enabled": True}
        arn = str(sfn.create_state_machine(**args)["stateMachineArn"])
        if arn != resolver.arn(lid):
            raise RuntimeError(f"state machine {lid}: emulator ARN {arn} != resolved {resolver.arn(lid)}")
        log.info("state machine %s (%s): logging to CloudWatch is not emulated", lid, name)
        created[lid] = arn
    return created


def _client_error(code: str, message: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "HTTPStatusCode": status,
                "RequestId": "local",
                "HTTPHeaders": {},
                "HostId": "",
                "RetryAttempts": 0,
            },
        },
        "Invoke",
    )


class LambdaTaskRouter:
    """While installed, the interpreter's Lambda invocations run the in-process functions."""

    def __init__(self, functions: Mapping[str, LocalFunction]) -> None:
        self._by_name: dict[str, LocalFunction] = {}
        for fn in functions.values():
            self._by_name[fn.spec.name] = fn
            self._by_name[fn.spec.arn] = fn
        self._original: Any = None

    def function(self, name: str) -> LocalFunction | None:
        if name in self._by_name:
            return self._by_name[name]
        # A qualified ARN (`...:function:name:$LATEST` or an alias): the unqualified function.
        parts = name.split(":")
        return self._by_name.get(":".join(parts[:7])) if len(parts) > 7 else None

    def invoke(
        self, parameters: dict[str, Any], region: str, state_credentials: Any = None
    ) -> dict[str, Any]:
        name = str(parameters.get("FunctionName", ""))
        fn = self.function(name)
        if fn is None:
            raise _client_error("ResourceNotFoundException", f"Function not found: {name}", 404)
        raw = parameters.get("Payload")
        payload = json.loads(raw) if raw else {}
        try:
            result = fn.invoke(payload, trigger="states:lambda:invoke")
        except FunctionError as err:
            cause = err.__cause__ or err
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "ExecutedVersion": "$LATEST",
                "Payload": {"errorType": type(cause).__name__, "errorMessage": str(cause), "stackTrace": []},
            }
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": json.loads(json.dumps(result))}

    def install(self) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        self._original = lambda_eval_utils._invoke_lambda_function
        lambda_eval_utils._invoke_lambda_function = self.invoke

    def uninstall(self) -> None:
        if self._original is None:
            return
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        lambda_eval_utils._invoke_lambda_function = self._original
        self._original = None
