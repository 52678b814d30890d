"""KMS end to end: boto3, the AWS CLI, the AWS Encryption SDK, Python's `cryptography` and
`openssl` against the real binary (issue 5)."""
import base64
import datetime
import json
import os
import subprocess
import time

import botocore.exceptions
import botocore.session
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from conftest import raw_request, sign

ALL_PAIRS = [
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
    ("RSA_2048", "ENCRYPT_DECRYPT"), ("RSA_2048", "SIGN_VERIFY"),
    ("RSA_3072", "ENCRYPT_DECRYPT"), ("RSA_3072", "SIGN_VERIFY"),
    ("RSA_4096", "ENCRYPT_DECRYPT"), ("RSA_4096", "SIGN_VERIFY"),
    ("ECC_NIST_P256", "SIGN_VERIFY"), ("ECC_NIST_P256", "KEY_AGREEMENT"),
    ("ECC_NIST_P384", "SIGN_VERIFY"), ("ECC_NIST_P384", "KEY_AGREEMENT"),
    ("ECC_NIST_P521", "SIGN_VERIFY"), ("ECC_NIST_P521", "KEY_AGREEMENT"),
    ("ECC_SECG_P256K1", "SIGN_VERIFY"),
    ("HMAC_224", "GENERATE_VERIFY_MAC"), ("HMAC_256", "GENERATE_VERIFY_MAC"),
    ("HMAC_384", "GENERATE_VERIFY_MAC"), ("HMAC_512", "GENERATE_VERIFY_MAC"),
    ("ML_DSA_44", "SIGN_VERIFY"), ("ML_DSA_65", "SIGN_VERIFY"), ("ML_DSA_87", "SIGN_VERIFY"),
]
RSA_SIGNING = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
               "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"]
HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def err(call):
    """Runs a call that must fail; returns (code, message, status)."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"]


def code(call):
    return err(call)[0]


@pytest.fixture(scope="module")
def kms(server):
    return server.client("kms")


@pytest.fixture(scope="module")
def account(server):
    return server.client("sts").get_caller_identity()["Account"]


@pytest.fixture(scope="module")
def sym(kms):
    return kms.create_key(Description="shared symmetric key")["KeyMetadata"]


_keys = {}


def key_of(kms, spec, usage):
    """One key per (spec, usage) for the module (RSA-4096 generation is slow)."""
    if (spec, usage) not in _keys:
        _keys[(spec, usage)] = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
    return _keys[(spec, usage)]


# --- Keys ---------------------------------------------------------------------------------

def test_create_key_every_spec_and_usage_with_aws_metadata(kms, account):
    for spec, usage in ALL_PAIRS:
        md = key_of(kms, spec, usage)
        assert md["KeySpec"] == spec and md["CustomerMasterKeySpec"] == spec, md
        assert md["KeyUsage"] == usage
        assert md["AWSAccountId"] == account
        assert md["Arn"] == f"arn:aws:kms:us-east-1:{account}:key/{md['KeyId']}"
        assert md["KeyState"] == "Enabled" and md["Enabled"] is True
        assert md["Origin"] == "AWS_KMS" and md["KeyManager"] == "CUSTOMER"
        assert md["MultiRegion"] is False
        lists = {k for k in ("EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms", "KeyAgreementAlgorithms") if k in md}
        expected = {"ENCRYPT_DECRYPT": "EncryptionAlgorithms", "SIGN_VERIFY": "SigningAlgorithms",
                    "GENERATE_VERIFY_MAC": "MacAlgorithms", "KEY_AGREEMENT": "KeyAgreementAlgorithms"}[usage]
        assert lists == {expected}, (spec, usage, md)
        assert kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"] == md
    assert key_of(kms, "RSA_2048", "SIGN_VERIFY")["SigningAlgorithms"] == RSA_SIGNING
    assert key_of(kms, "RSA_2048", "ENCRYPT_DECRYPT")["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    assert key_of(kms, "ECC_NIST_P384", "SIGN_VERIFY")["SigningAlgorithms"] == ["ECDSA_SHA_384"]
    assert key_of(kms, "ECC_NIST_P521", "SIGN_VERIFY")["SigningAlgorithms"] == ["ECDSA_SHA_512"]
    assert key_of(kms, "HMAC_224", "GENERATE_VERIFY_MAC")["MacAlgorithms"] == ["HMAC_SHA_224"]
    assert key_of(kms, "ML_DSA_65", "SIGN_VERIFY")["SigningAlgorithms"] == ["ML_DSA_SHAKE_256"]
    sym = key_of(kms, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    assert sym["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"] and len(sym["CurrentKeyMaterialId"]) == 64


def test_create_key_rejects_what_aws_rejects(kms):
    c, m, s = err(lambda: kms.create_key(KeySpec="RSA_2048"))
    assert (c, s) == ("ValidationException", 400) and "KeyUsage" in m
    for spec, usage in [("HMAC_256", "ENCRYPT_DECRYPT"), ("SYMMETRIC_DEFAULT", "SIGN_VERIFY"),
                        ("ECC_SECG_P256K1", "KEY_AGREEMENT"), ("ML_DSA_44", "ENCRYPT_DECRYPT"),
                        ("RSA_2048", "GENERATE_VERIFY_MAC")]:
        assert code(lambda: kms.create_key(KeySpec=spec, KeyUsage=usage)) == "ValidationException", (spec, usage)
    assert code(lambda: kms.create_key(KeySpec="RSA_2048", CustomerMasterKeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")) == "ValidationException"
    assert code(lambda: kms.create_key(MultiRegion=True)) == "UnsupportedOperationException"
    assert code(lambda: kms.create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY")) == "UnsupportedOperationException"
    assert code(lambda: kms.create_key(Tags=[{"TagKey": "aws:x", "TagValue": "y"}])) == "TagException"
    assert code(lambda: kms.create_key(Policy="{not json")) == "MalformedPolicyDocumentException"
    # The deprecated CustomerMasterKeySpec still works alone.
    md = kms.create_key(CustomerMasterKeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert md["KeySpec"] == "ECC_NIST_P256"


def test_list_keys_paginates_with_marker(server):
    s_kms = server.client("kms", region_name="eu-central-1")  # a region of its own: exact counts
    ids = {s_kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    seen, marker, pages = [], None, 0
    while True:
        r = s_kms.list_keys(Limit=2, **({"Marker": marker} if marker else {}))
        pages += 1
        assert len(r["Keys"]) <= 2
        seen += [k["KeyId"] for k in r["Keys"]]
        for k in r["Keys"]:
            assert k["KeyArn"].endswith(":key/" + k["KeyId"]) and ":eu-central-1:" in k["KeyArn"]
        if not r["Truncated"]:
            assert "NextMarker" not in r
            break
        marker = r["NextMarker"]
    assert pages == 3 and set(seen) == ids and len(seen) == 5
    assert code(lambda: s_kms.list_keys(Marker="not-a-marker-we-gave")) == "InvalidMarkerException"
    # Paginator (what boto3 users call) sees the same.
    assert {k["KeyId"] for p in s_kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}) for k in p["Keys"]} == ids


def test_update_description_enable_disable(kms):
    kid = kms.create_key(Description="one")["KeyMetadata"]["KeyId"]
    kms.update_key_description(KeyId=kid, Description="two")
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["Description"] == "two"
    kms.disable_key(KeyId=kid)
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and md["Enabled"] is False
    c, m, s = err(lambda: kms.encrypt(KeyId=kid, Plaintext=b"x"))
    assert (c, s) == ("DisabledException", 400) and kid in m
    kms.disable_key(KeyId=kid)  # idempotent
    kms.enable_key(KeyId=kid)
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.encrypt(KeyId=kid, Plaintext=b"x")["KeyId"].endswith(kid)


def test_not_found_and_malformed_key_ids(kms, account):
    missing = "00000000-0000-4000-8000-000000000000"
    c, m, _ = err(lambda: kms.describe_key(KeyId=missing))
    assert c == "NotFoundException" and f"arn:aws:kms:us-east-1:{account}:key/{missing}" in m
    assert code(lambda: kms.describe_key(KeyId="alias/does-not-exist")) == "NotFoundException"
    assert code(lambda: kms.describe_key(KeyId="not-a-key")) == "NotFoundException"
    assert code(lambda: kms.describe_key(KeyId="arn:aws:kms:us-east-1:abc:key/x")) == "InvalidArnException"
    assert code(lambda: kms.encrypt(KeyId=missing, Plaintext=b"x")) == "NotFoundException"


def test_schedule_and_cancel_key_deletion(kms):
    md = kms.create_key()["KeyMetadata"]
    kid, arn = md["KeyId"], md["Arn"]
    c, m, _ = err(lambda: kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=6))
    assert c == "ValidationException" and "7" in m
    assert code(lambda: kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=31)) == "ValidationException"
    before = datetime.datetime.now(datetime.timezone.utc)
    r = kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert r["KeyId"] == arn and r["KeyState"] == "PendingDeletion" and r["PendingWindowInDays"] == 7
    delta = r["DeletionDate"] - before
    assert datetime.timedelta(days=7) - datetime.timedelta(seconds=5) < delta < datetime.timedelta(days=7, seconds=5)
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and md["Enabled"] is False
    assert md["PendingDeletionWindowInDays"] == 7 and "DeletionDate" in md
    for call in (lambda: kms.encrypt(KeyId=kid, Plaintext=b"x"), lambda: kms.enable_key(KeyId=kid),
                 lambda: kms.update_key_description(KeyId=kid, Description="d"),
                 lambda: kms.schedule_key_deletion(KeyId=kid),
                 lambda: kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "a", "TagValue": "b"}])):
        c, m, _ = err(call)
        assert c == "KMSInvalidStateException" and "pending deletion" in m
    r = kms.cancel_key_deletion(KeyId=kid)
    assert r["KeyId"] == arn
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and "DeletionDate" not in md
    assert code(lambda: kms.cancel_key_deletion(KeyId=kid)) == "KMSInvalidStateException"


def test_tags(kms):
    kid = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "red"}])
    tags = kms.list_resource_tags(KeyId=kid)
    assert tags["Tags"] == [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "red"}]
    assert tags["Truncated"] is False
    kms.untag_resource(KeyId=kid, TagKeys=["env"])
    assert kms.list_resource_tags(KeyId=kid)["Tags"] == [{"TagKey": "team", "TagValue": "red"}]
    assert code(lambda: kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])) == "TagException"
    many = [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(50)]
    assert code(lambda: kms.tag_resource(KeyId=kid, Tags=many)) == "LimitExceededException"
    kms.tag_resource(KeyId=kid, Tags=many[:49])
    page = kms.list_resource_tags(KeyId=kid, Limit=20)
    assert len(page["Tags"]) == 20 and page["Truncated"] is True
    rest = kms.list_resource_tags(KeyId=kid, Limit=100, Marker=page["NextMarker"])
    assert len(rest["Tags"]) == 30 and rest["Truncated"] is False
    # Tag operations take key ids and ARNs only, not aliases.
    assert code(lambda: kms.list_resource_tags(KeyId="alias/anything")) == "NotFoundException"


# --- Aliases ------------------------------------------------------------------------------

def test_aliases(kms, account):
    a = kms.create_key()["KeyMetadata"]
    b = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=a["KeyId"])
    c, m, _ = err(lambda: kms.create_alias(AliasName="alias/orders", TargetKeyId=b["Arn"]))
    assert c == "AlreadyExistsException" and f"arn:aws:kms:us-east-1:{account}:alias/orders" in m
    assert code(lambda: kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=a["KeyId"])) == "NotAuthorizedException"
    assert code(lambda: kms.create_alias(AliasName="alias/x", TargetKeyId="alias/orders")) == "NotFoundException"
    # Every form of KeyId where AWS takes aliases.
    alias_arn = f"arn:aws:kms:us-east-1:{account}:alias/orders"
    for ref in (a["KeyId"], a["Arn"], "alias/orders", alias_arn):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["KeyId"] == a["KeyId"]
        blob = kms.encrypt(KeyId=ref, Plaintext=b"p")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob, KeyId=ref)["Plaintext"] == b"p"
    # ... and not where AWS does not.
    assert code(lambda: kms.disable_key(KeyId="alias/orders")) == "NotFoundException"
    assert code(lambda: kms.get_key_policy(KeyId=alias_arn, PolicyName="default")) == "InvalidArnException"
    listed = {x["AliasName"]: x for x in kms.list_aliases()["Aliases"]}
    assert listed["alias/orders"]["TargetKeyId"] == a["KeyId"]
    assert listed["alias/orders"]["AliasArn"] == alias_arn
    assert "CreationDate" in listed["alias/orders"] and "LastUpdatedDate" in listed["alias/orders"]
    kms.update_alias(AliasName="alias/orders", TargetKeyId=b["KeyId"])
    assert kms.describe_key(KeyId="alias/orders")["KeyMetadata"]["KeyId"] == b["KeyId"]
    assert [x["AliasName"] for x in kms.list_aliases(KeyId=b["KeyId"])["Aliases"]] == ["alias/orders"]
    assert kms.list_aliases(KeyId=a["Arn"])["Aliases"] == []
    signing = key_of(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    assert code(lambda: kms.update_alias(AliasName="alias/orders", TargetKeyId=signing["KeyId"])) == "ValidationException"
    kms.delete_alias(AliasName="alias/orders")
    assert code(lambda: kms.describe_key(KeyId="alias/orders")) == "NotFoundException"
    assert code(lambda: kms.delete_alias(AliasName="alias/orders")) == "NotFoundException"
    for i in range(3):
        kms.create_alias(AliasName=f"alias/page-{i}", TargetKeyId=a["KeyId"])
    p = kms.list_aliases(KeyId=a["KeyId"], Limit=2)
    assert len(p["Aliases"]) == 2 and p["Truncated"]
    p2 = kms.list_aliases(KeyId=a["KeyId"], Limit=2, Marker=p["NextMarker"])
    assert [x["AliasName"] for x in p2["Aliases"]] == ["alias/page-2"] and not p2["Truncated"]


def test_aws_managed_keys_are_created_on_first_use(kms, account):
    md = kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]
    assert md["KeyManager"] == "AWS" and md["KeyState"] == "Enabled"
    assert kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]["KeyId"] == md["KeyId"]  # once
    policy = json.loads(kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"])
    cond = policy["Statement"][0]["Condition"]["StringEquals"]
    assert cond == {"kms:CallerAccount": account, "kms:ViaService": "ssm.us-east-1.amazonaws.com"}
    # The AWS managed key's policy does not let even the account manage it.
    assert code(lambda: kms.schedule_key_deletion(KeyId=md["KeyId"])) == "AccessDeniedException"
    assert code(lambda: kms.disable_key(KeyId=md["KeyId"])) == "AccessDeniedException"
    # Direct use is not allowed either: only through the service (kms:ViaService).
    assert code(lambda: kms.encrypt(KeyId="alias/aws/ssm", Plaintext=b"x")) == "AccessDeniedException"
    assert code(lambda: kms.describe_key(KeyId="alias/aws/not-a-service")) == "NotFoundException"
    assert any(a["AliasName"] == "alias/aws/ssm" for a in kms.list_aliases()["Aliases"])


# --- Data ---------------------------------------------------------------------------------

def test_encrypt_decrypt_with_exact_encryption_context(kms, sym):
    ctx = {"tenant": "a", "purpose": "test"}
    r = kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"hello", EncryptionContext=ctx)
    assert r["KeyId"] == sym["Arn"] and r["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = r["CiphertextBlob"]
    d = kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(list(ctx.items()))))
    assert d["Plaintext"] == b"hello" and d["KeyId"] == sym["Arn"] and d["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert d["KeyMaterialId"] == sym["CurrentKeyMaterialId"]
    for wrong in ({}, {"tenant": "a"}, {"tenant": "A", "purpose": "test"}, {**ctx, "extra": "x"}):
        c, m, s = err(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong))
        assert (c, m, s) == ("InvalidCiphertextException", "", 400)
    # Two encryptions of the same plaintext differ.
    assert kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"hello", EncryptionContext=ctx)["CiphertextBlob"] != blob
    assert len(kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"x" * 4096)["CiphertextBlob"]) > 4096
    assert code(lambda: kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"x" * 4097)) == "ValidationException"


def test_every_flipped_bit_is_invalid_ciphertext(kms, sym):
    blob = kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"flip me", EncryptionContext={"k": "v"})["CiphertextBlob"]
    for i in range(len(blob)):
        for bit in (0, 7):
            bad = bytearray(blob)
            bad[i] ^= 1 << bit
            c = code(lambda: kms.decrypt(CiphertextBlob=bytes(bad), EncryptionContext={"k": "v"}))
            assert c == "InvalidCiphertextException", (i, bit, c)
    assert code(lambda: kms.decrypt(CiphertextBlob=blob[:-1], EncryptionContext={"k": "v"})) == "InvalidCiphertextException"
    assert code(lambda: kms.decrypt(CiphertextBlob=b"\x01" * 10)) == "InvalidCiphertextException"


def test_decrypt_with_the_wrong_key_is_incorrect_key(kms, sym):
    other = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"p")["CiphertextBlob"]
    assert code(lambda: kms.decrypt(CiphertextBlob=blob, KeyId=other["KeyId"])) == "IncorrectKeyException"
    assert kms.decrypt(CiphertextBlob=blob, KeyId=sym["Arn"])["Plaintext"] == b"p"
    signing = key_of(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    assert code(lambda: kms.encrypt(KeyId=signing["KeyId"], Plaintext=b"p")) == "InvalidKeyUsageException"
    assert code(lambda: kms.decrypt(CiphertextBlob=blob, KeyId=signing["KeyId"])) == "InvalidKeyUsageException"
    assert code(lambda: kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_256")) == "InvalidKeyUsageException"


def test_re_encrypt(kms, sym):
    dest = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"move me", EncryptionContext={"a": "1"})["CiphertextBlob"]
    r = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"}, DestinationKeyId=dest["KeyId"],
                       DestinationEncryptionContext={"b": "2"})
    assert r["SourceKeyId"] == sym["Arn"] and r["KeyId"] == dest["Arn"]
    assert r["SourceKeyMaterialId"] == sym["CurrentKeyMaterialId"] and len(r["DestinationKeyMaterialId"]) == 64
    assert kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"b": "2"})["Plaintext"] == b"move me"
    assert code(lambda: kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=dest["KeyId"])) == "InvalidCiphertextException"
    assert code(lambda: kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=dest["KeyId"], SourceEncryptionContext={"a": "1"},
                                       DestinationKeyId=dest["KeyId"])) == "IncorrectKeyException"
    # Symmetric to RSA and back.
    rsa_key = key_of(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    r2 = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"}, DestinationKeyId=rsa_key["KeyId"],
                        DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")
    back = kms.decrypt(CiphertextBlob=r2["CiphertextBlob"], KeyId=rsa_key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert back["Plaintext"] == b"move me"


def test_generate_data_key(kms, sym):
    r = kms.generate_data_key(KeyId=sym["KeyId"], KeySpec="AES_256", EncryptionContext={"f": "1"})
    assert len(r["Plaintext"]) == 32 and r["KeyId"] == sym["Arn"] and len(r["KeyMaterialId"]) == 64
    assert kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"f": "1"})["Plaintext"] == r["Plaintext"]
    assert len(kms.generate_data_key(KeyId=sym["KeyId"], KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=sym["KeyId"], NumberOfBytes=1024)["Plaintext"]) == 1024
    assert code(lambda: kms.generate_data_key(KeyId=sym["KeyId"])) == "ValidationException"
    assert code(lambda: kms.generate_data_key(KeyId=sym["KeyId"], KeySpec="AES_256", NumberOfBytes=32)) == "ValidationException"
    assert code(lambda: kms.generate_data_key(KeyId=sym["KeyId"], NumberOfBytes=1025)) == "ValidationException"
    w = kms.generate_data_key_without_plaintext(KeyId=sym["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in w
    assert len(kms.decrypt(CiphertextBlob=w["CiphertextBlob"])["Plaintext"]) == 32
    rsa_key = key_of(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    assert code(lambda: kms.generate_data_key(KeyId=rsa_key["KeyId"], KeySpec="AES_256")) == "InvalidKeyUsageException"


@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1"])
def test_generate_data_key_pair_private_keys_work_in_cryptography(kms, sym, spec):
    r = kms.generate_data_key_pair(KeyId=sym["KeyId"], KeyPairSpec=spec, EncryptionContext={"p": spec})
    assert r["KeyPairSpec"] == spec and r["KeyId"] == sym["Arn"]
    private = serialization.load_der_private_key(r["PrivateKeyPlaintext"], password=None)
    public = serialization.load_der_public_key(r["PublicKey"])
    assert private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == r["PublicKey"]
    msg = b"data key pair message"
    if spec.startswith("RSA"):
        assert private.key_size == int(spec.split("_")[1])
        sig = private.sign(msg, padding.PKCS1v15(), hashes.SHA256())
        public.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
        ct = public.encrypt(msg, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
        assert private.decrypt(ct, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)) == msg
    else:
        sig = private.sign(msg, ec.ECDSA(hashes.SHA256()))
        public.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
    # The encrypted private key decrypts (with the same context) to the same private key.
    d = kms.decrypt(CiphertextBlob=r["PrivateKeyCiphertextBlob"], EncryptionContext={"p": spec})
    assert d["Plaintext"] == r["PrivateKeyPlaintext"]
    w = kms.generate_data_key_pair_without_plaintext(KeyId=sym["KeyId"], KeyPairSpec=spec)
    assert "PrivateKeyPlaintext" not in w and serialization.load_der_public_key(w["PublicKey"])


def test_generate_random(kms):
    a = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    b = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert len(a) == 32 and a != b
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024
    assert code(lambda: kms.generate_random(NumberOfBytes=1025)) == "ValidationException"


def pem(der):
    return serialization.load_der_public_key(der).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def openssl_verify(tmp_path, public_der, message, signature, digest, pss=False):
    (tmp_path / "pub.pem").write_bytes(pem(public_der))
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    cmd = ["openssl", "dgst", f"-sha{digest}", "-verify", str(tmp_path / "pub.pem"), "-signature", str(tmp_path / "sig")]
    if pss:
        cmd += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", f"rsa_pss_saltlen:{int(digest) // 8}"]
    p = subprocess.run(cmd + [str(tmp_path / "msg")], capture_output=True, text=True)
    return p.returncode == 0 and "Verified OK" in p.stdout


def test_sign_verify_rsa_with_cryptography_and_openssl(kms, tmp_path):
    for size in ("RSA_2048", "RSA_3072", "RSA_4096"):
        key = key_of(kms, size, "SIGN_VERIFY")
        pub = kms.get_public_key(KeyId=key["KeyId"])
        assert pub["KeySpec"] == size and pub["KeyUsage"] == "SIGN_VERIFY" and pub["SigningAlgorithms"] == RSA_SIGNING
        public = serialization.load_der_public_key(pub["PublicKey"])
        assert public.key_size == int(size.split("_")[1])
        msg = b"message to sign " + size.encode()
        for alg in RSA_SIGNING:
            digest = alg[-3:]
            pss = "PSS" in alg
            s = kms.sign(KeyId=key["KeyId"], Message=msg, MessageType="RAW", SigningAlgorithm=alg)
            assert s["KeyId"] == key["Arn"] and s["SigningAlgorithm"] == alg
            pad = padding.PSS(padding.MGF1(HASHES[digest]), HASHES[digest].digest_size) if pss else padding.PKCS1v15()
            public.verify(s["Signature"], msg, pad, HASHES[digest])
            assert openssl_verify(tmp_path, pub["PublicKey"], msg, s["Signature"], digest, pss), alg
            # DIGEST message type: sign the hash, verify against the message.
            h = hashes.Hash(HASHES[digest])
            h.update(msg)
            dig = h.finalize()
            s2 = kms.sign(KeyId=key["KeyId"], Message=dig, MessageType="DIGEST", SigningAlgorithm=alg)
            public.verify(s2["Signature"], msg, pad, HASHES[digest])
            assert kms.verify(KeyId=key["KeyId"], Message=msg, Signature=s["Signature"], SigningAlgorithm=alg)["SignatureValid"] is True
            assert kms.verify(KeyId=key["KeyId"], Message=dig, MessageType="DIGEST", Signature=s2["Signature"], SigningAlgorithm=alg)["SignatureValid"]
            bad = bytearray(s["Signature"])
            bad[len(bad) // 2] ^= 1
            assert code(lambda: kms.verify(KeyId=key["KeyId"], Message=msg, Signature=bytes(bad), SigningAlgorithm=alg)) == "KMSInvalidSignatureException"


@pytest.mark.parametrize("spec,alg,curve", [
    ("ECC_NIST_P256", "ECDSA_SHA_256", ec.SECP256R1), ("ECC_NIST_P384", "ECDSA_SHA_384", ec.SECP384R1),
    ("ECC_NIST_P521", "ECDSA_SHA_512", ec.SECP521R1), ("ECC_SECG_P256K1", "ECDSA_SHA_256", ec.SECP256K1)])
def test_sign_verify_ecdsa_with_cryptography_and_openssl(kms, tmp_path, spec, alg, curve):
    key = key_of(kms, spec, "SIGN_VERIFY")
    pub = kms.get_public_key(KeyId=key["Arn"])
    public = serialization.load_der_public_key(pub["PublicKey"])
    assert isinstance(public.curve, curve) and pub["SigningAlgorithms"] == [alg]
    digest = alg[-3:]
    msg = os.urandom(100)
    s = kms.sign(KeyId=key["KeyId"], Message=msg, SigningAlgorithm=alg)["Signature"]
    public.verify(s, msg, ec.ECDSA(HASHES[digest]))
    assert openssl_verify(tmp_path, pub["PublicKey"], msg, s, digest)
    h = hashes.Hash(HASHES[digest])
    h.update(msg)
    s2 = kms.sign(KeyId=key["KeyId"], Message=h.finalize(), MessageType="DIGEST", SigningAlgorithm=alg)["Signature"]
    public.verify(s2, msg, ec.ECDSA(HASHES[digest]))
    assert code(lambda: kms.verify(KeyId=key["KeyId"], Message=msg + b"!", Signature=s, SigningAlgorithm=alg)) == "KMSInvalidSignatureException"
    assert code(lambda: kms.sign(KeyId=key["KeyId"], Message=b"short", MessageType="DIGEST", SigningAlgorithm=alg)) == "ValidationException"
    assert code(lambda: kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")) == "InvalidKeyUsageException"


@pytest.mark.parametrize("spec,cls", [("ML_DSA_44", mldsa.MLDSA44PublicKey), ("ML_DSA_65", mldsa.MLDSA65PublicKey), ("ML_DSA_87", mldsa.MLDSA87PublicKey)])
def test_sign_verify_ml_dsa_with_cryptography(kms, spec, cls):
    key = key_of(kms, spec, "SIGN_VERIFY")
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    assert isinstance(public, cls)
    msg = b"post-quantum " + spec.encode()
    s = kms.sign(KeyId=key["KeyId"], Message=msg, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    public.verify(s, msg)
    assert kms.verify(KeyId=key["KeyId"], Message=msg, Signature=s, SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"]
    assert code(lambda: kms.verify(KeyId=key["KeyId"], Message=msg[1:], Signature=s, SigningAlgorithm="ML_DSA_SHAKE_256")) == "KMSInvalidSignatureException"


def test_sign_limits_and_wrong_keys(kms, sym):
    key = key_of(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    assert kms.sign(KeyId=key["KeyId"], Message=b"m" * 4096, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert code(lambda: kms.sign(KeyId=key["KeyId"], Message=b"m" * 4097, SigningAlgorithm="ECDSA_SHA_256")) == "ValidationException"
    assert code(lambda: kms.sign(KeyId=sym["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")) == "InvalidKeyUsageException"
    assert code(lambda: kms.get_public_key(KeyId=sym["KeyId"])) == "UnsupportedOperationException"
    hmac_key = key_of(kms, "HMAC_256", "GENERATE_VERIFY_MAC")
    assert code(lambda: kms.get_public_key(KeyId=hmac_key["KeyId"])) == "UnsupportedOperationException"


def test_rsa_encryption_interoperates_with_cryptography(kms):
    for size, limit in (("RSA_2048", 190), ("RSA_3072", 318), ("RSA_4096", 446)):
        key = key_of(kms, size, "ENCRYPT_DECRYPT")
        pub = kms.get_public_key(KeyId=key["KeyId"])
        assert pub["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
        public = serialization.load_der_public_key(pub["PublicKey"])
        for alg, h in (("RSAES_OAEP_SHA_1", hashes.SHA1()), ("RSAES_OAEP_SHA_256", hashes.SHA256())):
            r = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"rsa secret", EncryptionAlgorithm=alg)
            assert r["EncryptionAlgorithm"] == alg and len(r["CiphertextBlob"]) == public.key_size // 8
            d = kms.decrypt(CiphertextBlob=r["CiphertextBlob"], KeyId=key["KeyId"], EncryptionAlgorithm=alg)
            assert d["Plaintext"] == b"rsa secret" and "KeyMaterialId" not in d
            # Encrypted outside KMS with the public key, decrypted inside.
            ct = public.encrypt(b"from outside", padding.OAEP(padding.MGF1(h), h, None))
            assert kms.decrypt(CiphertextBlob=ct, KeyId=key["Arn"], EncryptionAlgorithm=alg)["Plaintext"] == b"from outside"
        assert kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * limit, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        assert code(lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * (limit + 1), EncryptionAlgorithm="RSAES_OAEP_SHA_256")) == "ValidationException"
    key = key_of(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    c, m, _ = err(lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x"))
    assert (c, m) == ("InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.")
    ct = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    bad = bytearray(ct)
    bad[5] ^= 1
    assert code(lambda: kms.decrypt(CiphertextBlob=bytes(bad), KeyId=key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")) == "InvalidCiphertextException"
    assert code(lambda: kms.decrypt(CiphertextBlob=ct, KeyId=key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_1")) == "InvalidCiphertextException"
    assert code(lambda: kms.decrypt(CiphertextBlob=ct, EncryptionAlgorithm="RSAES_OAEP_SHA_256")) == "ValidationException"


def test_mac(kms):
    for spec, alg, n in (("HMAC_224", "HMAC_SHA_224", 28), ("HMAC_256", "HMAC_SHA_256", 32),
                         ("HMAC_384", "HMAC_SHA_384", 48), ("HMAC_512", "HMAC_SHA_512", 64)):
        key = key_of(kms, spec, "GENERATE_VERIFY_MAC")
        r = kms.generate_mac(KeyId=key["KeyId"], Message=b"mac me", MacAlgorithm=alg)
        assert len(r["Mac"]) == n and r["KeyId"] == key["Arn"] and r["MacAlgorithm"] == alg
        assert kms.generate_mac(KeyId=key["KeyId"], Message=b"mac me", MacAlgorithm=alg)["Mac"] == r["Mac"]
        v = kms.verify_mac(KeyId=key["KeyId"], Message=b"mac me", Mac=r["Mac"], MacAlgorithm=alg)
        assert v["MacValid"] is True
        c, m, _ = err(lambda: kms.verify_mac(KeyId=key["KeyId"], Message=b"mac me!", Mac=r["Mac"], MacAlgorithm=alg))
        assert c == "KMSInvalidMacException"
    key = key_of(kms, "HMAC_256", "GENERATE_VERIFY_MAC")
    assert code(lambda: kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_512")) == "InvalidKeyUsageException"
    assert code(lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"m")) == "InvalidKeyUsageException"


def test_derive_shared_secret_matches_cryptography(kms):
    key = key_of(kms, "ECC_NIST_P256", "KEY_AGREEMENT")
    kms_pub = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    mine = ec.generate_private_key(ec.SECP256R1())
    peer = mine.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    r = kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer)
    assert r["SharedSecret"] == mine.exchange(ec.ECDH(), kms_pub)


# --- Key policies -------------------------------------------------------------------------

def test_default_key_policy_exactly_as_aws_writes_it(kms, account, sym):
    r = kms.get_key_policy(KeyId=sym["KeyId"], PolicyName="default")
    assert r["PolicyName"] == "default"
    assert r["Policy"] == (
        '{\n  "Version" : "2012-10-17",\n  "Id" : "key-default-1",\n  "Statement" : [ {\n'
        '    "Sid" : "Enable IAM User Permissions",\n    "Effect" : "Allow",\n    "Principal" : {\n'
        f'      "AWS" : "arn:aws:iam::{account}:root"\n    }},\n    "Action" : "kms:*",\n    "Resource" : "*"\n  }} ]\n}}'
    )
    assert kms.get_key_policy(KeyId=sym["Arn"])["Policy"] == r["Policy"]  # PolicyName is optional now
    assert kms.list_key_policies(KeyId=sym["KeyId"])["PolicyNames"] == ["default"]
    assert code(lambda: kms.get_key_policy(KeyId=sym["KeyId"], PolicyName="other")) == "NotFoundException"


def policy_doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_put_key_policy_and_the_lockout_safety_check(kms, account):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    root = f"arn:aws:iam::{account}:root"
    new = policy_doc({"Sid": "root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
                     {"Sid": "deny-decrypt", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
                      "Condition": {"StringEquals": {"kms:EncryptionContext:tier": "secret"}}})
    kms.put_key_policy(KeyId=kid, PolicyName="default", Policy=new)
    assert json.loads(kms.get_key_policy(KeyId=kid, PolicyName="default")["Policy"]) == json.loads(new)
    assert code(lambda: kms.put_key_policy(KeyId=kid, PolicyName="default", Policy="[]")) == "MalformedPolicyDocumentException"
    no_principal = policy_doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})
    assert code(lambda: kms.put_key_policy(KeyId=kid, PolicyName="default", Policy=no_principal)) == "MalformedPolicyDocumentException"
    # The explicit deny on a context condition holds for root too.
    blob = kms.encrypt(KeyId=kid, Plaintext=b"x", EncryptionContext={"tier": "secret"})["CiphertextBlob"]
    c, m, s = err(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"tier": "secret"}))
    assert (c, s) == ("AccessDeniedException", 400) or (c, s) == ("AccessDeniedException", 403)
    ok = kms.encrypt(KeyId=kid, Plaintext=b"y", EncryptionContext={"tier": "public"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ok, EncryptionContext={"tier": "public"})["Plaintext"] == b"y"
    # A policy that would lock the caller out is refused unless the check is bypassed.
    lockout = policy_doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/nobody-here"}, "Action": "kms:*", "Resource": "*"})
    c, m, _ = err(lambda: kms.put_key_policy(KeyId=kid, PolicyName="default", Policy=lockout))
    assert c == "MalformedPolicyDocumentException" and "will not allow you to update the key policy" in m
    assert code(lambda: kms.create_key(Policy=lockout)) == "MalformedPolicyDocumentException"
    locked = kms.create_key(Policy=lockout, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["KeyId"]
    assert code(lambda: kms.encrypt(KeyId=locked, Plaintext=b"x")) == "AccessDeniedException"


# --- Grants -------------------------------------------------------------------------------

def test_grants_lifecycle(kms, account):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    grantee = f"arn:aws:iam::{account}:role/app"
    retiree = f"arn:aws:iam::{account}:role/janitor"
    g = kms.create_grant(KeyId=kid, GranteePrincipal=grantee, RetiringPrincipal=retiree, Name="app",
                         Operations=["Encrypt", "Decrypt"], Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    assert len(g["GrantId"]) == 64 and g["GrantToken"]
    again = kms.create_grant(KeyId=kid, GranteePrincipal=grantee, RetiringPrincipal=retiree, Name="app",
                             Operations=["Encrypt", "Decrypt"], Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    assert again["GrantId"] == g["GrantId"]  # same name and parameters: same grant
    listed = kms.list_grants(KeyId=kid)["Grants"]
    assert len(listed) == 1
    e = listed[0]
    assert e["KeyId"].endswith(kid) and e["GrantId"] == g["GrantId"] and e["Name"] == "app"
    assert e["GranteePrincipal"] == grantee and e["RetiringPrincipal"] == retiree
    assert e["IssuingAccount"] == f"arn:aws:iam::{account}:root"
    assert e["Operations"] == ["Encrypt", "Decrypt"]
    assert e["Constraints"] == {"EncryptionContextSubset": {"tenant": "a"}}
    assert [x["GrantId"] for x in kms.list_retirable_grants(RetiringPrincipal=retiree)["Grants"]] == [g["GrantId"]]
    assert kms.list_grants(KeyId=kid, GranteePrincipal="arn:aws:iam::111111111111:role/none")["Grants"] == []
    # Grant tokens are accepted at once; garbage is not.
    assert kms.encrypt(KeyId=kid, Plaintext=b"x", GrantTokens=[g["GrantToken"]])
    assert code(lambda: kms.encrypt(KeyId=kid, Plaintext=b"x", GrantTokens=["not-a-token"])) == "InvalidGrantTokenException"
    # Constraints only with operations that take an encryption context.
    assert code(lambda: kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["DescribeKey"],
                                         Constraints={"EncryptionContextEquals": {"a": "b"}})) == "ValidationException"
    assert code(lambda: kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["Sign"])) == "ValidationException"
    assert code(lambda: kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["Decrypt"], DryRun=True)) == "DryRunOperationException"
    g2 = kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["GenerateDataKey"])
    for _ in range(3):
        kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["DescribeKey"])
    p = kms.list_grants(KeyId=kid, Limit=2)
    assert len(p["Grants"]) == 2 and p["Truncated"]
    total = len(p["Grants"])
    while p["Truncated"]:
        p = kms.list_grants(KeyId=kid, Limit=2, Marker=p["NextMarker"])
        total += len(p["Grants"])
    assert total == 5
    kms.revoke_grant(KeyId=kid, GrantId=g2["GrantId"])
    assert code(lambda: kms.revoke_grant(KeyId=kid, GrantId=g2["GrantId"])) == "NotFoundException"
    assert code(lambda: kms.revoke_grant(KeyId=kid, GrantId="bad")) == "InvalidGrantIdException"
    kms.retire_grant(GrantToken=g["GrantToken"])
    assert g["GrantId"] not in [x["GrantId"] for x in kms.list_grants(KeyId=kid)["Grants"]]
    rest = kms.list_grants(KeyId=kid)["Grants"]
    kms.retire_grant(KeyId=kid, GrantId=rest[0]["GrantId"])
    assert len(kms.list_grants(KeyId=kid)["Grants"]) == len(rest) - 1
    assert code(lambda: kms.retire_grant(KeyId=kid, GrantId=rest[0]["GrantId"])) == "NotFoundException"


# --- Policies and grants with IAM principals (the engine) ---------------------------------

def new_user(server, name, policy=None):
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("kms", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])


def test_user_with_kms_star_is_denied_when_the_key_policy_does_not_delegate(server, kms, account):
    user = new_user(server, "kms-admin", policy_doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    delegating = kms.create_key()["KeyMetadata"]["KeyId"]
    assert user.encrypt(KeyId=delegating, Plaintext=b"x")["CiphertextBlob"]
    own_only = kms.create_key(Policy=policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/someone-else"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey"], "Resource": "*"},
    ))["KeyMetadata"]["KeyId"]
    c, m, s = err(lambda: user.encrypt(KeyId=own_only, Plaintext=b"x"))
    assert c == "AccessDeniedException" and s in (400, 403)
    assert f"arn:aws:iam::{account}:user/kms-admin" in m and "kms:Encrypt" in m


def test_a_grant_lets_a_principal_decrypt_with_no_policy_at_all(server, kms, account):
    user = new_user(server, "grant-user")  # no IAM policy
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=kid, Plaintext=b"granted", EncryptionContext={"t": "1"})["CiphertextBlob"]
    assert code(lambda: user.decrypt(CiphertextBlob=blob, EncryptionContext={"t": "1"})) == "AccessDeniedException"
    g = kms.create_grant(KeyId=kid, GranteePrincipal=f"arn:aws:iam::{account}:user/grant-user", Operations=["Decrypt"],
                         RetiringPrincipal=f"arn:aws:iam::{account}:user/grant-user")
    assert user.decrypt(CiphertextBlob=blob, EncryptionContext={"t": "1"}, GrantTokens=[g["GrantToken"]])["Plaintext"] == b"granted"
    assert user.decrypt(CiphertextBlob=blob, EncryptionContext={"t": "1"})["Plaintext"] == b"granted"
    # Only the granted operation.
    assert code(lambda: user.encrypt(KeyId=kid, Plaintext=b"x")) == "AccessDeniedException"
    # The retiring principal may retire it; then the access is gone.
    user.retire_grant(KeyId=kid, GrantId=g["GrantId"])
    assert code(lambda: user.decrypt(CiphertextBlob=blob, EncryptionContext={"t": "1"})) == "AccessDeniedException"


def test_explicit_deny_in_the_key_policy_beats_a_grant(server, kms, account):
    user = new_user(server, "denied-grantee")
    arn = f"arn:aws:iam::{account}:user/denied-grantee"
    kid = kms.create_key(Policy=policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": arn}, "Action": "kms:Decrypt", "Resource": "*"},
    ))["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=kid, Plaintext=b"x")["CiphertextBlob"]
    kms.create_grant(KeyId=kid, GranteePrincipal=arn, Operations=["Decrypt"])
    assert code(lambda: user.decrypt(CiphertextBlob=blob)) == "AccessDeniedException"


def test_grant_constraints_and_a_context_condition_separate_tenants(server, kms, account):
    # Tenant A's user may decrypt only tenant A's data: by a grant constraint...
    alice = new_user(server, "tenant-a")
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_grant(KeyId=kid, GranteePrincipal=f"arn:aws:iam::{account}:user/tenant-a", Operations=["Decrypt"],
                     Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    a_blob = kms.encrypt(KeyId=kid, Plaintext=b"a data", EncryptionContext={"tenant": "a"})["CiphertextBlob"]
    b_blob = kms.encrypt(KeyId=kid, Plaintext=b"b data", EncryptionContext={"tenant": "b"})["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=a_blob, EncryptionContext={"tenant": "a"})["Plaintext"] == b"a data"
    assert code(lambda: alice.decrypt(CiphertextBlob=b_blob, EncryptionContext={"tenant": "b"})) == "AccessDeniedException"
    # ... and by a kms:EncryptionContext:tenant condition in an IAM policy under a delegating key policy.
    bob = new_user(server, "tenant-b", policy_doc({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*",
                                                   "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "b"}}}))
    assert bob.decrypt(CiphertextBlob=b_blob, EncryptionContext={"tenant": "b"})["Plaintext"] == b"b data"
    assert code(lambda: bob.decrypt(CiphertextBlob=a_blob, EncryptionContext={"tenant": "a"})) == "AccessDeniedException"
    assert code(lambda: bob.encrypt(KeyId=kid, Plaintext=b"x", EncryptionContext={"tenant": "a"})) == "AccessDeniedException"
    assert bob.encrypt(KeyId=kid, Plaintext=b"x", EncryptionContext={"tenant": "b"})


# --- Rotation -----------------------------------------------------------------------------

def test_rotation(kms):
    md = kms.create_key()["KeyMetadata"]
    kid = md["KeyId"]
    s = kms.get_key_rotation_status(KeyId=kid)
    assert s["KeyRotationEnabled"] is False and s["KeyId"] == md["Arn"] and "NextRotationDate" not in s
    assert code(lambda: kms.enable_key_rotation(KeyId=kid, RotationPeriodInDays=2561)) == "ValidationException"
    kms.enable_key_rotation(KeyId=kid, RotationPeriodInDays=90)
    s = kms.get_key_rotation_status(KeyId=kid)
    assert s["KeyRotationEnabled"] is True and s["RotationPeriodInDays"] == 90
    assert datetime.timedelta(days=89) < s["NextRotationDate"] - md["CreationDate"] <= datetime.timedelta(days=90, seconds=5)
    old = kms.encrypt(KeyId=kid, Plaintext=b"before", EncryptionContext={"r": "1"})["CiphertextBlob"]
    assert kms.list_key_rotations(KeyId=kid)["Rotations"] == []
    assert kms.rotate_key_on_demand(KeyId=kid)["KeyId"] == kid
    rotations = kms.list_key_rotations(KeyId=kid)["Rotations"]
    assert len(rotations) == 1 and rotations[0]["RotationType"] == "ON_DEMAND" and rotations[0]["KeyMaterialState"] == "CURRENT"
    new_material = rotations[0]["KeyMaterialId"]
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["CurrentKeyMaterialId"] == new_material != md["CurrentKeyMaterialId"]
    d = kms.decrypt(CiphertextBlob=old, EncryptionContext={"r": "1"})
    assert d["Plaintext"] == b"before" and d["KeyMaterialId"] == md["CurrentKeyMaterialId"]
    new = kms.encrypt(KeyId=kid, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=new)["KeyMaterialId"] == new_material
    everything = kms.list_key_rotations(KeyId=kid, IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert [r["KeyMaterialId"] for r in everything] == [md["CurrentKeyMaterialId"], new_material]
    kms.disable_key_rotation(KeyId=kid)
    assert kms.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is False
    for _ in range(9):
        kms.rotate_key_on_demand(KeyId=kid)
    assert code(lambda: kms.rotate_key_on_demand(KeyId=kid)) == "LimitExceededException"
    assert kms.decrypt(CiphertextBlob=old, EncryptionContext={"r": "1"})["Plaintext"] == b"before"
    signing = key_of(kms, "RSA_2048", "SIGN_VERIFY")
    for call in (lambda: kms.enable_key_rotation(KeyId=signing["KeyId"]), lambda: kms.rotate_key_on_demand(KeyId=signing["KeyId"]),
                 lambda: kms.get_key_rotation_status(KeyId=signing["KeyId"])):
        assert code(call) == "UnsupportedOperationException"
    dis = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=dis)
    assert code(lambda: kms.enable_key_rotation(KeyId=dis)) == "DisabledException"


# --- Import -------------------------------------------------------------------------------

def wrap(public_der, algorithm, material):
    public = serialization.load_der_public_key(public_der)
    h = hashes.SHA256() if algorithm.endswith("256") else hashes.SHA1()
    oaep = padding.OAEP(padding.MGF1(h), h, None)
    if algorithm.startswith("RSAES"):
        return public.encrypt(material, oaep)
    ephemeral = os.urandom(32)
    return public.encrypt(ephemeral, oaep) + aes_key_wrap_with_padding(ephemeral, material)


def test_import_key_material(kms):
    md = kms.create_key(Origin="EXTERNAL", Description="byok")["KeyMetadata"]
    kid = md["KeyId"]
    assert md["Origin"] == "EXTERNAL" and md["KeyState"] == "PendingImport" and md["Enabled"] is False
    c, m, _ = err(lambda: kms.encrypt(KeyId=kid, Plaintext=b"x"))
    assert c == "KMSInvalidStateException" and "pending import" in m
    p = kms.get_parameters_for_import(KeyId=kid, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    assert p["KeyId"] == md["Arn"]
    assert datetime.timedelta(hours=23) < p["ParametersValidTo"] - datetime.datetime.now(datetime.timezone.utc) <= datetime.timedelta(hours=24)
    material = os.urandom(32)
    valid_to = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    r = kms.import_key_material(KeyId=kid, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrap(p["PublicKey"], "RSAES_OAEP_SHA_256", material),
                                ValidTo=valid_to, ExpirationModel="KEY_MATERIAL_EXPIRES")
    assert r["KeyId"] == md["Arn"] and len(r["KeyMaterialId"]) == 64
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "Enabled" and md["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert abs((md["ValidTo"] - valid_to).total_seconds()) < 2
    blob = kms.encrypt(KeyId=kid, Plaintext=b"byok data")["CiphertextBlob"]
    # A token altered or used for another key is refused; other material is refused.
    other = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    assert code(lambda: kms.import_key_material(KeyId=other, ImportToken=p["ImportToken"],
                                                EncryptedKeyMaterial=wrap(p["PublicKey"], "RSAES_OAEP_SHA_256", material),
                                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")) == "InvalidImportTokenException"
    p2 = kms.get_parameters_for_import(KeyId=kid, WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec="RSA_3072")
    assert code(lambda: kms.import_key_material(KeyId=kid, ImportToken=p2["ImportToken"],
                                                EncryptedKeyMaterial=wrap(p2["PublicKey"], "RSA_AES_KEY_WRAP_SHA_256", os.urandom(32)),
                                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")) == "IncorrectKeyMaterialException"
    assert code(lambda: kms.import_key_material(KeyId=kid, ImportToken=p2["ImportToken"],
                                                EncryptedKeyMaterial=wrap(p2["PublicKey"], "RSA_AES_KEY_WRAP_SHA_256", material))) == "ValidationException"
    # Deleting the material: PendingImport; importing the same material again brings old ciphertexts back.
    d = kms.delete_imported_key_material(KeyId=kid)
    assert d["KeyId"] == md["Arn"] and d["KeyMaterialId"] == r["KeyMaterialId"]
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "PendingImport"
    assert code(lambda: kms.decrypt(CiphertextBlob=blob)) == "KMSInvalidStateException"
    kms.import_key_material(KeyId=kid, ImportToken=p2["ImportToken"], EncryptedKeyMaterial=wrap(p2["PublicKey"], "RSA_AES_KEY_WRAP_SHA_256", material),
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE" and "ValidTo" not in md
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"byok data"
    # Only EXTERNAL keys import.
    normal = kms.create_key()["KeyMetadata"]["KeyId"]
    assert code(lambda: kms.get_parameters_for_import(KeyId=normal, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")) == "UnsupportedOperationException"
    assert code(lambda: kms.delete_imported_key_material(KeyId=normal)) == "UnsupportedOperationException"


def test_imported_material_expires_by_the_background_job(fresh_server):
    s = fresh_server().start()
    kms = s.client("kms")
    md = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    kid = md["KeyId"]
    p = kms.get_parameters_for_import(KeyId=kid, WrappingAlgorithm="RSAES_OAEP_SHA_1", WrappingKeySpec="RSA_2048")
    kms.import_key_material(KeyId=kid, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrap(p["PublicKey"], "RSAES_OAEP_SHA_1", os.urandom(32)),
                            ValidTo=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3))
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Enabled"
    deadline = time.time() + 15
    while time.time() < deadline and kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] != "PendingImport":
        time.sleep(0.5)
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "PendingImport"
    assert code(lambda: kms.encrypt(KeyId=kid, Plaintext=b"x")) == "KMSInvalidStateException"
    # The background action is on the audit trail as an AwsServiceEvent naming the key.
    assert s.stop() == 0
    out = s.rampart("audit", "export")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    expired = [e for e in events if e.get("eventType") == "AwsServiceEvent" and e["eventName"] == "DeleteExpiredKeyMaterial"]
    assert len(expired) == 1, [e["eventName"] for e in events]
    assert expired[0]["eventSource"] == "kms.amazonaws.com" and expired[0]["userIdentity"]["type"] == "AWSService"
    assert md["Arn"] in json.dumps(expired[0]["resources"])


def test_verify_accepts_signatures_cryptography_made_with_a_data_key_pair(kms, sym):
    """GenerateDataKeyPair -> import its private key into an EXTERNAL signing key -> sign with
    `cryptography` -> KMS Verify accepts, and GetPublicKey is the pair's public key."""
    for spec, alg, h in (("ECC_NIST_P256", "ECDSA_SHA_256", hashes.SHA256()), ("RSA_2048", "RSASSA_PSS_SHA_256", hashes.SHA256())):
        pair = kms.generate_data_key_pair(KeyId=sym["KeyId"], KeyPairSpec=spec)
        kid = kms.create_key(Origin="EXTERNAL", KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        p = kms.get_parameters_for_import(KeyId=kid, WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec="RSA_4096")
        kms.import_key_material(KeyId=kid, ImportToken=p["ImportToken"], ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
                                EncryptedKeyMaterial=wrap(p["PublicKey"], "RSA_AES_KEY_WRAP_SHA_256", pair["PrivateKeyPlaintext"]))
        assert kms.get_public_key(KeyId=kid)["PublicKey"] == pair["PublicKey"]
        private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
        msg = b"signed outside KMS"
        if spec.startswith("RSA"):
            sig = private.sign(msg, padding.PSS(padding.MGF1(h), h.digest_size), h)
        else:
            sig = private.sign(msg, ec.ECDSA(h))
        assert kms.verify(KeyId=kid, Message=msg, Signature=sig, SigningAlgorithm=alg)["SignatureValid"] is True
        assert code(lambda: kms.verify(KeyId=kid, Message=msg + b"x", Signature=sig, SigningAlgorithm=alg)) == "KMSInvalidSignatureException"


# --- Clients no one here wrote ------------------------------------------------------------

def test_aws_encryption_sdk_through_a_rampart_key(server, kms, sym, monkeypatch):
    import aws_encryption_sdk
    from aws_encryption_sdk import CommitmentPolicy
    ak, sk = server.credentials()
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.endpoint)
    session = botocore.session.Session()
    session.set_credentials(ak, sk)
    session.set_config_variable("region", "us-east-1")
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[sym["Arn"]], botocore_session=session)
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    plaintext = os.urandom(100_000)
    ciphertext, header = client.encrypt(source=plaintext, key_provider=provider, encryption_context={"purpose": "esdk"})
    assert plaintext not in ciphertext
    decrypted, dheader = client.decrypt(source=ciphertext, key_provider=provider)
    assert decrypted == plaintext and dheader.encryption_context["purpose"] == "esdk"
    # The message's encrypted data key is a Rampart KMS ciphertext under our key.
    edk = list(header.encrypted_data_keys)[0]
    assert edk.key_provider.key_info.decode() == sym["Arn"]
    assert kms.decrypt(CiphertextBlob=edk.encrypted_data_key, EncryptionContext=dict(dheader.encryption_context))["KeyId"] == sym["Arn"]
    tampered = bytearray(ciphertext)
    tampered[-200] ^= 1
    with pytest.raises(Exception):
        client.decrypt(source=bytes(tampered), key_provider=provider)


