"""SSM Parameter Store end to end: boto3 and the AWS CLI against the real binary (issue 6)."""
import json
import uuid

import botocore.exceptions
import pytest


def err(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def ssm(server):
    return server.client("ssm")


def base():
    return f"/t{uuid.uuid4().hex[:8]}"


def test_put_get_types_and_versions(ssm):
    b = base()
    r = ssm.put_parameter(Name=f"{b}/plain", Value="hello", Type="String", Description="first")
    assert r == {"Version": 1, "Tier": "Standard", "ResponseMetadata": r["ResponseMetadata"]}
    p = ssm.get_parameter(Name=f"{b}/plain")["Parameter"]
    assert p["Value"] == "hello" and p["Type"] == "String" and p["Version"] == 1 and p["DataType"] == "text"
    assert p["ARN"].endswith(f":parameter{b}/plain") and p["ARN"].startswith("arn:aws:ssm:us-east-1:")
    # By ARN too.
    assert ssm.get_parameter(Name=p["ARN"])["Parameter"]["Value"] == "hello"
    code, msg, _ = err(lambda: ssm.put_parameter(Name=f"{b}/plain", Value="again", Type="String"))
    assert code == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name=f"{b}/plain", Value="v2", Overwrite=True)["Version"] == 2
    # Overwrite keeps the description and type.
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{b}/plain"]}])["Parameters"][0]
    assert meta["Description"] == "first" and meta["Type"] == "String" and meta["Version"] == 2
    assert ssm.get_parameter(Name=f"{b}/plain:1")["Parameter"]["Value"] == "hello"
    sel = ssm.get_parameter(Name=f"{b}/plain:1")["Parameter"]
    assert sel["Selector"] == ":1" and sel["Name"] == f"{b}/plain"
    code, _, _ = err(lambda: ssm.get_parameter(Name=f"{b}/plain:9"))
    assert code == "ParameterVersionNotFound"
    code, _, _ = err(lambda: ssm.get_parameter(Name=f"{b}/nope"))
    assert code == "ParameterNotFound"
    ssm.put_parameter(Name=f"{b}/list", Value="a,b,c", Type="StringList")
    assert ssm.get_parameter(Name=f"{b}/list")["Parameter"]["Type"] == "StringList"
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/notype", Value="x"))
    assert code == "ValidationException"


def test_secure_string(server, ssm):
    b = base()
    secret = f"pw-{uuid.uuid4().hex}"
    ssm.put_parameter(Name=f"{b}/pw", Value=secret, Type="SecureString")
    enc = ssm.get_parameter(Name=f"{b}/pw")["Parameter"]
    assert enc["Value"] != secret and secret not in enc["Value"]
    assert ssm.get_parameter(Name=f"{b}/pw", WithDecryption=True)["Parameter"]["Value"] == secret
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{b}/pw"]}])["Parameters"][0]
    assert meta["KeyId"] == "alias/aws/ssm"
    kms = server.client("kms")
    aliases = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert "alias/aws/ssm" in aliases
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ssm.put_parameter(Name=f"{b}/cmk", Value=secret, Type="SecureString", KeyId=key)
    assert ssm.get_parameter(Name=f"{b}/cmk", WithDecryption=True)["Parameter"]["Value"] == secret
    kms.disable_key(KeyId=key)
    code, _, _ = err(lambda: ssm.get_parameter(Name=f"{b}/cmk", WithDecryption=True))
    assert code in ("DisabledException", "InvalidKeyId")
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/bad", Value="x", Type="SecureString", KeyId="alias/nope"))
    assert code == "InvalidKeyId"
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/bad2", Value="x", Type="String", KeyId=key))
    assert code == "ValidationException"
    hist = ssm.get_parameter_history(Name=f"{b}/pw", WithDecryption=True)["Parameters"]
    assert [h["Value"] for h in hist] == [secret]


def test_get_parameters_and_invalid(ssm):
    b = base()
    for i in range(3):
        ssm.put_parameter(Name=f"{b}/p{i}", Value=f"v{i}", Type="String")
    r = ssm.get_parameters(Names=[f"{b}/p0", f"{b}/p2", f"{b}/missing", f"{b}/p1:7"])
    assert sorted(p["Value"] for p in r["Parameters"]) == ["v0", "v2"]
    assert sorted(r["InvalidParameters"]) == sorted([f"{b}/missing", f"{b}/p1:7"])


