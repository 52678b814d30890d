"""Cross-checks of Rampart's KMS crypto with Python's `cryptography` (OpenSSL underneath).

Driven by tests/kms_cross_check.rs in two phases over one directory:
  phase1 DIR: verify every signature listed in DIR/manifest.txt with the exported public key,
              check public keys and data key pairs, RSA-OAEP-encrypt to Rust's keys, sign with
              data-key-pair private keys, wrap key material for import, do ECDH.
  (Rust then decrypts/verifies/imports what phase 1 wrote.)
Prints `key=value` counts on the last line; any failed check raises (non-zero exit).
"""
import hashlib
import hmac
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

try:
    from cryptography.hazmat.primitives.asymmetric import mldsa
except ImportError:  # older cryptography: ML-DSA checks will fail loudly below
    mldsa = None

HASHES = {"SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384, "SHA_512": hashes.SHA512}
CURVES = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}


def read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def load_public(spec, der):
    key = serialization.load_der_public_key(der)
    if spec.startswith("RSA_"):
        assert isinstance(key, rsa.RSAPublicKey), spec
        assert key.key_size == int(spec[4:]), (spec, key.key_size)
    elif spec.startswith("ECC_"):
        assert isinstance(key, ec.EllipticCurvePublicKey), spec
        assert isinstance(key.curve, CURVES[spec]), (spec, key.curve.name)
    elif spec.startswith("ML_DSA_"):
        assert mldsa is not None, "cryptography has no ML-DSA support"
        cls = getattr(mldsa, "MLDSA%sPublicKey" % spec[len("ML_DSA_"):])
        assert isinstance(key, cls), (spec, type(key))
    else:
        raise AssertionError("unexpected spec " + spec)
    # Re-encoding gives the same bytes: the DER is canonical SubjectPublicKeyInfo.
    again = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert again == der, spec + ": SPKI re-encodes differently"
    return key


