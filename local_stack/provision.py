"""Creating the template's queues, tables and buckets in the emulator, in dependency order.

Only what the emulator needs is created: SQS queues (+ queue policies), DynamoDB tables, S3
buckets (+ bucket policies), EventBridge buses (rules and targets are left to the tests).
Identity, IAM, logs, API and layer resources are served by other
parts of the local stack or not needed; any other type is logged and skipped.
"""

from __future__ import annotations

import heapq
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from local_stack.emulator import Emulator
from local_stack.resolve import Resolver

log = logging.getLogger("local_stack.provision")

# Provisioned types, in the order used to break ties between independent resources.
PRIORITY: dict[str, int] = {
    "AWS::SQS::Queue": 0,
    "AWS::SQS::QueuePolicy": 1,
    "AWS::DynamoDB::Table": 2,
    "AWS::S3::Bucket": 3,
    "AWS::S3::BucketPolicy": 4,
    "AWS::Events::EventBus": 5,
}
# Handled elsewhere (functions, gateway, authorizer) or meaningless locally.
NOT_NEEDED_PREFIXES = (
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::HttpApi",
    "AWS::Lambda::",
    "AWS::Cognito::",
    "AWS::IAM::",
    "AWS::Logs::",
    # Operations only: alarms, their topic, the dashboard and the WAF act on AWS's own metrics.
    "AWS::CloudWatch::",
    "AWS::SNS::",
    "AWS::WAFv2::",
    "AWS::ApiGateway::",
    "AWS::CloudWatch::",
    "AWS::Events::",
    "AWS::Scheduler::",
    "AWS::XRay::",
    "AWS::Serverless::StateMachine",  # local_stack/workflows.py
)
_SUB_NAMES = re.compile(r"\$\{([A-Za-z0-9]+)[.}]")


