"""Secrets Manager end to end: boto3, the AWS CLI and aws-secretsmanager-caching against the real
binary (issue 6)."""
import base64
import json
import signal
import string
import threading
import time
import uuid

import botocore.exceptions
import pytest

PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
# Plaintexts this module uses; the leak test searches everything Rampart wrote for them.
PLAINTEXTS = []


def secret_text(tag):
    v = f"s3cr3t-{tag}-{uuid.uuid4().hex}"
    PLAINTEXTS.append(v)
    return v


def err(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def sm(server):
    return server.client("secretsmanager")


def name(prefix="app"):
    return f"{prefix}/{uuid.uuid4().hex[:10]}"


def test_create_get_versions_and_stages(sm):
    n = name()
    v1 = secret_text("v1")
    r = sm.create_secret(Name=n, SecretString=v1, Description="db password", Tags=[{"Key": "team", "Value": "pay"}])
    arn = r["ARN"]
    assert r["Name"] == n
    # ARN ends with the random 6-character suffix.
    assert arn.startswith(f"arn:aws:secretsmanager:us-east-1:") and arn[-7] == "-" and arn[-6:].isalnum()
    assert arn.split(":secret:")[1] == f"{n}-{arn[-6:]}"
    got = sm.get_secret_value(SecretId=n)
    assert got["SecretString"] == v1 and got["VersionStages"] == ["AWSCURRENT"] and got["VersionId"] == r["VersionId"]
    # Lookup by full ARN and partial ARN.
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == v1
    assert sm.get_secret_value(SecretId=arn[:-7])["SecretString"] == v1
    # A second value: AWSCURRENT moves, the old one becomes AWSPREVIOUS.
    v2 = secret_text("v2")
    p = sm.put_secret_value(SecretId=n, SecretString=v2)
    assert p["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId=n)["SecretString"] == v2
    prev = sm.get_secret_value(SecretId=n, VersionStage="AWSPREVIOUS")
    assert prev["SecretString"] == v1 and prev["VersionId"] == r["VersionId"]
    assert sm.get_secret_value(SecretId=n, VersionId=r["VersionId"])["SecretString"] == v1
    d = sm.describe_secret(SecretId=n)
    assert d["VersionIdsToStages"] == {r["VersionId"]: ["AWSPREVIOUS"], p["VersionId"]: ["AWSCURRENT"]}
    assert d["Description"] == "db password" and d["Tags"] == [{"Key": "team", "Value": "pay"}]
    assert "KmsKeyId" not in d and "DeletedDate" not in d
    assert "LastAccessedDate" in d
    # A third: the first is deprecated (no label), listed only with IncludeDeprecated.
    v3 = secret_text("v3")
    p3 = sm.put_secret_value(SecretId=n, SecretString=v3)
    ids = {v["VersionId"]: v["VersionStages"] for v in sm.list_secret_version_ids(SecretId=n)["Versions"]}
    assert ids == {p["VersionId"]: ["AWSPREVIOUS"], p3["VersionId"]: ["AWSCURRENT"]}
    listed = sm.list_secret_version_ids(SecretId=n, IncludeDeprecated=True)["Versions"]
    assert r["VersionId"] in {v["VersionId"] for v in listed}
    assert all(v["KmsKeyIds"] == ["DefaultEncryptionKey"] for v in listed)
    # Custom labels and AWSPENDING.
    pend = secret_text("pending")
    pp = sm.put_secret_value(SecretId=n, SecretString=pend, VersionStages=["AWSPENDING", "blue"])
    assert sorted(pp["VersionStages"]) == ["AWSPENDING", "blue"]
    assert sm.get_secret_value(SecretId=n)["SecretString"] == v3
    assert sm.get_secret_value(SecretId=n, VersionStage="blue")["SecretString"] == pend
    code, msg, _ = err(lambda: sm.get_secret_value(SecretId=n, VersionId=p["VersionId"], VersionStage="blue"))
    assert code == "ResourceNotFoundException"
    code, msg, _ = err(lambda: sm.get_secret_value(SecretId=n, VersionStage="nope"))
    assert code == "ResourceNotFoundException"


def test_update_secret_version_stage(sm):
    n = name()
    a = sm.create_secret(Name=n, SecretString=secret_text("a"))["VersionId"]
    b = sm.put_secret_value(SecretId=n, SecretString=secret_text("b"), VersionStages=["AWSPENDING"])["VersionId"]
    code, msg, _ = err(lambda: sm.update_secret_version_stage(SecretId=n, VersionStage="AWSCURRENT", MoveToVersionId=b))
    assert code == "InvalidParameterException"
    sm.update_secret_version_stage(SecretId=n, VersionStage="AWSCURRENT", MoveToVersionId=b, RemoveFromVersionId=a)
    stages = sm.describe_secret(SecretId=n)["VersionIdsToStages"]
    assert sorted(stages[b]) == ["AWSCURRENT", "AWSPENDING"] and stages[a] == ["AWSPREVIOUS"]
    sm.update_secret_version_stage(SecretId=n, VersionStage="AWSPENDING", RemoveFromVersionId=b)
    assert sm.describe_secret(SecretId=n)["VersionIdsToStages"][b] == ["AWSCURRENT"]
    code, _, _ = err(lambda: sm.update_secret_version_stage(SecretId=n, VersionStage="AWSCURRENT", RemoveFromVersionId=b))
    assert code == "InvalidParameterException"


def test_client_request_token_idempotency(sm):
    n = name()
    tok = str(uuid.uuid4())
    v = secret_text("idem")
    r = sm.create_secret(Name=n, SecretString=v, ClientRequestToken=tok)
    assert r["VersionId"] == tok
    tok2 = str(uuid.uuid4())
    v2 = secret_text("idem2")
    sm.put_secret_value(SecretId=n, SecretString=v2, ClientRequestToken=tok2)
    # Same token, same value: no new version, nothing changes.
    again = sm.put_secret_value(SecretId=n, SecretString=v2, ClientRequestToken=tok2)
    assert again["VersionId"] == tok2
    assert len(sm.list_secret_version_ids(SecretId=n, IncludeDeprecated=True)["Versions"]) == 2
    # Same token, different value: refused, and the error does not echo the value.
    other = secret_text("other")
    code, msg, _ = err(lambda: sm.put_secret_value(SecretId=n, SecretString=other, ClientRequestToken=tok2))
    assert code == "ResourceExistsException" and other not in msg
    assert sm.get_secret_value(SecretId=n)["SecretString"] == v2


def test_binary_secret_and_size_limit(sm):
    n = name()
    blob = bytes(range(256)) * 10
    sm.create_secret(Name=n, SecretBinary=blob)
    got = sm.get_secret_value(SecretId=n)
    assert got["SecretBinary"] == blob and "SecretString" not in got
    big = "x" * 65536
    sm.put_secret_value(SecretId=n, SecretString=big)
    assert sm.get_secret_value(SecretId=n)["SecretString"] == big
    code, _, status = err(lambda: sm.put_secret_value(SecretId=n, SecretString="x" * 65537))
    assert status == 400 and code in ("InvalidParameterException", "ValidationException")
    code, _, _ = err(lambda: sm.create_secret(Name=name(), SecretString="a", SecretBinary=b"b"))
    assert code == "InvalidParameterException"


def test_errors(sm):
    n = name()
    sm.create_secret(Name=n, SecretString=secret_text("e"))
    code, msg, status = err(lambda: sm.create_secret(Name=n, SecretString="zz"))
    assert (code, status) == ("ResourceExistsException", 400) and n in msg
    code, msg, _ = err(lambda: sm.get_secret_value(SecretId="does/not/exist"))
    assert code == "ResourceNotFoundException" and msg == "Secrets Manager can't find the specified secret."
    code, _, _ = err(lambda: sm.describe_secret(SecretId="arn:aws:secretsmanager:us-east-1:000000000000:secret:x-abcdef"))
    assert code in ("ResourceNotFoundException", "AccessDeniedException")
    code, _, _ = err(lambda: sm.create_secret(Name="bad name!", SecretString="x"))
    assert code == "InvalidParameterException"
    code, _, _ = err(lambda: sm.put_secret_value(SecretId=n))
    assert code == "InvalidRequestException"


def test_update_secret_and_customer_key(server, sm):
    kms = server.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    n = name()
    v = secret_text("cmk")
    sm.create_secret(Name=n, SecretString=v, KmsKeyId=key)
    assert sm.describe_secret(SecretId=n)["KmsKeyId"] == key
    assert sm.list_secret_version_ids(SecretId=n)["Versions"][0]["KmsKeyIds"] == [key]
    assert sm.get_secret_value(SecretId=n)["SecretString"] == v
    # Change description and key without a value: versions re-encrypted, still readable.
    key2 = kms.create_key()["KeyMetadata"]["KeyId"]
    r = sm.update_secret(SecretId=n, Description="moved", KmsKeyId=key2)
    assert "VersionId" not in r
    assert sm.get_secret_value(SecretId=n)["SecretString"] == v
    # The value is bound to the new key: disabling it makes reads fail with KMS's error.
    kms.disable_key(KeyId=key2)
    code, _, _ = err(lambda: sm.get_secret_value(SecretId=n))
    assert code in ("DisabledException", "DecryptionFailure")
    kms.enable_key(KeyId=key2)
    v2 = secret_text("upd")
    r = sm.update_secret(SecretId=n, SecretString=v2)
    assert "VersionId" in r
    assert sm.get_secret_value(SecretId=n)["SecretString"] == v2
    assert sm.describe_secret(SecretId=n)["Description"] == "moved"
    # Unknown key: KMS's NotFoundException passes through.
    code, _, _ = err(lambda: sm.create_secret(Name=name(), SecretString="x", KmsKeyId="alias/nope"))
    assert code == "NotFoundException"


def test_delete_restore_force(sm):
    n = name()
    sm.create_secret(Name=n, SecretString=secret_text("del"))
    code, msg, _ = err(lambda: sm.delete_secret(SecretId=n, RecoveryWindowInDays=6))
    assert code == "InvalidParameterException"
    code, _, _ = err(lambda: sm.delete_secret(SecretId=n, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True))
    assert code == "InvalidParameterException"
    d = sm.delete_secret(SecretId=n, RecoveryWindowInDays=7)
    assert (d["DeletionDate"].timestamp() - time.time()) / 86400 == pytest.approx(7, abs=0.01)
    code, msg, _ = err(lambda: sm.get_secret_value(SecretId=n))
    assert code == "InvalidRequestException" and "marked for deletion" in msg
    code, _, _ = err(lambda: sm.put_secret_value(SecretId=n, SecretString="x"))
    assert code == "InvalidRequestException"
    code, _, _ = err(lambda: sm.create_secret(Name=n, SecretString="x"))
    assert code == "InvalidRequestException"
    assert "DeletedDate" in sm.describe_secret(SecretId=n)
    names = [s["Name"] for s in sm.list_secrets()["SecretList"]]
    assert n not in names
    names = [s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]]
    assert n in names
    sm.restore_secret(SecretId=n)
    assert sm.get_secret_value(SecretId=n)["SecretString"].startswith("s3cr3t-del")
    sm.delete_secret(SecretId=n, ForceDeleteWithoutRecovery=True)
    code, _, _ = err(lambda: sm.describe_secret(SecretId=n))
    assert code == "ResourceNotFoundException"
    # The name is free again.
    sm.create_secret(Name=n, SecretString=secret_text("again"))


def test_list_filters_sort_pagination(sm):
    prefix = f"list{uuid.uuid4().hex[:6]}"
    made = []
    for i in range(7):
        n = f"{prefix}/s{i}"
        sm.create_secret(Name=n, SecretString=secret_text("l"), Description=f"Item {i} of Team{i % 2}",
                         Tags=[{"Key": "parity", "Value": "even" if i % 2 == 0 else "odd"}])
        made.append(n)
    flt = [{"Key": "name", "Values": [prefix]}]
    seen, token, pages = [], None, 0
    while True:
        kw = {"Filters": flt, "MaxResults": 3, "SortOrder": "asc"}
        if token:
            kw["NextToken"] = token
        r = sm.list_secrets(**kw)
        pages += 1
        seen += [s["Name"] for s in r["SecretList"]]
        token = r.get("NextToken")
        if not token:
            break
    assert seen == made and pages == 3
    desc = [s["Name"] for s in sm.list_secrets(Filters=flt, SortOrder="desc")["SecretList"]]
    assert desc == list(reversed(made))
    by_name = [s["Name"] for s in sm.list_secrets(Filters=flt, SortBy="name", SortOrder="asc")["SecretList"]]
    assert by_name == sorted(made)
    even = sm.list_secrets(Filters=flt + [{"Key": "tag-value", "Values": ["even"]}])["SecretList"]
    assert sorted(s["Name"] for s in even) == [made[i] for i in (0, 2, 4, 6)]
    notodd = sm.list_secrets(Filters=flt + [{"Key": "tag-value", "Values": ["!odd"]}])["SecretList"]
    assert len(notodd) == 4
    team1 = sm.list_secrets(Filters=flt + [{"Key": "description", "Values": ["item 1"]}])["SecretList"]
    assert [s["Name"] for s in team1] == [made[1]]
    allf = sm.list_secrets(Filters=[{"Key": "all", "Values": [prefix.lower()]}])["SecretList"]
    assert len(allf) == 7
    entry = sm.list_secrets(Filters=[{"Key": "name", "Values": [made[0]]}])["SecretList"][0]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]
    code, _, _ = err(lambda: sm.list_secrets(NextToken="garbage"))
    assert code == "InvalidNextTokenException"
    # The CLI paginates the same listing.
    return made


