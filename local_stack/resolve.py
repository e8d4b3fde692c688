"""Intrinsic functions, parameters, conditions and physical names, resolved for the local stack.

Local pseudo-parameters: moto's default account, us-east-1, stack name "media-local". Physical
names are the explicit BucketName/TableName/QueueName/FunctionName when set, else
"<stack>-<LogicalId>" (lower-cased for buckets, which must be).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from local_stack import LOCAL_CLIENT_ID

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "media-local"
PARAM_ENV_PREFIX = "MEDIA_LOCAL_PARAM_"


class TemplateError(ValueError):
    """The template uses something the local stack cannot resolve, or a parameter is invalid."""


class _NoValue:
    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

# Property holding an explicit physical name, per resource type.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Cognito::UserPoolGroup": "GroupName",
    "AWS::Events::EventBus": "Name",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}

_ARN_SERVICES: dict[str, str] = {
    "AWS::Serverless::Function": "lambda",
    "AWS::Lambda::Function": "lambda",
    "AWS::Serverless::LayerVersion": "lambda",
    "AWS::Cognito::UserPool": "cognito-idp",
    "AWS::Logs::LogGroup": "logs",
    "AWS::IAM::Role": "iam",
    "AWS::Events::Rule": "events",
    "AWS::SNS::Topic": "sns",
}

_INTRINSICS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::Sub",
        "Fn::GetAtt",
        "Fn::Join",
        "Fn::If",
        "Fn::Equals",
        "Fn::Select",
        "Fn::Split",
        "Fn::Not",
        "Fn::And",
        "Fn::Or",
        "Fn::FindInMap",
        "Fn::Base64",
        "Fn::GetAZs",
        "Fn::ImportValue",
        "Fn::Cidr",
        "Fn::Length",
        "Fn::ToJsonString",
    }
)
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def _short_id(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass
class LocalContext:
    """Where the stack "runs": pseudo-parameters and the emulator endpoint (for queue URLs)."""

    aws_endpoint: str
    stack_name: str = DEFAULT_STACK_NAME
    account_id: str = field(default_factory=lambda: os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID))
    region: str = DEFAULT_REGION
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    # Ref of a user pool client: the audience of locally issued tokens.
    user_pool_client_id: str = LOCAL_CLIENT_ID

    def pseudo(self) -> dict[str, Any]:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
            f"stack/{self.stack_name}/{_short_id(self.stack_name, 8)}",
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }


def parameter_overrides_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    return {k[len(PARAM_ENV_PREFIX) :]: v for k, v in env.items() if k.startswith(PARAM_ENV_PREFIX)}


def _is_list_type(param_type: str) -> bool:
    return param_type == "CommaDelimitedList" or param_type.startswith("List<")


def _check_parameter(name: str, spec: Mapping[str, Any], raw: str) -> None:
    values = [v.strip() for v in raw.split(",")] if _is_list_type(str(spec.get("Type", "String"))) else [raw]
    allowed = spec.get("AllowedValues")
    pattern = spec.get("AllowedPattern")
    for value in values:
        if allowed is not None and value not in [str(a) for a in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        if pattern is not None and not re.fullmatch(str(pattern), value):
            raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            raise TemplateError(f"parameter {name}={value!r} is shorter than {spec['MinLength']}")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            raise TemplateError(f"parameter {name}={value!r} is longer than {spec['MaxLength']}")
    if spec.get("Type") == "Number":
        try:
            number = float(raw)
        except ValueError:
            raise TemplateError(f"parameter {name}={raw!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={raw} is below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={raw} is above MaxValue {spec['MaxValue']}")


class Resolver:
    """Resolves intrinsics against one template and one local context."""

    def __init__(
        self,
        template: Mapping[str, Any],
        context: LocalContext,
        *,
        parameter_overrides: Mapping[str, str] | None = None,
        list_additions: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.template = template
        self.context = context
        self.resources: dict[str, dict[str, Any]] = dict(template.get("Resources") or {})
        self._pseudo = context.pseudo()
        self.parameters = self._resolve_parameters(parameter_overrides or {}, list_additions or {})
        self._conditions: dict[str, bool] = {}
        self._condition_specs: dict[str, Any] = dict(template.get("Conditions") or {})
        self._names: dict[str, str] = {}

    # ------------------------------------------------------------------ parameters, conditions
    def _resolve_parameters(
        self, overrides: Mapping[str, str], additions: Mapping[str, Sequence[str]]
    ) -> dict[str, Any]:
        specs: dict[str, Any] = dict(self.template.get("Parameters") or {})
        unknown = sorted(set(overrides) - set(specs))
        if unknown:
            raise TemplateError(f"overrides for unknown parameters: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, spec in specs.items():
            if name in overrides:
                raw = overrides[name]
            elif "Default" in spec:
                default = spec["Default"]
                raw = ",".join(str(d) for d in default) if isinstance(default, list) else str(default)
            else:
                raise TemplateError(f"parameter {name} has no default: set {PARAM_ENV_PREFIX}{name}")
            _check_parameter(name, spec, raw)
            if _is_list_type(str(spec.get("Type", "String"))):
                items = [v.strip() for v in raw.split(",") if v.strip()]
                items += [extra for extra in additions.get(name, ()) if extra not in items]
                values[name] = items
            else:
                values[name] = raw
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self._condition_specs:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(self._condition_specs[name]))
        return self._conditions[name]

    def enabled(self, logical_id: str) -> bool:
        """False when the resource has a `Condition:` that is false."""
        cond = self.resources[logical_id].get("Condition")
        return cond is None or self.condition(str(cond))

    # ------------------------------------------------------------------ names, refs, attributes
    def resource_type(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise TemplateError(f"unknown resource {logical_id}")
        return str(self.resources[logical_id].get("Type", ""))

    def properties(self, logical_id: str) -> dict[str, Any]:
        props = self.resources[logical_id].get("Properties") or {}
        return dict(props)

    def physical_name(self, logical_id: str) -> str:
        if logical_id in self._names:
            return self._names[logical_id]
        rtype = self.resource_type(logical_id)
        prop = NAME_PROPERTIES.get(rtype)
        explicit = self.properties(logical_id).get(prop) if prop else None
        if explicit is not None:
            name = str(self.resolve(explicit))
        elif rtype == "AWS::S3::Bucket":
            name = f"{self.context.stack_name}-{logical_id}".lower()
        else:
            name = f"{self.context.stack_name}-{logical_id}"
            if rtype == "AWS::SQS::Queue" and self.properties(logical_id).get("FifoQueue"):
                name += ".fifo"
        self._names[logical_id] = name
        return name

    def queue_url(self, logical_id: str) -> str:
        return f"{self.context.aws_endpoint}/{self.context.account_id}/{self.physical_name(logical_id)}"

    def arn(self, logical_id: str) -> str:
        c = self.context
        rtype = self.resource_type(logical_id)
        name = self.physical_name(logical_id)
        if rtype == "AWS::SQS::Queue":
            return f"arn:{c.partition}:sqs:{c.region}:{c.account_id}:{name}"
        if rtype == "AWS::S3::Bucket":
            return f"arn:{c.partition}:s3:::{name}"
        if rtype == "AWS::DynamoDB::Table":
            return f"arn:{c.partition}:dynamodb:{c.region}:{c.account_id}:table/{name}"
        if rtype in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            return f"arn:{c.partition}:lambda:{c.region}:{c.account_id}:function:{name}"
        if rtype == "AWS::Serverless::LayerVersion":
            return f"arn:{c.partition}:lambda:{c.region}:{c.account_id}:layer:{name}:1"
        if rtype == "AWS::Cognito::UserPool":
            return f"arn:{c.partition}:cognito-idp:{c.region}:{c.account_id}:userpool/{self.ref(logical_id)}"
        if rtype == "AWS::Logs::LogGroup":
            return f"arn:{c.partition}:logs:{c.region}:{c.account_id}:log-group:{name}:*"
        if rtype in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            return f"arn:{c.partition}:states:{c.region}:{c.account_id}:stateMachine:{name}"
        service = _ARN_SERVICES.get(rtype, rtype.split("::")[1].lower() if "::" in rtype else "local")
        return f"arn:{c.partition}:{service}:{c.region}:{c.account_id}:{name}"

    def ref(self, name: str) -> Any:
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        rtype = self.resource_type(name)
        if rtype == "AWS::SQS::Queue":
            return self.queue_url(name)
        if rtype in ("AWS::Serverless::LayerVersion", "AWS::Serverless::StateMachine"):
            return self.arn(name)
        if rtype in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            return _short_id(f"{self.context.stack_name}/{name}")
        if rtype == "AWS::Cognito::UserPool":
            return f"{self.context.region}_{_short_id(name, 9)}"
        if rtype == "AWS::Cognito::UserPoolClient":
            return self.context.user_pool_client_id
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        rtype = self.resource_type(logical_id)
        name = self.physical_name(logical_id)
        c = self.context
        if attribute == "Arn":
            return self.arn(logical_id)
        table: dict[str, dict[str, Any]] = {
            "AWS::SQS::Queue": {"QueueName": name, "QueueUrl": self.queue_url(logical_id)},
            "AWS::S3::Bucket": {
                "DomainName": f"{name}.s3.{c.url_suffix}",
                "RegionalDomainName": f"{name}.s3.{c.region}.{c.url_suffix}",
                "DualStackDomainName": f"{name}.s3.dualstack.{c.region}.{c.url_suffix}",
                "WebsiteURL": f"http://{name}.s3-website-{c.region}.{c.url_suffix}",
            },
            "AWS::DynamoDB::Table": {"StreamArn": f"{self.arn(logical_id)}/stream/local"},
            "AWS::Cognito::UserPool": {
                "UserPoolId": self.ref(logical_id),
                "ProviderName": f"cognito-idp.{c.region}.{c.url_suffix}/{self.ref(logical_id)}",
                "ProviderURL": f"https://cognito-idp.{c.region}.{c.url_suffix}/{self.ref(logical_id)}",
            },
            "AWS::Serverless::Api": {"RootResourceId": _short_id(f"{logical_id}/root")},
        }
        known = table.get(rtype, {})
        if attribute in known:
            return known[attribute]
        # Attributes the local stack never needs for real; a stable placeholder keeps outputs resolvable.
        return f"{name}.{attribute}"

    # ------------------------------------------------------------------ intrinsics
    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key in _INTRINSICS:
                    return self._intrinsic(key, arg)
            out = {}
            for k, v in value.items():
                resolved = self.resolve(v)
                if resolved is not NO_VALUE:
                    out[k] = resolved
            return out
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        return value

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return self.ref(str(self.resolve(arg)))
        if key == "Condition":
            return self.condition(str(arg))
        if key == "Fn::GetAtt":
            parts = self.resolve(arg)
            if isinstance(parts, str):
                parts = parts.split(".", 1)
            return self.get_att(str(parts[0]), str(parts[1]))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            sep, items = arg
            resolved = self.resolve(items)
            return str(sep).join(str(i) for i in resolved)
        if key == "Fn::Split":
            sep, text = arg
            return str(self.resolve(text)).split(str(sep))
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::If":
            cond, when_true, when_false = arg
            return self.resolve(when_true if self.condition(str(cond)) else when_false)
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return _scalar(left) == _scalar(right)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(a) for a in arg)
        if key == "Fn::Or":
            return any(self._truth(a) for a in arg)
        if key == "Fn::FindInMap":
            mapping, top, second = (self.resolve(a) for a in arg)
            try:
                return self.template["Mappings"][mapping][top][second]
            except KeyError:
                raise TemplateError(f"Fn::FindInMap: no {mapping}/{top}/{second}") from None
        if key == "Fn::Base64":
            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if key == "Fn::GetAZs":
            return [f"{self.context.region}{z}" for z in "abc"]
        if key == "Fn::Length":
            return len(self.resolve(arg))
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise TemplateError(f"{key} is not supported by the local stack")

    def _truth(self, value: Any) -> bool:
        if isinstance(value, dict) and set(value) == {"Condition"}:
            return self.condition(str(value["Condition"]))
        return bool(self.resolve(value))

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = str(arg[0]), {k: self.resolve(v) for k, v in (arg[1] or {}).items()}
        else:
            text, variables = str(arg), {}

        def replace(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(_scalar(variables[expr]))
            if "." in expr and expr.split(".", 1)[0] in self.resources:
                resource, attribute = expr.split(".", 1)
                return str(self.get_att(resource, attribute))
            value = self.ref(expr)
            if isinstance(value, list):
                raise TemplateError(f"Fn::Sub: ${{{expr}}} is a list")
            return str(value)

        return _SUB_VAR.sub(replace, text)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value
