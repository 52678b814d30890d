"""Regenerates the SAML fixtures of the unit tests (run with the e2e venv: signxml, lxml,
cryptography). Timestamps are fixed (valid 2030-01-01T00:00:00Z .. +1h) because the tests pass
`now` explicitly. One response is signed by signxml, an independent XML-DSig implementation; the
others by a small signer here built on lxml's canonicalization, for the algorithms signxml's
defaults refuse (SHA-1) or do not produce (comments, inclusive C14N)."""
import base64
import datetime
import hashlib
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
import signxml

HERE = os.path.dirname(os.path.abspath(__file__))
DS = "http://www.w3.org/2000/09/xmldsig#"
ENTITY = "https://idp.example.com/saml"
ROLE = "arn:aws:iam::123456789012:role/SamlRole"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/Idp"


def key_and_cert(cn):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def cert_b64(cert):
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def metadata(cert, entity=ENTITY):
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>
{cert_b64(cert)}
        </ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def response(issue="2030-01-01T00:00:00Z", until="2030-01-01T01:00:00Z", audience="https://signin.aws.amazon.com/saml",
             role_value=f"{ROLE},{PROVIDER}", session_name="alice@example.com", comment=""):
    return f"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp1" Version="2.0" IssueInstant="{issue}" Destination="https://signin.aws.amazon.com/saml">
  <saml:Issuer>{ENTITY}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_assert1" Version="2.0" IssueInstant="{issue}">
    <saml:Issuer>{ENTITY}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{until}" Recipient="https://signin.aws.amazon.com/saml"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{issue}" NotOnOrAfter="{until}">
      <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{issue}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue xsi:type="xs:string">{role_value}</saml:AttributeValue></saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue xsi:type="xs:string">{session_name}</saml:AttributeValue></saml:Attribute>
      <saml:Attribute Name="urn:oid:1.3.6.1.4.1.5923.1.1.1.6"><saml:AttributeValue>alice@example.com{comment}</saml:AttributeValue></saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""


SIG_ALGS = {
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", hashes.SHA256()),
    "rsa-sha1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", hashes.SHA1()),
}
DIGESTS = {
    "sha256": ("http://www.w3.org/2001/04/xmlenc#sha256", hashlib.sha256),
    "sha1": ("http://www.w3.org/2000/09/xmldsig#sha1", hashlib.sha1),
}
C14NS = {
    "exc": ("http://www.w3.org/2001/10/xml-exc-c14n#", True, False),
    "exc-comments": ("http://www.w3.org/2001/10/xml-exc-c14n#WithComments", True, True),
    "inclusive": ("http://www.w3.org/TR/2001/REC-xml-c14n-20010315", False, False),
}


def c14n(el, mode):
    _, exclusive, comments = C14NS[mode]
    return etree.tostring(el, method="c14n", exclusive=exclusive, with_comments=comments)


def sign(el, key, cert, sig="rsa-sha256", digest="sha256", mode="exc", ds_prefix="ds"):
    """Enveloped signature of `el` (by its ID), placed after its Issuer, as IdPs do."""
    ref_id = el.get("ID")
    digest_value = base64.b64encode(DIGESTS[digest][1](c14n(el, mode)).digest()).decode()
    s = etree.SubElement(el, f"{{{DS}}}Signature", nsmap={ds_prefix: DS})
    si = etree.SubElement(s, f"{{{DS}}}SignedInfo")
    etree.SubElement(si, f"{{{DS}}}CanonicalizationMethod", Algorithm=C14NS[mode][0])
    etree.SubElement(si, f"{{{DS}}}SignatureMethod", Algorithm=SIG_ALGS[sig][0])
    ref = etree.SubElement(si, f"{{{DS}}}Reference", URI="#" + ref_id)
    tr = etree.SubElement(ref, f"{{{DS}}}Transforms")
    etree.SubElement(tr, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    etree.SubElement(tr, f"{{{DS}}}Transform", Algorithm=C14NS[mode][0])
    etree.SubElement(ref, f"{{{DS}}}DigestMethod", Algorithm=DIGESTS[digest][0])
    etree.SubElement(ref, f"{{{DS}}}DigestValue").text = digest_value
    sv = etree.SubElement(s, f"{{{DS}}}SignatureValue")
    ki = etree.SubElement(s, f"{{{DS}}}KeyInfo")
    xd = etree.SubElement(ki, f"{{{DS}}}X509Data")
    etree.SubElement(xd, f"{{{DS}}}X509Certificate").text = cert_b64(cert)
    # Move the signature right after the Issuer (schema order).
    el.remove(s)
    el.insert(1, s)
    sv.text = base64.b64encode(key.sign(c14n(si, mode), padding.PKCS1v15(), SIG_ALGS[sig][1])).decode()
    return el


def signxml_sign(xml, key, cert):
    """The Response signed by signxml (exclusive C14N, RSA-SHA256, SHA-256)."""
    root = etree.fromstring(xml.encode())
    ph = etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})
    root.insert(1, ph)
    signer = signxml.XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    signed = signer.sign(root, key=key_pem, cert=cert_pem.decode(), reference_uri="_resp1", id_attribute="ID")
    return etree.tostring(signed).decode()


def main():
    key, cert = key_and_cert("idp.example.com")
    _, other_cert = key_and_cert("other.example.com")
    files = {"metadata.xml": metadata(cert), "other_metadata.xml": metadata(other_cert)}
    files["response_signxml.xml"] = signxml_sign(response(), key, cert)
    root = etree.fromstring(response(comment="<!-- c -->").encode())
    assertion = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    sign(assertion, key, cert, sig="rsa-sha1", digest="sha1", mode="exc-comments")
    files["assertion_sha1_comments.xml"] = etree.tostring(root).decode()
    root = etree.fromstring(response().encode())
    sign(root, key, cert, mode="inclusive")
    files["response_inclusive.xml"] = etree.tostring(root).decode()
    # ADFS style: default namespaces everywhere (the signature's too), assertion signed.
    adfs = f"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_resp2" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="https://signin.aws.amazon.com/saml"><Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">{ENTITY}</Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success" /></samlp:Status><Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_assert2" IssueInstant="2030-01-01T00:00:00Z" Version="2.0"><Issuer>{ENTITY}</Issuer><Subject><NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@example.com</NameID><SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><SubjectConfirmationData NotOnOrAfter="2030-01-01T01:00:00Z" Recipient="https://signin.aws.amazon.com/saml" /></SubjectConfirmation></Subject><Conditions NotBefore="2030-01-01T00:00:00Z" NotOnOrAfter="2030-01-01T01:00:00Z"><AudienceRestriction><Audience>urn:amazon:webservices</Audience></AudienceRestriction></Conditions><AttributeStatement><Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><AttributeValue>{ROLE},{PROVIDER}</AttributeValue></Attribute><Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><AttributeValue>alice@example.com</AttributeValue></Attribute></AttributeStatement><AuthnStatement AuthnInstant="2030-01-01T00:00:00Z" SessionNotOnOrAfter="2030-01-01T08:00:00Z"><AuthnContext><AuthnContextClassRef>urn:federation:authentication:windows</AuthnContextClassRef></AuthnContext></AuthnStatement></Assertion></samlp:Response>"""
    root = etree.fromstring(adfs.encode())
    sign(root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"), key, cert, ds_prefix=None)
    files["assertion_adfs_style.xml"] = etree.tostring(root).decode()
    for name, text in files.items():
        with open(os.path.join(HERE, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
