"""AssumeRoleWithSAML against an identity provider made up here: an RSA key and self-signed
certificate (Python's `cryptography`), metadata uploaded with `iam.create_saml_provider`, and
SAML responses signed by signxml (an independent XML-DSig implementation) or by a small signer
built on lxml's canonicalization (for RSA-SHA1, comments, assertion-level signatures). The
request is unsigned, as botocore sends it."""
import base64
import datetime
import hashlib
import json
import uuid

import botocore
import botocore.config
import botocore.exceptions
import boto3
import pytest
import signxml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SIGNIN = "https://signin.aws.amazon.com/saml"
ENTITY = "https://idp.example.com/saml"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Idp:
    def __init__(self, cn="idp.example.com"):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=365)).sign(self.key, hashes.SHA256()))

    def cert_b64(self):
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()

    def metadata(self):
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{ENTITY}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="{DS}"><ds:X509Data><ds:X509Certificate>{self.cert_b64()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def response(roles, session_name="alice@example.com", audience=SIGNIN, recipient=SIGNIN, valid_for=300, age=0,
             subject="alice", extra_attributes=(), session_not_on_or_after=None):
    """A SAML Response (unsigned) with AWS's attributes. `roles` are `role,provider` values."""
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=age)
    issue, until = iso(now), iso(now + datetime.timedelta(seconds=valid_for))
    attrs = [("https://aws.amazon.com/SAML/Attributes/Role", list(roles))]
    if session_name is not None:
        attrs.append(("https://aws.amazon.com/SAML/Attributes/RoleSessionName", [session_name]))
    attrs.extend(extra_attributes)
    attr_xml = "".join(
        f'<saml:Attribute Name="{n}">' + "".join(f'<saml:AttributeValue xsi:type="xs:string">{v}</saml:AttributeValue>' for v in vs) + "</saml:Attribute>"
        for n, vs in attrs)
    session_attr = f' SessionNotOnOrAfter="{iso(session_not_on_or_after)}"' if session_not_on_or_after else ""
    rid, aid = "_" + uuid.uuid4().hex, "_" + uuid.uuid4().hex
    return f"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="{SAML}" ID="{rid}" Version="2.0" IssueInstant="{issue}" Destination="{SIGNIN}">
  <saml:Issuer>{ENTITY}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{aid}" Version="2.0" IssueInstant="{issue}">
    <saml:Issuer>{ENTITY}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{subject}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{until}" Recipient="{recipient}"/></saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{issue}" NotOnOrAfter="{until}"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{issue}"{session_attr}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
    <saml:AttributeStatement>{attr_xml}</saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""


def sign_with_signxml(xml, idp):
    """The whole Response signed by signxml: exclusive C14N, RSA-SHA256, SHA-256."""
    root = etree.fromstring(xml.encode())
    root.insert(1, etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS}))
    key_pem = idp.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    signed = signxml.XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        root, key=key_pem, cert=idp.cert.public_bytes(serialization.Encoding.PEM).decode(), reference_uri=root.get("ID"), id_attribute="ID")
    return etree.tostring(signed).decode()


def sign_assertion_sha1(xml, idp):
    """The Assertion signed with RSA-SHA1 / SHA-1 and exclusive C14N with comments (what older
    ADFS setups send), by hand on lxml's canonicalization."""
    root = etree.fromstring(xml.encode())
    el = root.find(f"{{{SAML}}}Assertion")
    c14n = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"

    def canon(e):
        return etree.tostring(e, method="c14n", exclusive=True, with_comments=True)

    digest = base64.b64encode(hashlib.sha1(canon(el)).digest()).decode()
    sig = etree.Element(f"{{{DS}}}Signature", nsmap={"ds": DS})
    si = etree.SubElement(sig, f"{{{DS}}}SignedInfo")
    etree.SubElement(si, f"{{{DS}}}CanonicalizationMethod", Algorithm=c14n)
    etree.SubElement(si, f"{{{DS}}}SignatureMethod", Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    ref = etree.SubElement(si, f"{{{DS}}}Reference", URI="#" + el.get("ID"))
    tr = etree.SubElement(ref, f"{{{DS}}}Transforms")
    etree.SubElement(tr, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    etree.SubElement(tr, f"{{{DS}}}Transform", Algorithm=c14n)
    etree.SubElement(ref, f"{{{DS}}}DigestMethod", Algorithm="http://www.w3.org/2000/09/xmldsig#sha1")
    etree.SubElement(ref, f"{{{DS}}}DigestValue").text = digest
    sv = etree.SubElement(sig, f"{{{DS}}}SignatureValue")
    el.insert(1, sig)
    sv.text = base64.b64encode(idp.key.sign(canon(si), padding.PKCS1v15(), hashes.SHA1())).decode()
    return etree.tostring(root).decode()


def b64(xml):
    return base64.b64encode(xml.encode()).decode()


def unsigned_sts(server):
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def setup(server):
    """A SAML provider and a role trusting it (`saml:aud` must be the sign-in endpoint), with a
    permission to list roles."""
    iam = server.client("iam")
    account = server.client("sts").get_caller_identity()["Account"]
    idp = Idp()
    name = "Idp" + uuid.uuid4().hex[:8]
    provider = iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata())["SAMLProviderArn"]
    role_name = "SamlRole" + uuid.uuid4().hex[:8]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
             "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"], "Condition": {"StringEquals": {"SAML:aud": SIGNIN}}}]}
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"},
                                                {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
                                                 "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]}))
    return {"iam": iam, "account": account, "idp": idp, "name": name, "provider": provider, "role": role, "role_name": role_name}


def session_client(server, out, service="iam"):
    c = out["Credentials"]
    return server.client(service, access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])


