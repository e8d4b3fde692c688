"""Abuse limits and durability the template itself must carry (checked on template.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local_stack.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
PROCESSORS = ("ImageFunction", "DocumentFunction", "AvFunction")


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in RESOURCES.items() if r["Type"] == kind}


@pytest.mark.parametrize("function", PROCESSORS)
def test_a_burst_of_uploads_cannot_take_every_lambda_slot(function: str) -> None:
    [mapping] = [e for e in RESOURCES[function]["Properties"]["Events"].values() if e["Type"] == "SQS"]
    props = mapping["Properties"]
    assert "Ref" in props["ScalingConfig"]["MaximumConcurrency"]  # a parameter, bounded
    parameter = TEMPLATE["Parameters"][props["ScalingConfig"]["MaximumConcurrency"]["Ref"]]
    assert parameter["Default"] <= 20 and parameter["MaxValue"] <= 1000
    # one message per invocation: a hostile file's timeout costs only its own attempts
    assert props["BatchSize"] == 1


def test_self_sign_up_is_off_unless_the_deployment_asks() -> None:
    assert TEMPLATE["Parameters"]["AllowSelfSignUp"]["Default"] == "false"
    config = RESOURCES["UserPool"]["Properties"]["AdminCreateUserConfig"]
    assert config["AllowAdminCreateUserOnly"] == {"Fn::If": ["SelfSignUp", False, True]}


def test_each_client_is_rate_limited_by_its_token() -> None:
    [acl] = of_type("AWS::WAFv2::WebACL").values()
    [rule] = acl["Properties"]["Rules"]
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "CUSTOM_KEYS"
    assert statement["CustomKeys"][0]["Header"]["Name"] == "authorization"
    assert "Block" in rule["Action"]
    assert of_type("AWS::WAFv2::WebACLAssociation")


def test_quotas_are_parameters_with_the_documented_defaults() -> None:
    params = TEMPLATE["Parameters"]
    assert params["QuotaMaxAwaitingUploads"]["Default"] == 100
    assert params["QuotaDailyUploadBytes"]["Default"] == 2_000_000_000
    assert params["QuotaStoredBytes"]["Default"] == 20_000_000_000
    env = RESOURCES["UploadsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["QUOTA_MAX_AWAITING_UPLOADS"] == {"Ref": "QuotaMaxAwaitingUploads"}


def test_every_dlq_and_function_raises_an_alarm_to_the_topic() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm").values()
    watched = {
        d["Value"].get("Fn::GetAtt", [d["Value"].get("Ref")])[0]
        for a in alarms
        for d in a["Properties"]["Dimensions"]
    }
    dlqs = {
        lid for lid in of_type("AWS::SQS::Queue") if lid.endswith("DeadLetterQueue") and "Webhook" not in lid
    }
    functions = {
        lid for lid in of_type("AWS::Serverless::Function") if lid in PROCESSORS or "Function" in lid
    }
    assert dlqs <= watched
    assert {"UploadsFunction", "QueryFunction", "ManageFunction", *PROCESSORS} <= watched
    assert functions
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}] for a in alarms)


def test_the_webhook_retries_and_keeps_what_it_could_not_deliver() -> None:
    [target] = RESOURCES["WebhookRule"]["Properties"]["Targets"]
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}


def test_claimed_originals_are_never_expired_by_the_lifecycle_rule() -> None:
    rules = {r["Id"]: r for r in RESOURCES["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireUnclaimedOriginals"]["Prefix"] == "uploads/"
