"""Parses Rampart's encoded responses with botocore's own response parsers (what boto3 and the
AWS CLI use) and checks the result equals the canonical value the encoder was given.

Input on stdin: a JSON list of cases
  {"name", "service", "operation", "protocol": "query"|"json", "status", "headers", "body",
   "expected": canonical output | null, "error": {"Code", "Message"} | null, "request_id"}
Prints one line per failing case and exits 1 if any failed.
"""
import base64
import datetime
import json
import sys

import botocore.model
import botocore.parsers
import botocore.session


def canonical(value):
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-6
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main():
    cases = json.load(sys.stdin)
    session = botocore.session.get_session()
    failures = 0
    for case in cases:
        if "model" in case:
            model = botocore.model.ServiceModel(case["model"], service_name="custom")
        else:
            model = session.get_service_model(case["service"])
        op = model.operation_model(case["operation"])
        parser = botocore.parsers.create_parser(model.protocol)
        body = case["body"].encode() if "body_base64" not in case else base64.b64decode(case["body_base64"])
        response = {
            "status_code": case["status"],
            "headers": {k.lower(): v for k, v in case["headers"]},
            "body": body,
        }
        try:
            parsed = parser.parse(response, op.output_shape if case["error"] is None else None)
        except Exception as e:  # noqa: BLE001 - any parser failure is a failed case
            print(f"{case['name']}: botocore could not parse: {e!r}")
            failures += 1
            continue
        metadata = parsed.pop("ResponseMetadata", {})
        if metadata.get("RequestId") != case["request_id"]:
            print(f"{case['name']}: RequestId {metadata.get('RequestId')!r} != {case['request_id']!r}")
            failures += 1
        if case["error"] is not None:
            got = parsed.get("Error", {})
            want = case["error"]
            if got.get("Code") != want["Code"] or got.get("Message") != want["Message"]:
                print(f"{case['name']}: error {got!r} != {want!r}")
                failures += 1
            continue
        got = canonical(parsed)
        if not same(got, case["expected"]):
            print(f"{case['name']}: parsed {json.dumps(got, sort_keys=True)}\n   expected {json.dumps(case['expected'], sort_keys=True)}")
            failures += 1
    print(f"{len(cases)} cases, {failures} failed")
    sys.exit(1 if failures else 0)


main()
