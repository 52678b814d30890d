"""Creates a secret and a SecureString parameter and writes the load generator's request bodies
for GetSecretValue, PutSecretValue and GetParameter (WithDecryption) into a directory. Works
against Rampart and moto_server alike. Usage: bench_secrets_setup.py ENDPOINT AK SK OUT_DIR"""
import json
import os
import sys

import boto3

endpoint, access_key, secret_key, out = sys.argv[1:5]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access_key, aws_secret_access_key=secret_key)
sm = boto3.client("secretsmanager", **kw)
ssm = boto3.client("ssm", **kw)
sm.create_secret(Name="bench/db", SecretString=json.dumps({"username": "app", "password": "p" * 32}))
ssm.put_parameter(Name="/bench/db/password", Value="p" * 32, Type="SecureString")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "get-secret-value.json"), "w") as f:
    json.dump({"SecretId": "bench/db"}, f)
with open(os.path.join(out, "put-secret-value.json"), "w") as f:
    json.dump({"SecretId": "bench/db", "SecretString": json.dumps({"username": "app", "password": "q" * 32})}, f)
with open(os.path.join(out, "get-parameter.json"), "w") as f:
    json.dump({"Name": "/bench/db/password", "WithDecryption": True}, f)