def test_cli_and_batch(server, sm):
    n1, n2 = name("cli"), name("cli")
    v1, v2 = secret_text("c1"), secret_text("c2")
    out = server.cli("--profile", "rampart", "--output", "json", "secretsmanager", "create-secret", "--name", n1, "--secret-string", v1)
    assert json.loads(out.stdout)["Name"] == n1
    sm.create_secret(Name=n2, SecretString=v2)
    got = json.loads(server.cli("--profile", "rampart", "--output", "json", "secretsmanager", "get-secret-value", "--secret-id", n1).stdout)
    assert got["SecretString"] == v1
    b = sm.batch_get_secret_value(SecretIdList=[n1, n2, "missing/one"])
    assert sorted(v["SecretString"] for v in b["SecretValues"]) == sorted([v1, v2])
    assert [e["ErrorCode"] for e in b["Errors"]] == ["ResourceNotFoundException"]
    assert b["Errors"][0]["SecretId"] == "missing/one"
    b = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [n1]}])
    assert [v["Name"] for v in b["SecretValues"]] == [n1]
    code, _, _ = err(lambda: sm.batch_get_secret_value(SecretIdList=[n1], Filters=[{"Key": "name", "Values": ["x"]}]))
    assert code == "InvalidParameterException"


def test_tags(sm):
    n = name()
    sm.create_secret(Name=n, SecretString=secret_text("t"))
    sm.tag_resource(SecretId=n, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sm.tag_resource(SecretId=n, Tags=[{"Key": "a", "Value": "3"}])
    assert sm.describe_secret(SecretId=n)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    sm.untag_resource(SecretId=n, TagKeys=["a"])
    assert sm.describe_secret(SecretId=n)["Tags"] == [{"Key": "b", "Value": "2"}]
    code, _, _ = err(lambda: sm.tag_resource(SecretId=n, Tags=[{"Key": "aws:x", "Value": "1"}]))
    assert code in ("InvalidParameterException", "ValidationException")
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    code, _, _ = err(lambda: sm.tag_resource(SecretId=n, Tags=many))
    assert code in ("LimitExceededException", "ValidationException", "InvalidParameterException")


def test_get_random_password(sm):
    p = sm.get_random_password()["RandomPassword"]
    assert len(p) == 32
    assert any(c in string.ascii_lowercase for c in p) and any(c in string.ascii_uppercase for c in p)
    assert any(c in string.digits for c in p) and any(c in PUNCT for c in p)
    p = sm.get_random_password(PasswordLength=100, ExcludePunctuation=True, ExcludeNumbers=True,
                               ExcludeCharacters="abcXYZ", IncludeSpace=True)["RandomPassword"]
    assert len(p) == 100 and " " in p
    assert all(c in string.ascii_letters + " " for c in p) and not set("abcXYZ") & set(p)
    p = sm.get_random_password(PasswordLength=4, ExcludeUppercase=True, ExcludeLowercase=True,
                               ExcludePunctuation=True)["RandomPassword"]
    assert p.isdigit() and len(p) == 4
    assert len({sm.get_random_password()["RandomPassword"] for _ in range(20)}) == 20
    code, _, _ = err(lambda: sm.get_random_password(ExcludeUppercase=True, ExcludeLowercase=True,
                                                     ExcludePunctuation=True, ExcludeNumbers=True))
    assert code == "InvalidParameterException"
    code, _, _ = err(lambda: sm.get_random_password(PasswordLength=4097))
    assert code in ("InvalidParameterException", "ValidationException")


def test_iam_user_needs_permission(server, sm):
    iam = server.client("iam")
    user = f"smuser{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    keys = iam.create_access_key(UserName=user)["AccessKey"]
    n = name("perm")
    v = secret_text("perm")
    arn = sm.create_secret(Name=n, SecretString=v)["ARN"]
    other = server.client("secretsmanager", access_key=keys["AccessKeyId"], secret_key=keys["SecretAccessKey"])
    for _ in range(20):
        try:
            other.get_secret_value(SecretId=n)
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "InvalidClientTokenId":
                time.sleep(0.2)
                continue
            code = e.response["Error"]["Code"]
            msg = e.response["Error"]["Message"]
            break
    assert code == "AccessDeniedException" and v not in msg
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn},
                      {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}))
    assert other.get_secret_value(SecretId=n)["SecretString"] == v
    code, _, _ = err(lambda: other.put_secret_value(SecretId=n, SecretString="x"))
    assert code == "AccessDeniedException"


