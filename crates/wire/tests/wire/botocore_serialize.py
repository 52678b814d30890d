"""Serializes requests with botocore's own serializers (what boto3 and the AWS CLI send), so the
Rust side can check that decoding them gives back the canonical input.

Input on stdin: a JSON list of cases
  {"name", "service" | "model" (an inline service-2.json), "operation", "params": canonical input}
Output on stdout: a JSON list of {"name", "params": [[k, v], ...]} (query) or {"name", "body"} (json).
botocore's parameter validation is on, so an invalid canonical input fails loudly here.
"""
import base64
import datetime
import json
import sys

import botocore.model
import botocore.serialize
import botocore.session


def to_botocore(shape, value):
    """Canonical -> botocore parameter types (datetime for timestamps, bytes for blobs)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "timestamp":
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    if kind == "blob":
        return base64.b64decode(value)
    if kind == "structure":
        return {k: to_botocore(shape.members[k], v) for k, v in value.items()}
    if kind == "list":
        return [to_botocore(shape.member, v) for v in value]
    if kind == "map":
        return {k: to_botocore(shape.value, v) for k, v in value.items()}
    return value


def main():
    session = botocore.session.get_session()
    out = []
    for case in json.load(sys.stdin):
        if "model" in case:
            model = botocore.model.ServiceModel(case["model"], service_name="custom")
        else:
            model = session.get_service_model(case["service"])
        op = model.operation_model(case["operation"])
        params = to_botocore(op.input_shape, case["params"])
        serializer = botocore.serialize.create_serializer(model.protocol, include_validation=True)
        request = serializer.serialize_to_request(params, op)
        body = request["body"]
        if isinstance(body, dict):
            pairs = [[k, str(v) if not isinstance(v, str) else v] for k, v in body.items()]
            out.append({"name": case["name"], "params": pairs, "headers": dict(request["headers"])})
        else:
            if isinstance(body, bytes):
                body = body.decode()
            out.append({"name": case["name"], "body": body, "headers": dict(request["headers"])})
    json.dump(out, sys.stdout)


main()