def test_aws_cli(server, tmp_path):
    def cli(*args):
        out = server.cli("--profile", "rampart", "--output", "json", "kms", *args)
        return json.loads(out.stdout) if out.stdout.strip() else {}
    md = cli("create-key", "--description", "from the cli", "--tags", "TagKey=via,TagValue=cli")["KeyMetadata"]
    kid = md["KeyId"]
    assert md["Description"] == "from the cli"
    cli("create-alias", "--alias-name", "alias/cli", "--target-key-id", kid)
    (tmp_path / "plain").write_bytes(b"cli secret")
    enc = cli("encrypt", "--key-id", "alias/cli", "--plaintext", f"fileb://{tmp_path / 'plain'}", "--encryption-context", "app=cli")
    (tmp_path / "blob").write_bytes(base64.b64decode(enc["CiphertextBlob"]))
    dec = cli("decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'blob'}", "--encryption-context", "app=cli")
    assert base64.b64decode(dec["Plaintext"]) == b"cli secret" and dec["KeyId"] == md["Arn"]
    assert any(k["KeyId"] == kid for k in cli("list-keys")["Keys"])
    assert cli("list-resource-tags", "--key-id", kid)["Tags"] == [{"TagKey": "via", "TagValue": "cli"}]
    out = server.cli("--profile", "rampart", "kms", "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'blob'}", check=False)
    assert out.returncode != 0 and "InvalidCiphertextException" in out.stderr
    r = cli("schedule-key-deletion", "--key-id", kid, "--pending-window-in-days", "7")
    assert r["KeyState"] == "PendingDeletion"


