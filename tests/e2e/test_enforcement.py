"""IAM enforcement through the real pipeline: every call is decided by the policy engine over
IAM's records, with AWS's denial messages (issue 4's scenarios)."""
import json
import time

import botocore.exceptions
import pytest


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    err = e.value.response["Error"]
    assert err["Code"] in ("AccessDenied", "AccessDeniedException"), err
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return err["Message"]


def new_user(server, name, **tags):
    iam = server.client("iam")
    iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key


def as_key(server, service, key, **kw):
    return server.client(service, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"], **kw)


def wait_for_key(server, key):
    # A new key works at once; no eventual consistency to wait out.
    return as_key(server, "sts", key).get_caller_identity()


@pytest.fixture(scope="module")
def account(server):
    return server.client("sts").get_caller_identity()["Account"]


def test_user_denied_until_group_grants(server, account):
    root = server.client("iam")
    key = new_user(server, "alice")
    ident = wait_for_key(server, key)
    assert ident["Arn"] == f"arn:aws:iam::{account}:user/alice"
    alice = as_key(server, "iam", key)
    msg = denied(lambda: alice.list_users())
    assert msg.startswith(f"User: arn:aws:iam::{account}:user/alice is not authorized to perform: iam:ListUsers on resource: ")
    assert msg.endswith("because no identity-based policy allows the iam:ListUsers action")

    arn = root.create_policy(PolicyName="ListUsersOnly", PolicyDocument=doc(allow(["iam:ListUsers", "iam:GetUser"])))["Policy"]["Arn"]
    root.create_group(GroupName="readers")
    root.attach_group_policy(GroupName="readers", PolicyArn=arn)
    denied(lambda: alice.list_users())  # not yet a member
    root.add_user_to_group(GroupName="readers", UserName="alice")
    names = [u["UserName"] for u in alice.list_users()["Users"]]
    assert "alice" in names
    # Only what the group grants.
    denied(lambda: alice.create_user(UserName="mallory"))
    root.remove_user_from_group(GroupName="readers", UserName="alice")
    denied(lambda: alice.list_users())


def test_explicit_deny_on_a_tag_condition_beats_an_allow(server, account):
    root = server.client("iam")
    key = new_user(server, "frank", frozen="yes")
    root.put_user_policy(UserName="frank", PolicyName="admin-but", PolicyDocument=doc(
        allow("iam:*"),
        deny("iam:CreateUser", Condition={"StringEquals": {"aws:PrincipalTag/frozen": "yes"}}),
    ))
    frank = as_key(server, "iam", key)
    frank.get_user(UserName="frank")
    msg = denied(lambda: frank.create_user(UserName="frank-2"))
    assert msg.endswith("with an explicit deny in an identity-based policy"), msg
    # Untag: the deny no longer applies.
    root.untag_user(UserName="frank", TagKeys=["frozen"])
    frank.create_user(UserName="frank-2")


def test_a_boundary_narrows_an_admin(server, account):
    root = server.client("iam")
    key = new_user(server, "bounded")
    root.attach_user_policy(UserName="bounded", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    boundary = root.create_policy(PolicyName="ReadOnlyIam", PolicyDocument=doc(allow(["iam:Get*", "iam:List*"])))["Policy"]["Arn"]
    admin = as_key(server, "iam", key)
    admin.create_user(UserName="made-by-admin")
    root.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=boundary)
    admin.list_users()
    msg = denied(lambda: admin.create_user(UserName="made-by-admin-2"))
    assert msg.endswith("because no permissions boundary allows the iam:CreateUser action"), msg
    root.delete_user_permissions_boundary(UserName="bounded")
    admin.create_user(UserName="made-by-admin-2")


def test_a_deleted_or_deactivated_key_stops_at_once(server):
    root = server.client("iam")
    key = new_user(server, "shortlived")
    sts = as_key(server, "sts", key)
    sts.get_caller_identity()
    root.update_access_key(UserName="shortlived", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    root.update_access_key(UserName="shortlived", AccessKeyId=key["AccessKeyId"], Status="Active")
    sts.get_caller_identity()
    root.delete_access_key(UserName="shortlived", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_assume_role_same_account_with_external_id_and_session_policy(server, account):
    root = server.client("iam")
    key = new_user(server, "roley")
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/roley"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": "xyz-123"}}})
    role_arn = root.create_role(RoleName="Auditor", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    root.put_role_policy(RoleName="Auditor", PolicyName="read", PolicyDocument=doc(allow(["iam:ListRoles", "iam:ListUsers"])))
    sts = as_key(server, "sts", key)
    denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"))
    denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="wrong"))
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="xyz-123", DurationSeconds=900)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/Auditor/s1"
    c = out["Credentials"]
    session = dict(access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])
    assert server.client("sts", **session).get_caller_identity()["Arn"] == f"arn:aws:sts::{account}:assumed-role/Auditor/s1"
    role_iam = server.client("iam", **session)
    role_iam.list_roles()
    role_iam.list_users()
    msg = denied(lambda: role_iam.create_user(UserName="nope"))
    assert f"assumed-role/Auditor/s1 is not authorized to perform: iam:CreateUser" in msg
    # A session policy narrows the session to ListRoles.
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="s2", ExternalId="xyz-123", Policy=doc(allow("iam:ListRoles")))
    c = out["Credentials"]
    narrow = server.client("iam", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])
    narrow.list_roles()
    msg = denied(lambda: narrow.list_users())
    assert msg.endswith("because no session policy allows the iam:ListUsers action"), msg
    # Root may not assume roles at all.
    denied(lambda: server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="root", ExternalId="xyz-123"))
    # Sessions die with their role.
    root.delete_role_policy(RoleName="Auditor", PolicyName="read")
    root.delete_role(RoleName="Auditor")
    denied(lambda: role_iam.list_roles())


