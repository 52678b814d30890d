"""The audit hook: one CloudTrail-shaped event per request (success, error, authentication
failure), sensitive members redacted, stored durably in a hash chain."""
import base64
import json

import botocore.exceptions
import pytest

from conftest import raw_request, sign

SECRET_PLAINTEXT = b"correct horse battery staple 0xC0FFEE"


def export(server):
    out = server.rampart("audit", "export")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_every_request_is_audited_once_with_redaction(fresh_server):
    s = fresh_server("--account-id", "210987654321").start()
    ak, sk = s.credentials()
    sts = s.client("sts")
    ids = [sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(3)]
    with pytest.raises(botocore.exceptions.ClientError):
        s.client("sts", secret_key="z" * 40).get_caller_identity()
    # A KMS call whose input carries a sensitive member (Plaintext); the alias does not exist,
    # so it fails, and is audited all the same.
    url = s.endpoint + "/"
    body = json.dumps({"KeyId": "alias/app", "Plaintext": base64.b64encode(SECRET_PLAINTEXT).decode()}).encode()
    headers = {"content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Encrypt"}
    status, _, kms_body = raw_request("POST", url, sign("POST", url, headers, body, ak, sk, "kms"), body)
    assert 400 <= status < 600 and status != 500, kms_body
    kms_error = json.loads(kms_body)["__type"].split("#")[-1]
    status, _, _ = raw_request("POST", url, {"content-type": "application/x-www-form-urlencoded"}, b"Action=GetCallerIdentity&Version=2011-06-15")
    assert status == 403
    assert s.stop() == 0

    events = export(s)
    assert len(events) == 6, [e["eventName"] for e in events]
    ok = [e for e in events if e["eventName"] == "GetCallerIdentity" and "errorCode" not in e]
    assert sorted(e["requestID"] for e in ok) == sorted(ids)
    for e in ok:
        assert e["eventVersion"] == "1.09"
        assert e["eventSource"] == "sts.amazonaws.com"
        assert e["eventType"] == "AwsApiCall"
        assert e["readOnly"] is True
        assert e["awsRegion"] == "us-east-1"
        assert e["recipientAccountId"] == "210987654321"
        assert e["userIdentity"]["type"] == "Root"
        assert e["userIdentity"]["arn"] == "arn:aws:iam::210987654321:root"
        assert e["userIdentity"]["accessKeyId"] == ak
        assert e["sourceIPAddress"] == "127.0.0.1"
        assert "Boto3" in e["userAgent"] or "botocore" in e["userAgent"]
        assert e["responseElements"]["Account"] == "210987654321"
        assert len({e["eventID"] for e in ok}) == len(ok)
    bad_sig = [e for e in events if e.get("errorCode") == "SignatureDoesNotMatch"]
    assert len(bad_sig) == 1 and bad_sig[0]["userIdentity"]["type"] == "Unknown"
    assert bad_sig[0]["userIdentity"]["accessKeyId"] == ak
    unsigned = [e for e in events if e.get("errorCode") == "MissingAuthenticationToken"]
    assert len(unsigned) == 1
    kms = [e for e in events if e["eventSource"] == "kms.amazonaws.com"]
    assert len(kms) == 1
    assert kms[0]["eventName"] == "Encrypt" and kms[0]["errorCode"] == kms_error
    assert kms[0]["requestParameters"]["KeyId"] == "alias/app"
    assert kms[0]["requestParameters"]["Plaintext"] == "HIDDEN_DUE_TO_SECURITY_REASONS"

    # No secret anywhere Rampart wrote: the audit trail, the logs, the store.
    everything = json.dumps(events)
    assert base64.b64encode(SECRET_PLAINTEXT).decode() not in everything
    assert sk not in everything
    stderr = "".join(p.read_text() for p in s.workdir.glob("stderr.*.log"))
    assert base64.b64encode(SECRET_PLAINTEXT).decode() not in stderr and sk not in stderr
    for p in (f for f in s.data_dir.rglob("*") if f.is_file()):
        data = p.read_bytes()
        assert base64.b64encode(SECRET_PLAINTEXT) not in data and SECRET_PLAINTEXT not in data, p.name
        if p.name != "credentials":
            assert sk.encode() not in data, p.name


def test_audit_survives_restart_and_the_chain_continues(fresh_server):
    s = fresh_server().start()
    s.client("sts").get_caller_identity()
    s.stop()
    s.start()
    s.client("sts").get_caller_identity()
    s.stop()
    events = export(s)
    assert [e["eventName"] for e in events] == ["GetCallerIdentity", "GetCallerIdentity"]
