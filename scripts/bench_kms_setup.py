"""Creates a symmetric KMS key and writes the load generator's request bodies for Encrypt (4 KiB),
Decrypt (of that ciphertext) and GenerateDataKey into a directory. Works against Rampart and
moto_server alike. Usage: bench_kms_setup.py ENDPOINT ACCESS_KEY SECRET_KEY OUT_DIR"""
import base64
import json
import os
import sys

import boto3

endpoint, access_key, secret_key, out = sys.argv[1:5]
kms = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access_key, aws_secret_access_key=secret_key)
key_id = kms.create_key(Description="bench")["KeyMetadata"]["KeyId"]
plaintext = os.urandom(4096)
blob = kms.encrypt(KeyId=key_id, Plaintext=plaintext, EncryptionContext={"app": "bench"})["CiphertextBlob"]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "encrypt.json"), "w") as f:
    json.dump({"KeyId": key_id, "Plaintext": base64.b64encode(plaintext).decode(), "EncryptionContext": {"app": "bench"}}, f)
with open(os.path.join(out, "decrypt.json"), "w") as f:
    json.dump({"CiphertextBlob": base64.b64encode(blob).decode(), "EncryptionContext": {"app": "bench"}}, f)
with open(os.path.join(out, "generate-data-key.json"), "w") as f:
    json.dump({"KeyId": key_id, "KeySpec": "AES_256"}, f)
