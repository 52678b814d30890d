"""STS temporary credentials: GetSessionToken, GetFederationToken, GetAccessKeyInfo, and the
authentication of ASIA keys with their session tokens."""
import datetime

import botocore.exceptions
import pytest


def test_get_session_token_credentials_authenticate(server):
    sts = server.client("sts")
    account = sts.get_caller_identity()["Account"]
    creds = sts.get_session_token()["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    remaining = creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    # Root sessions last at most an hour.
    assert datetime.timedelta(minutes=55) < remaining <= datetime.timedelta(hours=1, seconds=5)
    temp = server.client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"])
    ident = temp.get_caller_identity()
    assert ident["Account"] == account
    assert ident["Arn"] == f"arn:aws:iam::{account}:root"
    # Session credentials cannot mint more sessions.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        temp.get_session_token()
    assert e.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")


def test_root_session_duration_limit(server):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        server.client("sts").get_session_token(DurationSeconds=7200)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(botocore.exceptions.ParamValidationError):
        server.client("sts").get_session_token(DurationSeconds=10)


def test_session_token_is_bound_and_tamper_proof(server):
    creds = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    other = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    cases = {
        "missing token": dict(session_token=None),
        "token of another key": dict(session_token=other["SessionToken"]),
        "altered token": dict(session_token=creds["SessionToken"][:-8] + ("A" * 8 if not creds["SessionToken"].endswith("A" * 8) else "B" * 8)),
    }
    for name, kw in cases.items():
        c = server.client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], **kw)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            c.get_caller_identity()
        assert e.value.response["Error"]["Code"] == "InvalidClientTokenId", name
    # A long-term key presented with a session token is refused too.
    ak, sk = server.credentials()
    c = server.client("sts", access_key=ak, secret_key=sk, session_token=creds["SessionToken"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    # Wrong secret with a valid token: signature mismatch.
    c = server.client("sts", access_key=creds["AccessKeyId"], secret_key="q" * 40, session_token=creds["SessionToken"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_session_credentials_survive_restart(fresh_server):
    s = fresh_server().start()
    creds = s.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    s.stop()
    s.start()
    temp = s.client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"])
    assert temp.get_caller_identity()["Account"] == s.client("sts").get_caller_identity()["Account"]


def test_federation_token(server):
    sts = server.client("sts")
    account = sts.get_caller_identity()["Account"]
    out = sts.get_federation_token(Name="bob", DurationSeconds=900, Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}')
    assert out["FederatedUser"]["Arn"] == f"arn:aws:sts::{account}:federated-user/bob"
    assert out["FederatedUser"]["FederatedUserId"] == f"{account}:bob"
    assert 0 < out["PackedPolicySize"] < 100
    c = out["Credentials"]
    ident = server.client("sts", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"]).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{account}:federated-user/bob"
    assert ident["UserId"] == f"{account}:bob"


def test_get_access_key_info(server):
    sts = server.client("sts")
    account = sts.get_caller_identity()["Account"]
    ak, _ = server.credentials()
    assert sts.get_access_key_info(AccessKeyId=ak)["Account"] == account
    temp = sts.get_session_token(DurationSeconds=900)["Credentials"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=temp)["Account"] == account
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_access_key_info(AccessKeyId="AKIA0000000000000000")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_cli_get_session_token(server):
    import json
    out = json.loads(server.cli("--profile", "rampart", "sts", "get-session-token", "--duration-seconds", "900").stdout)
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_temporary_credentials_expire(fresh_server):
    from conftest import raw_request
    s = fresh_server(dev=True).start()
    creds = s.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    temp = s.client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"])
    temp.get_caller_identity()
    # --dev moves domain time; signatures are still checked against the wall clock.
    status, _, body = raw_request("POST", s.endpoint + "/_rampart/clock", {"content-type": "application/json"}, b'{"advanceSeconds": 901}')
    assert status == 200, body
    with pytest.raises(botocore.exceptions.ClientError) as e:
        temp.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "ExpiredToken"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s.client("sts").get_caller_identity()  # long-term keys are unaffected


def test_clock_endpoint_needs_dev(server):
    from conftest import raw_request
    status, _, _ = raw_request("POST", server.endpoint + "/_rampart/clock", {"content-type": "application/json"}, b'{"advanceSeconds": 901}')
    assert status != 200 and status < 500
