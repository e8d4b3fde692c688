"""The CDN section of template.yaml (docs/delivery.md): the bucket stays private behind Origin
Access Control and admits the distribution only, TLS only, signed URLs for private paths (or, with
no key pair, none of them served at all), published copies under `/public/*` unsigned, the
Transform function's URL is IAM-authenticated, the publishing functions' IAM is scoped to
`public/*`, and EnableCdn=false removes all of it (the Conditions and the Rule evaluated by the
local stack's resolver, as CloudFormation would)."""

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
    if r["Type"].startswith(("AWS::CloudFront::", "AWS::SecretsManager::", "AWS::IAM::ManagedPolicy"))
    or lid.startswith("Transform")
)
KEY_PAIR = {
    "CdnPublicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
    "CdnPrivateKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:media-cdn-key",
}
WITH_A_KEY_PAIR_ONLY = ("CdnKeyGroup", "CdnPublicKey")
WITHOUT_A_KEY_PAIR_ONLY = ("DenyUnsignedFunction",)
PUBLISHERS = {
    "AvFunction",
    "CleanupFunction",
    "DocumentFunction",
    "ImageFunction",
    "ManageFunction",
    "TranscodeAssembleFunction",
}


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
    # The variants (signed or refused at the edge) and the published copies: nothing else
    assert allow["Resource"] == [
        {"Fn::Sub": "${MediaBucket.Arn}/media/*"},
        {"Fn::Sub": "${MediaBucket.Arn}/public/*"},
    ]
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


def resolved_default(**params: str) -> dict[str, Any]:
    chosen = resolver(**params)
    behaviour: dict[str, Any] = chosen.resolve(DISTRIBUTION["DefaultCacheBehavior"])
    return behaviour


def test_with_a_key_pair_private_paths_need_a_signed_url():
    default = resolved_default(**KEY_PAIR)
    assert default["TargetOriginId"] == "media-bucket"
    assert default["TrustedKeyGroups"] == ["media-test-CdnKeyGroup"]
    assert "FunctionAssociations" not in default
    assert props("CdnKeyGroup")["KeyGroupConfig"]["Items"] == [{"Ref": "CdnPublicKey"}]
    signed = resolver(**KEY_PAIR)
    assert all(signed.enabled(lid) for lid in WITH_A_KEY_PAIR_ONLY)
    assert not any(signed.enabled(lid) for lid in WITHOUT_A_KEY_PAIR_ONLY)


def test_without_a_key_pair_the_default_behaviour_refuses_everything():
    # The default deployment: no key pair. Nothing would check a signature on media/*, so a
    # CloudFront Function answers 403 to every request of that behaviour (private objects are
    # never reachable unsigned); the key group does not exist
    default = resolved_default()
    assert "TrustedKeyGroups" not in default
    assert default["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": "media-test-DenyUnsignedFunction.FunctionARN"}
    ]
    unsigned = resolver()
    assert unsigned.enabled("DenyUnsignedFunction") and unsigned.enabled("MediaDistribution")
    assert not any(unsigned.enabled(lid) for lid in WITH_A_KEY_PAIR_ONLY)
    function = props("DenyUnsignedFunction")
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    source = (ROOT / "cloudfront" / "deny_unsigned.js").read_text(encoding="utf-8")
    assert function["FunctionCode"] == source
    assert "statusCode: 403" in source and "request" not in source.split("function handler", 1)[1]
    # And the functions get no key: private media falls back to windowed S3 presigned URLs
    for lid in ("QueryFunction", "TransformFunction"):
        env = unsigned.resolve(unsigned.properties(lid))["Environment"]["Variables"]
        assert env["CDN_KEY_PAIR_ID"] == "" and env["CDN_PRIVATE_KEY_SECRET_ARN"] == ""
        policies = json.dumps(unsigned.resolve(unsigned.properties(lid))["Policies"])
        assert "media-cdn-key" not in policies and '""' not in policies


