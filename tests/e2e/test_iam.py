"""IAM through boto3 and the AWS CLI against the real binary: users, groups, roles, instance
profiles, managed and inline policies, access keys, login profiles, MFA devices."""
import json
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import Server, raw_request, sign

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
S3_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}],
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server of this module's own, so listings see only what these tests create."""
    s = Server(tmp_path_factory.mktemp("rampart-iam")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def iam(srv):
    return srv.client("iam")


@pytest.fixture(scope="module")
def account(srv):
    return srv.client("sts").get_caller_identity()["Account"]


@pytest.fixture(scope="module")
def unchecked_iam(srv):
    """A client that sends what it is given, so the server's own validation is what answers."""
    ak, sk = srv.credentials()
    return boto3.client(
        "iam", endpoint_url=srv.endpoint, region_name="us-east-1", aws_access_key_id=ak, aws_secret_access_key=sk,
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


# --- Users ---------------------------------------------------------------------------------------

def test_user_lifecycle(iam, account):
    u = iam.create_user(UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert u["UserName"] == "alice"
    assert u["Arn"] == f"arn:aws:iam::{account}:user/eng/alice"
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    assert u["Path"] == "/eng/"
    assert u["CreateDate"].year >= 2024
    got = iam.get_user(UserName="alice")["User"]
    assert got["UserId"] == u["UserId"]
    assert got["Tags"] == [{"Key": "team", "Value": "core"}]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="ALICE")
    assert code(e) == "EntityAlreadyExists"
    assert status(e) == 409
    assert message(e) == "User with name ALICE already exists."

    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_user(UserName="bob")
    assert code(e) == "NoSuchEntity"
    assert status(e) == 404
    assert message(e) == "The user with name bob cannot be found."

    iam.tag_user(UserName="alice", Tags=[{"Key": "env", "Value": "prod"}])
    tags = iam.list_user_tags(UserName="alice")["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "core", "env": "prod"}
    iam.untag_user(UserName="alice", TagKeys=["team"])
    assert iam.list_user_tags(UserName="alice")["Tags"] == [{"Key": "env", "Value": "prod"}]

    iam.update_user(UserName="alice", NewUserName="alice2", NewPath="/ops/")
    moved = iam.get_user(UserName="alice2")["User"]
    assert moved["Arn"] == f"arn:aws:iam::{account}:user/ops/alice2"
    assert moved["UserId"] == u["UserId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_user(UserName="alice")
    assert code(e) == "NoSuchEntity"
    iam.delete_user(UserName="alice2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="alice2")
    assert code(e) == "NoSuchEntity"


def test_bad_user_input_changes_nothing(iam):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="bad name!")
    assert code(e) == "ValidationError"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="ünïcode")
    assert code(e) == "ValidationError"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="x" * 65)
    assert code(e) == "ValidationError"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="many-tags", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(1000)])
    assert code(e) == "ValidationError"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="reserved-tag", Tags=[{"Key": "aws:x", "Value": "v"}])
    assert code(e) == "InvalidInput"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="bad-boundary", PermissionsBoundary="not-an-arn-at-all-really")
    assert code(e) == "InvalidInput"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_user(UserName="missing-boundary", PermissionsBoundary="arn:aws:iam::aws:policy/NoSuchPolicyHere")
    assert code(e) == "NoSuchEntity"
    names = {u["UserName"] for u in iam.list_users()["Users"]}
    assert not names & {"many-tags", "reserved-tag", "bad-boundary", "missing-boundary"}


def test_pagination_through_250_users(iam):
    for i in range(250):
        iam.create_user(UserName=f"page-{i:03d}", Path="/paged/")
    iam.create_user(UserName="not-paged")
    seen, marker, pages = [], None, 0
    while True:
        kw = {"PathPrefix": "/paged/", "MaxItems": 40}
        if marker:
            kw["Marker"] = marker
        r = iam.list_users(**kw)
        pages += 1
        assert len(r["Users"]) <= 40
        seen += [u["UserName"] for u in r["Users"]]
        if not r["IsTruncated"]:
            assert "Marker" not in r
            break
        marker = r["Marker"]
    assert pages == 7
    assert seen == [f"page-{i:03d}" for i in range(250)]
    # boto3's paginator agrees.
    pag = iam.get_paginator("list_users").paginate(PathPrefix="/paged/", PaginationConfig={"PageSize": 100})
    assert sum(len(p["Users"]) for p in pag) == 250
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_users(Marker="forged-marker")
    assert code(e) == "InvalidInput"


