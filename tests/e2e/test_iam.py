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


def test_pagination_through_250_users(srv, iam):
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

    # The AWS CLI follows Marker/IsTruncated by itself; pages of 30 must still yield all 250.
    out = srv.cli("--profile", "rampart", "iam", "list-users", "--path-prefix", "/paged/", "--page-size", "30", "--output", "json")
    names = [u["UserName"] for u in json.loads(out.stdout)["Users"]]
    assert names == [f"page-{i:03d}" for i in range(250)]


def test_concurrent_creates_of_one_name_yield_one_user(iam):
    import concurrent.futures
    def attempt(i):
        try:
            iam.create_user(UserName="racer" if i % 2 else "RACER")
            return "ok"
        except botocore.exceptions.ClientError as e:
            return code_of(e)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(16)))
    assert results.count("ok") == 1
    assert set(results) == {"ok", "EntityAlreadyExists"}
    iam.delete_user(UserName="racer")


def code_of(err):
    return err.response["Error"]["Code"]


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


# --- Credentials ---------------------------------------------------------------------------------

def user_client(srv, service, key):
    return srv.client(service, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])


def test_access_keys_authenticate_at_once_and_stop_at_once(srv, iam, account):
    iam.create_user(UserName="keyholder")
    k1 = iam.create_access_key(UserName="keyholder")["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["AccessKeyId"]) == 20
    assert len(k1["SecretAccessKey"]) == 40 and k1["Status"] == "Active"
    k2 = iam.create_access_key(UserName="keyholder")["AccessKey"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_access_key(UserName="keyholder")
    assert code(e) == "LimitExceeded"
    assert message(e) == "Cannot exceed quota for AccessKeysPerUser: 2"
    listed = iam.list_access_keys(UserName="keyholder")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {k1["AccessKeyId"], k2["AccessKeyId"]}
    assert "SecretAccessKey" not in listed[0]

    # The new key authenticates: GetCallerIdentity answers every authenticated caller.
    ident = user_client(srv, "sts", k1).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{account}:user/keyholder"
    # ... and IAM calls get past authentication to an authorization decision (no policy: denied).
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user_client(srv, "iam", k1).list_users()
    assert code(e) == "AccessDenied"

    last = iam.get_access_key_last_used(AccessKeyId=k2["AccessKeyId"])
    assert last["UserName"] == "keyholder"
    assert last["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    assert "LastUsedDate" not in last["AccessKeyLastUsed"]
    # k1 was just used for sts and iam: the last use is the iam call, in us-east-1.
    used = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "iam" and used["Region"] == "us-east-1"
    import datetime
    import time
    age = datetime.datetime.now(datetime.timezone.utc) - used["LastUsedDate"]
    assert datetime.timedelta(seconds=-5) < age < datetime.timedelta(minutes=5)
    # ... and it reaches the store with the once-a-second flush: a restarted node still knows.
    time.sleep(1.5)
    srv.stop()
    srv.start()
    assert iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])["AccessKeyLastUsed"]["ServiceName"] == "iam"

    iam.update_access_key(UserName="keyholder", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user_client(srv, "sts", k1).get_caller_identity()
    assert code(e) == "InvalidClientTokenId"
    iam.update_access_key(UserName="keyholder", AccessKeyId=k1["AccessKeyId"], Status="Active")
    assert user_client(srv, "sts", k1).get_caller_identity()["Account"] == account

    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="keyholder")
    assert code(e) == "DeleteConflict"
    assert message(e) == "Cannot delete entity, must delete access keys first."
    for k in (k1, k2):
        iam.delete_access_key(UserName="keyholder", AccessKeyId=k["AccessKeyId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user_client(srv, "sts", k1).get_caller_identity()
    assert code(e) == "InvalidClientTokenId"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_access_key(UserName="keyholder", AccessKeyId=k1["AccessKeyId"])
    assert code(e) == "NoSuchEntity"
    iam.delete_user(UserName="keyholder")


def test_login_profiles_and_password_policy(srv, iam):
    iam.create_user(UserName="pw-user")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_account_password_policy()
    assert code(e) == "NoSuchEntity"
    iam.update_account_password_policy(
        MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True,
        RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True, PasswordReusePrevention=3,
    )
    pol = iam.get_account_password_policy()["PasswordPolicy"]
    assert pol["MinimumPasswordLength"] == 12 and pol["RequireSymbols"] and pol["PasswordReusePrevention"] == 3
    assert pol["ExpirePasswords"] is False

    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_login_profile(UserName="pw-user", Password="short")
    assert code(e) == "PasswordPolicyViolation"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_login_profile(UserName="pw-user")
    assert code(e) == "NoSuchEntity"
    assert message(e) == "Login Profile for User pw-user cannot be found."

    lp = iam.create_login_profile(UserName="pw-user", Password="First-Password-1!", PasswordResetRequired=True)["LoginProfile"]
    assert lp["UserName"] == "pw-user" and lp["PasswordResetRequired"] is True
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_login_profile(UserName="pw-user", Password="First-Password-1!")
    assert code(e) == "EntityAlreadyExists"
    assert iam.get_login_profile(UserName="pw-user")["LoginProfile"]["PasswordResetRequired"] is True

    # The password is stored only as an argon2id hash.
    import glob
    data = b"".join(open(f, "rb").read() for f in glob.glob(str(srv.data_dir / "**" / "*"), recursive=True) if not f.endswith("credentials") and __import__("os").path.isfile(f))
    assert b"First-Password-1!" not in data

    key = iam.create_access_key(UserName="pw-user")["AccessKey"]
    me = user_client(srv, "iam", key)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        me.change_password(OldPassword="wrong-Password-1!", NewPassword="Second-Password-2!")
    assert code(e) == "InvalidInput"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        me.change_password(OldPassword="First-Password-1!", NewPassword="First-Password-1!")
    assert code(e) == "PasswordPolicyViolation"
    me.change_password(OldPassword="First-Password-1!", NewPassword="Second-Password-2!")
    assert iam.get_login_profile(UserName="pw-user")["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(botocore.exceptions.ClientError) as e:
        me.change_password(OldPassword="First-Password-1!", NewPassword="Third-Password-3!")
    assert code(e) == "InvalidInput"

    iam.update_login_profile(UserName="pw-user", Password="Admin-Set-Pass-4!", PasswordResetRequired=True)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="pw-user")
    assert code(e) == "DeleteConflict"
    iam.delete_access_key(UserName="pw-user", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="pw-user")
    assert message(e) == "Cannot delete entity, must delete login profile first."
    iam.delete_login_profile(UserName="pw-user")
    iam.delete_user(UserName="pw-user")
    iam.delete_account_password_policy()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_account_password_policy()
    assert code(e) == "NoSuchEntity"


def totp(seed_base32, step):
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def test_virtual_mfa_devices(iam, account):
    import time
    iam.create_user(UserName="mfa-user")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="mfa-user-phone")["VirtualMFADevice"]
    serial = dev["SerialNumber"]
    assert serial == f"arn:aws:iam::{account}:mfa/mfa-user-phone"
    seed = dev["Base32StringSeed"].decode()
    assert len(seed) == 64 and set(seed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert dev["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="mfa-user-phone")
    assert code(e) == "EntityAlreadyExists"
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial]

    step = int(time.time()) // 30
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.enable_mfa_device(UserName="mfa-user", SerialNumber=serial,
                              AuthenticationCode1=totp(seed, step), AuthenticationCode2=totp(seed, step - 1))
    assert code(e) == "InvalidAuthenticationCode"
    iam.enable_mfa_device(UserName="mfa-user", SerialNumber=serial,
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    devices = iam.list_mfa_devices(UserName="mfa-user")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [serial]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned[0]["User"]["UserName"] == "mfa-user"
    # The same codes are never accepted twice.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.resync_mfa_device(UserName="mfa-user", SerialNumber=serial,
                              AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    assert code(e) == "InvalidAuthenticationCode"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert code(e) == "DeleteConflict"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="mfa-user")
    assert code(e) == "DeleteConflict"
    iam.deactivate_mfa_device(UserName="mfa-user", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="mfa-user")["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    iam.delete_user(UserName="mfa-user")


# --- Account -------------------------------------------------------------------------------------

def test_account_alias_and_summary(iam):
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias="rampart-test")
    assert iam.list_account_aliases()["AccountAliases"] == ["rampart-test"]
    iam.create_account_alias(AccountAlias="rampart-test2")
    assert iam.list_account_aliases()["AccountAliases"] == ["rampart-test2"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_account_alias(AccountAlias="rampart-test")
    assert code(e) == "NoSuchEntity"
    iam.delete_account_alias(AccountAlias="rampart-test2")
    assert iam.list_account_aliases()["AccountAliases"] == []

    before = iam.get_account_summary()["SummaryMap"]
    iam.create_user(UserName="summary-user")
    iam.create_policy(PolicyName="summary-policy", PolicyDocument=json.dumps(S3_READ))
    after = iam.get_account_summary()["SummaryMap"]
    assert after["Users"] == before["Users"] + 1
    assert after["Policies"] == before["Policies"] + 1
    assert after["AccessKeysPerUserQuota"] == 2 and after["AttachedPoliciesPerUserQuota"] == 10
    assert after["GlobalEndpointTokenVersion"] == 1
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    iam.delete_user(UserName="summary-user")
    iam.delete_policy(PolicyArn=[p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == "summary-policy"][0])


def test_account_authorization_details(iam):
    iam.create_user(UserName="auth-user")
    iam.put_user_policy(UserName="auth-user", PolicyName="inline", PolicyDocument=json.dumps(S3_READ))
    iam.create_group(GroupName="auth-group")
    iam.add_user_to_group(GroupName="auth-group", UserName="auth-user")
    iam.create_role(RoleName="auth-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="auth-role", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    d = iam.get_account_authorization_details(MaxItems=1000)
    user = [u for u in d["UserDetailList"] if u["UserName"] == "auth-user"][0]
    assert user["UserPolicyList"][0]["PolicyDocument"] == S3_READ
    assert user["GroupList"] == ["auth-group"]
    role = [r for r in d["RoleDetailList"] if r["RoleName"] == "auth-role"][0]
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert role["AttachedManagedPolicies"][0]["PolicyName"] == "IAMReadOnlyAccess"
    aws = [p for p in d["Policies"] if p["PolicyName"] == "IAMReadOnlyAccess"]
    assert aws and aws[0]["PolicyVersionList"][0]["Document"]["Statement"]
    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert only_roles["UserDetailList"] == [] and only_roles["RoleDetailList"]
    # Paging with MaxItems 1 sees every item exactly once.
    seen, marker = [], None
    while True:
        kw = {"MaxItems": 1, "Filter": ["User", "Group", "Role"]}
        if marker:
            kw["Marker"] = marker
        page = iam.get_account_authorization_details(**kw)
        seen += [u["UserName"] for u in page["UserDetailList"]] + [g["GroupName"] for g in page["GroupDetailList"]] + [r["RoleName"] for r in page["RoleDetailList"]]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert {"auth-user", "auth-group", "auth-role"} <= set(seen) and len(seen) == len(set(seen))
    iam.detach_role_policy(RoleName="auth-role", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.delete_role(RoleName="auth-role")
    iam.remove_user_from_group(GroupName="auth-group", UserName="auth-user")
    iam.delete_group(GroupName="auth-group")
    iam.delete_user_policy(UserName="auth-user", PolicyName="inline")
    iam.delete_user(UserName="auth-user")


def test_credential_report_parses_with_csv(srv, iam, account):
    import csv
    import io
    iam.create_user(UserName="report-user")
    key = iam.create_access_key(UserName="report-user")["AccessKey"]
    iam.create_login_profile(UserName="report-user", Password="Report-Pass-123!")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh = srv.client("iam")
        fresh.get_credential_report()
    assert code(e) == "ReportNotPresent"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    r = iam.get_credential_report()
    assert r["ReportFormat"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r["Content"].decode())))
    assert list(rows[0].keys()) == [
        "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
        "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
        "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
        "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
        "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
        "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
    ]
    assert rows[0]["user"] == "<root_account>" and rows[0]["arn"] == f"arn:aws:iam::{account}:root"
    me = [x for x in rows if x["user"] == "report-user"][0]
    assert me["arn"] == f"arn:aws:iam::{account}:user/report-user"
    assert me["password_enabled"] == "true" and me["access_key_1_active"] == "true"
    assert me["access_key_2_active"] == "false" and me["mfa_active"] == "false"
    assert me["user_creation_time"].endswith("+00:00")
    # The AWS CLI reads it too.
    out = srv.cli("--profile", "rampart", "iam", "get-credential-report", "--output", "json")
    assert json.loads(out.stdout)["ReportFormat"] == "text/csv"
    iam.delete_access_key(UserName="report-user", AccessKeyId=key["AccessKeyId"])
    iam.delete_login_profile(UserName="report-user")
    iam.delete_user(UserName="report-user")


SAML_METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com" validUntil="2035-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
      <ds:X509Certificate>MIIBszCCAVmgAwIBAgIUExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExample</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def test_identity_providers(iam, account):
    arn = iam.create_open_id_connect_provider(
        Url="https://token.example.com/tenant", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account}:oidc-provider/token.example.com/tenant"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_open_id_connect_provider(Url="https://token.example.com/tenant", ThumbprintList=["b" * 40])
    assert code(e) == "EntityAlreadyExists"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_open_id_connect_provider(Url="http://insecure.example.com", ThumbprintList=["b" * 40])
    assert code(e) == "InvalidInput"
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="my-app")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["c" * 40])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "token.example.com/tenant"
    assert got["ClientIDList"] == ["sts.amazonaws.com", "my-app"] and got["ThumbprintList"] == ["c" * 40]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="my-app")
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [arn]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert code(e) == "NoSuchEntity"

    s = iam.create_saml_provider(Name="corp-idp", SAMLMetadataDocument=SAML_METADATA)["SAMLProviderArn"]
    assert s == f"arn:aws:iam::{account}:saml-provider/corp-idp"
    got = iam.get_saml_provider(SAMLProviderArn=s)
    assert got["SAMLMetadataDocument"] == SAML_METADATA and got["ValidUntil"].year == 2035
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_saml_provider(Name="bad-idp", SAMLMetadataDocument="<html>" + "x" * 1000 + "</html>")
    assert code(e) == "InvalidInput"
    iam.update_saml_provider(SAMLProviderArn=s, SAMLMetadataDocument=SAML_METADATA.replace("2035", "2036"))
    assert iam.get_saml_provider(SAMLProviderArn=s)["ValidUntil"].year == 2036
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [s]
    iam.delete_saml_provider(SAMLProviderArn=s)
    assert iam.list_saml_providers()["SAMLProviderList"] == []


def test_tags_on_policies_profiles_devices_and_providers(iam, account):
    arn = iam.create_policy(PolicyName="tagged", PolicyDocument=json.dumps(S3_READ), Tags=[{"Key": "a", "Value": "1"}])["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.create_instance_profile(InstanceProfileName="tagged-profile")
    iam.tag_instance_profile(InstanceProfileName="tagged-profile", Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_instance_profile_tags(InstanceProfileName="tagged-profile")["Tags"] == [{"Key": "k", "Value": "v"}]
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="tagged-device")["VirtualMFADevice"]["SerialNumber"]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert code(e) == "InvalidInput"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_policy_tags(PolicyArn=f"arn:aws:iam::{account}:policy/nope")
    assert code(e) == "NoSuchEntity"
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_instance_profile(InstanceProfileName="tagged-profile")
    iam.delete_policy(PolicyArn=arn)


def test_root_get_user_and_unknown_operations(srv, iam, account):
    me = iam.get_user()["User"]
    assert me["UserId"] == account and me["Arn"] == f"arn:aws:iam::{account}:root"
    # A modelled operation Rampart does not serve yet answers 501, never a crash.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_ssh_public_keys()
    assert status(e) == 501


def test_service_linked_roles(iam, account):
    r = iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")["Role"]
    assert r["RoleName"] == "AWSServiceRoleForElasticLoadBalancing"
    assert r["Path"] == "/aws-service-role/elasticloadbalancing.amazonaws.com/"
    assert r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "elasticloadbalancing.amazonaws.com"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")
    assert code(e) == "InvalidInput"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_role(RoleName=r["RoleName"])
    assert code(e) == "UnmodifiableEntity"
    task = iam.delete_service_linked_role(RoleName=r["RoleName"])["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName=r["RoleName"])
    assert code(e) == "NoSuchEntity"


def test_cli_writes_the_mfa_qr_code_and_seed(srv, iam, tmp_path):
    png = tmp_path / "qr.png"
    srv.cli("--profile", "rampart", "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "cli-phone",
            "--outfile", str(png), "--bootstrap-method", "QRCodePNG")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    seed = tmp_path / "seed.txt"
    srv.cli("--profile", "rampart", "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "cli-phone2",
            "--outfile", str(seed), "--bootstrap-method", "Base32StringSeed")
    text = seed.read_text().strip()
    assert len(text) == 64 and set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]:
        if d["SerialNumber"].endswith(("/cli-phone", "/cli-phone2")):
            iam.delete_virtual_mfa_device(SerialNumber=d["SerialNumber"])


def make_certificate_pem():
    """A real self-signed certificate, made with the `cryptography` package the suite pins."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rampart-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_signing_certificates_and_service_credentials(iam):
    iam.create_user(UserName="cert-user")
    pem = make_certificate_pem()
    c = iam.upload_signing_certificate(UserName="cert-user", CertificateBody=pem)["Certificate"]
    assert c["Status"] == "Active" and c["UserName"] == "cert-user"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.upload_signing_certificate(UserName="cert-user", CertificateBody=pem)
    assert code(e) == "DuplicateCertificate"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.upload_signing_certificate(UserName="cert-user", CertificateBody="not a certificate")
    assert code(e) == "MalformedCertificate"
    iam.update_signing_certificate(UserName="cert-user", CertificateId=c["CertificateId"], Status="Inactive")
    listed = iam.list_signing_certificates(UserName="cert-user")["Certificates"]
    assert [(x["CertificateId"], x["Status"]) for x in listed] == [(c["CertificateId"], "Inactive")]

    cred = iam.create_service_specific_credential(UserName="cert-user", ServiceName="codecommit.amazonaws.com")["ServiceSpecificCredential"]
    assert cred["ServiceUserName"].startswith("cert-user-at-") and len(cred["ServicePassword"]) == 44
    reset = iam.reset_service_specific_credential(UserName="cert-user", ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])["ServiceSpecificCredential"]
    assert reset["ServicePassword"] != cred["ServicePassword"]
    listed = iam.list_service_specific_credentials(UserName="cert-user")["ServiceSpecificCredentials"]
    assert "ServicePassword" not in listed[0]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_user(UserName="cert-user")
    assert code(e) == "DeleteConflict"

    iam.delete_service_specific_credential(UserName="cert-user", ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    iam.delete_signing_certificate(UserName="cert-user", CertificateId=c["CertificateId"])
    iam.delete_user(UserName="cert-user")


def test_server_certificates(srv, iam, account):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.com")])
    not_after = datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))
    body = cert.public_bytes(serialization.Encoding.PEM).decode()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    meta = iam.upload_server_certificate(ServerCertificateName="www", Path="/cloudfront/", CertificateBody=body, PrivateKey=private)["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{account}:server-certificate/cloudfront/www"
    assert meta["ServerCertificateId"].startswith("ASCA")
    assert meta["Expiration"] == not_after
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.upload_server_certificate(ServerCertificateName="www", CertificateBody=body, PrivateKey=private)
    assert code(e) == "EntityAlreadyExists"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.upload_server_certificate(ServerCertificateName="bad", CertificateBody="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", PrivateKey=private)
    assert code(e) == "MalformedCertificate"
    got = iam.get_server_certificate(ServerCertificateName="www")["ServerCertificate"]
    assert got["CertificateBody"] == body and "PrivateKey" not in got
    # The private key is sealed at rest: no line of its PEM is in any data file.
    import glob
    import os
    data = b"".join(open(f, "rb").read() for f in glob.glob(str(srv.data_dir / "**" / "*"), recursive=True) if os.path.isfile(f))
    key_line = private.splitlines()[1].encode()
    assert len(key_line) > 40 and key_line not in data
    iam.update_server_certificate(ServerCertificateName="www", NewServerCertificateName="www2")
    assert [m["ServerCertificateName"] for m in iam.list_server_certificates(PathPrefix="/cloudfront/")["ServerCertificateMetadataList"]] == ["www2"]
    iam.tag_server_certificate(ServerCertificateName="www2", Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_server_certificate_tags(ServerCertificateName="www2")["Tags"] == [{"Key": "k", "Value": "v"}]
    iam.delete_server_certificate(ServerCertificateName="www2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_server_certificate(ServerCertificateName="www2")
    assert message(e) == "The Server Certificate with name www2 cannot be found."


def test_policies_granting_service_access(iam, account):
    iam.create_user(UserName="grant-user")
    iam.create_group(GroupName="grant-group")
    iam.add_user_to_group(GroupName="grant-group", UserName="grant-user")
    iam.put_user_policy(UserName="grant-user", PolicyName="s3-inline", PolicyDocument=json.dumps(S3_READ))
    iam.attach_group_policy(GroupName="grant-group", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    out = iam.list_policies_granting_service_access(
        Arn=f"arn:aws:iam::{account}:user/grant-user", ServiceNamespaces=["s3", "iam", "kms"],
    )["PoliciesGrantingServiceAccess"]
    by_ns = {x["ServiceNamespace"]: x["Policies"] for x in out}
    assert [(p["PolicyName"], p["PolicyType"], p["EntityType"]) for p in by_ns["s3"]] == [("s3-inline", "INLINE", "USER")]
    assert [(p["PolicyName"], p["PolicyType"]) for p in by_ns["iam"]] == [("IAMReadOnlyAccess", "MANAGED")]
    assert by_ns["kms"] == []
    iam.detach_group_policy(GroupName="grant-group", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.remove_user_from_group(GroupName="grant-group", UserName="grant-user")
    iam.delete_group(GroupName="grant-group")
    iam.delete_user_policy(UserName="grant-user", PolicyName="s3-inline")
    iam.delete_user(UserName="grant-user")


def test_service_last_accessed(srv, iam, account):
    import time
    iam.create_user(UserName="la-user")
    iam.create_group(GroupName="la-group")
    iam.add_user_to_group(GroupName="la-group", UserName="la-user")
    iam.attach_user_policy(UserName="la-user", PolicyArn="arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser")
    key = iam.create_access_key(UserName="la-user")["AccessKey"]
    user_client(srv, "sts", key).get_caller_identity()
    try:
        user_client(srv, "kms", key).list_keys()
    except botocore.exceptions.ClientError:
        pass  # Authenticated either way; the decision does not matter here.
    time.sleep(1.5)  # the once-a-second flush
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{account}:user/la-user")["JobId"]
    r = iam.get_service_last_accessed_details(JobId=job)
    assert r["JobStatus"] == "COMPLETED"
    by_ns = {s["ServiceNamespace"]: s for s in r["ServicesLastAccessed"]}
    assert by_ns["kms"]["LastAuthenticatedEntity"] == f"arn:aws:iam::{account}:user/la-user"
    assert by_ns["kms"]["TotalAuthenticatedEntities"] == 1 and by_ns["kms"]["LastAuthenticatedRegion"] == "us-east-1"
    assert "sts" in by_ns  # accessed, though no policy grants it
    assert "LastAuthenticated" not in by_ns["iam"]  # granted (iam:List*), never used
    assert "secretsmanager" not in by_ns  # neither granted nor used
    group_job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{account}:group/la-group")["JobId"]
    ents = iam.get_service_last_accessed_details_with_entities(JobId=group_job, ServiceNamespace="kms")["EntityDetailsList"]
    assert [(e["EntityInfo"]["Name"], "LastAuthenticated" in e) for e in ents] == [("la-user", True)]
    iam.delete_access_key(UserName="la-user", AccessKeyId=key["AccessKeyId"])
    iam.detach_user_policy(UserName="la-user", PolicyArn="arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser")
    iam.remove_user_from_group(GroupName="la-group", UserName="la-user")
    iam.delete_group(GroupName="la-group")
    iam.delete_user(UserName="la-user")