def test_caching_library_reads_and_refreshes(server, sm):
    from aws_secretsmanager_caching import SecretCache, SecretCacheConfig
    n = name("cache")
    v1 = secret_text("cache1")
    sm.create_secret(Name=n, SecretString=v1)
    cache = SecretCache(config=SecretCacheConfig(secret_refresh_interval=3), client=sm)
    assert cache.get_secret_string(n) == v1
    v2 = secret_text("cache2")
    sm.put_secret_value(SecretId=n, SecretString=v2)
    assert cache.get_secret_string(n) == v1  # still cached
    deadline = time.time() + 10
    while cache.get_secret_string(n) != v2:
        assert time.time() < deadline, "the cache never saw the new value"
        time.sleep(0.3)
    blob = b"\x00\x01binary"
    nb = name("cacheb")
    sm.create_secret(Name=nb, SecretBinary=blob)
    assert cache.get_secret_binary(nb) == blob


def test_scheduled_deletion_survives_restart(fresh_server):
    """A scheduled deletion survives a restart and can still be undone (the purge itself at the
    end of the window is covered by the crate's tick test, which passes the time in)."""
    s = fresh_server().start()
    sm = s.client("secretsmanager")
    n = name("purge")
    sm.create_secret(Name=n, SecretString=secret_text("purge"))
    sm.delete_secret(SecretId=n, RecoveryWindowInDays=7)
    s.stop()
    s.start()
    sm = s.client("secretsmanager")
    d = sm.describe_secret(SecretId=n)
    assert "DeletedDate" in d
    sm.restore_secret(SecretId=n)
    assert sm.get_secret_value(SecretId=n)["SecretString"].startswith("s3cr3t-purge")