@dataclass
class Provisioned:
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    event_buses: dict[str, str] = field(default_factory=dict)  # logical id -> bus name
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    queue_arns: dict[str, str] = field(default_factory=dict)  # logical id -> queue ARN
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> why


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) a property value refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                first = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                if isinstance(first, str):
                    found.add(first)
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                if isinstance(text, str):
                    found.update(_SUB_NAMES.findall(text.replace("${!", "")))
                if isinstance(arg, list) and len(arg) > 1:
                    found |= references(arg[1])
            else:
                found |= references(arg)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def creation_order(resolver: Resolver, logical_ids: Iterable[str]) -> list[str]:
    """Dependencies first (a DLQ before the queue redriving to it, queues before the bucket
    notifying them); ties broken by PRIORITY then logical id, so the order is stable."""
    ids = set(logical_ids)
    deps: dict[str, set[str]] = {}
    for lid in ids:
        resource = resolver.resources[lid]
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else list(depends)
        deps[lid] = (references(resource.get("Properties") or {}) | set(depends)) & ids - {lid}
    dependents: dict[str, set[str]] = {lid: set() for lid in ids}
    for lid, needs in deps.items():
        for need in needs:
            dependents[need].add(lid)
    remaining = {lid: len(needs) for lid, needs in deps.items()}

    def key(lid: str) -> tuple[int, str]:
        return PRIORITY.get(resolver.resource_type(lid), 99), lid

    ready = [key(lid) for lid, n in remaining.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, lid = heapq.heappop(ready)
        order.append(lid)
        for dependent in dependents[lid]:
            remaining[dependent] -= 1
            if remaining[dependent] == 0:
                heapq.heappush(ready, key(dependent))
    if len(order) != len(ids):
        raise ValueError(f"circular dependency among {sorted(ids - set(order))}")
    return order


class Provisioner:
    def __init__(self, resolver: Resolver, emulator: Emulator) -> None:
        self.r = resolver
        self.sqs = emulator.client("sqs")
        self.s3 = emulator.client("s3")
        self.ddb = emulator.client("dynamodb")
        self.events = emulator.client("events")
        self.result = Provisioned()

    def run(self) -> Provisioned:
        wanted: list[str] = []
        for lid, resource in self.r.resources.items():
            rtype = str(resource.get("Type", ""))
            if not self.r.enabled(lid):
                self.result.skipped[lid] = "condition is false"
            elif rtype in PRIORITY:
                wanted.append(lid)
            elif rtype.startswith(NOT_NEEDED_PREFIXES):
                self.result.skipped[lid] = f"{rtype}: not needed by the emulator"
            else:
                self.result.skipped[lid] = f"{rtype}: not emulated"
                log.warning("skipping %s (%s): not emulated locally", lid, rtype)
        for lid in creation_order(self.r, wanted):
            rtype = self.r.resource_type(lid)
            props = self.r.resolve(self.r.properties(lid))
            {
                "AWS::SQS::Queue": self._queue,
                "AWS::SQS::QueuePolicy": self._queue_policy,
                "AWS::DynamoDB::Table": self._table,
                "AWS::S3::Bucket": self._bucket,
                "AWS::S3::BucketPolicy": self._bucket_policy,
                "AWS::Events::EventBus": self._event_bus,
            }[rtype](lid, props)
        return self.result

    # ------------------------------------------------------------------ SQS
    def _queue(self, lid: str, props: dict[str, Any]) -> None:
        attributes: dict[str, str] = {}
        for name in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
            "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds",
            "DeduplicationScope",
            "FifoThroughputLimit",
        ):
            if name in props:
                attributes[name] = str(props[name])
        for name in ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"):
            if name in props:
                attributes[name] = str(props[name]).lower()
        for name in ("RedrivePolicy", "RedriveAllowPolicy"):
            if name in props:
                value = props[name]
                attributes[name] = value if isinstance(value, str) else json.dumps(value)
        name = self.r.physical_name(lid)
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        expected = self.r.queue_url(lid)
        if url != expected:  # the template's !Ref must be the URL the emulator answers to
            raise RuntimeError(f"queue {lid}: emulator URL {url} != resolved {expected}")
        self.result.queues[lid] = url
        self.result.queue_arns[lid] = self.r.arn(lid)

    def _queue_policy(self, lid: str, props: dict[str, Any]) -> None:
        policy = json.dumps(props["PolicyDocument"])
        for url in props.get("Queues", []):
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})

    # ------------------------------------------------------------------ EventBridge
    def _event_bus(self, lid: str, props: dict[str, Any]) -> None:
        name = self.r.physical_name(lid)
        self.events.create_event_bus(Name=name)
        self.result.event_buses[lid] = name

    # ------------------------------------------------------------------ DynamoDB
    def _table(self, lid: str, props: dict[str, Any]) -> None:
        name = self.r.physical_name(lid)
        billing = props.get("BillingMode", "PROVISIONED")
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": billing,
        }
        throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        if billing == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get("ProvisionedThroughput", throughput)
        if props.get("GlobalSecondaryIndexes"):
            gsis = []
            for gsi in props["GlobalSecondaryIndexes"]:
                gsi = dict(gsi)
                if billing == "PROVISIONED":
                    gsi.setdefault("ProvisionedThroughput", throughput)
                gsis.append(gsi)
            args["GlobalSecondaryIndexes"] = gsis
        if props.get("LocalSecondaryIndexes"):
            args["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        sse = props.get("SSESpecification")
        if sse:
            args["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
        self.ddb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            self.ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = props.get("PointInTimeRecoverySpecification") or {}
        if pitr.get("PointInTimeRecoveryEnabled"):
            self._optional(
                lid,
                "point-in-time recovery",
                lambda: self.ddb.update_continuous_backups(
                    TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                ),
            )
        self.result.tables[lid] = name

    # ------------------------------------------------------------------ S3
    def _bucket(self, lid: str, props: dict[str, Any]) -> None:
        name = self.r.physical_name(lid)
        if self.r.context.region == "us-east-1":
            self.s3.create_bucket(Bucket=name)
        else:
            self.s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.r.context.region}
            )
        encryption = props.get("BucketEncryption")
        if encryption:
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                    **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                }
                for rule in encryption["ServerSideEncryptionConfiguration"]
            ]
            self.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            self.s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in props:
            self._optional(
                lid,
                "ownership controls",
                lambda: self.s3.put_bucket_ownership_controls(
                    Bucket=name, OwnershipControls=props["OwnershipControls"]
                ),
            )
        if "VersioningConfiguration" in props:
            self.s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
            )
        cors = props.get("CorsConfiguration")
        if cors:
            self.s3.put_bucket_cors(
                Bucket=name, CORSConfiguration={"CORSRules": [cors_rule(rule) for rule in cors["CorsRules"]]}
            )
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            rules = [lifecycle_rule(rule) for rule in lifecycle["Rules"]]
            self._optional(
                lid,
                "lifecycle rules",
                lambda: self.s3.put_bucket_lifecycle_configuration(
                    Bucket=name, LifecycleConfiguration={"Rules": rules}
                ),
            )
        notifications = props.get("NotificationConfiguration")
        if notifications:
            self._notifications(lid, name, notifications)
        self.result.buckets[lid] = name

    def _notifications(self, lid: str, bucket: str, config: dict[str, Any]) -> None:
        queues = [
            {"QueueArn": q["Queue"], "Events": [q["Event"]], **_key_filter(q)}
            for q in config.get("QueueConfigurations", [])
        ]
        for other in ("TopicConfigurations", "LambdaConfigurations", "EventBridgeConfiguration"):
            if config.get(other):
                log.warning("%s: %s are not emulated locally", lid, other)
        if queues:
            # moto answers this with an s3:TestEvent message on every target queue (so does S3).
            self.s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queues}
            )

    def _bucket_policy(self, lid: str, props: dict[str, Any]) -> None:
        document = dict(props["PolicyDocument"])
        kept, dropped = emulator_safe_statements(document.get("Statement", []))
        for statement in dropped:
            log.info(
                "%s: statement %s left out locally: moto enforces a Deny without its Condition "
                "(it would deny every request)",
                lid,
                statement.get("Sid", "(no Sid)"),
            )
        if kept:
            policy = json.dumps({**document, "Statement": kept})
            self._optional(
                lid, "bucket policy", lambda: self.s3.put_bucket_policy(Bucket=props["Bucket"], Policy=policy)
            )

    def _optional(self, lid: str, what: str, call: Any) -> None:
        """Settings that change nothing locally: applied when the emulator accepts them."""
        try:
            call()
        except ClientError as err:
            log.warning("%s: the emulator refused the %s (%s); continuing", lid, what, err)


