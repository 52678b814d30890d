"""The policy simulator and enforcement agree: one table of cases is decided by
SimulateCustomPolicy / SimulatePrincipalPolicy and by real calls of a user holding the policy."""
import datetime
import json

import botocore.exceptions
import pytest


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


NOW = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

# (name, policy, operation, target user ("self"/"other"), user tags)
CASES = [
    ("allow-get", doc({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}), "GetUser", "other", {}),
    ("allow-get-wrong-resource", doc({"Effect": "Allow", "Action": "iam:Get*", "Resource": "arn:aws:iam::*:user/nobody"}), "GetUser", "other", {}),
    ("deny-beats-allow", doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}, {"Effect": "Deny", "Action": "iam:GetUser", "Resource": "*"}), "GetUser", "other", {}),
    ("own-user-variable", doc({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::*:user/${aws:username}"}), "GetUser", "self", {}),
    ("own-user-variable-other", doc({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::*:user/${aws:username}"}), "GetUser", "other", {}),
    ("not-action", doc({"Effect": "Allow", "NotAction": "iam:Delete*", "Resource": "*"}), "ListUsers", "other", {}),
    ("not-action-denied", doc({"Effect": "Allow", "NotAction": "iam:List*", "Resource": "*"}), "ListUsers", "other", {}),
    ("source-ip-loopback", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}), "ListUsers", "other", {}),
    ("source-ip-elsewhere", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}}), "ListUsers", "other", {}),
    ("principal-tag", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}}), "ListUsers", "other", {"team": "red"}),
    ("principal-tag-mismatch", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}), "ListUsers", "other", {"team": "red"}),
    ("date-past", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}}), "ListUsers", "other", {}),
    ("date-future", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}}}), "ListUsers", "other", {}),
    ("insecure-transport-denied", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}), "ListUsers", "other", {}),
    ("if-exists-missing-key", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}}), "ListUsers", "other", {}),
    ("null-condition", doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"Null": {"aws:SourceVpc": "true"}}}), "ListUsers", "other", {}),
    ("case-insensitive-action", doc({"Effect": "Allow", "Action": "IAM:listusers", "Resource": "*"}), "ListUsers", "other", {}),
    ("wildcard-question", doc({"Effect": "Allow", "Action": "iam:?etUser", "Resource": "*"}), "GetUser", "other", {}),
]


@pytest.fixture(scope="module")
def setup(server):
    iam = server.client("iam")
    account = server.client("sts").get_caller_identity()["Account"]
    iam.create_user(UserName="sim-target")
    return iam, account


def context_for(tags):
    entries = [
        {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["127.0.0.1"], "ContextKeyType": "ip"},
        {"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": [NOW], "ContextKeyType": "date"},
        {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["false"], "ContextKeyType": "boolean"},
    ]
    for k, v in tags.items():
        entries.append({"ContextKeyName": f"aws:PrincipalTag/{k}", "ContextKeyValues": [v], "ContextKeyType": "string"})
    return entries


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_simulator_agrees_with_enforcement(server, setup, case):
    iam, account = setup
    name, policy, operation, target, tags = case
    user = f"sim-{name}"[:64]
    iam.create_user(UserName=user, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    target_user = user if target == "self" else "sim-target"
    resource = f"arn:aws:iam::{account}:user/{target_user}" if operation == "GetUser" else f"arn:aws:iam::{account}:user/"
    action = f"iam:{operation}"

    sim = iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=[action], ResourceArns=[resource],
                                     CallerArn=f"arn:aws:iam::{account}:user/{user}", ContextEntries=context_for(tags))
    custom = sim["EvaluationResults"][0]["EvalDecision"]
    principal = iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/{user}", ActionNames=[action],
                                              ResourceArns=[resource], ContextEntries=context_for({}))["EvaluationResults"][0]["EvalDecision"]

    client = server.client("iam", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    try:
        if operation == "GetUser":
            client.get_user(UserName=target_user)
        else:
            client.list_users()
        enforced = "allowed"
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied", e.response
        enforced = "explicitDeny" if "explicit deny" in e.response["Error"]["Message"] else "implicitDeny"
    assert custom == enforced, (name, custom, enforced)
    assert principal == enforced, (name, principal, enforced)


def test_simulator_reports_statements_and_missing_context(server, setup):
    iam, account = setup
    policy = doc({"Sid": "A", "Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
                 {"Sid": "D", "Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"})
    out = iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["iam:ListUsers", "iam:DeleteUser"])
    by_action = {r["EvalActionName"]: r for r in out["EvaluationResults"]}
    assert by_action["iam:ListUsers"]["EvalDecision"] == "implicitDeny"
    assert by_action["iam:ListUsers"]["MissingContextValues"] == ["aws:RequestedRegion"]
    assert by_action["iam:DeleteUser"]["EvalDecision"] == "explicitDeny"
    st = by_action["iam:DeleteUser"]["MatchedStatements"][0]
    assert st["SourcePolicyId"] == "PolicyInputList.1" and st["SourcePolicyType"] == "IAM Policy"
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[policy])["ContextKeyNames"]
    assert keys == ["aws:RequestedRegion"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["iam:ListUsers"])
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"
