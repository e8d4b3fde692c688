"""Infrastructure rules checked on template.yaml itself: a rule in a test beats a rule in a review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties", {}) for lid, r in RESOURCES.items() if r["Type"] == kind}


BUCKETS = of_type("AWS::S3::Bucket")
QUEUES = of_type("AWS::SQS::Queue")
FUNCTIONS = of_type("AWS::Serverless::Function")


@pytest.mark.parametrize("bucket", sorted(BUCKETS))
def test_every_bucket_is_private_encrypted_and_tls_only(bucket: str):
    props = BUCKETS[bucket]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    policies = [p for p in of_type("AWS::S3::BucketPolicy").values() if p["Bucket"] == {"Ref": bucket}]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_only_the_uploads_bucket_notifies_and_it_routes_by_prefix():
    assert "NotificationConfiguration" not in BUCKETS["MediaBucket"]
    routes = {
        c["Filter"]["S3Key"]["Rules"][0]["Value"]: c["Queue"]["Fn::GetAtt"][0]
        for c in BUCKETS["UploadsBucket"]["NotificationConfiguration"]["QueueConfigurations"]
    }
    assert routes == {
        "uploads/image/": "ImageQueue",
        "uploads/video/": "AvQueue",
        "uploads/audio/": "AvQueue",
        "uploads/document/": "DocumentQueue",
    }
    for config in BUCKETS["UploadsBucket"]["NotificationConfiguration"]["QueueConfigurations"]:
        assert [r["Name"] for r in config["Filter"]["S3Key"]["Rules"]] == ["prefix"]  # never suffix


def test_uploads_abort_stale_multipart_and_expire_unclaimed_originals():
    rules = {r["Id"]: r for r in BUCKETS["UploadsBucket"]["LifecycleConfiguration"]["Rules"]}
    assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }
    assert rules["ExpireUnclaimedOriginals"]["TagFilters"] == [{"Key": "media-state", "Value": "unclaimed"}]


@pytest.mark.parametrize("queue", sorted(q for q in QUEUES if not q.endswith("DeadLetterQueue")))
def test_every_work_queue_has_a_dlq_and_a_policy_admitting_only_the_uploads_bucket(queue: str):
    props = QUEUES[queue]
    # AWS advises at least 5 receives for Lambda consumers; the processors know the same count
    assert props["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    parameter = TEMPLATE["Parameters"]["MaxReceiveCount"]
    assert parameter["Default"] >= 5 and parameter["MinValue"] >= 5
    globals_env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["MAX_RECEIVE_COUNT"] == {"Ref": "MaxReceiveCount"}
    assert props["SqsManagedSseEnabled"] is True
    [policy] = [p for p in of_type("AWS::SQS::QueuePolicy").values() if {"Ref": queue} in p["Queues"]]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert "uploads" in json.dumps(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_queue_visibility_covers_the_consumer_timeout():
    for function in FUNCTIONS.values():
        for event in function.get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = QUEUES[event["Properties"]["Queue"]["Fn::GetAtt"][0]]
                assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_iam_is_least_privilege(function: str):
    managed = of_type("AWS::IAM::ManagedPolicy")
    documents = [
        # A managed policy of this template (shared by several functions) is checked as its own.
        managed[branch["Ref"]]["PolicyDocument"] if "Ref" in branch else branch
        for p in FUNCTIONS[function].get("Policies", [])
        # A conditional policy (e.g. only with the CDN): every branch that is a policy is checked.
        for branch in (p["Fn::If"][1:] if "Fn::If" in p else [p])
        if branch != {"Ref": "AWS::NoValue"}
    ]
    statements = [s for p in documents for s in p["Statement"]]
    assert statements, "every function states its own permissions"
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            assert resource != "*" and "*" not in json.dumps(resource).replace("/*", ""), (
                function,
                statement,
            )
        assert all(not action.endswith(":*") for action in statement["Action"]), (function, statement)


def test_every_api_route_is_authenticated_except_cors_preflight():
    api = of_type("AWS::Serverless::Api")["MediaApi"]
    assert api["Auth"]["DefaultAuthorizer"] == "CognitoAuthorizer"
    for function in FUNCTIONS.values():
        for event in function.get("Events", {}).values():
            if event["Type"] == "Api":
                authorizer = event["Properties"].get("Auth", {}).get("Authorizer")
                assert authorizer is None or event["Properties"]["Method"] == "OPTIONS"


def test_table_is_on_demand_recoverable_with_ttl_and_query_indexes():
    table = of_type("AWS::DynamoDB::Table")["MediaTable"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} >= {"ByOwner", "ByEntity", "ByStatus"}


def test_functions_run_python_312_on_arm64_with_log_retention():
    function_globals = TEMPLATE["Globals"]["Function"]
    assert function_globals["Runtime"] in ("python3.12", "python3.13")
    assert function_globals["Architectures"] == ["arm64"]
    log_groups = of_type("AWS::Logs::LogGroup")
    for function in FUNCTIONS:
        assert any(function in json.dumps(g["LogGroupName"]) for g in log_groups.values()), function


def test_the_reaper_waits_longer_than_a_retry_could_take():
    # A record may legitimately stay `processing` until the message becomes visible again and the
    # retry re-claims it: the reaper's limit must exceed visibility timeout + function timeout.
    env = FUNCTIONS["ReaperFunction"]["Environment"]["Variables"]
    limits = {
        "ImageFunction": "STUCK_IMAGE_SECONDS",
        "DocumentFunction": "STUCK_DOCUMENT_SECONDS",
        "AvFunction": "STUCK_AV_SECONDS",
    }
    for function, variable in limits.items():
        props = FUNCTIONS[function]
        [event] = [e for e in props["Events"].values() if e["Type"] == "SQS"]
        queue = QUEUES[event["Properties"]["Queue"]["Fn::GetAtt"][0]]
        assert int(env[variable]) > queue["VisibilityTimeout"] + props["Timeout"], function


# -- the video workflow ------------------------------------------------------------------------------
STATE_MACHINES = of_type("AWS::Serverless::StateMachine")
TRANSCODE_STEPS = {
    "TranscodePlanFunction",
    "TranscodeSegmentFunction",
    "TranscodeAudioFunction",
    "TranscodeAssembleFunction",
}
# AWS documents these actions as taking no resource-level permissions (Resource must be "*").
NO_RESOURCE_LEVEL_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}


def test_the_transcode_state_machine_logs_and_traces():
    machine = STATE_MACHINES["TranscodeStateMachine"]
    assert machine["Tracing"] == {"Enabled": True}
    assert machine["Logging"]["Level"] in ("ERROR", "ALL")
    [destination] = machine["Logging"]["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in RESOURCES[group]["Properties"]
    assert machine["DefinitionUri"] == "statemachines/transcode.asl.json"


def test_the_state_machine_role_is_least_privilege():
    statements = [s for p in STATE_MACHINES["TranscodeStateMachine"]["Policies"] for s in p["Statement"]]
    assert "Role" not in STATE_MACHINES["TranscodeStateMachine"]
    invoked: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if "*" in resources:
            # Only where AWS offers nothing narrower (log delivery, X-Ray), never anything else.
            assert resources == ["*"] and set(actions) <= NO_RESOURCE_LEVEL_ACTIONS, statement
            continue
        for resource in resources:
            assert "*" not in json.dumps(resource).replace("/*", ""), statement
        if "lambda:InvokeFunction" in actions:
            assert actions == ["lambda:InvokeFunction"]
            invoked |= {r["Fn::GetAtt"][0] for r in resources}
            assert all(r["Fn::GetAtt"][1] == "Arn" for r in resources)
    # lambda:InvokeFunction on exactly the four steps
    assert invoked == TRANSCODE_STEPS


def test_the_definition_invokes_only_the_four_steps_through_its_substitutions():
    definition = (Path(__file__).resolve().parents[2] / "statemachines/transcode.asl.json").read_text()
    json.loads(definition)
    substitutions = STATE_MACHINES["TranscodeStateMachine"]["DefinitionSubstitutions"]
    assert {v["Fn::GetAtt"][0] for v in substitutions.values()} == TRANSCODE_STEPS
    import re

    names = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition))
    assert names == set(substitutions)
    # every segment task retries on its own
    document = json.loads(definition)
    video = document["States"]["Encode"]["Branches"][0]["States"]
    for name in ("Segments", "Segments (distributed)"):
        segment = video[name]["ItemProcessor"]["States"]["Segment"]
        assert any(r.get("MaxAttempts", 3) > 0 for r in segment["Retry"])
        assert video[name]["MaxConcurrencyPath"] == "$.max_concurrency"


def test_workflow_parameters_are_appended_with_their_defaults():
    params = list(TEMPLATE["Parameters"])
    assert params[-4:] == [
        "ParallelTranscodeMinSeconds",
        "TranscodeMaxConcurrency",
        "MaxVideoDurationSeconds",
        "HlsLadder",
    ]
    assert TEMPLATE["Parameters"]["MaxVideoDurationSeconds"]["Default"] == 4 * 3600


def test_the_media_bucket_answers_cors_to_the_allowed_origins_for_players():
    [rule] = BUCKETS["MediaBucket"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
    assert set(rule["AllowedMethods"]) >= {"GET", "HEAD"}