def test_raw_request_unknown_and_wrong_shapes(server):
    ak, sk = server.credentials()
    url = server.endpoint + "/"
    for target, body, want in (("TrentService.Encrypt", {"KeyId": "alias/none", "Plaintext": "eA=="}, "NotFoundException"),
                               ("TrentService.Encrypt", {"Plaintext": "eA=="}, "ValidationException"),
                               ("TrentService.NoSuchThing", {}, "UnknownOperationException")):
        data = json.dumps(body).encode()
        headers = {"content-type": "application/x-amz-json-1.1", "x-amz-target": target}
        status, _, resp = raw_request("POST", url, sign("POST", url, headers, data, ak, sk, "kms"), data)
        assert status == 400 and json.loads(resp)["__type"].endswith(want), resp


# --- No secrets anywhere ------------------------------------------------------------------

def test_no_plaintext_or_key_material_in_logs_audit_or_errors(fresh_server):
    s = fresh_server().start()
    k = s.client("kms")
    secret = b"TOP-SECRET-PLAINTEXT-0xC0FFEE-42"
    kid = k.create_key()["KeyMetadata"]["KeyId"]
    blob = k.encrypt(KeyId=kid, Plaintext=secret, EncryptionContext={"c": "1"})["CiphertextBlob"]
    seen = [secret]
    seen.append(k.decrypt(CiphertextBlob=blob, EncryptionContext={"c": "1"})["Plaintext"])
    seen.append(k.generate_data_key(KeyId=kid, KeySpec="AES_256")["Plaintext"])
    seen.append(k.generate_data_key_pair(KeyId=kid, KeyPairSpec="ECC_NIST_P256")["PrivateKeyPlaintext"])
    seen.append(k.generate_random(NumberOfBytes=64)["Plaintext"])
    hmac_key = k.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    k.generate_mac(KeyId=hmac_key, Message=secret, MacAlgorithm="HMAC_SHA_256")
    errors = []
    for call in (lambda: k.decrypt(CiphertextBlob=blob, EncryptionContext={"c": "2"}),
                 lambda: k.encrypt(KeyId="alias/nope", Plaintext=secret),
                 lambda: k.encrypt(KeyId=hmac_key, Plaintext=secret)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        errors.append(json.dumps(e.value.response["Error"]))
    sign_key = k.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    k.sign(KeyId=sign_key, Message=secret, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert s.stop() == 0
    out = s.rampart("audit", "export")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    kms_events = [e for e in events if e["eventSource"] == "kms.amazonaws.com"]
    assert len(kms_events) >= 12
    created = [e for e in kms_events if e["eventName"] == "CreateKey"][0]
    assert kid in json.dumps(created.get("resources", [])), created
    enc = [e for e in kms_events if e["eventName"] == "Encrypt" and "errorCode" not in e][0]
    assert enc["requestParameters"]["Plaintext"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert any(r.get("ARN", r.get("arn", "")).endswith(kid) for r in enc.get("resources", [])), enc
    dec = [e for e in kms_events if e["eventName"] == "Decrypt" and "errorCode" not in e][0]
    assert dec["responseElements"]["Plaintext"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    gdkp = [e for e in kms_events if e["eventName"] == "GenerateDataKeyPair"][0]
    assert gdkp["responseElements"]["PrivateKeyPlaintext"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    texts = [json.dumps(events), s.all_logs(), *errors]
    for value in seen:
        for form in (value, base64.b64encode(value)):
            needle = form.decode("latin-1")
            for t in texts:
                assert needle not in t
    # The store holds sealed material only: neither the plaintext nor anything handed out.
    for p in s.data_dir.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for value in seen:
                assert value not in data and base64.b64encode(value) not in data, p.name


def test_multi_region_and_custom_key_store_operations_answer_as_for_a_plain_key(kms, sym):
    c, m, _ = err(lambda: kms.replicate_key(KeyId=sym["KeyId"], ReplicaRegion="eu-west-1"))
    assert c == "UnsupportedOperationException" and sym["Arn"] in m
    assert code(lambda: kms.update_primary_region(KeyId=sym["Arn"], PrimaryRegion="eu-west-1")) == "UnsupportedOperationException"
    assert code(lambda: kms.replicate_key(KeyId="alias/x", ReplicaRegion="eu-west-1")) == "NotFoundException"
    r = kms.describe_custom_key_stores()
    assert r["CustomKeyStores"] == [] and r["Truncated"] is False
    assert code(lambda: kms.describe_custom_key_stores(CustomKeyStoreId="cks-1234567890abcdef0")) == "CustomKeyStoreNotFoundException"
    assert code(lambda: kms.create_key(CustomKeyStoreId="cks-1234567890abcdef0")) == "CustomKeyStoreNotFoundException"


def test_dry_run_answers_after_authorization_and_checks(kms, sym):
    c, _, s = err(lambda: kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"x", DryRun=True))
    assert (c, s) == ("DryRunOperationException", 412)
    blob = kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert code(lambda: kms.decrypt(CiphertextBlob=blob, DryRun=True)) == "DryRunOperationException"
    assert code(lambda: kms.decrypt(CiphertextBlob=b"\x01" * 10, DryRun=True)) == "InvalidCiphertextException"
    signing = key_of(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    assert code(lambda: kms.sign(KeyId=signing["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256", DryRun=True)) == "DryRunOperationException"


def test_a_grantee_may_pass_on_only_what_it_was_granted(server, kms, account):
    user = new_user(server, "grant-passer")
    me = f"arn:aws:iam::{account}:user/grant-passer"
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_grant(KeyId=kid, GranteePrincipal=me, Operations=["CreateGrant", "Decrypt", "DescribeKey"])
    other = f"arn:aws:iam::{account}:role/consumer"
    g = user.create_grant(KeyId=kid, GranteePrincipal=other, Operations=["Decrypt"])
    assert len(g["GrantId"]) == 64
    assert code(lambda: user.create_grant(KeyId=kid, GranteePrincipal=other, Operations=["Encrypt"])) == "AccessDeniedException"
    assert code(lambda: user.create_grant(KeyId=kid, GranteePrincipal=other, Operations=["Decrypt", "GenerateDataKey"])) == "AccessDeniedException"
    # The grant does not extend to listing or revoking, which only policies can allow.
    assert code(lambda: user.list_grants(KeyId=kid)) == "AccessDeniedException"
    assert code(lambda: user.revoke_grant(KeyId=kid, GrantId=g["GrantId"])) == "AccessDeniedException"


def test_request_alias_condition(server, kms):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/abac-allowed", TargetKeyId=kid)
    kms.create_alias(AliasName="alias/abac-other", TargetKeyId=kid)
    user = new_user(server, "abac-user", policy_doc({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
                                                     "Condition": {"StringEquals": {"kms:RequestAlias": "alias/abac-allowed"}}}))
    assert user.encrypt(KeyId="alias/abac-allowed", Plaintext=b"x")["KeyId"].endswith(kid)
    assert code(lambda: user.encrypt(KeyId="alias/abac-other", Plaintext=b"x")) == "AccessDeniedException"
    assert code(lambda: user.encrypt(KeyId=kid, Plaintext=b"x")) == "AccessDeniedException"


def test_resource_aliases_condition_follows_alias_changes(server, kms):
    a = kms.create_key()["KeyMetadata"]["KeyId"]
    b = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/team-red/app", TargetKeyId=a)
    user = new_user(server, "alias-abac", policy_doc({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
                                                      "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/team-red/*"}}}))
    assert user.encrypt(KeyId=a, Plaintext=b"x")
    assert code(lambda: user.encrypt(KeyId=b, Plaintext=b"x")) == "AccessDeniedException"
    kms.update_alias(AliasName="alias/team-red/app", TargetKeyId=b)
    assert user.encrypt(KeyId=b, Plaintext=b"x")
    assert code(lambda: user.encrypt(KeyId=a, Plaintext=b"x")) == "AccessDeniedException"
    kms.delete_alias(AliasName="alias/team-red/app")
    assert code(lambda: user.encrypt(KeyId=b, Plaintext=b"x")) == "AccessDeniedException"