def test_published_copies_are_served_unsigned_under_public_only():
    (public,) = [b for b in DISTRIBUTION["CacheBehaviors"] if b["PathPattern"] == "/public/*"]
    assert public["TargetOriginId"] == "media-bucket"
    assert "TrustedKeyGroups" not in public and "FunctionAssociations" not in public
    assert public["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # Managed-CachingOptimized
    assert public["ResponseHeadersPolicyId"] == {"Ref": "MediaResponseHeadersPolicy"}
    assert (public["ViewerProtocolPolicy"], public["Compress"]) == ("https-only", True)
    # The only behaviours: /public/* and /t/* besides the default (which is signed or refused)
    assert sorted(b["PathPattern"] for b in DISTRIBUTION["CacheBehaviors"]) == ["/public/*", "/t/*"]


def test_the_publishing_functions_iam_is_scoped_to_the_public_prefix():
    statements = {s["Sid"]: s for s in props("PublicCopiesPolicy")["PolicyDocument"]["Statement"]}
    bucket = "arn:${AWS::Partition}:s3:::${MediaBucket}"
    assert statements["WritePublicCopies"]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert statements["WritePublicCopies"]["Resource"] == {"Fn::Sub": f"{bucket}/public/*"}
    # media/* only as the copy source: read, never written or deleted by this policy
    assert statements["ReadVariantsToCopy"]["Action"] == ["s3:GetObject"]
    assert statements["ReadVariantsToCopy"]["Resource"] == {"Fn::Sub": f"{bucket}/media/*"}
    listing = statements["ListPublicCopies"]
    assert listing["Action"] == ["s3:ListBucket"] and listing["Resource"] == {"Fn::Sub": bucket}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "public/*"}}
    invalidation = statements["InvalidateMedia"]
    assert invalidation["Action"] == ["cloudfront:CreateInvalidation"]
    assert invalidation["Resource"]["Fn::Sub"].endswith(":distribution/${MediaDistribution}")
    assert set(statements) == {
        "WritePublicCopies",
        "ReadVariantsToCopy",
        "ListPublicCopies",
        "InvalidateMedia",
    }
    # Exactly the functions that publish carry it (with the CDN only), and know the distribution
    carriers = {
        lid
        for lid, r in RESOURCES.items()
        if r["Type"] == "AWS::Serverless::Function"
        and {"Fn::If": ["CdnEnabled", {"Ref": "PublicCopiesPolicy"}, {"Ref": "AWS::NoValue"}]}
        in r["Properties"].get("Policies", [])
    }
    assert carriers == PUBLISHERS
    on = resolver()
    for lid in PUBLISHERS:
        env = on.resolve(on.properties(lid))["Environment"]["Variables"]
        assert env["CDN_DISTRIBUTION_ID"] == "media-test-MediaDistribution", lid
    # And no function's own statements touch public/ (the shared policy is the one place)
    for lid, r in RESOURCES.items():
        if r["Type"] == "AWS::Serverless::Function":
            assert "public/" not in json.dumps(r["Properties"].get("Policies", [])), lid


def test_transformations_go_to_the_function():
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


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ({}, True),  # the default deploy: no key pair
        (KEY_PAIR, True),
        ({"CdnPublicKeyPem": KEY_PAIR["CdnPublicKeyPem"]}, False),
        ({"CdnPrivateKeySecretArn": KEY_PAIR["CdnPrivateKeySecretArn"]}, False),
        ({"EnableCdn": "false", "CdnPublicKeyPem": KEY_PAIR["CdnPublicKeyPem"]}, False),
    ],
    ids=["neither", "both", "public-key-only", "secret-only", "half-a-pair-without-cdn"],
)
def test_the_key_pair_rule_wants_both_parameters_or_neither(given: dict[str, str], accepted: bool):
    rules = TEMPLATE["Rules"]
    assert "CdnNeedsAKeyPair" not in rules  # a default `sam deploy` needs no key pair
    rule = rules["CdnKeyPairIsWhole"]
    assert "RuleCondition" not in rule
    chosen = resolver(**given)
    assert all(chosen.resolve(a["Assert"]) for a in rule["Assertions"]) is accepted


@pytest.mark.parametrize("lid", CDN_RESOURCES)
def test_enable_cdn_false_removes_every_delivery_resource(lid: str):
    on = resolver(EnableCdn="true", **KEY_PAIR) if lid in WITH_A_KEY_PAIR_ONLY else resolver(EnableCdn="true")
    assert on.enabled(lid)
    assert not resolver(EnableCdn="false").enabled(lid)
    assert not resolver(EnableCdn="false", **KEY_PAIR).enabled(lid)


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
