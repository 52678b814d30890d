"""The foundation: the binary, bootstrap, SigV4 authentication, the wire protocols and their
errors, driven with boto3, the AWS CLI and plain HTTP."""
import datetime
import json
import os
import re
import signal
import stat
import urllib.request

import botocore.exceptions
import pytest

from conftest import REGION, raw_request, sign

STS_FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
GCI_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def account_of(server):
    return server.client("sts").get_caller_identity()["Account"]


# --- Happy paths with real clients -------------------------------------------------------------

def test_health_needs_no_auth(server):
    status, _, body = raw_request("GET", server.endpoint + "/_rampart/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_boto3_get_caller_identity_is_root(server):
    ident = server.client("sts").get_caller_identity()
    account = ident["Account"]
    assert re.fullmatch(r"[1-9]\d{11}", account)
    assert ident["Arn"] == f"arn:aws:iam::{account}:root"
    assert ident["UserId"] == account
    assert ident["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert re.fullmatch(r"[0-9a-f-]{36}", ident["ResponseMetadata"]["RequestId"])


def test_aws_cli_with_the_written_profile(server):
    # Only the files rampart wrote: credentials + config (region and endpoint_url).
    out = server.cli("--profile", "rampart", "sts", "get-caller-identity", "--output", "json")
    ident = json.loads(out.stdout)
    assert ident["Arn"] == f"arn:aws:iam::{account_of(server)}:root"
    out = server.cli("--profile", "rampart", "--endpoint-url", server.endpoint, "--region", "eu-west-1", "sts", "get-caller-identity")
    assert json.loads(out.stdout)["Account"] == ident["Account"]


def test_presigned_url_with_plain_urllib(server):
    # As EKS tokens and Vault do: sign for GET (boto3 defaults to the operation's POST).
    url = server.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as r:
        body = r.read().decode()
        assert r.status == 200
    assert f"<Arn>arn:aws:iam::{account_of(server)}:root</Arn>" in body
    assert "<GetCallerIdentityResponse" in body and "<RequestId>" in body


def test_query_response_carries_request_ids(server):
    ak, sk = server.credentials()
    url = server.endpoint + "/"
    status, headers, body = raw_request("POST", url, sign("POST", url, STS_FORM, GCI_BODY, ak, sk, "sts"), GCI_BODY)
    assert status == 200, body
    rid = {k.lower(): v for k, v in headers.items()}["x-amzn-requestid"]
    assert f"<RequestId>{rid}</RequestId>" in body.decode()


# --- Authentication failures ---------------------------------------------------------------------

def test_wrong_secret_is_signature_does_not_match(server):
    ak, sk = server.credentials()
    sts = server.client("sts", access_key=ak, secret_key="x" * 40)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert error_code(e) == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert sk not in str(e.value.response)


def test_unknown_key_is_invalid_client_token_id(server):
    sts = server.client("sts", access_key="AKIAIOSFODNN7EXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key_on_a_json_service_is_unrecognized_client(server):
    kms = server.client("kms", access_key="AKIAIOSFODNN7EXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.list_keys()
    assert error_code(e) == "UnrecognizedClientException"


@pytest.mark.parametrize("skew_minutes", [-20, 20])
def test_skewed_clock_is_rejected(server, skew_minutes):
    ak, sk = server.credentials()
    url = server.endpoint + "/"
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=skew_minutes)
    status, _, body = raw_request("POST", url, sign("POST", url, STS_FORM, GCI_BODY, ak, sk, "sts", when=when), GCI_BODY)
    assert status == 403, body
    text = body.decode()
    assert "<Code>SignatureDoesNotMatch</Code>" in text
    assert "Signature expired" in text or "Signature not yet current" in text


def test_small_skew_is_accepted(server):
    ak, sk = server.credentials()
    url = server.endpoint + "/"
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    status, _, body = raw_request("POST", url, sign("POST", url, STS_FORM, GCI_BODY, ak, sk, "sts", when=when), GCI_BODY)
    assert status == 200, body


def test_expired_presigned_url_is_rejected(server):
    ak, sk = server.credentials()
    # Presign in the past: X-Amz-Date one hour ago, X-Amz-Expires 60 s.
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    creds = botocore.credentials.Credentials(ak, sk)
    req = botocore.awsrequest.AWSRequest(method="GET", url=server.endpoint + "/?Action=GetCallerIdentity&Version=2011-06-15")
    signer = botocore.auth.SigV4QueryAuth(creds, "sts", REGION, expires=60)
    real = datetime.datetime

    class PastDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return real.utcnow() - datetime.timedelta(hours=1)

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) - datetime.timedelta(hours=1)

    orig = botocore.auth.datetime.datetime
    botocore.auth.datetime.datetime = PastDatetime
    try:
        signer.add_auth(req)
    finally:
        botocore.auth.datetime.datetime = orig
    status, _, body = raw_request("GET", req.url)
    assert status in (400, 403), body
    assert b"expired" in body.lower()


def test_unsigned_request_is_missing_authentication_token(server):
    status, _, body = raw_request("POST", server.endpoint + "/", STS_FORM, GCI_BODY)
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in body


def test_tampered_body_is_rejected(server):
    ak, sk = server.credentials()
    url = server.endpoint + "/"
    headers = sign("POST", url, STS_FORM, GCI_BODY, ak, sk, "sts")
    status, _, body = raw_request("POST", url, headers, GCI_BODY + b"&X=1")
    assert status == 403 and b"SignatureDoesNotMatch" in body


# --- Protocol errors: the right code, never a 500 -------------------------------------------------

def signed_json(server, target, body, service="kms"):
    ak, sk = server.credentials()
    url = server.endpoint + "/"
    headers = {"content-type": "application/x-amz-json-1.1", "x-amz-target": target}
    return raw_request("POST", url, sign("POST", url, headers, body, ak, sk, service), body)


def test_malformed_json_is_serialization_exception(server):
    status, headers, body = signed_json(server, "TrentService.Encrypt", b"{not json")
    assert status == 400, body
    assert json.loads(body)["__type"].endswith("SerializationException")
    assert {k.lower() for k in headers} >= {"x-amzn-requestid"}


def test_wrong_target_is_unknown_operation(server):
    status, _, body = signed_json(server, "TrentService.NoSuchOperation", b"{}")
    assert status == 400, body
    assert json.loads(body)["__type"].endswith("UnknownOperationException")


def test_modelled_but_unbuilt_operation_is_not_implemented(server):
    # Custom key stores (CloudHSM-backed KMS) are modelled but not built.
    status, _, body = signed_json(server, "TrentService.ConnectCustomKeyStore", b"{\"CustomKeyStoreId\": \"cks-1234567890abcdef0\"}")
    assert status == 501, body
    assert json.loads(body)["__type"].endswith("NotImplemented")


def test_validation_error_from_the_model(server):
    # KeyId is required for Encrypt and Plaintext must be base64.
    status, _, body = signed_json(server, "TrentService.Encrypt", b'{"Plaintext": "aGVsbG8="}')
    assert status == 400, body
    err = json.loads(body)
    assert err["__type"].endswith("ValidationException")
    assert "keyId" in (err.get("message") or err.get("Message"))


def test_oversized_body_is_413(server):
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    status, _, body = signed_json(server, "TrentService.Encrypt", big)
    assert status == 413


def test_garbage_query_params_never_500(server):
    ak, sk = server.credentials()
    url = server.endpoint + "/"
    for junk in [b"Action=GetCallerIdentity&Version=2011-06-15&Foo.member.99999999999=x",
                 b"Action=GetCallerIdentity&Version=2011-06-15&%ZZ=%ZZ&&&=",
                 b"Action=NoSuchAction&Version=2011-06-15",
                 b"Action=&Version=",
                 b"\xff\xfe\x00garbage"]:
        status, _, body = raw_request("POST", url, sign("POST", url, STS_FORM, junk, ak, sk, "sts"), junk)
        assert status < 500, (junk, body)
        if b"NoSuchAction" in junk:
            assert b"<Code>InvalidAction</Code>" in body


# --- Bootstrap, restart, files -------------------------------------------------------------------

def test_first_start_prints_the_secret_once_and_restart_keeps_everything(fresh_server):
    s = fresh_server("--account-id", "123456789012").start()
    ak, sk = s.credentials()
    assert sk in s.stdout(), "first start prints the root secret"
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", ak) and len(sk) == 40
    assert s.client("sts").get_caller_identity()["Account"] == "123456789012"
    # Files are private.
    assert stat.S_IMODE(os.stat(s.data_dir).st_mode) == 0o700
    for f in ("master.key", "credentials"):
        assert stat.S_IMODE(os.stat(s.data_dir / f).st_mode) == 0o600, f
    assert len((s.data_dir / "master.key").read_bytes()) == 32
    creds_before = (s.data_dir / "credentials").read_text()
    assert s.stop() == 0, "graceful SIGTERM exits 0"

    s.start()
    assert sk not in s.stdout(), "later starts never print the secret"
    assert (s.data_dir / "credentials").read_text() == creds_before
    assert s.client("sts").get_caller_identity()["Account"] == "123456789012"
    # The secret is stored sealed, never in plain text.
    for p in (f for f in s.data_dir.rglob("*") if f.is_file()):
        if p.name != "credentials":
            assert sk.encode() not in p.read_bytes(), p.name
    s.stop(signal.SIGINT)
    assert s.proc.returncode == 0


def test_version_flag():
    import subprocess
    from conftest import rampart_bin
    out = subprocess.run([rampart_bin(), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("rampart ")


def test_no_secret_in_logs(server):
    server.client("sts").get_caller_identity()
    _, sk = server.credentials()
    logs = server.all_logs()
    # The secret appears once on stdout at first start (by design) and nowhere in the logs.
    stderr = "".join(p.read_text() for p in server.workdir.glob("stderr.*.log"))
    assert stderr, "the server logs something"
    assert sk not in stderr
    assert logs.count(sk) == 1


# --- Development mode ----------------------------------------------------------------------------

def test_dev_mode_accepts_unknown_keys_as_root(dev_server):
    sts = dev_server.client("sts", access_key="AKIAANYTHINGATALL123", secret_key="whatever")
    ident = sts.get_caller_identity()
    assert ident["Account"] == "111122223333"
    assert ident["Arn"] == "arn:aws:iam::111122223333:root"
    assert "DEVELOPMENT MODE" in "".join(p.read_text() for p in dev_server.workdir.glob("stderr.*.log"))


def test_dev_mode_still_verifies_known_keys(dev_server):
    ak, _ = dev_server.credentials()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        dev_server.client("sts", access_key=ak, secret_key="y" * 40).get_caller_identity()
    assert error_code(e) == "SignatureDoesNotMatch"


def test_dev_reset_keeps_account_and_credentials(dev_server):
    status, _, body = raw_request("POST", dev_server.endpoint + "/_rampart/reset")
    assert status == 200, body
    assert dev_server.client("sts").get_caller_identity()["Account"] == "111122223333"


def test_reset_does_not_exist_without_dev(server):
    status, _, body = raw_request("POST", server.endpoint + "/_rampart/reset")
    assert status != 200
    assert status < 500
    assert server.client("sts").get_caller_identity()["Account"] == account_of(server)


@pytest.mark.parametrize("authorization", [
    "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abcd",
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20150830/us-east-1/sts/aws4_request, Signature=00",
    "AWS4-HMAC-SHA256 garbage",
])
def test_malformed_authorization_is_incomplete_signature(server, authorization):
    headers = dict(STS_FORM)
    headers["Authorization"] = authorization
    headers["X-Amz-Date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    status, _, body = raw_request("POST", server.endpoint + "/", headers, GCI_BODY)
    assert 400 <= status < 500, body
    assert b"<Code>IncompleteSignature</Code>" in body, body
