"""The CDN section of template.yaml (docs/delivery.md): the bucket stays private behind Origin
Access Control and admits the distribution only, TLS only, signed URLs for private paths, the
Transform function's URL is IAM-authenticated, and EnableCdn=false removes all of it (the
Conditions evaluated by the local stack's resolver, as CloudFormation would)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from local_stack.resolve import LocalContext, Resolver
from local_stack.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
DISTRIBUTION = RESOURCES["MediaDistribution"]["Properties"]["DistributionConfig"]
CDN_RESOURCES = sorted(
    lid
    for lid, r in RESOURCES.items()
    if r["Type"].startswith(("AWS::CloudFront::", "AWS::SecretsManager::")) or lid.startswith("Transform")
)


def props(lid: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[lid]["Properties"]
    return properties


@cache
def resolver(**params: str) -> Resolver:
    context = LocalContext(aws_endpoint="http://127.0.0.1:1", stack_name="media-test")
    return Resolver(load_template(ROOT / "template.yaml"), context, parameter_overrides=params)


def origin(origin_id: str) -> dict[str, Any]:
    (found,) = [o for o in DISTRIBUTION["Origins"] if o["Id"] == origin_id]
    return dict(found)


def behaviours() -> list[dict[str, Any]]:
    return [DISTRIBUTION["DefaultCacheBehavior"], *DISTRIBUTION["CacheBehaviors"]]


def test_the_media_bucket_is_reached_through_origin_access_control_never_an_identity():
    bucket = origin("media-bucket")
    assert bucket["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    assert bucket["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]}
    assert bucket["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    oac = props("MediaOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )


def test_the_bucket_policy_admits_this_distribution_only_and_the_bucket_stays_private():
    statements = props("MediaBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [s["Fn::If"][1] for s in statements if "Fn::If" in s]
    assert [s for s in statements if "Fn::If" not in s and s["Effect"] == "Allow"] == []
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${MediaBucket.Arn}/media/*"}
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${MediaDistribution}")
    assert all(props("MediaBucket")["PublicAccessBlockConfiguration"].values())
    assert "WebsiteConfiguration" not in props("MediaBucket")


def test_tls_only_http2_and_http3_and_compression():
    assert DISTRIBUTION["HttpVersion"] == "http2and3"
    for behaviour in behaviours():
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
        assert behaviour["Compress"] is True
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    transform = origin("transform")["CustomOriginConfig"]
    assert transform == {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}
    custom = DISTRIBUTION["ViewerCertificate"]["Fn::If"]
    assert custom[0] == "CdnCustomDomain" and custom[1]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    deny = props("MediaBucketPolicy")["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_private_paths_need_a_signed_url_and_transformations_go_to_the_function():
    default = DISTRIBUTION["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "media-bucket"
    assert default["TrustedKeyGroups"] == [{"Ref": "CdnKeyGroup"}]
    assert props("CdnKeyGroup")["KeyGroupConfig"]["Items"] == [{"Ref": "CdnPublicKey"}]
    assert props("CdnPublicKey")["PublicKeyConfig"]["EncodedKey"] == {"Ref": "CdnPublicKeyPem"}
    (transform,) = [b for b in DISTRIBUTION["CacheBehaviors"] if b["PathPattern"] == "/t/*"]
    assert transform["TargetOriginId"] == "transform"
    assert "TrustedKeyGroups" not in transform  # the function checks its own HMAC signature
    assert transform["FunctionAssociations"] == [
        {
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": ["NormalizeAcceptFunction", "FunctionARN"]},
        }
    ]
    key = props("TransformCachePolicy")["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Accept"]}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_the_cloudfront_function_is_the_tested_source_file():
    function = props("NormalizeAcceptFunction")
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["FunctionCode"] == (ROOT / "cloudfront" / "normalize_accept.js").read_text(
        encoding="utf-8"
    )


def test_the_function_url_is_iam_authenticated_and_invocable_by_this_distribution_only():
    function = props("TransformFunction")
    assert function["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
    oac = props("TransformOriginAccessControl")["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "lambda" and oac["SigningBehavior"] == "always"
    assert origin("transform")["OriginAccessControlId"] == {
        "Fn::GetAtt": ["TransformOriginAccessControl", "Id"]
    }
    permissions = [props(lid) for lid, r in RESOURCES.items() if r["Type"] == "AWS::Lambda::Permission"]
    mine = [p for p in permissions if p["FunctionName"] == {"Ref": "TransformFunction"}]
    assert sorted(p["Action"] for p in mine) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    for permission in mine:
        assert permission["Principal"] == "cloudfront.amazonaws.com"
        assert permission["SourceArn"]["Fn::Sub"].endswith(":distribution/${MediaDistribution}")
    assert [p["FunctionUrlAuthType"] for p in mine if p["Action"] == "lambda:InvokeFunctionUrl"] == [
        "AWS_IAM"
    ]


def test_security_headers_and_cors_for_the_allowed_origins():
    policy = props("MediaResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    assert policy["CorsConfig"]["AccessControlAllowOrigins"] == {"Items": {"Ref": "AllowedOrigins"}}
    assert policy["CorsConfig"]["AccessControlAllowCredentials"] is False
    security = policy["SecurityHeadersConfig"]
    assert {"StrictTransportSecurity", "ContentTypeOptions", "FrameOptions", "ReferrerPolicy"} <= set(
        security
    )
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "MediaResponseHeadersPolicy"} for b in behaviours())


def test_enabling_the_cdn_demands_a_key_pair():
    rule = TEMPLATE["Rules"]["CdnNeedsAKeyPair"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "EnableCdn"}, "true"]}
    asserted = json.dumps(rule["Assertions"])
    assert "CdnPublicKeyPem" in asserted and "CdnPrivateKeySecretArn" in asserted


@pytest.mark.parametrize("lid", CDN_RESOURCES)
def test_enable_cdn_false_removes_every_delivery_resource(lid: str):
    assert resolver(EnableCdn="true").enabled(lid)
    assert not resolver(EnableCdn="false").enabled(lid)


def test_enable_cdn_false_falls_back_to_presigned_urls_everywhere():
    off = resolver(EnableCdn="false")
    policy = off.resolve(off.properties("MediaBucketPolicy"))["PolicyDocument"]["Statement"]
    assert [s["Effect"] for s in policy] == ["Deny"]  # nothing but TLS-only remains
    env = off.resolve(off.properties("QueryFunction"))["Environment"]["Variables"]
    assert env["CDN_BASE_URL"] == "" and env["TRANSFORM_SIGNING_KEYS_SECRET_ARN"] == ""
    assert env["CDN_DISTRIBUTION_ID"] == ""
    for lid in ("QueryFunction", "ManageFunction", "CleanupFunction"):
        policies = off.resolve(off.properties(lid))["Policies"]
        assert "cloudfront" not in json.dumps(policies) and "secretsmanager" not in json.dumps(policies)
    on = resolver(EnableCdn="true")
    env_on = on.resolve(on.properties("QueryFunction"))["Environment"]["Variables"]
    assert env_on["CDN_BASE_URL"].startswith("https://")
