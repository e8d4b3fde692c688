"""cloudfront/deny_unsigned.js (the default behaviour without a key pair) refuses every request:
run by node on requests for private variants, signed or not, and on odd paths."""

from __future__ import annotations

import json
import subprocess

from tests.unit.delivery.test_accept import CLOUDFRONT, node_binary

REQUESTS = [
    {"uri": "/media/alice/" + "a" * 32 + "/run1/small.jpg", "querystring": {}},
    {
        "uri": "/media/alice/" + "a" * 32 + "/run1/small.jpg",
        "querystring": {"Expires": {"value": "9999999999"}, "Signature": {"value": "x"}},
    },
    {"uri": "/originals/alice/x.jpg", "querystring": {}},
    {"uri": "/", "querystring": {}},
]


def test_every_request_of_the_default_behaviour_gets_403_and_no_store() -> None:
    script = """
const vm = require('node:vm'); const fs = require('node:fs');
const ctx = vm.createContext({}); vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), ctx);
const requests = JSON.parse(process.argv[2]);
process.stdout.write(JSON.stringify(requests.map(r => ctx.handler({request: {...r, headers: {}}}))));
"""
    run = subprocess.run(
        [node_binary(), "-e", script, str(CLOUDFRONT / "deny_unsigned.js"), json.dumps(REQUESTS)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    answers = json.loads(run.stdout)
    assert len(answers) == len(REQUESTS)
    for answer in answers:
        # A response, not the request: CloudFront answers it without the cache or the origin
        assert answer["statusCode"] == 403 and "uri" not in answer
        assert answer["headers"]["cache-control"] == {"value": "no-store"}
        assert "signed URL" in answer["body"]["data"]