def test_kill_9_during_put_burst_loses_nothing_acknowledged(fresh_server):
    s = fresh_server().start()
    sm = s.client("secretsmanager")
    n = name("burst")
    sm.create_secret(Name=n, SecretString="initial")
    acked = {}
    stop = threading.Event()

    def writer(w):
        c = s.client("secretsmanager")
        i = 0
        while not stop.is_set():
            tok = str(uuid.uuid4())
            val = f"burst-{w}-{i}"
            try:
                c.put_secret_value(SecretId=n, SecretString=val, ClientRequestToken=tok, VersionStages=[f"w{w}i{i}"])
            except Exception:
                return
            acked[tok] = val
            i += 1
            if i >= 10:
                return

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.6)
    s.stop(sig=signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    assert acked, "no write was acknowledged before the kill"
    s.start()
    sm = s.client("secretsmanager")
    for tok, val in acked.items():
        assert sm.get_secret_value(SecretId=n, VersionId=tok)["SecretString"] == val


def test_no_secret_value_in_logs_audit_or_store(fresh_server):
    s = fresh_server().start()
    sm = s.client("secretsmanager")
    n = name("leak")
    values = [secret_text("leak1"), secret_text("leak2")]
    sm.create_secret(Name=n, SecretString=values[0])
    sm.put_secret_value(SecretId=n, SecretString=values[1], ClientRequestToken=str(uuid.uuid4()))
    sm.get_secret_value(SecretId=n)
    sm.batch_get_secret_value(SecretIdList=[n])
    code, msg, _ = err(lambda: sm.create_secret(Name=n, SecretString=values[0]))
    assert values[0] not in msg
    # A rotation's new value must not leak either (the rotator's work, and its audit events).
    sm.rotate_secret(SecretId=n, RotationLambdaARN="arn:aws:lambda:us-east-1:000000000000:function:rampart-random-password")
    deadline = time.time() + 20
    while "LastRotatedDate" not in sm.describe_secret(SecretId=n):
        assert time.time() < deadline
        time.sleep(0.2)
    values.append(sm.get_secret_value(SecretId=n)["SecretString"])
    assert s.stop() == 0
    out = s.rampart("audit", "export")
    assert out.returncode == 0, out.stderr
    events = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    assert any(e["eventSource"] == "secretsmanager.amazonaws.com" and e["eventName"] == "GetSecretValue" for e in events)
    assert any(e["eventName"] == "RotationSucceeded" for e in events)
    everything = out.stdout + s.all_logs()
    for v in values:
        assert v not in everything
        assert base64.b64encode(v.encode()).decode() not in everything
    for p in s.data_dir.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for v in values:
                assert v.encode() not in data, p.name


def test_resource_policy(server, sm):
    n = name("pol")
    v = secret_text("pol")
    arn = sm.create_secret(Name=n, SecretString=v)["ARN"]
    acct = arn.split(":")[4]
    public = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    code, _, _ = err(lambda: sm.put_resource_policy(SecretId=n, ResourcePolicy=public, BlockPublicPolicy=True))
    assert code == "PublicPolicyException"
    r = sm.validate_resource_policy(ResourcePolicy=public)
    assert r["PolicyValidationPassed"] is False and r["ValidationErrors"]
    code, _, _ = err(lambda: sm.put_resource_policy(SecretId=n, ResourcePolicy="{not json"))
    assert code == "MalformedPolicyDocumentException"
    code, _, _ = err(lambda: sm.validate_resource_policy(ResourcePolicy="{not json"))
    assert code == "MalformedPolicyDocumentException"
    # A user with no identity policy is let in by the secret's resource policy alone.
    iam = server.client("iam")
    user = f"poluser{uuid.uuid4().hex[:6]}"
    user_arn = iam.create_user(UserName=user)["User"]["Arn"]
    keys = iam.create_access_key(UserName=user)["AccessKey"]
    other = server.client("secretsmanager", access_key=keys["AccessKeyId"], secret_key=keys["SecretAccessKey"])
    code, _, _ = err(lambda: other.describe_secret(SecretId=arn))
    assert code == "AccessDeniedException"
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "secretsmanager:DescribeSecret", "Resource": "*"}]})
    ok = sm.validate_resource_policy(SecretId=n, ResourcePolicy=doc)
    assert ok["PolicyValidationPassed"] is True
    sm.put_resource_policy(SecretId=n, ResourcePolicy=doc, BlockPublicPolicy=True)
    assert json.loads(sm.get_resource_policy(SecretId=n)["ResourcePolicy"]) == json.loads(doc)
    assert other.describe_secret(SecretId=arn)["Name"] == n
    code, _, _ = err(lambda: other.get_secret_value(SecretId=arn))
    assert code == "AccessDeniedException"
    sm.delete_resource_policy(SecretId=n)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=n)
    code, _, _ = err(lambda: other.describe_secret(SecretId=arn))
    assert code == "AccessDeniedException"


