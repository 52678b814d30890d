"""CloudTrail: event records, LookupEvents over the indexes, trails and their selectors, log-file
delivery (local directory and an S3-compatible endpoint), and the audit's durability."""
import base64
import datetime
import gzip
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import botocore.exceptions
import pytest

from conftest import free_port, raw_request, sign

ACCOUNT = "123412341234"
SECRET_PLAINTEXT = b"hunter2 is not a password 0xDEADBEEF"


def lookup_all(ct, **kw):
    events, token = [], None
    while True:
        args = dict(kw)
        if token:
            args["NextToken"] = token
        page = ct.lookup_events(**args)
        events.extend(page["Events"])
        token = page.get("NextToken")
        if not token:
            return events


def export(server):
    out = server.rampart("audit", "export")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_trail_lifecycle_selectors_and_tags(fresh_server):
    s = fresh_server("--account-id", ACCOUNT).start()
    ct = s.client("cloudtrail")
    t = ct.create_trail(Name="main", S3BucketName="audit-logs", S3KeyPrefix="prod",
                        TagsList=[{"Key": "team", "Value": "sec"}])
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"
    assert t["TrailARN"] == arn and t["S3KeyPrefix"] == "prod" and t["IsMultiRegionTrail"] is False
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.create_trail(Name="main", S3BucketName="audit-logs")
    assert e.value.response["Error"]["Code"] == "TrailAlreadyExistsException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.create_trail(Name="-bad-", S3BucketName="audit-logs")
    assert e.value.response["Error"]["Code"] == "InvalidTrailNameException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.create_trail(Name="other", S3BucketName="../etc")
    assert e.value.response["Error"]["Code"] == "InvalidS3BucketNameException"
    assert ct.get_trail(Name="main")["Trail"]["HomeRegion"] == "us-east-1"
    assert ct.get_trail(Name=arn)["Trail"]["Name"] == "main"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.get_trail(Name="nope")
    assert e.value.response["Error"]["Code"] == "TrailNotFoundException"
    assert [x["Name"] for x in ct.describe_trails()["trailList"]] == ["main"]
    assert ct.list_trails()["Trails"] == [{"TrailARN": arn, "Name": "main", "HomeRegion": "us-east-1"}]
    ct.update_trail(Name="main", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    got = ct.get_trail(Name="main")["Trail"]
    assert got["IsMultiRegionTrail"] is True and got["LogFileValidationEnabled"] is True
    # A multi-region trail shows as a shadow trail in other regions.
    ct_eu = s.client("cloudtrail", region_name="eu-west-1")
    assert [x["TrailARN"] for x in ct_eu.describe_trails()["trailList"]] == [arn]
    assert ct_eu.describe_trails(includeShadowTrails=False)["trailList"] == []

    assert ct.get_trail_status(Name="main")["IsLogging"] is False
    ct.start_logging(Name="main")
    st = ct.get_trail_status(Name="main")
    assert st["IsLogging"] is True and "StartLoggingTime" in st
    ct.stop_logging(Name="main")
    st = ct.get_trail_status(Name="main")
    assert st["IsLogging"] is False and "StopLoggingTime" in st

    default = ct.get_event_selectors(TrailName="main")
    assert default["EventSelectors"][0]["ReadWriteType"] == "All"
    ct.put_event_selectors(TrailName="main", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    assert ct.get_event_selectors(TrailName="main")["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    adv = [{"Name": "writes", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["false"]}]}]
    ct.put_event_selectors(TrailName="main", AdvancedEventSelectors=adv)
    got = ct.get_event_selectors(TrailName="main")
    assert got["AdvancedEventSelectors"] == adv and "EventSelectors" not in got
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.put_event_selectors(TrailName="main", AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventName", "Equals": ["X"]}]}])
    assert e.value.response["Error"]["Code"] == "InvalidEventSelectorsException"
    assert ct.get_trail(Name="main")["Trail"]["HasCustomEventSelectors"] is True

    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "env", "Value": "prod"}])
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "team"}])
    tags = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert tags == [{"ResourceId": arn, "TagsList": [{"Key": "env", "Value": "prod"}]}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": "aws:x", "Value": "1"}])
    assert e.value.response["Error"]["Code"] == "InvalidTagParameterException"

    ct.delete_trail(Name="main")
    assert ct.describe_trails()["trailList"] == []
    # The AWS CLI agrees.
    out = s.cli("--profile", "rampart", "--output", "json", "cloudtrail", "create-trail", "--name", "cli-trail", "--s3-bucket-name", "b-cli")
    assert json.loads(out.stdout)["Name"] == "cli-trail"


def test_lookup_events_identity_denial_and_auth_failure(fresh_server):
    s = fresh_server("--account-id", ACCOUNT).start()
    ak, sk = s.credentials()
    ct = s.client("cloudtrail")
    sts = s.client("sts")
    rid = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    ct.create_trail(Name="trail-1", S3BucketName="logs-1")
    # A trail in another account: the caller is denied.
    foreign = "arn:aws:cloudtrail:us-east-1:999988887777:trail/theirs"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.get_trail(Name=foreign)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    denied_rid = e.value.response["ResponseMetadata"]["RequestId"]
    with pytest.raises(botocore.exceptions.ClientError):
        s.client("cloudtrail", secret_key="x" * 40).list_trails()

    events = lookup_all(ct)
    by_rid = {json.loads(e["CloudTrailEvent"])["requestID"]: e for e in events}
    e = by_rid[rid]
    rec = json.loads(e["CloudTrailEvent"])
    assert e["EventName"] == "GetCallerIdentity" and e["EventSource"] == "sts.amazonaws.com"
    assert e["Username"] == "root" and e["AccessKeyId"] == ak and e["ReadOnly"] == "true"
    assert rec["userIdentity"]["type"] == "Root" and rec["recipientAccountId"] == ACCOUNT
    assert rec["eventCategory"] == "Management" and rec["managementEvent"] is True
    denied = json.loads(by_rid[denied_rid]["CloudTrailEvent"])
    assert denied["errorCode"] == "AccessDeniedException"
    assert denied["resources"] == [{"accountId": "999988887777", "type": "AWS::CloudTrail::Trail", "ARN": foreign}]
    created = [x for x in events if x["EventName"] == "CreateTrail"]
    assert len(created) == 1
    assert created[0]["Resources"] == [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/trail-1"}]
    # A bad signature with a real key is recorded in the key owner's account.
    bad = [x for x in events if json.loads(x["CloudTrailEvent"]).get("errorCode") in ("SignatureDoesNotMatch", "InvalidSignatureException")]
    assert len(bad) == 1 and json.loads(bad[0]["CloudTrailEvent"])["userIdentity"]["type"] == "Unknown"
    # Newest first.
    times = [x["EventTime"] for x in events]
    assert times == sorted(times, reverse=True)

    # Every attribute finds what it should.
    def names(attr, value):
        return [x["EventName"] for x in lookup_all(ct, LookupAttributes=[{"AttributeKey": attr, "AttributeValue": value}])]
    assert names("EventName", "CreateTrail") == ["CreateTrail"]
    assert names("EventSource", "sts.amazonaws.com") == ["GetCallerIdentity"]
    assert set(names("ReadOnly", "false")) >= {"CreateTrail"}
    assert "CreateTrail" not in names("ReadOnly", "true")
    assert names("ResourceType", "AWS::CloudTrail::Trail").count("CreateTrail") == 1
    assert names("ResourceName", "trail-1") == ["CreateTrail"]
    assert names("EventId", created[0]["EventId"]) == ["CreateTrail"]
    assert "GetCallerIdentity" in names("Username", "root")
    assert "GetCallerIdentity" in names("AccessKeyId", ak)
    # Time window and paging.
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    assert ct.lookup_events(StartTime=future, EndTime=future + datetime.timedelta(hours=1))["Events"] == []
    page = ct.lookup_events(MaxResults=2)
    assert len(page["Events"]) == 2 and "NextToken" in page
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.lookup_events(StartTime=future, EndTime=future - datetime.timedelta(hours=2))
    assert e.value.response["Error"]["Code"] == "InvalidTimeRangeException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "X"}], NextToken=page["NextToken"])
    assert e.value.response["Error"]["Code"] == "InvalidNextTokenException"
    # Events are per region.
    eu = lookup_all(s.client("cloudtrail", region_name="eu-west-1"), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}])
    assert eu == []