def test_assume_role_with_saml_signed_response(server, setup):
    sts = unsigned_sts(server)
    pair = f"{setup['role']},{setup['provider']}"
    out = sts.assume_role_with_saml(RoleArn=setup["role"], PrincipalArn=setup["provider"],
                                    SAMLAssertion=b64(sign_with_signxml(response([pair]), setup["idp"])), DurationSeconds=900)
    account = setup["account"]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/{setup['role_name']}/alice@example.com"
    assert out["Subject"] == "alice"
    assert out["SubjectType"] == "persistent"
    assert out["Issuer"] == ENTITY
    assert out["Audience"] == SIGNIN
    expected_qualifier = base64.b64encode(hashlib.sha1(f"{ENTITY}{account}/{setup['name']}".encode()).digest()).decode()
    assert out["NameQualifier"] == expected_qualifier
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    lifetime = out["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert 800 < lifetime.total_seconds() <= 900
    iam = session_client(server, out)
    assert any(r["RoleName"] == setup["role_name"] for r in iam.list_roles()["Roles"])
    who = session_client(server, out, "sts").get_caller_identity()
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]
    # No PrincipalTag attribute: the tag-conditioned permission does not apply.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_users()
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def test_assertion_signed_with_rsa_sha1_and_comments_and_provider_first_pair(server, setup):
    sts = unsigned_sts(server)
    pair = f"{setup['provider']},{setup['role']}"  # either order is accepted
    xml = sign_assertion_sha1(response([pair], extra_attributes=[("https://aws.amazon.com/SAML/Attributes/PrincipalTag:team", ["blue"])]), setup["idp"])
    out = sts.assume_role_with_saml(RoleArn=setup["role"], PrincipalArn=setup["provider"], SAMLAssertion=b64(xml))
    # The session carries the PrincipalTag attribute as a session tag.
    assert session_client(server, out).list_users()["Users"] is not None


def test_session_ends_by_session_not_on_or_after(server, setup):
    sts = unsigned_sts(server)
    pair = f"{setup['role']},{setup['provider']}"
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1200)
    out = sts.assume_role_with_saml(RoleArn=setup["role"], PrincipalArn=setup["provider"], DurationSeconds=3600,
                                    SAMLAssertion=b64(sign_with_signxml(response([pair], session_not_on_or_after=end), setup["idp"])))
    assert abs((out["Credentials"]["Expiration"] - end).total_seconds()) <= 5
    # Above the role's maximum (one hour) the request fails, whatever SessionNotOnOrAfter says.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_saml(RoleArn=setup["role"], PrincipalArn=setup["provider"], DurationSeconds=7200,
                                  SAMLAssertion=b64(sign_with_signxml(response([pair], session_not_on_or_after=end), setup["idp"])))
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_session_policy_narrows_and_malformed_policy_is_refused(server, setup):
    sts = unsigned_sts(server)
    pair = f"{setup['role']},{setup['provider']}"
    deny_all = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
    out = sts.assume_role_with_saml(RoleArn=setup["role"], PrincipalArn=setup["provider"], Policy=deny_all,
                                    SAMLAssertion=b64(sign_with_signxml(response([pair]), setup["idp"])))
    assert out["PackedPolicySize"] > 0
    with pytest.raises(botocore.exceptions.ClientError) as e:
        session_client(server, out).list_roles()
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_saml(RoleArn=setup["role"], PrincipalArn=setup["provider"], Policy="{not json",
                                  SAMLAssertion=b64(sign_with_signxml(response([pair]), setup["idp"])))
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"


def test_the_cli_assumes_the_role(server, setup):
    pair = f"{setup['role']},{setup['provider']}"
    assertion = b64(sign_with_signxml(response([pair]), setup["idp"]))
    p = server.cli("sts", "assume-role-with-saml", "--endpoint-url", server.endpoint, "--role-arn", setup["role"],
                   "--principal-arn", setup["provider"], "--saml-assertion", assertion, "--output", "json")
    assert json.loads(p.stdout)["Subject"] == "alice"