def test_cli_creates_and_lists_users(srv):
    out = srv.cli("--profile", "rampart", "iam", "create-user", "--user-name", "cli-user", "--output", "json")
    assert json.loads(out.stdout)["User"]["UserName"] == "cli-user"
    out = srv.cli("--profile", "rampart", "iam", "get-user", "--user-name", "cli-user", "--output", "json")
    assert json.loads(out.stdout)["User"]["Arn"].endswith(":user/cli-user")
    srv.cli("--profile", "rampart", "iam", "delete-user", "--user-name", "cli-user")
    p = srv.cli("--profile", "rampart", "iam", "get-user", "--user-name", "cli-user", check=False)
    assert p.returncode != 0 and "NoSuchEntity" in p.stderr


# --- Groups --------------------------------------------------------------------------------------

def test_groups_and_membership(iam, account):
    g = iam.create_group(GroupName="devs", Path="/teams/")["Group"]
    assert g["Arn"] == f"arn:aws:iam::{account}:group/teams/devs"
    assert g["GroupId"].startswith("AGPA")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_group(GroupName="DEVS")
    assert code(e) == "EntityAlreadyExists"
    iam.create_user(UserName="carol")
    iam.add_user_to_group(GroupName="devs", UserName="carol")
    got = iam.get_group(GroupName="devs")
    assert [u["UserName"] for u in got["Users"]] == ["carol"]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName="carol")["Groups"]] == ["devs"]
    assert [x["GroupName"] for x in iam.list_groups(PathPrefix="/teams/")["Groups"]] == ["devs"]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="carol")
    assert code(e) == "DeleteConflict"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_group(GroupName="devs")
    assert code(e) == "DeleteConflict"
    assert message(e) == "Cannot delete entity, must remove users from group first."

    iam.update_group(GroupName="devs", NewGroupName="developers")
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName="carol")["Groups"]] == ["developers"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_group(GroupName="devs")
    assert message(e) == "The group with name devs cannot be found."

    iam.remove_user_from_group(GroupName="developers", UserName="carol")
    assert iam.get_group(GroupName="developers")["Users"] == []
    iam.delete_group(GroupName="developers")
    iam.delete_user(UserName="carol")


def test_groups_per_user_limit(iam):
    iam.create_user(UserName="joiner")
    for i in range(10):
        iam.create_group(GroupName=f"g{i}")
        iam.add_user_to_group(GroupName=f"g{i}", UserName="joiner")
    iam.create_group(GroupName="g10")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.add_user_to_group(GroupName="g10", UserName="joiner")
    assert code(e) == "LimitExceeded"
    for i in range(10):
        iam.remove_user_from_group(GroupName=f"g{i}", UserName="joiner")
        iam.delete_group(GroupName=f"g{i}")
    iam.delete_group(GroupName="g10")
    iam.delete_user(UserName="joiner")


# --- Roles and instance profiles -----------------------------------------------------------------

def test_role_lifecycle(iam, unchecked_iam, account):
    r = iam.create_role(
        RoleName="app", Path="/svc/", AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="the app", MaxSessionDuration=7200, Tags=[{"Key": "k", "Value": "v"}],
    )["Role"]
    assert r["Arn"] == f"arn:aws:iam::{account}:role/svc/app"
    assert r["RoleId"].startswith("AROA")
    # botocore decodes the URL-encoded document AWS sends back.
    assert r["AssumeRolePolicyDocument"] == TRUST
    got = iam.get_role(RoleName="app")["Role"]
    assert got["MaxSessionDuration"] == 7200
    assert got["Description"] == "the app"
    assert got["Tags"] == [{"Key": "k", "Value": "v"}]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        unchecked_iam.create_role(RoleName="bad-duration", AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=60)
    assert code(e) == "ValidationError"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName="bad-trust", AssumeRolePolicyDocument="{not json")
    assert code(e) == "MalformedPolicyDocument"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName="no-principal", AssumeRolePolicyDocument=json.dumps(S3_READ))
    assert code(e) == "MalformedPolicyDocument"
    assert [x["RoleName"] for x in iam.list_roles()["Roles"]] == ["app"]

    iam.update_role(RoleName="app", MaxSessionDuration=43200)
    assert iam.get_role(RoleName="app")["Role"]["MaxSessionDuration"] == 43200
    out = iam.update_role_description(RoleName="app", Description="new words")["Role"]
    assert out["Description"] == "new words"
    trust2 = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}]}
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(trust2))
    assert iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"] == trust2
    iam.tag_role(RoleName="app", Tags=[{"Key": "k2", "Value": "v2"}])
    iam.untag_role(RoleName="app", TagKeys=["k"])
    assert iam.list_role_tags(RoleName="app")["Tags"] == [{"Key": "k2", "Value": "v2"}]

    p = iam.create_instance_profile(InstanceProfileName="app-profile", Path="/svc/")["InstanceProfile"]
    assert p["InstanceProfileId"].startswith("AIPA")
    assert p["Arn"] == f"arn:aws:iam::{account}:instance-profile/svc/app-profile"
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    got = iam.get_instance_profile(InstanceProfileName="app-profile")["InstanceProfile"]
    assert [x["RoleName"] for x in got["Roles"]] == ["app"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    assert code(e) == "LimitExceeded"
    names = [x["InstanceProfileName"] for x in iam.list_instance_profiles_for_role(RoleName="app")["InstanceProfiles"]]
    assert names == ["app-profile"]
    assert len(iam.list_instance_profiles(PathPrefix="/svc/")["InstanceProfiles"]) == 1
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_role(RoleName="app")
    assert code(e) == "DeleteConflict"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName="app-profile")
    assert code(e) == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    iam.delete_instance_profile(InstanceProfileName="app-profile")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_instance_profile(InstanceProfileName="app-profile")
    assert message(e) == "Instance Profile app-profile cannot be found."
    iam.delete_role(RoleName="app")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName="app")
    assert message(e) == "The role with name app cannot be found."


