"""The local stack behind `make run`: moto provisioned from template.yaml, the API Gateway-style
front with the Cognito-like authorizer, and the SQS pollers/schedules that invoke the template's
functions. Every server binds 127.0.0.1 on an ephemeral port and is stopped by the test (or the
class fixture) that started it."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import jwt
import pytest
import requests

from local_stack.auth import CLIENT_ID, ISSUER, Authorizer, SigningKey, id_token_claims, user_sub
from local_stack.gateway import Gateway, Route, find_route
from local_stack.pollers import failed_ids
from local_stack.resolve import LocalContext, Resolver
from local_stack.schedules import Schedule, parse_rate
from local_stack.stack import LocalStack
from local_stack.template import load_template, parse_template
from local_stack.token import issue_token
from tests.support.local_stack import TEMPLATE, bearer, derived_template, running_stack, wait_for

REPO_ROOT = TEMPLATE.parent
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 2044  # declared as image/jpeg; moto does not sniff


# ---------------------------------------------------------------------------- template and resolver


def test_short_tags_load_as_long_form_intrinsics():
    # Given a template using the short forms
    text = """
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      A: !Ref X
      B: !GetAtt Q.Arn
      C: !GetAtt [Q, QueueName]
      D: !Sub "${AWS::Region}-${X}"
      E: !Join [",", [a, !Ref X]]
      F: !If [Cond, !Select [1, !Split [",", "p,q"]], !Ref "AWS::NoValue"]
"""
    # When it is parsed
    props = parse_template(text)["Resources"]["Q"]["Properties"]
    # Then every tag is the long-form dict CloudFormation documents
    assert props["A"] == {"Ref": "X"}
    assert props["B"] == {"Fn::GetAtt": ["Q", "Arn"]}
    assert props["C"] == {"Fn::GetAtt": ["Q", "QueueName"]}
    assert props["D"] == {"Fn::Sub": "${AWS::Region}-${X}"}
    assert props["E"] == {"Fn::Join": [",", ["a", {"Ref": "X"}]]}
    assert props["F"]["Fn::If"][1] == {"Fn::Select": [1, {"Fn::Split": [",", "p,q"]}]}


def test_resolver_uses_local_pseudo_parameters_defaults_overrides_and_conditions():
    # Given the real template, an override and the local API origin
    resolver = Resolver(
        load_template(TEMPLATE),
        LocalContext(aws_endpoint="http://127.0.0.1:1"),
        parameter_overrides={"MaxImageBytes": "1234"},
        list_additions={"AllowedOrigins": ["http://127.0.0.1:9999"]},
    )
    # Then names, refs and attributes follow the template's own expressions
    assert resolver.physical_name("UploadsBucket") == "media-dev-uploads-123456789012-us-east-1"
    assert resolver.physical_name("MediaTable") == "media-local-MediaTable"
    assert resolver.ref("ImageQueue") == "http://127.0.0.1:1/123456789012/media-local-ImageQueue"
    assert resolver.get_att("ImageQueue", "Arn") == (
        "arn:aws:sqs:us-east-1:123456789012:media-local-ImageQueue"
    )
    assert resolver.ref("MaxImageBytes") == "1234"
    assert "http://127.0.0.1:9999" in resolver.ref("AllowedOrigins")
    assert resolver.condition("CreateUserPool") is True
    assert resolver.ref("UserPoolClient") == CLIENT_ID
    # And a bad override fails loudly
    with pytest.raises(ValueError, match="MinValue"):
        Resolver(
            load_template(TEMPLATE),
            LocalContext(aws_endpoint="x"),
            parameter_overrides={"UploadUrlTtlSeconds": "5"},
        )


def test_routes_prefer_literal_segments_then_parameters_then_greedy_paths():
    # Given routes of different specificity (functions are not needed to match)
    def route(path: str, method: str) -> Route:
        return Route(path, method, None, None, False)  # type: ignore[arg-type]

    routes = [
        route("/{proxy+}", "OPTIONS"),
        route("/media/{id}", "GET"),
        route("/media/stats", "GET"),
        route("/media/{id}", "ANY"),
    ]
    # Then the most specific match wins, an exact method beats ANY, and no match is None
    assert find_route(routes, "GET", "/media/stats")[0].path == "/media/stats"  # type: ignore[index]
    assert find_route(routes, "GET", "/media/abc") == (routes[1], {"id": "abc"})
    assert find_route(routes, "DELETE", "/media/abc") == (routes[3], {"id": "abc"})
    assert find_route(routes, "OPTIONS", "/a/b") == (routes[0], {"proxy": "a/b"})
    assert find_route(routes, "GET", "/") is None


def test_partial_batch_responses_are_read_as_lambda_reads_them():
    ids = ["m1", "m2"]
    assert failed_ids(None, ids) == set()
    assert failed_ids({"batchItemFailures": []}, ids) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids) == {"m2"}
    # An unknown or empty identifier fails the whole batch
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, ids) is None
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None


def test_schedules_fire_at_their_rate():
    assert parse_rate("rate(5 minutes)") == 300
    assert parse_rate("rate(1 day)") == 86400
    assert parse_rate("cron(0 * * * ? *)") is None
    # Given a schedule with a short interval
    fired = threading.Event()
    calls: list[float] = []

    def fire() -> None:
        calls.append(time.monotonic())
        if len(calls) == 2:
            fired.set()

    schedule = Schedule("test", 0.05, fire)
    schedule.start()
    try:
        # Then it runs repeatedly until stopped
        assert fired.wait(5)
    finally:
        schedule.stop()
        schedule.join(5)


# ---------------------------------------------------------------------------- the real template


@pytest.fixture(scope="class")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The real template, without pollers: the tests read the queues themselves."""
    with running_stack(tmp_path_factory.mktemp("local-data"), pollers=False) as stack:
        yield stack