def test_refusals(server, setup):
    sts = unsigned_sts(server)
    idp = setup["idp"]
    pair = f"{setup['role']},{setup['provider']}"

    def refused(assertion, code, role=None, provider=None):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_saml(RoleArn=role or setup["role"], PrincipalArn=provider or setup["provider"], SAMLAssertion=assertion)
        r = e.value.response
        assert r["ResponseMetadata"]["HTTPStatusCode"] < 500, r
        assert r["Error"]["Code"] == code, r
        return r["Error"]["Message"]

    good = sign_with_signxml(response([pair]), idp)
    # Tampered attribute after signing: the role attribute points elsewhere.
    tampered = good.replace("alice@example.com", "mallory@example.com")
    assert tampered != good
    assert refused(b64(tampered), "InvalidIdentityToken") == "Response signature invalid"
    # Signature wrapping: the signed Assertion hidden in Extensions, an unsigned one in its place.
    signed = sign_assertion_sha1(response([pair]), idp)
    root = etree.fromstring(signed.encode())
    original = root.find(f"{{{SAML}}}Assertion")
    evil = etree.fromstring(etree.tostring(original))
    evil.set("ID", "_evil")
    evil.remove(evil.find(f"{{{DS}}}Signature"))
    evil.find(f".//{{{SAML}}}NameID").text = "admin"
    ext = etree.Element("{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
    root.replace(original, evil)
    root.insert(1, ext)
    ext.append(original)
    refused(b64(etree.tostring(root).decode()), "InvalidIdentityToken")
    # Expired assertion (issued an hour ago, valid for ten minutes).
    refused(b64(sign_with_signxml(response([pair], age=3600, valid_for=600), idp)), "ExpiredTokenException")
    # Wrong audience.
    refused(b64(sign_with_signxml(response([pair], audience="https://sp.example.com"), idp)), "InvalidIdentityToken")
    # Recipient not the AWS sign-in endpoint.
    refused(b64(sign_with_signxml(response([pair], recipient="https://sp.example.com/acs"), idp)), "InvalidIdentityToken")
    # The requested role is not in the Role attribute.
    other = setup["role"].rsplit("/", 1)[0] + "/SomeOtherRole"
    refused(b64(sign_with_signxml(response([f"{other},{setup['provider']}"]), idp)), "AccessDenied")
    # Unknown provider.
    unknown = setup["provider"].rsplit("/", 1)[0] + "/NoSuchIdp"
    msg = refused(b64(sign_with_signxml(response([f"{setup['role']},{unknown}"]), idp)), "InvalidIdentityToken", provider=unknown)
    assert msg == "Specified provider doesn't exist"
    # Signed by a certificate that is not in the provider's metadata.
    refused(b64(sign_with_signxml(response([pair]), Idp("attacker.example.com"))), "InvalidIdentityToken")
    # No RoleSessionName attribute.
    msg = refused(b64(sign_with_signxml(response([pair], session_name=None), idp)), "InvalidIdentityToken")
    assert msg == "RoleSessionName is required in AuthnResponse"
    # Unsigned response.
    refused(b64(response([pair])), "InvalidIdentityToken")
    # Not base64 / not XML.
    refused("%%%%not-base64%%%%", "InvalidIdentityToken")
    refused(b64("this is not xml at all"), "InvalidIdentityToken")


def test_trust_policy_conditions_on_saml_keys(server, setup):
    """A role whose trust policy requires a specific subject: the assertion's `saml:sub` decides."""
    iam = setup["iam"]
    name = "SamlSub" + uuid.uuid4().hex[:8]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": setup["provider"]},
             "Action": "sts:AssumeRoleWithSAML", "Condition": {"StringEquals": {
                 "SAML:aud": SIGNIN, "SAML:sub": "bob", "SAML:iss": ENTITY, "SAML:sub_type": "persistent",
                 "saml:edupersonprincipalname": "bob@example.com",
                 "saml:namequalifier": base64.b64encode(hashlib.sha1(f"{ENTITY}{setup['account']}/{setup['name']}".encode()).digest()).decode(),
                 "saml:doc": f"{setup['account']}/{setup['name']}"}}}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    sts = unsigned_sts(server)
    pair = f"{role},{setup['provider']}"
    eppn = [("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", ["bob@example.com"])]
    out = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=setup["provider"],
                                    SAMLAssertion=b64(sign_with_signxml(response([pair], subject="bob", extra_attributes=eppn), setup["idp"])))
    assert out["Subject"] == "bob"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_saml(RoleArn=role, PrincipalArn=setup["provider"],
                                  SAMLAssertion=b64(sign_with_signxml(response([pair], subject="alice", extra_attributes=eppn), setup["idp"])))
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"] == "Not authorized to perform sts:AssumeRoleWithSAML"


def test_decode_authorization_message_refuses_foreign_messages(server):
    """DecodeAuthorizationMessage (here for want of a service that emits encoded messages yet: the
    round trip is unit-tested in the sts crate): needs the permission, and refuses anything that
    is not a message sealed by this server for the caller's account."""
    sts = server.client("sts")
    for junk in ["not-a-message", "A" * 200, base64.urlsafe_b64encode(b"\x01" + b"\x00" * 60).decode()]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.decode_authorization_message(EncodedMessage=junk)
        assert e.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException", e.value.response
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    iam = server.client("iam")
    name = "nodecode" + uuid.uuid4().hex[:8]
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_sts = server.client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user_sts.decode_authorization_message(EncodedMessage="not-a-message")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