# --- Managed and inline policies -----------------------------------------------------------------

def test_managed_policy_versions(iam, account):
    p = iam.create_policy(PolicyName="s3-read", Path="/team/", PolicyDocument=json.dumps(S3_READ), Description="read s3")["Policy"]
    arn = p["Arn"]
    assert arn == f"arn:aws:iam::{account}:policy/team/s3-read"
    assert p["PolicyId"].startswith("ANPA")
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0 and p["IsAttachable"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName="S3-READ", PolicyDocument=json.dumps(S3_READ))
    assert code(e) == "EntityAlreadyExists"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "read s3"
    v = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert v["Document"] == S3_READ and v["IsDefaultVersion"]

    for i in range(2, 6):
        doc = {**S3_READ, "Statement": [{**S3_READ["Statement"][0], "Action": f"s3:Get{i}"}]}
        out = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=(i == 3))["PolicyVersion"]
        assert out["VersionId"] == f"v{i}"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(S3_READ))
    assert code(e) == "LimitExceeded"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5
    assert [x["VersionId"] for x in versions if x["IsDefaultVersion"]] == ["v3"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert code(e) == "DeleteConflict"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code(e) == "DeleteConflict"
    for vid in ["v1", "v2", "v3", "v4"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=vid)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    assert code(e) == "NoSuchEntity"
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_policy(PolicyArn=arn)
    assert code(e) == "NoSuchEntity"
    assert message(e) == f"Policy {arn} does not exist or is not attachable."


def test_bad_policy_documents_store_nothing(iam, unchecked_iam, account):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName="broken", PolicyDocument="{\"Version\": \"2012-10-17\", \"Statement\": [")
    assert code(e) == "MalformedPolicyDocument"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName="no-effect", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]}))
    assert code(e) == "MalformedPolicyDocument"
    big = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [f"s3:GetObject{i}" for i in range(500)], "Resource": "*"}]}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName="too-big", PolicyDocument=json.dumps(big))
    assert code(e) == "LimitExceeded"
    iam.create_user(UserName="inline-size")
    mid = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [f"s3:Get{i}" for i in range(200)], "Resource": "*"}]}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.put_user_policy(UserName="inline-size", PolicyName="p", PolicyDocument=json.dumps(mid))
    assert code(e) == "LimitExceeded"
    # The user quota (2,048) counts all inline policies together.
    half = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [f"s3:Get{i}" for i in range(120)], "Resource": "*"}]}
    iam.put_user_policy(UserName="inline-size", PolicyName="a", PolicyDocument=json.dumps(half))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.put_user_policy(UserName="inline-size", PolicyName="b", PolicyDocument=json.dumps(half))
    assert code(e) == "LimitExceeded"
    assert iam.list_user_policies(UserName="inline-size")["PolicyNames"] == ["a"]
    iam.delete_user_policy(UserName="inline-size", PolicyName="a")
    iam.delete_user(UserName="inline-size")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.attach_user_policy(UserName="nobody", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert code(e) == "NoSuchEntity"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_policy(PolicyArn="not:an:arn:at:all:really")
    assert code(e) == "InvalidInput"
    local = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert not set(local) & {"broken", "no-effect", "too-big"}


def test_attach_inline_boundaries_and_listing(iam, account):
    arn = iam.create_policy(PolicyName="attach-me", PolicyDocument=json.dumps(S3_READ))["Policy"]["Arn"]
    iam.create_user(UserName="dave")
    iam.create_group(GroupName="ops")
    iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_user_policy(UserName="dave", PolicyArn=arn)
    iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
    iam.attach_role_policy(RoleName="worker", PolicyArn=arn)
    iam.attach_role_policy(RoleName="worker", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in ents["PolicyUsers"]] == ["dave"]
    assert [g["GroupName"] for g in ents["PolicyGroups"]] == ["ops"]
    assert [r["RoleName"] for r in ents["PolicyRoles"]] == ["worker"]
    assert ents["PolicyUsers"][0]["UserId"].startswith("AIDA")
    assert len(iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")["PolicyUsers"]) == 0
    attached = iam.list_attached_role_policies(RoleName="worker")["AttachedPolicies"]
    assert {a["PolicyName"] for a in attached} == {"attach-me", "ReadOnlyAccess"}
    only = [p["PolicyName"] for p in iam.list_policies(OnlyAttached=True)["Policies"]]
    assert set(only) == {"attach-me", "ReadOnlyAccess"}
    aws = [p["PolicyName"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
    assert "AdministratorAccess" in aws and "attach-me" not in aws

    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code(e) == "DeleteConflict"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="dave")
    assert code(e) == "DeleteConflict"

    iam.put_role_policy(RoleName="worker", PolicyName="inline1", PolicyDocument=json.dumps(S3_READ))
    got = iam.get_role_policy(RoleName="worker", PolicyName="inline1")
    assert got["PolicyDocument"] == S3_READ and got["RoleName"] == "worker"
    assert iam.list_role_policies(RoleName="worker")["PolicyNames"] == ["inline1"]
    iam.put_group_policy(GroupName="ops", PolicyName="g1", PolicyDocument=json.dumps(S3_READ))
    assert iam.get_group_policy(GroupName="ops", PolicyName="g1")["PolicyDocument"] == S3_READ
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_user_policy(UserName="dave", PolicyName="nope")
    assert message(e) == "The user policy with name nope cannot be found."

    iam.put_user_permissions_boundary(UserName="dave", PermissionsBoundary=arn)
    assert iam.get_user(UserName="dave")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    boundary_users = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")["PolicyUsers"]
    assert [u["UserName"] for u in boundary_users] == ["dave"]
    iam.put_role_permissions_boundary(RoleName="worker", PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess")
    assert iam.get_role(RoleName="worker")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith("PowerUserAccess")
    iam.delete_role_permissions_boundary(RoleName="worker")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="worker")["Role"]
    iam.delete_user_permissions_boundary(UserName="dave")

    # Ten managed policies per entity.
    arns = [iam.create_policy(PolicyName=f"lim{i}", PolicyDocument=json.dumps(S3_READ))["Policy"]["Arn"] for i in range(10)]
    for a in arns[:9]:
        iam.attach_user_policy(UserName="dave", PolicyArn=a)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.attach_user_policy(UserName="dave", PolicyArn=arns[9])
    assert code(e) == "LimitExceeded"
    for a in arns[:9]:
        iam.detach_user_policy(UserName="dave", PolicyArn=a)
    for a in arns:
        iam.delete_policy(PolicyArn=a)

    iam.detach_user_policy(UserName="dave", PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.detach_user_policy(UserName="dave", PolicyArn=arn)
    assert code(e) == "NoSuchEntity"
    iam.detach_group_policy(GroupName="ops", PolicyArn=arn)
    iam.detach_role_policy(RoleName="worker", PolicyArn=arn)
    iam.detach_role_policy(RoleName="worker", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_role_policy(RoleName="worker", PolicyName="inline1")
    iam.delete_group_policy(GroupName="ops", PolicyName="g1")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    iam.delete_policy(PolicyArn=arn)
    iam.delete_user(UserName="dave")
    iam.delete_group(GroupName="ops")
    iam.delete_role(RoleName="worker")


def test_aws_managed_policies_are_served(iam):
    p = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert p["PolicyName"] == "AdministratorAccess" and p["PolicyId"].startswith("ANPA")
    v = iam.get_policy_version(PolicyArn=p["Arn"], VersionId=p["DefaultVersionId"])["PolicyVersion"]
    assert v["Document"]["Statement"][0]["Action"] == "*"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy(PolicyArn=p["Arn"])
    assert code(e) in ("InvalidInput", "UnmodifiableEntity")