def test_tiers_sizes_and_names(ssm):
    b = base()
    code, msg, _ = err(lambda: ssm.put_parameter(Name=f"{b}/big", Value="x" * 4097, Type="String"))
    assert code == "ValidationException" and "4096" in msg
    ssm.put_parameter(Name=f"{b}/std", Value="x" * 4096, Type="String")
    assert ssm.put_parameter(Name=f"{b}/adv", Value="x" * 8192, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/adv2", Value="x" * 8193, Type="String", Tier="Advanced"))
    assert code == "ValidationException"
    assert ssm.put_parameter(Name=f"{b}/it", Value="x" * 5000, Type="String", Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    assert ssm.put_parameter(Name=f"{b}/it2", Value="small", Type="String", Tier="Intelligent-Tiering")["Tier"] == "Standard"
    code, msg, _ = err(lambda: ssm.put_parameter(Name=f"{b}/adv", Value="y", Overwrite=True, Tier="Standard"))
    assert code == "ValidationException" and "downgrade" in msg
    deep = b + "".join(f"/l{i}" for i in range(14))
    assert deep.count("/") == 15
    ssm.put_parameter(Name=deep, Value="ok", Type="String")
    code, _, _ = err(lambda: ssm.put_parameter(Name=deep + "/x", Value="no", Type="String"))
    assert code == "HierarchyLevelLimitExceededException"
    for bad in ["/aws/thing", "ssm-x", "no/leading", f"{b}/sp ace", "/AWSx"]:
        code, _, _ = err(lambda: ssm.put_parameter(Name=bad, Value="v", Type="String"))
        assert code == "ValidationException", bad


def test_allowed_pattern_and_data_type(ssm):
    b = base()
    ssm.put_parameter(Name=f"{b}/num", Value="123", Type="String", AllowedPattern="^\\d+$")
    code, msg, _ = err(lambda: ssm.put_parameter(Name=f"{b}/num", Value="12a", Overwrite=True))
    assert code == "ParameterPatternMismatchException"
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/bad", Value="1", Type="String", AllowedPattern="("))
    assert code == "InvalidAllowedPatternException"
    ssm.put_parameter(Name=f"{b}/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    assert ssm.get_parameter(Name=f"{b}/ami")["Parameter"]["DataType"] == "aws:ec2:image"
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/ami2", Value="nope", Type="String", DataType="aws:ec2:image"))
    assert code == "ValidationException"


def test_by_path_recursive_filters_pagination(ssm):
    b = base()
    names = [f"{b}/app/a", f"{b}/app/b", f"{b}/app/sub/c", f"{b}/app/sub/deeper/d", f"{b}/other"]
    for n in names:
        ssm.put_parameter(Name=n, Value=n, Type="SecureString" if n.endswith("c") else "String")
    one = ssm.get_parameters_by_path(Path=f"{b}/app")["Parameters"]
    assert sorted(p["Name"] for p in one) == [f"{b}/app/a", f"{b}/app/b"]
    allp, token = [], None
    while True:
        kw = {"Path": f"{b}/app", "Recursive": True, "MaxResults": 2, "WithDecryption": True}
        if token:
            kw["NextToken"] = token
        r = ssm.get_parameters_by_path(**kw)
        assert len(r["Parameters"]) <= 2
        allp += r["Parameters"]
        token = r.get("NextToken")
        if not token:
            break
    assert sorted(p["Name"] for p in allp) == sorted(names[:4])
    assert {p["Name"]: p["Value"] for p in allp}[f"{b}/app/sub/c"] == f"{b}/app/sub/c"
    secure = ssm.get_parameters_by_path(Path=b, Recursive=True,
                                        ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])["Parameters"]
    assert [p["Name"] for p in secure] == [f"{b}/app/sub/c"]
    code, _, _ = err(lambda: ssm.get_parameters_by_path(Path=b, ParameterFilters=[{"Key": "Name", "Values": ["x"]}]))
    assert code == "InvalidFilterKey"
    code, _, _ = err(lambda: ssm.get_parameters_by_path(Path=b, NextToken="bogus"))
    assert code == "InvalidNextToken"
    # The paginator of boto3 walks the same listing.
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=b, Recursive=True, PaginationConfig={"PageSize": 1})
    assert sorted(p["Name"] for page in pages for p in page["Parameters"]) == sorted(names)


def test_describe_parameters_filters(ssm):
    b = base()
    ssm.put_parameter(Name=f"{b}/x/one", Value="1", Type="String", Tags=[{"Key": "env", "Value": "prod"}])
    ssm.put_parameter(Name=f"{b}/x/two", Value="2", Type="StringList", Tier="Advanced")
    ssm.put_parameter(Name=f"{b}/x/y/three", Value="3", Type="String")

    def names(**kw):
        out = []
        for page in ssm.get_paginator("describe_parameters").paginate(**kw):
            out += [p["Name"] for p in page["Parameters"]]
        return sorted(out)

    assert names(ParameterFilters=[{"Key": "Path", "Values": [f"{b}/x"]}]) == [f"{b}/x/one", f"{b}/x/two"]
    assert names(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [f"{b}/x"]}]) == \
        [f"{b}/x/one", f"{b}/x/two", f"{b}/x/y/three"]
    assert names(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"{b}/x/t"]}]) == [f"{b}/x/two"]
    assert names(ParameterFilters=[{"Key": "Name", "Option": "Contains", "Values": [b[1:] + "/x/y"]}]) == [f"{b}/x/y/three"]
    assert names(ParameterFilters=[{"Key": "tag:env", "Values": ["prod"]}, {"Key": "Path", "Option": "Recursive", "Values": [b]}]) == [f"{b}/x/one"]
    assert names(ParameterFilters=[{"Key": "Tier", "Values": ["Advanced"]}, {"Key": "Path", "Option": "Recursive", "Values": [b]}]) == [f"{b}/x/two"]
    assert names(Filters=[{"Key": "Name", "Values": [f"{b}/x/o"]}]) == [f"{b}/x/one"]
    code, _, _ = err(lambda: ssm.describe_parameters(Filters=[{"Key": "Name", "Values": ["a"]}],
                                                     ParameterFilters=[{"Key": "Name", "Values": ["a"]}]))
    assert code == "ValidationException"
    code, _, _ = err(lambda: ssm.describe_parameters(ParameterFilters=[{"Key": "Label", "Values": ["a"]}]))
    assert code == "InvalidFilterKey"
    code, _, _ = err(lambda: ssm.describe_parameters(ParameterFilters=[{"Key": "Type", "Option": "Contains", "Values": ["a"]}]))
    assert code == "InvalidFilterOption"