def verify(spec, alg, key, message, sig):
    if alg.startswith("RSASSA_PSS_"):
        h = HASHES[alg[len("RSASSA_PSS_"):]]()
        # KMS uses a salt as long as the digest; check exactly that.
        key.verify(sig, message, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    elif alg.startswith("RSASSA_PKCS1_V1_5_"):
        h = HASHES[alg[len("RSASSA_PKCS1_V1_5_"):]]()
        key.verify(sig, message, padding.PKCS1v15(), h)
    elif alg.startswith("ECDSA_"):
        key.verify(sig, message, ec.ECDSA(HASHES[alg[len("ECDSA_"):]]()))
    elif alg == "ML_DSA_SHAKE_256":
        key.verify(sig, message)
    else:
        raise AssertionError("unexpected algorithm " + alg)


def phase1(d):
    counts = {}

    def bump(k):
        counts[k] = counts.get(k, 0) + 1

    for line in read(d, "manifest.txt").decode().splitlines():
        parts = line.split()
        if not parts:
            continue
        kind = parts[0]
        if kind == "sig":
            # sig SPEC ALG MESSAGETYPE PUBFILE MSGFILE SIGFILE
            _, spec, alg, mtype, pub, msg, sig = parts
            key = load_public(spec, read(d, pub))
            message, signature = read(d, msg), read(d, sig)
            verify(spec, alg, key, message, signature)
            # And a changed message must not verify.
            try:
                verify(spec, alg, key, message + b"!", signature)
            except Exception:
                pass
            else:
                raise AssertionError("tampered message verified: " + line)
            bump("signatures")
        elif kind == "oaep":
            # oaep SPEC ALG PUBFILE MAXLEN OUTPREFIX: encrypt max-length plaintext for Rust
            _, spec, alg, pub, maxlen, out = parts
            key = load_public(spec, read(d, pub))
            h = hashes.SHA1() if alg == "RSAES_OAEP_SHA_1" else hashes.SHA256()
            pt = os.urandom(int(maxlen))
            ct = key.encrypt(pt, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
            write(d, out + ".pt", pt)
            write(d, out + ".ct", ct)
            # One byte longer than KMS's limit is also too long for OAEP itself.
            try:
                key.encrypt(pt + b"x", padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
            except ValueError:
                pass
            else:
                raise AssertionError("KMS limit is below the OAEP limit for " + spec + " " + alg)
            bump("oaep")
        elif kind == "dkp":
            # dkp SPEC PRIVFILE PUBFILE MSGFILE OUTSIG [RSACT]
            spec, priv, pub, msg, outsig = parts[1:6]
            private = serialization.load_der_private_key(read(d, priv), password=None)
            public = load_public(spec, read(d, pub))
            mine = private.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            assert mine == read(d, pub), spec + ": private key does not match public key"
            message = read(d, msg)
            if spec.startswith("RSA_"):
                sig = private.sign(message, padding.PKCS1v15(), hashes.SHA256())
                # Rust encrypted with the data key pair's public key: decrypt here.
                ct = read(d, parts[6])
                pt = private.decrypt(
                    ct,
                    padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
                )
                assert pt == message, spec + ": RSA-OAEP decrypt mismatch"
                bump("dkp_rsa_decrypt")
            else:
                alg = {"ECC_NIST_P384": hashes.SHA384, "ECC_NIST_P521": hashes.SHA512}.get(
                    spec, hashes.SHA256
                )
                sig = private.sign(message, ec.ECDSA(alg()))
            write(d, outsig, sig)
            bump("data_key_pairs")
        elif kind == "wrap":
            # wrap ALG PUBFILE MATERIALFILE OUT: what a customer does before ImportKeyMaterial
            _, alg, pub, material, out = parts
            key = serialization.load_der_public_key(read(d, pub))
            h = hashes.SHA1() if alg.endswith("SHA_1") else hashes.SHA256()
            oaep = padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)
            if alg.startswith("RSA_AES_KEY_WRAP_"):
                aes = os.urandom(32)
                wrapped = key.encrypt(aes, oaep) + aes_key_wrap_with_padding(aes, read(d, material))
            else:
                wrapped = key.encrypt(read(d, material), oaep)
            write(d, out, wrapped)
            bump("wraps")
        elif kind == "ecdh":
            # ecdh SPEC KMSPUB OUTPEERPUB OUTSECRET
            _, spec, kms_pub, out_pub, out_secret = parts
            peer = ec.generate_private_key(CURVES[spec]())
            secret = peer.exchange(ec.ECDH(), load_public(spec, read(d, kms_pub)))
            write(d, out_secret, secret)
            write(
                d,
                out_pub,
                peer.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
            )
            bump("ecdh")
        elif kind == "mac":
            # mac ALG KEYFILE MSGFILE MACFILE: HMAC with Python's standard library
            _, alg, keyf, msg, macf = parts
            h = {"HMAC_SHA_224": hashlib.sha224, "HMAC_SHA_256": hashlib.sha256,
                 "HMAC_SHA_384": hashlib.sha384, "HMAC_SHA_512": hashlib.sha512}[alg]
            expect = hmac.new(read(d, keyf), read(d, msg), h).digest()
            assert hmac.compare_digest(expect, read(d, macf)), alg
            bump("macs")
        elif kind == "blob":
            # blob KEYFILE BLOBFILE CONTEXTFILE PLAINFILE: decrypt a ciphertext blob from its
            # documented format alone (kms/symmetric.rs), proving the format doc is the truth.
            _, keyf, blobf, ctxf, ptf = parts
            blob, material = read(d, blobf), read(d, keyf)
            assert blob[0] == 1 and len(blob) >= 97 + 16
            key_id = blob[1:37].decode("ascii")
            salt, iv = blob[69:85], blob[85:97]
            derived = hmac.new(
                material,
                struct.pack(">I", 1) + b"rampart:kms:blob-key:v1\x00" + salt + struct.pack(">I", 256),
                hashlib.sha256,
            ).digest()
            pairs = [l.split("=", 1) for l in read(d, ctxf).decode().splitlines() if l]
            canon = struct.pack(">I", len(pairs))
            for k, v in sorted((k.encode(), v.encode()) for k, v in pairs):
                canon += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
            pt = AESGCM(derived).decrypt(iv, blob[97:], blob[:97] + canon)
            assert pt == read(d, ptf), "blob plaintext mismatch"
            assert len(key_id) == 36
            bump("blobs")
        else:
            raise AssertionError("unknown manifest line: " + line)
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    if sys.argv[1:2] == ["check-import"]:
        import cryptography  # noqa: F401

        print("cryptography", cryptography.__version__)
    else:
        phase1(sys.argv[2] if sys.argv[1] == "phase1" else sys.argv[1])
