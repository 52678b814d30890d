"""HTTPS with --tls-cert/--tls-key: real clients verify the server's certificate, requests see
aws:SecureTransport = true, and CloudTrail records tlsDetails."""
import datetime
import ipaddress
import json
import subprocess
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import conftest


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def test_https_with_verified_certificate_secure_transport_and_tls_details(tmp_path):
    cert, key = self_signed(tmp_path)
    s = conftest.Server(tmp_path / "srv", "--tls-cert", str(cert), "--tls-key", str(key))
    s.workdir.mkdir(parents=True, exist_ok=True)
    endpoint = f"https://127.0.0.1:{s.port}"
    # Start by hand: the fixture's health check speaks plain HTTP.
    s.stdout_path, s.stderr_path = s.workdir / "stdout.1.log", s.workdir / "stderr.1.log"
    s.proc = subprocess.Popen([conftest.rampart_bin(), "serve", "--listen", f"127.0.0.1:{s.port}", "--data-dir", str(s.data_dir),
                               "--tls-cert", str(cert), "--tls-key", str(key), "--log-format", "json"],
                              stdout=open(s.stdout_path, "wb"), stderr=open(s.stderr_path, "wb"))
    try:
        ak = sk = None
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                ak, sk = s.credentials()
                sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ak,
                                   aws_secret_access_key=sk, verify=str(cert), config=botocore.config.Config(retries={"max_attempts": 1}))
                account = sts.get_caller_identity()["Account"]
                break
            except Exception:
                time.sleep(0.1)
        else:
            raise AssertionError("the TLS server did not answer: " + s.stderr_path.read_text())
        # An unverified client is refused by the client itself, as with AWS.
        with pytest.raises(botocore.exceptions.SSLError):
            boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ak, aws_secret_access_key=sk,
                         config=botocore.config.Config(retries={"max_attempts": 1})).get_caller_identity()
        # aws:SecureTransport is true over TLS.
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ak, aws_secret_access_key=sk, verify=str(cert))
        iam.create_user(UserName="tls-user")
        iam.put_user_policy(UserName="tls-user", PolicyName="tls-only", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}))
        k = iam.create_access_key(UserName="tls-user")["AccessKey"]
        user = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=k["AccessKeyId"],
                            aws_secret_access_key=k["SecretAccessKey"], verify=str(cert))
        assert any(u["UserName"] == "tls-user" for u in user.list_users()["Users"])
    finally:
        s.stop()
    out = s.rampart("audit", "export")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    gci = [e for e in events if e["eventName"] == "GetCallerIdentity" and "errorCode" not in e]
    assert gci, [e["eventName"] for e in events]
    tls = gci[0]["tlsDetails"]
    assert tls["tlsVersion"] in ("TLSv1.2", "TLSv1.3")
    assert tls["cipherSuite"].startswith("TLS_")
    assert tls["clientProvidedHostHeader"] == f"127.0.0.1:{s.port}"
    assert account


def test_tls_options_must_come_together(tmp_path):
    out = subprocess.run([conftest.rampart_bin(), "serve", "--data-dir", str(tmp_path / "d"), "--tls-cert", str(tmp_path / "missing.pem")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "--tls-key" in out.stderr