def test_replication(server, sm):
    west = server.client("secretsmanager", region_name="us-west-2")
    n = name("repl")
    v1 = secret_text("repl1")
    created = sm.create_secret(Name=n, SecretString=v1, AddReplicaRegions=[{"Region": "eu-west-1"}])
    assert created["ReplicationStatus"][0]["Region"] == "eu-west-1"
    assert created["ReplicationStatus"][0]["Status"] == "InSync"
    r = sm.replicate_secret_to_regions(SecretId=n, AddReplicaRegions=[{"Region": "us-west-2"}])
    assert sorted(x["Region"] for x in r["ReplicationStatus"]) == ["eu-west-1", "us-west-2"]
    rep = west.describe_secret(SecretId=n)
    assert rep["PrimaryRegion"] == "us-east-1" and rep["ARN"].split(":")[3] == "us-west-2"
    assert rep["ARN"].split(":secret:")[1] == created["ARN"].split(":secret:")[1]
    assert west.get_secret_value(SecretId=n)["SecretString"] == v1
    # Changes on the primary reach the replica; writes to the replica are refused.
    v2 = secret_text("repl2")
    sm.put_secret_value(SecretId=n, SecretString=v2)
    assert west.get_secret_value(SecretId=n)["SecretString"] == v2
    assert west.get_secret_value(SecretId=n, VersionStage="AWSPREVIOUS")["SecretString"] == v1
    code, msg, _ = err(lambda: west.put_secret_value(SecretId=n, SecretString="x"))
    assert code == "InvalidRequestException" and "replica" in msg
    code, _, _ = err(lambda: sm.delete_secret(SecretId=n))
    assert code == "InvalidRequestException"
    d = sm.describe_secret(SecretId=n)
    assert sorted(x["Region"] for x in d["ReplicationStatus"]) == ["eu-west-1", "us-west-2"]
    # Promote the us-west-2 replica; remove the eu-west-1 one.
    west.stop_replication_to_replica(SecretId=n)
    west.put_secret_value(SecretId=n, SecretString=secret_text("standalone"))
    assert "PrimaryRegion" not in west.describe_secret(SecretId=n)
    r = sm.remove_regions_from_replication(SecretId=n, RemoveReplicaRegions=["eu-west-1"])
    assert r["ReplicationStatus"] == []
    eu = server.client("secretsmanager", region_name="eu-west-1")
    code, _, _ = err(lambda: eu.describe_secret(SecretId=n))
    assert code == "ResourceNotFoundException"
    sm.delete_secret(SecretId=n, ForceDeleteWithoutRecovery=True)
    code, _, _ = err(lambda: sm.replicate_secret_to_regions(SecretId=name("none"), AddReplicaRegions=[{"Region": "eu-west-1"}]))
    assert code == "ResourceNotFoundException"


