"""AssumeRoleWithWebIdentity against a local OpenID Connect issuer served over HTTPS with a
self-signed certificate (trusted through the IAM provider's SHA-1 thumbprint, as AWS does)."""
import base64
import datetime
import hashlib
import http.server
import json
import ssl
import threading
import time

import botocore
import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    def __init__(self, tmp_path):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tls_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        import ipaddress
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(tls_key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .sign(tls_key, hashes.SHA256()))
        self.thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(tls_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        issuer = self
        numbers = self.key.public_key().public_numbers()
        self.jwks = {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
                               "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                               "e": b64url(numbers.e.to_bytes(3, "big"))}]}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys":
                    body = issuer.jwks
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path, key_path)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.url = f"https://{self.host}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def token(self, sub="repo:acme/app:ref:refs/heads/main", aud="sts.amazonaws.com", exp_in=600, key=None, kid="k1", iss=None):
        header = {"alg": "RS256", "typ": "JWT", "kid": kid}
        now = int(time.time())
        claims = {"iss": iss or self.url, "sub": sub, "aud": aud, "iat": now, "exp": now + exp_in}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}".encode()
        sig = (key or self.key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{b64url(sig)}"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    i = Issuer(tmp_path_factory.mktemp("oidc"))
    yield i
    i.httpd.shutdown()


def unsigned_sts(server):
    import boto3
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))


def test_assume_role_with_web_identity(server, issuer):
    iam = server.client("iam")
    account = server.client("sts").get_caller_identity()["Account"]
    provider = iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[issuer.thumbprint])["OpenIDConnectProviderArn"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {f"{issuer.host}:aud": "sts.amazonaws.com"}, "StringLike": {f"{issuer.host}:sub": "repo:acme/app:*"}}}]}
    role_arn = iam.create_role(RoleName="GithubDeploy", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="GithubDeploy", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}))
    sts = unsigned_sts(server)

    out = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ci", WebIdentityToken=issuer.token(), DurationSeconds=900)
    assert out["SubjectFromWebIdentityToken"] == "repo:acme/app:ref:refs/heads/main"
    assert out["Audience"] == "sts.amazonaws.com"
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/GithubDeploy/ci"
    c = out["Credentials"]
    session = server.client("iam", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])
    assert [r["RoleName"] for r in session.list_roles()["Roles"] if r["RoleName"] == "GithubDeploy"]

    def refused(token, code):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ci", WebIdentityToken=token)
        assert e.value.response["Error"]["Code"] == code, e.value.response
        return e.value.response["Error"]["Message"]

    refused(issuer.token(sub="repo:evil/app:ref:refs/heads/main"), "AccessDenied")  # trust condition
    refused(issuer.token(aud="someone-else"), "InvalidIdentityToken")  # not a client id of the provider
    refused(issuer.token(exp_in=-3600), "ExpiredTokenException")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(issuer.token(key=other_key), "InvalidIdentityToken")  # forged signature
    refused(issuer.token(iss="https://127.0.0.1:1"), "InvalidIdentityToken")  # unknown provider
    refused("not.a.jwt", "InvalidIdentityToken")
    # Tampered claims with the original signature.
    good = issuer.token()
    h, p, s = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims["sub"] = "repo:acme/app:other"
    refused(f"{h}.{b64url(json.dumps(claims).encode())}.{s}", "InvalidIdentityToken")


def test_web_identity_refuses_an_unregistered_certificate(fresh_server, issuer):
    s = fresh_server().start()
    iam = s.client("iam")
    provider = iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity"}]}
    role_arn = iam.create_role(RoleName="R", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        unsigned_sts(s).assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ci", WebIdentityToken=issuer.token())
    assert e.value.response["Error"]["Code"] == "IDPCommunicationError"
    # Registering the right thumbprint makes the same token work.
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=provider, ThumbprintList=[issuer.thumbprint])
    out = unsigned_sts(s).assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ci", WebIdentityToken=issuer.token())
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