def test_assume_role_across_two_accounts(fresh_server):
    s = fresh_server("--account-id", "111111111111").start()
    s.stop()
    out = s.rampart("accounts", "create", "--id", "222222222222", "--name", "prod")
    assert out.returncode == 0, out.stderr
    listing = s.rampart("accounts", "list").stdout
    assert "111111111111" in listing and "222222222222\tprod" in listing
    s.start()
    import configparser
    cp = configparser.ConfigParser()
    cp.read(s.data_dir / "credentials")
    prod_root = s.client("iam", access_key=cp["rampart-222222222222"]["aws_access_key_id"], secret_key=cp["rampart-222222222222"]["aws_secret_access_key"])
    assert s.client("sts", access_key=cp["rampart-222222222222"]["aws_access_key_id"], secret_key=cp["rampart-222222222222"]["aws_secret_access_key"]).get_caller_identity()["Account"] == "222222222222"
    trust = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"}}})
    role_arn = prod_root.create_role(RoleName="Deployer", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    prod_root.put_role_policy(RoleName="Deployer", PolicyName="p", PolicyDocument=doc(allow("iam:ListRoles")))

    dev_root = s.client("iam")
    key = dev_root.create_access_key(UserName=dev_root.create_user(UserName="dev")["User"]["UserName"])["AccessKey"]
    sts = as_key(s, "sts", key)
    # The trust policy trusts the account, so the user also needs its own account's permission.
    denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="deploy", ExternalId="partner-42"))
    dev_root.put_user_policy(UserName="dev", PolicyName="assume", PolicyDocument=doc(allow("sts:AssumeRole", role_arn)))
    denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="deploy", ExternalId="wrong"))
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="deploy", ExternalId="partner-42")
    c = out["Credentials"]
    cross = s.client("iam", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])
    roles = [r["RoleName"] for r in cross.list_roles()["Roles"]]
    assert roles == ["Deployer"], "the session acts in the role's account"
    # With a session policy that allows nothing the role grants, the session can do nothing.
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="narrow", ExternalId="partner-42", Policy=doc(allow("iam:GetUser")))
    c = out["Credentials"]
    narrow = s.client("iam", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])
    msg = denied(lambda: narrow.list_roles())
    assert msg.endswith("because no session policy allows the iam:ListRoles action"), msg


def totp(seed_b32, step):
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    word = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{word % 1000000:06d}"


def test_mfa_guarded_action_needs_an_mfa_session(server, account):
    root = server.client("iam")
    key = new_user(server, "mfa-user")
    root.put_user_policy(UserName="mfa-user", PolicyName="mfa-only", PolicyDocument=doc(
        allow("iam:ListUsers", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})))
    device = root.create_virtual_mfa_device(VirtualMFADeviceName="mfa-user")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    serial = device["SerialNumber"]
    step = int(time.time()) // 30
    root.enable_mfa_device(UserName="mfa-user", SerialNumber=serial, AuthenticationCode1=totp(seed, step - 2), AuthenticationCode2=totp(seed, step - 1))

    denied(lambda: as_key(server, "iam", key).list_users())  # long-term keys: no MFA
    sts = as_key(server, "sts", key)
    plain = sts.get_session_token(DurationSeconds=900)["Credentials"]
    denied(lambda: server.client("iam", access_key=plain["AccessKeyId"], secret_key=plain["SecretAccessKey"], session_token=plain["SessionToken"]).list_users())
    wrong = "000000" if totp(seed, step) != "000000" else "111111"
    denied(lambda: sts.get_session_token(DurationSeconds=900, SerialNumber=serial, TokenCode=wrong))
    code = totp(seed, int(time.time()) // 30)
    mfa = sts.get_session_token(DurationSeconds=900, SerialNumber=serial, TokenCode=code)["Credentials"]
    with_mfa = server.client("iam", access_key=mfa["AccessKeyId"], secret_key=mfa["SecretAccessKey"], session_token=mfa["SessionToken"])
    assert any(u["UserName"] == "mfa-user" for u in with_mfa.list_users()["Users"])
    # A code is accepted once.
    denied(lambda: sts.get_session_token(DurationSeconds=900, SerialNumber=serial, TokenCode=code))


def test_identity_allow_alone_cannot_assume_a_role_whose_trust_policy_excludes_the_caller(server, account):
    root = server.client("iam")
    key = new_user(server, "outsider")
    root.put_user_policy(UserName="outsider", PolicyName="assume-anything", PolicyDocument=doc(allow("sts:AssumeRole")))
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/roley-2"}, "Action": "sts:AssumeRole"})
    role_arn = root.create_role(RoleName="Guarded", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    denied(lambda: as_key(server, "sts", key).assume_role(RoleArn=role_arn, RoleSessionName="nope"))
    # Naming the account in the trust policy hands the decision to the caller's identity policy.
    root.update_assume_role_policy(RoleName="Guarded", PolicyDocument=doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}))
    as_key(server, "sts", key).assume_role(RoleArn=role_arn, RoleSessionName="yes")