def test_history_labels(ssm):
    b = base()
    n = f"{b}/lab"
    for i in range(3):
        ssm.put_parameter(Name=n, Value=f"v{i + 1}", Type="String", Overwrite=i > 0)
    r = ssm.label_parameter_version(Name=n, ParameterVersion=1, Labels=["prod", "1bad", "awsx", "stable"])
    assert r["ParameterVersion"] == 1 and sorted(r["InvalidLabels"]) == ["1bad", "awsx"]
    assert ssm.get_parameter(Name=f"{n}:prod")["Parameter"]["Value"] == "v1"
    # Labelling another version moves the label.
    ssm.label_parameter_version(Name=n, ParameterVersion=3, Labels=["prod"])
    assert ssm.get_parameter(Name=f"{n}:prod")["Parameter"]["Value"] == "v3"
    hist = ssm.get_parameter_history(Name=n)["Parameters"]
    assert [h["Version"] for h in hist] == [1, 2, 3]
    assert hist[0]["Labels"] == ["stable"] and hist[2]["Labels"] == ["prod"]
    # Label on latest when no version is given.
    assert ssm.label_parameter_version(Name=n, Labels=["latest-ok"])["ParameterVersion"] == 3
    many = [f"l{i}" for i in range(9)]
    code, _, _ = err(lambda: ssm.label_parameter_version(Name=n, ParameterVersion=3, Labels=many))
    assert code == "ParameterVersionLabelLimitExceeded"
    code, _, _ = err(lambda: ssm.label_parameter_version(Name=n, ParameterVersion=9, Labels=["x"]))
    assert code == "ParameterVersionNotFound"
    r = ssm.unlabel_parameter_version(Name=n, ParameterVersion=3, Labels=["prod", "stable"])
    assert r["RemovedLabels"] == ["prod"] and r["InvalidLabels"] == ["stable"]
    code, _, _ = err(lambda: ssm.get_parameter(Name=f"{n}:prod"))
    assert code == "ParameterVersionNotFound"
    # History pages.
    page = ssm.get_parameter_history(Name=n, MaxResults=2)
    assert len(page["Parameters"]) == 2 and "NextToken" in page
    rest = ssm.get_parameter_history(Name=n, MaxResults=2, NextToken=page["NextToken"])["Parameters"]
    assert [h["Version"] for h in rest] == [3]