class TestRealTemplate:
    def test_provisioning_reflects_the_template(self, stack: LocalStack):
        template = load_template(TEMPLATE)["Resources"]
        s3, ddb, sqs = stack.client("s3"), stack.client("dynamodb"), stack.client("sqs")
        # Buckets: the template's names, CORS rules (plus the local API origin), prefix routing
        assert set(stack.buckets) == {"UploadsBucket", "MediaBucket"}
        uploads = stack.buckets["UploadsBucket"]
        cors = s3.get_bucket_cors(Bucket=uploads)["CORSRules"][0]
        assert cors["AllowedMethods"] == ["POST", "PUT"]
        assert stack.api_url in cors["AllowedOrigins"]
        assert "http://localhost:3000" in cors["AllowedOrigins"]
        assert cors["ExposeHeaders"] == ["ETag", "Location"]  # Uppy reads both (docs/uppy.md)
        routing = {
            c["Filter"]["Key"]["FilterRules"][0]["Value"]: c["QueueArn"]
            for c in s3.get_bucket_notification_configuration(Bucket=uploads)["QueueConfigurations"]
        }
        declared = template["UploadsBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
        expected = {
            q["Filter"]["S3Key"]["Rules"][0]["Value"]: stack.queue_arns[q["Queue"]["Fn::GetAtt"][0]]
            for q in declared
        }
        assert routing == expected
        assert routing["uploads/image/"].endswith(":media-local-ImageQueue")
        encryption = s3.get_bucket_encryption(Bucket=uploads)["ServerSideEncryptionConfiguration"]["Rules"]
        assert encryption[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert s3.get_public_access_block(Bucket=uploads)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
        # Table: keys, every GSI, TTL
        table = ddb.describe_table(TableName=stack.tables["MediaTable"])["Table"]
        assert {k["AttributeName"] for k in table["KeySchema"]} == {"pk", "sk"}
        assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {
            g["IndexName"] for g in template["MediaTable"]["Properties"]["GlobalSecondaryIndexes"]
        }
        ttl = ddb.describe_time_to_live(TableName=stack.tables["MediaTable"])["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        # Queues: visibility timeouts and redrive to their DLQs
        for queue, dlq in (
            ("ImageQueue", "ImageDeadLetterQueue"),
            ("AvQueue", "AvDeadLetterQueue"),
            ("DocumentQueue", "DocumentDeadLetterQueue"),
        ):
            attrs = sqs.get_queue_attributes(QueueUrl=stack.queues[queue], AttributeNames=["All"])[
                "Attributes"
            ]
            assert attrs["VisibilityTimeout"] == str(template[queue]["Properties"]["VisibilityTimeout"])
            assert json.loads(attrs["RedrivePolicy"]) == {
                "deadLetterTargetArn": stack.queue_arns[dlq],
                "maxReceiveCount": 5,
            }
            assert "Policy" in attrs
        # And identity/IAM/log resources are not provisioned but the stack knows why
        assert "UserPool" in stack.provisioned.skipped

    def test_an_upload_goes_from_the_api_through_the_bucket_to_the_image_queue(self, stack: LocalStack):
        alice = bearer(stack, "alice")
        # Given alice asks the API for an upload of a 2 KB JPEG
        created = requests.post(
            f"{stack.api_url}/uploads",
            headers=alice,
            timeout=30,
            json={"filename": "holiday photo.jpg", "content_type": "image/jpeg", "size": len(JPEG_BYTES)},
        )
        assert created.status_code == 201, created.text
        body = created.json()
        upload, media_id = body["upload"], body["media_id"]
        assert upload["method"] == "POST"
        assert upload["url"].startswith(stack.aws_endpoint)
        key = upload["fields"]["key"]
        assert key.startswith(f"uploads/image/{user_sub('alice')}/{media_id}/")
        # When she posts the file to the presigned URL (fields first, then the file)
        posted = requests.post(
            upload["url"],
            data=upload["fields"],
            timeout=30,
            files={"file": ("holiday photo.jpg", JPEG_BYTES, "image/jpeg")},
        )
        assert posted.status_code in (200, 201, 204), posted.text
        # Then the object is in the uploads bucket
        head = stack.client("s3").head_object(Bucket=stack.buckets["UploadsBucket"], Key=key)
        assert head["ContentLength"] == len(JPEG_BYTES)
        # And its ObjectCreated event is on the image queue (after moto's s3:TestEvent), key URL-encoded
        records = wait_for(lambda: self._s3_records(stack, "ImageQueue"))
        assert [unquote_plus(r["s3"]["object"]["key"]) for r in records] == [key]
        assert records[0]["eventName"].startswith("ObjectCreated:")
        # And alice sees her record; bob does not; an admin does
        mine = requests.get(f"{stack.api_url}/media/{media_id}", headers=alice, timeout=30)
        assert mine.status_code == 200, mine.text
        assert mine.json()["owner"] == user_sub("alice")
        assert mine.json()["status"] == "awaiting_upload"
        bobs = requests.get(f"{stack.api_url}/media/{media_id}", headers=bearer(stack, "bob"), timeout=30)
        assert bobs.status_code == 404
        admin = requests.get(
            f"{stack.api_url}/media/{media_id}", headers=bearer(stack, "root", admin=True), timeout=30
        )
        assert admin.status_code == 200
        assert admin.json()["owner"] == user_sub("alice")

    @staticmethod
    def _s3_records(stack: LocalStack, queue: str) -> list[dict[str, Any]]:
        messages = (
            stack.client("sqs")
            .receive_message(QueueUrl=stack.queues[queue], MaxNumberOfMessages=10, WaitTimeSeconds=1)
            .get("Messages", [])
        )
        bodies = [json.loads(m["Body"]) for m in messages]
        return [r for b in bodies if "Records" in b for r in b["Records"]]

    @pytest.mark.parametrize(
        "case", ["missing", "expired", "other key", "wrong audience", "access token", "garbage"]
    )
    def test_the_authorizer_rejects_bad_tokens_like_api_gateway(
        self, stack: LocalStack, tmp_path: Path, case: str
    ):
        key = SigningKey.load(stack.data_dir)
        claims = id_token_claims("alice")
        headers = {
            "missing": {},
            "expired": bearer(stack, "alice", now=int(time.time()) - 7200),
            "other key": {"Authorization": f"Bearer {issue_token(tmp_path, 'alice')}"},
            "wrong audience": {"Authorization": key.sign({**claims, "aud": "someone-else"})},
            "access token": {"Authorization": key.sign({**claims, "token_use": "access"})},
            "garbage": {"Authorization": "Bearer not.a.jwt"},
        }[case]
        # When a protected route is called with it
        response = requests.get(f"{stack.api_url}/media/{'a' * 32}", headers=headers, timeout=30)
        # Then the gateway answers 401 without invoking the function, with the 4XX gateway response headers
        assert response.status_code == 401
        assert response.json()["message"] in ("Unauthorized", "The incoming token has expired")
        assert response.headers["Access-Control-Allow-Origin"] == "*"

    def test_a_raw_token_without_bearer_is_accepted_as_the_cognito_authorizer_does(self, stack: LocalStack):
        token = issue_token(stack.data_dir, "alice")
        response = requests.get(
            f"{stack.api_url}/media/{'b' * 32}", headers={"Authorization": token}, timeout=30
        )
        assert response.status_code == 404  # authorized; the record just does not exist

    def test_unknown_routes_and_preflights_answer_like_api_gateway(self, stack: LocalStack):
        missing = requests.get(f"{stack.api_url}/nothing/here", timeout=30)
        assert missing.status_code == 403
        assert missing.json() == {"error": "forbidden", "message": "Missing Authentication Token"}
        preflight = requests.options(
            f"{stack.api_url}/uploads",
            timeout=30,
            headers={"Origin": stack.api_url, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204  # the open OPTIONS /{proxy+} route of QueryFunction
        assert preflight.headers["Access-Control-Allow-Origin"] == stack.api_url

    def test_make_token_in_another_process_is_accepted_by_the_running_stack(self, stack: LocalStack):
        # Given `make token USER=carol ADMIN=1` run in another shell with the same data directory
        result = subprocess.run(
            [sys.executable, "-m", "local_stack.token", "carol", "--admin"],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MEDIA_LOCAL_DATA_DIR": str(stack.data_dir)},
        )
        token = result.stdout.strip().splitlines()[-1]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["cognito:groups"] == ["admin"] and claims["sub"] == user_sub("carol")
        assert claims["aud"] == CLIENT_ID and claims["iss"] == ISSUER and claims["token_use"] == "id"
        assert oct((stack.data_dir / "jwt-signing-key.pem").stat().st_mode & 0o777) == "0o600"
        # Then the stack accepts it
        response = requests.get(
            f"{stack.api_url}/media/{'c' * 32}", timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 404


# ---------------------------------------------------------------------------- a derived template

Probe = tuple[LocalStack, Path]  # the stack and the file the probe processor appends events to
PROBE_CODE = """
import json, os

def process(event, context):
    with open(os.environ["PROBE_RECORD_FILE"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"event": event, "function": context.function_name,
                            "remaining_ms": context.get_remaining_time_in_millis()}) + "\\n")
    if any(r["body"] == "raise" for r in event["Records"]):
        raise RuntimeError("asked to fail")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                  for r in event["Records"] if r["body"].startswith("fail")]}

def echo(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps(event), "isBase64Encoded": False}
"""


@pytest.fixture(scope="class")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    """A copy of template.yaml where a probe function is the image queue's only consumer
    (visibility 1 s so retries are quick), plus an echo function behind the API."""
    work = tmp_path_factory.mktemp("derived")
    (work / "code").mkdir()
    (work / "code" / "probe.py").write_text(PROBE_CODE, encoding="utf-8")
    records = work / "records.jsonl"
    records.touch()

    def change(template: dict[str, Any]) -> None:
        resources = template["Resources"]
        resources["ImageQueue"]["Properties"]["VisibilityTimeout"] = 1
        for resource in resources.values():  # the real image processor must not compete
            events = (resource.get("Properties") or {}).get("Events") or {}
            for name in [n for n, e in events.items() if e.get("Type") == "SQS"]:
                del events[name]
        resources["ProbeProcessor"] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": str(work / "code"),
                "Handler": "probe.process",
                "Timeout": 30,
                "Environment": {"Variables": {"PROBE_RECORD_FILE": str(records)}},
                "Events": {
                    "Images": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["ImageQueue", "Arn"]},
                            "BatchSize": 10,
                            "MaximumBatchingWindowInSeconds": 1,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    }
                },
            },
        }
        api = {"Ref": "MediaApi"}
        resources["ProbeEcho"] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": str(work / "code"),
                "Handler": "probe.echo",
                "Events": {
                    "Open": {
                        "Type": "Api",
                        "Properties": {
                            "RestApiId": api,
                            "Path": "/probe/{proxy+}",
                            "Method": "ANY",
                            "Auth": {"Authorizer": "NONE"},
                        },
                    },
                    "Secured": {
                        "Type": "Api",
                        "Properties": {"RestApiId": api, "Path": "/whoami/{item}", "Method": "GET"},
                    },
                },
            },
        }

    template = derived_template(work, change)
    with running_stack(work / "data", template=template, repo_root=REPO_ROOT) as stack:
        yield stack, records


