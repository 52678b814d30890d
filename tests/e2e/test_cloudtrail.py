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