def test_delete_and_tags(ssm):
    b = base()
    ssm.put_parameter(Name=f"{b}/d1", Value="1", Type="String", Tags=[{"Key": "a", "Value": "1"}])
    ssm.put_parameter(Name=f"{b}/d2", Value="2", Type="String")
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{b}/d1")["TagList"] == [{"Key": "a", "Value": "1"}]
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=f"{b}/d1", Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{b}/d1")["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "3"), ("b", "2")]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=f"{b}/d1", TagKeys=["a"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{b}/d1")["TagList"] == [{"Key": "b", "Value": "2"}]
    code, _, _ = err(lambda: ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{b}/none"))
    assert code == "InvalidResourceId"
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/d1", Value="x", Overwrite=True, Tags=[{"Key": "a", "Value": "1"}]))
    assert code == "ValidationException"
    ssm.delete_parameter(Name=f"{b}/d1")
    code, _, _ = err(lambda: ssm.delete_parameter(Name=f"{b}/d1"))
    assert code == "ParameterNotFound"
    r = ssm.delete_parameters(Names=[f"{b}/d2", f"{b}/d3"])
    assert r["DeletedParameters"] == [f"{b}/d2"] and r["InvalidParameters"] == [f"{b}/d3"]
    # A deleted name can be created again from version 1.
    assert ssm.put_parameter(Name=f"{b}/d1", Value="new", Type="String")["Version"] == 1


def test_policies_need_advanced_tier(ssm):
    b = base()
    pol = json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2099-01-01T00:00:00.000Z"}}])
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/p", Value="v", Type="String", Policies=pol, Tier="Standard"))
    assert code == "ValidationException"
    r = ssm.put_parameter(Name=f"{b}/p", Value="v", Type="String", Policies=pol, Tier="Intelligent-Tiering")
    assert r["Tier"] == "Advanced"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{b}/p"]}])["Parameters"][0]
    assert meta["Policies"][0]["PolicyType"] == "Expiration"
    code, _, _ = err(lambda: ssm.put_parameter(Name=f"{b}/q", Value="v", Type="String", Tier="Advanced",
                                               Policies=json.dumps([{"Type": "Nope", "Attributes": {}}])))
    assert code == "InvalidPolicyTypeException"


def test_secretsmanager_reference(server, ssm):
    sm = server.client("secretsmanager")
    n = f"ref-{uuid.uuid4().hex[:8]}"
    value = f"refval-{uuid.uuid4().hex}"
    created = sm.create_secret(Name=n, SecretString=value)
    ref = f"/aws/reference/secretsmanager/{n}"
    p = ssm.get_parameter(Name=ref, WithDecryption=True)["Parameter"]
    assert p["Value"] == value and p["Type"] == "SecureString" and p["ARN"] == created["ARN"]
    assert json.loads(p["SourceResult"])["Name"] == n
    code, msg, _ = err(lambda: ssm.get_parameter(Name=ref))
    assert code == "ValidationException" and "WithDecryption" in msg
    sm.put_secret_value(SecretId=n, SecretString=value + "-2")
    assert ssm.get_parameter(Name=ref + ":AWSPREVIOUS", WithDecryption=True)["Parameter"]["Value"] == value
    assert ssm.get_parameter(Name=ref, WithDecryption=True)["Parameter"]["Value"] == value + "-2"
    code, _, _ = err(lambda: ssm.get_parameter(Name="/aws/reference/secretsmanager/none-such", WithDecryption=True))
    assert code == "ParameterNotFound"
    r = ssm.get_parameters(Names=[ref, "/aws/reference/secretsmanager/none-such"], WithDecryption=True)
    assert [x["Value"] for x in r["Parameters"]] == [value + "-2"]
    assert r["InvalidParameters"] == ["/aws/reference/secretsmanager/none-such"]


def test_cli(server):
    b = base()
    out = server.cli("--profile", "rampart", "--output", "json", "ssm", "put-parameter", "--name", f"{b}/cli",
                     "--value", "from-cli", "--type", "SecureString")
    assert json.loads(out.stdout)["Version"] == 1
    out = server.cli("--profile", "rampart", "--output", "json", "ssm", "get-parameter", "--name", f"{b}/cli",
                     "--with-decryption")
    assert json.loads(out.stdout)["Parameter"]["Value"] == "from-cli"
    out = server.cli("--profile", "rampart", "--output", "json", "ssm", "get-parameters-by-path", "--path", b)
    assert [p["Name"] for p in json.loads(out.stdout)["Parameters"]] == [f"{b}/cli"]


def test_iam_user_needs_permission(server, ssm):
    iam = server.client("iam")
    user = f"ssmuser{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    keys = iam.create_access_key(UserName=user)["AccessKey"]
    b = base()
    ssm.put_parameter(Name=f"{b}/mine", Value="v", Type="String")
    other = server.client("ssm", access_key=keys["AccessKeyId"], secret_key=keys["SecretAccessKey"])
    code, _, _ = err(lambda: other.get_parameter(Name=f"{b}/mine"))
    assert code == "AccessDeniedException"
    arn = ssm.get_parameter(Name=f"{b}/mine")["Parameter"]["ARN"]
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": arn}]}))
    assert other.get_parameter(Name=f"{b}/mine")["Parameter"]["Value"] == "v"
    code, _, _ = err(lambda: other.put_parameter(Name=f"{b}/mine", Value="w", Overwrite=True))
    assert code == "AccessDeniedException"


def test_no_secure_value_in_logs_audit_or_store(fresh_server):
    s = fresh_server().start()
    ssm = s.client("ssm")
    secret = f"ssm-leak-{uuid.uuid4().hex}"
    ssm.put_parameter(Name="/leak/p", Value=secret, Type="SecureString")
    assert ssm.get_parameter(Name="/leak/p", WithDecryption=True)["Parameter"]["Value"] == secret
    ssm.get_parameters_by_path(Path="/leak", WithDecryption=True)
    ssm.get_parameter_history(Name="/leak/p", WithDecryption=True)
    assert s.stop() == 0
    out = s.rampart("audit", "export")
    assert out.returncode == 0, out.stderr
    assert "ssm.amazonaws.com" in out.stdout
    assert secret not in out.stdout and secret not in s.all_logs()
    for p in s.data_dir.rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p.name


def test_expiration_policy_deletes_the_parameter(ssm):
    import datetime
    import time
    b = base()
    at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    pol = json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": at}}])
    ssm.put_parameter(Name=f"{b}/exp", Value="soon gone", Type="String", Tier="Advanced", Policies=pol)
    ssm.put_parameter(Name=f"{b}/stay", Value="stays", Type="String")
    assert ssm.get_parameter(Name=f"{b}/exp")["Parameter"]["Value"] == "soon gone"
    deadline = time.time() + 15
    while True:
        try:
            ssm.get_parameter(Name=f"{b}/exp")
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ParameterNotFound"
            break
        assert time.time() < deadline, "the expired parameter was not deleted"
        time.sleep(0.3)
    assert ssm.get_parameter(Name=f"{b}/stay")["Parameter"]["Value"] == "stays"


def test_by_path_label_filter_answers_the_labelled_version(ssm):
    b = base()
    ssm.put_parameter(Name=f"{b}/cfg/a", Value="a1", Type="String")
    ssm.put_parameter(Name=f"{b}/cfg/a", Value="a2", Type="String", Overwrite=True)
    ssm.put_parameter(Name=f"{b}/cfg/b", Value="b1", Type="String")
    ssm.label_parameter_version(Name=f"{b}/cfg/a", ParameterVersion=1, Labels=["golden"])
    r = ssm.get_parameters_by_path(Path=f"{b}/cfg", ParameterFilters=[{"Key": "Label", "Option": "Equals", "Values": ["golden"]}])
    assert [(p["Name"], p["Value"], p["Version"]) for p in r["Parameters"]] == [(f"{b}/cfg/a", "a1", 1)]
