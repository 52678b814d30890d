"""Sets up the IAM benchmark principal: a user holding 10 customer managed policies (60
statements with wildcards and conditions) and an access key. Prints `ACCESS_KEY SECRET`."""
import json
import sys

import boto3

endpoint, access_key, secret_key = sys.argv[1:4]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access_key, aws_secret_access_key=secret_key)
iam.create_user(UserName="bench")
for p in range(10):
    statements = []
    for s in range(6):
        st = {"Sid": f"P{p}S{s}", "Effect": "Allow", "Action": [f"iam:Get{'Role' if s % 2 else 'Group'}*", f"iam:List{p}{s}*"], "Resource": f"arn:aws:iam::*:{'role' if s % 2 else 'group'}/team-{p}-{s}/*"}
        if s == 0:
            st["Condition"] = {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}
        if s == 1:
            st["Condition"] = {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]}}
        if s == 2:
            st["Condition"] = {"Bool": {"aws:SecureTransport": "false"}}
        statements.append(st)
    if p == 9:
        statements[-1] = {"Sid": "GetSelf", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::*:user/${aws:username}"}
    arn = iam.create_policy(PolicyName=f"bench-{p}", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="bench", PolicyArn=arn)
key = iam.create_access_key(UserName="bench")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