def emulator_safe_statements(statements: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """moto evaluates bucket-policy statements but ignores their Condition blocks, so a conditional
    Deny (e.g. DenyInsecureTransport: the emulator is plain HTTP) would deny everything."""
    items = [statements] if isinstance(statements, dict) else list(statements)
    kept = [s for s in items if not (s.get("Effect") == "Deny" and s.get("Condition"))]
    dropped = [s for s in items if s not in kept]
    return kept, dropped


def cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"AllowedMethods": rule["AllowedMethods"], "AllowedOrigins": rule["AllowedOrigins"]}
    for cfn, api in (
        ("AllowedHeaders", "AllowedHeaders"),
        ("ExposedHeaders", "ExposeHeaders"),
        ("MaxAge", "MaxAgeSeconds"),
        ("Id", "ID"),
    ):
        if cfn in rule:
            out[api] = int(rule[cfn]) if api == "MaxAgeSeconds" else rule[cfn]
    return out


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Status": rule["Status"]}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters", [])]
    prefix = rule.get("Prefix")
    if tags and (prefix or len(tags) > 1):
        out["Filter"] = {"And": {**({"Prefix": prefix} if prefix else {}), "Tags": tags}}
    elif tags:
        out["Filter"] = {"Tag": tags[0]}
    else:
        out["Filter"] = {"Prefix": prefix or ""}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    if "NoncurrentVersionExpirationInDays" in rule:
        days = int(rule["NoncurrentVersionExpirationInDays"])
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
    return out


def _key_filter(config: dict[str, Any]) -> dict[str, Any]:
    rules = ((config.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    if not rules:
        return {}
    return {"Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}}