def delivered_records(root):
    files = sorted(pathlib.Path(root).rglob("*.json.gz"))
    out = []
    for f in files:
        if "CloudTrail-Digest" in str(f):
            continue
        out.extend(json.loads(gzip.decompress(f.read_bytes()))["Records"])
    return files, out


def wait_for(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def test_local_delivery_layout_selectors_and_status(fresh_server):
    s = fresh_server("--account-id", ACCOUNT, "--trail-delivery-seconds", "1").start()
    ct = s.client("cloudtrail")
    sts = s.client("sts")
    ct.create_trail(Name="all-events", S3BucketName="org-logs", S3KeyPrefix="team")
    ct.create_trail(Name="writes-only", S3BucketName="write-logs")
    ct.put_event_selectors(TrailName="writes-only", EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    ct.start_logging(Name="all-events")
    ct.start_logging(Name="writes-only")
    rids = [sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(5)]
    s.client("cloudtrail", region_name="eu-west-1").list_trails()  # another region: not in a single-region trail
    root = s.data_dir / "trails"

    def got_all():
        _, recs = delivered_records(root / "org-logs")
        have = [r["requestID"] for r in recs]
        return all(r in have for r in rids) and recs
    recs = wait_for(got_all)
    assert recs, "events were not delivered"
    files, recs = delivered_records(root / "org-logs")
    for f in files:
        rel = f.relative_to(root / "org-logs").as_posix()
        parts = rel.split("/")
        assert parts[:5] == ["team", "AWSLogs", ACCOUNT, "CloudTrail", "us-east-1"], rel
        assert parts[8].startswith(f"{ACCOUNT}_CloudTrail_us-east-1_") and parts[8].endswith(".json.gz")
    # Exactly once each, nothing from another region, nothing from before StartLogging.
    ids = [r["requestID"] for r in recs]
    assert len(ids) == len(set(ids))
    assert all(ids.count(r) == 1 for r in rids)
    assert all(r["awsRegion"] == "us-east-1" for r in recs)
    assert "CreateTrail" not in {r["eventName"] for r in recs}
    # The WriteOnly trail has no read-only events.
    _, wrecs = delivered_records(root / "write-logs")
    assert wrecs == [] or all(r["readOnly"] is False for r in wrecs)
    ct.stop_logging(Name="all-events")  # a write: the WriteOnly trail delivers it
    assert wait_for(lambda: any(r["eventName"] == "StopLogging" for r in delivered_records(root / "write-logs")[1]))
    st = ct.get_trail_status(Name="all-events")
    assert "LatestDeliveryTime" in st and "LatestDeliveryError" not in st
    # After StopLogging, nothing new is delivered to the stopped trail.
    n = len(delivered_records(root / "org-logs")[1])
    sts.get_caller_identity()
    time.sleep(2.5)
    assert len(delivered_records(root / "org-logs")[1]) <= n + 1  # at most the StopLogging call itself


@pytest.fixture
def moto_s3():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    import urllib.request
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            break
        except Exception:
            time.sleep(0.2)
    yield endpoint
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def test_delivery_to_an_s3_compatible_endpoint(fresh_server, moto_s3):
    import boto3
    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="s3-trail-logs")
    s = fresh_server("--account-id", ACCOUNT, "--trail-delivery-seconds", "1", "--trail-digest-seconds", "2",
                     "--trail-s3-endpoint", moto_s3, "--trail-s3-access-key-id", "testing",
                     "--trail-s3-secret-access-key", "testing").start()
    ct = s.client("cloudtrail")
    ct.create_trail(Name="to-s3", S3BucketName="s3-trail-logs", EnableLogFileValidation=True)
    ct.start_logging(Name="to-s3")
    rid = s.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]

    def keys():
        return [o["Key"] for o in s3.list_objects_v2(Bucket="s3-trail-logs").get("Contents", [])]
    assert wait_for(lambda: any("/CloudTrail/" in k for k in keys()) and any("CloudTrail-Digest" in k for k in keys()))
    logs = [k for k in keys() if "/CloudTrail/us-east-1/" in k]
    recs = []
    for k in logs:
        recs.extend(json.loads(gzip.decompress(s3.get_object(Bucket="s3-trail-logs", Key=k)["Body"].read()))["Records"])
    assert [r["requestID"] for r in recs].count(rid) == 1
    digest_key = [k for k in keys() if "CloudTrail-Digest" in k][0]
    obj = s3.get_object(Bucket="s3-trail-logs", Key=digest_key)
    assert obj["Metadata"]["signature-algorithm"] == "SHA256withRSA" and len(obj["Metadata"]["signature"]) == 512
    digest = json.loads(gzip.decompress(obj["Body"].read()))
    assert digest["awsAccountId"] == ACCOUNT and digest["digestSignatureAlgorithm"] == "SHA256withRSA"
    st = ct.get_trail_status(Name="to-s3")
    assert "LatestDeliveryTime" in st and "LatestDigestDeliveryTime" in st
    # A bucket that does not exist: the error shows in the status, nothing is lost.
    ct.create_trail(Name="no-bucket", S3BucketName="missing-bucket")
    ct.start_logging(Name="no-bucket")
    s.client("sts").get_caller_identity()
    assert wait_for(lambda: "NoSuchBucket" in ct.get_trail_status(Name="no-bucket").get("LatestDeliveryError", ""))