# --- Rotation -----------------------------------------------------------------------------

import http.server
import os
import subprocess
import urllib.parse

RANDOM_ROTATOR = "arn:aws:lambda:us-east-1:000000000000:function:rampart-random-password"
PG_ROTATOR = "arn:aws:lambda:us-east-1:000000000000:function:rampart-postgresql-single-user"
WEBHOOK_ROTATOR = "arn:aws:lambda:us-east-1:000000000000:function:rampart-webhook"


def wait_rotated(sm, n, before=None, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sm.describe_secret(SecretId=n)
        if "LastRotatedDate" in d and (before is None or d["LastRotatedDate"] != before):
            return d
        time.sleep(0.2)
    raise AssertionError("the secret was not rotated in time")


def test_rotation_random_password(sm):
    n = name("rot")
    old = {"username": "app", "password": secret_text("rotold")}
    first = sm.create_secret(Name=n, SecretString=json.dumps(old))["VersionId"]
    r = sm.rotate_secret(SecretId=n, RotationLambdaARN=RANDOM_ROTATOR, RotationRules={"AutomaticallyAfterDays": 30})
    token = r["VersionId"]
    d = wait_rotated(sm, n)
    assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == RANDOM_ROTATOR
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30 and "NextRotationDate" in d
    assert d["VersionIdsToStages"] == {token: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}
    new = json.loads(sm.get_secret_value(SecretId=n)["SecretString"])
    assert new["username"] == "app" and new["password"] != old["password"] and len(new["password"]) == 32
    assert json.loads(sm.get_secret_value(SecretId=n, VersionStage="AWSPREVIOUS")["SecretString"]) == old
    # A plain-string secret gets a whole new password.
    n2 = name("rot")
    sm.create_secret(Name=n2, SecretString=secret_text("plain"))
    sm.rotate_secret(SecretId=n2, RotationLambdaARN=RANDOM_ROTATOR, RotationRules={"ScheduleExpression": "rate(10 days)"})
    assert sm.describe_secret(SecretId=n2)["RotationRules"] == {"AutomaticallyAfterDays": 10, "ScheduleExpression": "rate(10 days)"}
    wait_rotated(sm, n2)
    assert not sm.get_secret_value(SecretId=n2)["SecretString"].startswith("s3cr3t-")


def test_rotation_schedule_and_cancel(sm):
    n = name("sched")
    sm.create_secret(Name=n, SecretString=secret_text("sched"))
    code, _, _ = err(lambda: sm.rotate_secret(SecretId=n))
    assert code == "InvalidRequestException"
    code, _, _ = err(lambda: sm.rotate_secret(SecretId=n, RotationLambdaARN="arn:aws:lambda:us-east-1:1:function:mine"))
    assert code == "InvalidParameterException"
    for bad in [{"ScheduleExpression": "rate(1 hours)"}, {"ScheduleExpression": "cron(0 16 * * * *)"},
                {"ScheduleExpression": "rate(1 days)", "Duration": "25h"},
                {"AutomaticallyAfterDays": 2, "ScheduleExpression": "rate(4 hours)"}]:
        code, _, _ = err(lambda: sm.rotate_secret(SecretId=n, RotationLambdaARN=RANDOM_ROTATOR, RotationRules=bad, RotateImmediately=False))
        assert code in ("InvalidParameterException", "ValidationException"), bad
    r = sm.rotate_secret(SecretId=n, RotationLambdaARN=RANDOM_ROTATOR, RotateImmediately=False,
                         RotationRules={"ScheduleExpression": "cron(0 16 1,15 * ? *)", "Duration": "2h"})
    assert "VersionId" not in r
    d = sm.describe_secret(SecretId=n)
    assert d["RotationEnabled"] is True and "LastRotatedDate" not in d
    nxt = d["NextRotationDate"]
    assert nxt.day in (1, 15) and nxt.hour == 16 and nxt.minute == 0
    c = sm.cancel_rotate_secret(SecretId=n)
    assert c["Name"] == n
    d = sm.describe_secret(SecretId=n)
    assert d["RotationEnabled"] is False and "NextRotationDate" not in d


def pg_url():
    return os.environ.get("RAMPART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def psql(sql):
    return subprocess.run(["psql", pg_url(), "-At", "-c", sql], capture_output=True, text=True, timeout=30)


@pytest.fixture
def postgres():
    try:
        p = psql("select 1")
        ok = p.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {pg_url()} is unreachable (CI=true)")
        pytest.skip(f"PostgreSQL at {pg_url()} is unreachable")
    return urllib.parse.urlparse(pg_url())


def test_rotation_postgresql_user(sm, postgres):
    user = f"rot_{uuid.uuid4().hex[:8]}"
    old_pw = secret_text("pgold")
    assert psql(f"CREATE USER {user} WITH PASSWORD '{old_pw}'").returncode == 0
    try:
        before = psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{user}'").stdout.strip()
        assert before.startswith("SCRAM-SHA-256$") or before.startswith("md5")
        creds = {"engine": "postgres", "host": postgres.hostname or "127.0.0.1", "port": postgres.port or 5432,
                 "username": user, "password": old_pw, "dbname": "postgres"}
        n = name("pg")
        sm.create_secret(Name=n, SecretString=json.dumps(creds))
        sm.rotate_secret(SecretId=n, RotationLambdaARN=PG_ROTATOR)
        wait_rotated(sm, n)
        new = json.loads(sm.get_secret_value(SecretId=n)["SecretString"])
        PLAINTEXTS.append(new["password"])
        assert new["password"] != old_pw and new["username"] == user
        after = psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{user}'").stdout.strip()
        assert after and after != before, "ALTER USER did not change the stored password"
        # The stored verifier is the new password's: PostgreSQL verifies it for us.
        check = psql(f"SELECT rolpassword = '{after}' FROM pg_authid WHERE rolname = '{user}'")
        assert check.stdout.strip() == "t"
        # A secret without credentials fails at createSecret and AWSCURRENT stays.
        bad = name("pgbad")
        sm.create_secret(Name=bad, SecretString="not-json")
        sm.rotate_secret(SecretId=bad, RotationLambdaARN=PG_ROTATOR)
        time.sleep(2.5)
        assert sm.get_secret_value(SecretId=bad)["SecretString"] == "not-json"
        assert "LastRotatedDate" not in sm.describe_secret(SecretId=bad)
    finally:
        psql(f"DROP USER IF EXISTS {user}")


class Hook:
    """A webhook rotator endpoint that records the steps it is sent."""

    def __init__(self, fail_step=None, slow_step=None, slow_seconds=0):
        self.steps = []
        self.fail_step, self.slow_step, self.slow_seconds = fail_step, slow_step, slow_seconds
        hook = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                hook.steps.append(body)
                if body["Step"] == hook.slow_step and hook.slow_seconds:
                    time.sleep(hook.slow_seconds)
                    hook.slow_seconds = 0
                code = 500 if body["Step"] == hook.fail_step else 200
                answer = {}
                if body["Step"] == "createSecret":
                    answer = {"SecretString": "from-webhook-" + body["ClientRequestToken"]}
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/rotate"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def names(self):
        return [s["Step"] for s in self.steps]


def test_rotation_webhook_success_and_failure(sm):
    hook = Hook()
    n = name("hook")
    first = sm.create_secret(Name=n, SecretString=secret_text("hook"),
                             Tags=[{"Key": "rampart:rotation-webhook", "Value": hook.url}])["VersionId"]
    token = sm.rotate_secret(SecretId=n, RotationLambdaARN=WEBHOOK_ROTATOR)["VersionId"]
    wait_rotated(sm, n)
    assert hook.names() == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    assert all(s["ClientRequestToken"] == token for s in hook.steps)
    assert hook.steps[1]["PendingSecretString"] == f"from-webhook-{token}"
    assert sm.get_secret_value(SecretId=n)["SecretString"] == f"from-webhook-{token}"
    # testSecret fails: AWSCURRENT stays, finishSecret is never sent, a new attempt is accepted.
    bad = Hook(fail_step="testSecret")
    n2 = name("hookfail")
    v = secret_text("hookfail")
    sm.create_secret(Name=n2, SecretString=v, Tags=[{"Key": "rampart:rotation-webhook", "Value": bad.url}])
    t2 = sm.rotate_secret(SecretId=n2, RotationLambdaARN=WEBHOOK_ROTATOR)["VersionId"]
    deadline = time.time() + 15
    while bad.names()[-1:] != ["testSecret"] and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    assert bad.names() == ["createSecret", "setSecret", "testSecret"]
    assert sm.get_secret_value(SecretId=n2)["SecretString"] == v
    stages = sm.describe_secret(SecretId=n2)["VersionIdsToStages"]
    assert stages[t2] == ["AWSPENDING"] and "LastRotatedDate" not in sm.describe_secret(SecretId=n2)
    bad.fail_step = None
    t3 = sm.rotate_secret(SecretId=n2)["VersionId"]
    wait_rotated(sm, n2)
    assert sm.get_secret_value(SecretId=n2)["SecretString"] == f"from-webhook-{t3}"


def test_rotation_resumes_after_kill_9(fresh_server):
    s = fresh_server().start()
    sm = s.client("secretsmanager")
    hook = Hook(slow_step="setSecret", slow_seconds=3)
    n = name("restart")
    sm.create_secret(Name=n, SecretString=secret_text("restart"), Tags=[{"Key": "rampart:rotation-webhook", "Value": hook.url}])
    token = sm.rotate_secret(SecretId=n, RotationLambdaARN=WEBHOOK_ROTATOR)["VersionId"]
    deadline = time.time() + 10
    while "setSecret" not in hook.names() and time.time() < deadline:
        time.sleep(0.05)
    assert hook.names() == ["createSecret", "setSecret"]
    s.stop(sig=signal.SIGKILL)
    s.start()
    sm = s.client("secretsmanager")
    wait_rotated(sm, n, timeout=30)
    assert sm.get_secret_value(SecretId=n)["SecretString"] == f"from-webhook-{token}"
    # After the restart the job resumed at setSecret (createSecret was recorded as done).
    assert hook.names()[:2] == ["createSecret", "setSecret"] and hook.names()[-1] == "finishSecret"
    assert hook.names().count("createSecret") == 1


def test_caching_library_sees_a_rotation(server, sm):
    from aws_secretsmanager_caching import SecretCache, SecretCacheConfig
    n = name("cacherot")
    v = secret_text("cacherot")
    sm.create_secret(Name=n, SecretString=v)
    cache = SecretCache(config=SecretCacheConfig(secret_refresh_interval=2), client=sm)
    assert cache.get_secret_string(n) == v
    sm.rotate_secret(SecretId=n, RotationLambdaARN=RANDOM_ROTATOR)
    wait_rotated(sm, n)
    rotated = sm.get_secret_value(SecretId=n)["SecretString"]
    deadline = time.time() + 10
    while cache.get_secret_string(n) != rotated:
        assert time.time() < deadline, "the cache never saw the rotated value"
        time.sleep(0.3)


def test_cross_account_read_through_resource_policy_and_customer_key(fresh_server):
    import configparser
    s = fresh_server("--account-id", "111111111111").start()
    s.stop()
    assert s.rampart("accounts", "create", "--id", "222222222222", "--name", "b").returncode == 0
    s.start()
    cp = configparser.ConfigParser()
    cp.read(s.data_dir / "credentials")
    bk = cp["rampart-222222222222"]
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "kms:Decrypt", "Resource": "*"}]}
    key = s.client("kms").create_key(Policy=json.dumps(key_policy))["KeyMetadata"]["Arn"]
    sm = s.client("secretsmanager")
    v = secret_text("xacct")
    arn = sm.create_secret(Name="shared", SecretString=v, KmsKeyId=key)["ARN"]
    other = s.client("secretsmanager", access_key=bk["aws_access_key_id"], secret_key=bk["aws_secret_access_key"])
    code, _, _ = err(lambda: other.get_secret_value(SecretId=arn))
    assert code == "AccessDeniedException"
    sm.put_resource_policy(SecretId="shared", ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    assert other.get_secret_value(SecretId=arn)["SecretString"] == v
    # The resource policy does not extend to other actions, and names resolve in the caller's
    # own account (only an ARN reaches another account's secret).
    code, _, _ = err(lambda: other.describe_secret(SecretId=arn))
    assert code == "AccessDeniedException"
    code, _, _ = err(lambda: other.get_secret_value(SecretId="shared"))
    assert code in ("ResourceNotFoundException", "AccessDeniedException")