class TestDerivedTemplate:
    @staticmethod
    def _invocations(records: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines() if line]

    @classmethod
    def _bodies(cls, records: Path) -> list[list[str]]:
        return [[r["body"] for r in i["event"]["Records"]] for i in cls._invocations(records)]

    def test_partial_batch_failures_are_retried_then_redriven_to_the_dlq(self, probe: Probe):
        stack, records = probe
        sqs = stack.client("sqs")
        # Given the s3:TestEvent moto queued at provisioning has been consumed without an invocation
        wait_for(lambda: self._depth(stack, "ImageQueue") == 0)
        # When a good and a failing message arrive together
        sqs.send_message_batch(
            QueueUrl=stack.queues["ImageQueue"],
            Entries=[
                {
                    "Id": "1",
                    "MessageBody": "ok-1",
                    "MessageAttributes": {"origin": {"DataType": "String", "StringValue": "test"}},
                },
                {"Id": "2", "MessageBody": "fail-1"},
            ],
        )
        # Then the failing one is received maxReceiveCount (5) times, then lands in the DLQ
        dlq = wait_for(
            lambda: sqs.receive_message(QueueUrl=stack.queues["ImageDeadLetterQueue"], WaitTimeSeconds=1).get(
                "Messages"
            ),
            timeout=30,
        )
        assert [m["Body"] for m in dlq] == ["fail-1"]
        bodies = self._bodies(records)
        assert sorted(bodies[0]) == ["fail-1", "ok-1"]  # one batch (1 s batching window)
        assert bodies[1:] == [["fail-1"]] * 4
        assert all("s3:TestEvent" not in b for batch in bodies for b in batch)
        # And the records look like Lambda's SQS event
        first = self._invocations(records)[0]
        record = next(r for r in first["event"]["Records"] if r["body"] == "ok-1")
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == stack.queue_arns["ImageQueue"]
        assert record["awsRegion"] == "us-east-1"
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
        assert record["messageAttributes"]["origin"]["stringValue"] == "test"
        assert record["messageAttributes"]["origin"]["dataType"] == "String"
        assert record["md5OfBody"] and record["receiptHandle"]
        assert first["function"] == "media-local-ProbeProcessor"
        assert 0 < first["remaining_ms"] <= 30_000
        retries = [
            r["attributes"]["ApproximateReceiveCount"]
            for i in self._invocations(records)[1:]
            for r in i["event"]["Records"]
        ]
        assert retries == ["2", "3", "4", "5"]
        # And nothing is left in the source queue
        wait_for(lambda: self._depth(stack, "ImageQueue") == 0)
        records.write_text("", encoding="utf-8")

    def test_an_upload_reaches_the_processor_as_an_s3_event_in_an_sqs_record(self, probe: Probe):
        stack, records = probe
        key = f"uploads/image/{user_sub('alice')}/{'d' * 32}/original.jpg"
        # When an object lands under the image prefix
        stack.client("s3").put_object(Bucket=stack.buckets["UploadsBucket"], Key=key, Body=JPEG_BYTES)
        # Then the processor gets it once, and the message is deleted
        invocation = wait_for(lambda: self._invocations(records))[0]
        s3_event = json.loads(invocation["event"]["Records"][0]["body"])
        assert unquote_plus(s3_event["Records"][0]["s3"]["object"]["key"]) == key
        wait_for(lambda: self._depth(stack, "ImageQueue") == 0)
        records.write_text("", encoding="utf-8")

    @staticmethod
    def _depth(stack: LocalStack, queue: str) -> bool | int:
        attrs = stack.client("sqs").get_queue_attributes(
            QueueUrl=stack.queues[queue],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def test_the_gateway_builds_rest_proxy_events(self, probe: Probe):
        stack, _ = probe
        # When an open greedy route is called with a query string, an encoded path and no body
        response = requests.get(
            f"{stack.api_url}/probe/a%20b/c?x=1&x=2&y=", timeout=30, headers={"User-Agent": "probe-agent"}
        )
        # Then the function gets API Gateway's v1 proxy event
        assert response.status_code == 200
        event = response.json()
        assert event["resource"] == "/probe/{proxy+}"
        assert event["path"] == "/probe/a b/c"
        assert event["httpMethod"] == "GET"
        assert event["pathParameters"] == {"proxy": "a b/c"}
        assert event["queryStringParameters"] == {"x": "2", "y": ""}
        assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
        assert event["headers"]["User-Agent"] == "probe-agent"
        assert event["multiValueHeaders"]["User-Agent"] == ["probe-agent"]
        assert event["stageVariables"] is None
        assert event["body"] is None and event["isBase64Encoded"] is False
        context = event["requestContext"]
        assert context["stage"] == "dev" and context["path"] == "/dev/probe/a b/c"
        assert context["resourcePath"] == "/probe/{proxy+}" and context["httpMethod"] == "GET"
        assert context["accountId"] == "123456789012" and context["requestId"]
        assert context["identity"]["sourceIp"] == "127.0.0.1"
        assert context["identity"]["userAgent"] == "probe-agent"
        assert "authorizer" not in context
        assert abs(context["requestTimeEpoch"] / 1000 - time.time()) < 60
        # And multi-value response headers come back as separate headers
        assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
        # And absent query strings are None; a binary body is base64-encoded
        posted = requests.post(f"{stack.api_url}/probe/bin", data=b"\xff\xfe\x00", timeout=30).json()
        assert posted["queryStringParameters"] is None and posted["multiValueQueryStringParameters"] is None
        assert posted["isBase64Encoded"] is True and base64.b64decode(posted["body"]) == b"\xff\xfe\x00"

    def test_authorized_routes_get_the_claims_as_strings(self, probe: Probe):
        stack, _ = probe
        response = requests.get(
            f"{stack.api_url}/whoami/1", headers=bearer(stack, "dana", admin=True), timeout=30
        )
        assert response.status_code == 200
        event = response.json()
        claims = event["requestContext"]["authorizer"]["claims"]
        assert event["pathParameters"] == {"item": "1"}
        assert claims["sub"] == user_sub("dana")
        assert claims["cognito:username"] == "dana" and claims["email"] == "dana@example.test"
        assert claims["cognito:groups"] == "admin"
        assert claims["token_use"] == "id" and claims["aud"] == CLIENT_ID
        assert all(isinstance(v, str) for v in claims.values())
        assert claims["exp"].endswith(time.strftime("%Y", time.gmtime())) and " UTC " in claims["exp"]


# ---------------------------------------------------------------------------- `make run`


def test_python_m_local_stack_prints_its_urls_and_stops_on_ctrl_c(tmp_path: Path):
    # Given `make run` with ephemeral ports and a temporary data directory
    env = {
        **os.environ,
        "MEDIA_LOCAL_AWS_PORT": "0",
        "MEDIA_LOCAL_API_PORT": "0",
        "MEDIA_LOCAL_DATA_DIR": str(tmp_path),
        "MEDIA_LOCAL_SCHEDULES": "0",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "local_stack"],
        cwd=REPO_ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        output = "".join(lines)
        api_url = next(line.split()[1] for line in lines if line.strip().startswith("API"))
        assert api_url.startswith("http://127.0.0.1:")
        assert "AWS endpoint" in output and "make token USER=alice" in output
        # When the API is used, then interrupted
        assert requests.get(f"{api_url}/nothing", timeout=30).status_code == 403
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        # Then it stops cleanly and says so
        assert proc.returncode == 0, output + rest
        assert "Local stack stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_gateway_serves_the_web_page_for_unrouted_gets(tmp_path: Path):
    # Given a web/ folder and a gateway with no API routes
    web = tmp_path / "web"
    (web / "js").mkdir(parents=True)
    (web / "index.html").write_text("<h1>media</h1>", encoding="utf-8")
    (web / "js" / "app.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    gateway = Gateway(0, web_dir=web)
    gateway.start([], Authorizer(SigningKey.load(tmp_path / "data").public_pem))
    try:
        # Then / and /web/... are static files with their content types, and nothing escapes web/
        index = requests.get(f"{gateway.url}/", timeout=30)
        assert index.status_code == 200 and index.text == "<h1>media</h1>"
        assert index.headers["Content-Type"].startswith("text/html")
        script = requests.get(f"{gateway.url}/web/js/app.js", timeout=30)
        assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
        assert requests.get(f"{gateway.url}/web/..%2Fsecret.txt", timeout=30).status_code == 403
        assert requests.post(f"{gateway.url}/", timeout=30).status_code == 403
    finally:
        gateway.stop()


@pytest.mark.e2e
def test_with_the_real_pollers_an_uploaded_photo_becomes_ready(tmp_path: Path):
    image = pytest.importorskip("PIL.Image")
    buffer = io.BytesIO()
    image.new("RGB", (640, 480), (200, 40, 40)).save(buffer, "JPEG")
    photo = buffer.getvalue()
    with running_stack(tmp_path) as stack:
        alice = bearer(stack, "alice")
        # Given alice uploads a real JPEG through the API and the presigned POST
        created = requests.post(
            f"{stack.api_url}/uploads",
            headers=alice,
            timeout=30,
            json={"filename": "red.jpg", "content_type": "image/jpeg", "size": len(photo)},
        ).json()
        upload = created["upload"]
        sent = requests.post(
            upload["url"], data=upload["fields"], timeout=30, files={"file": ("red.jpg", photo, "image/jpeg")}
        )
        assert sent.status_code in (200, 201, 204)

        # When the image queue's poller hands the S3 event to the template's image processor
        def settled() -> dict[str, Any] | None:
            url = f"{stack.api_url}/media/{created['media_id']}"
            view = requests.get(url, headers=alice, timeout=30).json()
            return view if view["status"] in ("ready", "failed") else None

        # Then the record ends up ready, with variants
        view = wait_for(settled, timeout=60, interval=0.3)
        assert view["status"] == "ready", view.get("failure_reason")
        assert view["variants"]