def test_no_secret_in_delivered_files_or_stored_events(fresh_server):
    s = fresh_server("--account-id", ACCOUNT, "--trail-delivery-seconds", "1").start()
    ak, sk = s.credentials()
    ct = s.client("cloudtrail")
    ct.create_trail(Name="secrets", S3BucketName="secret-check")
    ct.start_logging(Name="secrets")
    kms = s.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=SECRET_PLAINTEXT)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == SECRET_PLAINTEXT
    dk = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    data_key_b64 = base64.b64encode(dk["Plaintext"]).decode()
    with pytest.raises(botocore.exceptions.ClientError):
        s.client("sts", secret_key="Q" * 40).get_caller_identity()
    secrets = [base64.b64encode(SECRET_PLAINTEXT).decode(), SECRET_PLAINTEXT.decode(), sk, data_key_b64, "Q" * 40]
    assert wait_for(lambda: any(r["eventName"] == "GenerateDataKey" for r in delivered_records(s.data_dir / "trails")[1]))
    looked_up = json.dumps(lookup_all(ct), default=str)
    assert "GenerateDataKey" in looked_up
    s.stop()
    stored = json.dumps(export(s))
    delivered = b"".join(gzip.decompress(f.read_bytes()) for f in (s.data_dir / "trails").rglob("*.json.gz")).decode()
    assert "Decrypt" in stored and "Decrypt" in delivered
    for secret in secrets:
        assert secret not in stored, secret[:6]
        assert secret not in delivered, secret[:6]
        assert secret not in looked_up, secret[:6]


def test_kill_9_under_load_keeps_every_acknowledged_event_once(fresh_server):
    s = fresh_server("--account-id", ACCOUNT).start()
    acked, stop = [], threading.Event()

    def worker():
        c = s.client("sts")
        while not stop.is_set():
            try:
                acked.append(c.get_caller_identity()["ResponseMetadata"]["RequestId"])
            except Exception:
                return
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(3)
    s.stop(sig=signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) > 50
    events = export(s)
    ids = [e["requestID"] for e in events]
    assert len(ids) == len(set(ids)), "an event was stored twice"
    missing = set(acked) - set(ids)
    assert not missing, f"{len(missing)} acknowledged requests have no event"
    # The chain continues after the restart.
    s.start()
    s.client("sts").get_caller_identity()
    s.stop()
    assert len(export(s)) == len(events) + 1


def validate(server, arn, start, data_dir=None):
    import subprocess as sp
    from conftest import rampart_bin
    return sp.run([rampart_bin(), "trail", "validate", "--trail-arn", arn, "--start-time", start,
                   "--data-dir", str(data_dir or server.data_dir)], capture_output=True, text=True, timeout=60)


def test_digests_validate_and_name_every_tampering(fresh_server, tmp_path):
    import shutil
    s = fresh_server("--account-id", ACCOUNT, "--trail-delivery-seconds", "1", "--trail-digest-seconds", "2").start()
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ct = s.client("cloudtrail")
    arn = ct.create_trail(Name="sealed", S3BucketName="sealed-logs", EnableLogFileValidation=True)["TrailARN"]
    ct.start_logging(Name="sealed")
    sts = s.client("sts")
    deadline = time.time() + 9
    while time.time() < deadline:
        sts.get_caller_identity()
        time.sleep(0.3)
    keys = ct.list_public_keys()["PublicKeyList"]
    assert len(keys) == 1 and keys[0]["Fingerprint"]
    s.stop()
    root = s.data_dir / "trails" / "sealed-logs"
    digests = sorted(p for p in root.rglob("*.json.gz") if "CloudTrail-Digest" in p.parts)
    logs = sorted(p for p in root.rglob("*.json.gz") if "CloudTrail-Digest" not in p.parts)
    assert len(digests) >= 3 and len(logs) >= 3, (digests, logs)
    digest = json.loads(gzip.decompress(digests[-1].read_bytes()))
    assert digest["previousDigestSignature"] and digest["digestSignatureAlgorithm"] == "SHA256withRSA"

    ok = validate(s, arn, start)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "INVALID" not in ok.stdout and "digest files valid" in ok.stdout

    # Log files: one modified byte, one deleted, one forged.
    tampered = tmp_path / "tampered"
    shutil.copytree(s.data_dir, tampered)
    troot = tampered / "trails" / "sealed-logs"
    listed = [f["s3Object"] for d in digests for f in json.loads(gzip.decompress(d.read_bytes()))["logFiles"]]
    assert len(listed) >= 2
    modified, deleted = troot / listed[0], troot / listed[1]
    data = bytearray(modified.read_bytes())
    data[len(data) // 2] ^= 0x01
    modified.write_bytes(bytes(data))
    deleted.unlink()
    forged = modified.with_name(modified.name.replace(modified.name.split("_")[-1], "0000000000000000.json.gz"))
    forged.write_bytes(gzip.compress(b'{"Records":[{"eventName":"NothingHappened"}]}'))
    out = validate(s, arn, start, tampered)
    assert out.returncode == 1
    assert f"Log file s3://sealed-logs/{listed[0]} INVALID: hash value doesn't match" in out.stdout, out.stdout
    assert f"Log file s3://sealed-logs/{listed[1]} INVALID: not found" in out.stdout
    assert f"{forged.relative_to(troot).as_posix()} INVALID: not listed in any digest file" in out.stdout
    assert len([l for l in out.stdout.splitlines() if " INVALID: " in l]) == 3, out.stdout

    # Digests: swap two (contents and signatures) -> named as failing verification.
    swapped = tmp_path / "swapped"
    shutil.copytree(s.data_dir, swapped)
    sroot = swapped / "trails" / "sealed-logs"
    a, b = sroot / digests[-1].relative_to(root), sroot / digests[-2].relative_to(root)
    for suffix in ("", ".metadata.json"):
        pa, pb = pathlib.Path(str(a) + suffix), pathlib.Path(str(b) + suffix)
        da, db = pa.read_bytes(), pb.read_bytes()
        pa.write_bytes(db)
        pb.write_bytes(da)
    out = validate(s, arn, start, swapped)
    assert out.returncode == 1
    assert f"Digest file s3://sealed-logs/{digests[-1].relative_to(root).as_posix()} INVALID" in out.stdout, out.stdout

    # A deleted digest in the middle of the chain is named.
    holed = tmp_path / "holed"
    shutil.copytree(s.data_dir, holed)
    middle = digests[-2].relative_to(root).as_posix()
    (holed / "trails" / "sealed-logs" / middle).unlink()
    out = validate(s, arn, start, holed)
    assert out.returncode == 1
    assert f"Digest file s3://sealed-logs/{middle} INVALID: not found" in out.stdout, out.stdout


def test_every_call_once_with_its_identity_user_role_and_denial(fresh_server):
    s = fresh_server("--account-id", ACCOUNT).start()
    iam, sts, ct = s.client("iam"), s.client("sts"), s.client("cloudtrail")
    calls = []  # (request id, expected identity type, expected arn, expected error code or None)

    def rid(resp):
        return resp["ResponseMetadata"]["RequestId"]
    root_arn = f"arn:aws:iam::{ACCOUNT}:root"
    calls.append((rid(iam.create_user(UserName="alice")), "Root", root_arn, None))
    calls.append((rid(iam.put_user_policy(UserName="alice", PolicyName="ct", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["cloudtrail:DescribeTrails", "sts:AssumeRole"], "Resource": "*"}]}))),
        "Root", root_arn, None))
    key = iam.create_access_key(UserName="alice")
    calls.append((rid(key), "Root", root_arn, None))
    alice_ak, alice_sk = key["AccessKey"]["AccessKeyId"], key["AccessKey"]["SecretAccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}, "Action": "sts:AssumeRole"}]}
    calls.append((rid(iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=json.dumps(trust))), "Root", root_arn, None))
    calls.append((rid(iam.put_role_policy(RoleName="auditor", PolicyName="lookup", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudtrail:ListTrails", "Resource": "*"}]}))),
        "Root", root_arn, None))

    alice_ct = s.client("cloudtrail", access_key=alice_ak, secret_key=alice_sk)
    alice_arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    time.sleep(0.5)  # a new access key may take a moment to be usable, as in AWS
    calls.append((rid(alice_ct.describe_trails()), "IAMUser", alice_arn, None))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice_ct.create_trail(Name="not-allowed", S3BucketName="nope-bucket")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    calls.append((e.value.response["ResponseMetadata"]["RequestId"], "IAMUser", alice_arn, "AccessDeniedException"))
    alice_sts = s.client("sts", access_key=alice_ak, secret_key=alice_sk)
    assumed = alice_sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/auditor", RoleSessionName="review")
    calls.append((rid(assumed), "IAMUser", alice_arn, None))
    c = assumed["Credentials"]
    role_ct = s.client("cloudtrail", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])
    role_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/auditor/review"
    calls.append((rid(role_ct.list_trails()), "AssumedRole", role_arn, None))
    s.stop()

    events = export(s)
    by_rid = {}
    for ev in events:
        by_rid.setdefault(ev["requestID"], []).append(ev)
    for request_id, kind, arn, code in calls:
        got = by_rid.get(request_id, [])
        assert len(got) == 1, (request_id, kind, len(got))
        ev = got[0]
        assert ev["userIdentity"]["type"] == kind, ev["userIdentity"]
        assert ev["userIdentity"]["arn"] == arn
        assert ev.get("errorCode") == code, ev.get("errorCode")
    role_event = by_rid[calls[-1][0]][0]
    issuer = role_event["userIdentity"]["sessionContext"]["sessionIssuer"]
    assert issuer["type"] == "Role" and issuer["arn"] == f"arn:aws:iam::{ACCOUNT}:role/auditor" and issuer["userName"] == "auditor"
    assert role_event["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert "creationDate" in role_event["userIdentity"]["sessionContext"]["attributes"]
    # Redaction: the secret access key and the session credentials never reach the trail.
    text = json.dumps(events)
    assert alice_sk not in text and c["SecretAccessKey"] not in text and c["SessionToken"] not in text
    assert by_rid[rid(key)][0]["responseElements"]["AccessKey"]["SecretAccessKey"] == "HIDDEN_DUE_TO_SECURITY_REASONS"


def test_fail_closed_mode_serves_and_records(fresh_server):
    s = fresh_server("--account-id", ACCOUNT, "--audit-mode", "fail-closed").start()
    rid = s.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]
    s.stop()
    assert [e["requestID"] for e in export(s)] == [rid]


def test_lake_sql_top_denied_principals(fresh_server):
    s = fresh_server("--account-id", ACCOUNT).start()
    ct = s.client("cloudtrail")
    eds = ct.create_event_data_store(Name="all-mgmt", TerminationProtectionEnabled=False)
    eds_id = eds["EventDataStoreArn"].rsplit("/", 1)[1]
    assert eds["Status"] == "ENABLED" and eds["MultiRegionEnabled"] is True
    for _ in range(3):
        with pytest.raises(botocore.exceptions.ClientError):
            ct.get_trail(Name="arn:aws:cloudtrail:us-east-1:999988887777:trail/theirs")
    s.client("sts").get_caller_identity()
    sql = (f"SELECT userIdentity.arn AS principal, COUNT(*) AS denials FROM {eds_id} "
           "WHERE errorCode IN ('AccessDenied', 'AccessDeniedException') AND eventTime > datetime('now', '-1 hour') "
           "GROUP BY userIdentity.arn ORDER BY denials DESC LIMIT 10")
    qid = ct.start_query(QueryStatement=sql)["QueryId"]
    d = ct.describe_query(EventDataStore=eds_id, QueryId=qid)
    assert d["QueryStatus"] == "FINISHED", d
    rows = ct.get_query_results(EventDataStore=eds_id, QueryId=qid)["QueryResultRows"]
    assert rows == [[{"principal": f"arn:aws:iam::{ACCOUNT}:root"}, {"denials": "3"}]]
    bad = ct.start_query(QueryStatement=f"SELECT nosuchcolumn FROM {eds_id}")["QueryId"]
    d = ct.describe_query(EventDataStore=eds_id, QueryId=bad)
    assert d["QueryStatus"] == "FAILED" and "nosuchcolumn" in d["ErrorMessage"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.start_query(QueryStatement="SELECT * FROM not_a_store")
    assert e.value.response["Error"]["Code"] == "InvalidQueryStatementException"
    assert [x["Name"] for x in ct.list_event_data_stores()["EventDataStores"]] == ["all-mgmt"]
    ct.delete_event_data_store(EventDataStore=eds["EventDataStoreArn"])
    assert ct.list_event_data_stores()["EventDataStores"] == []
