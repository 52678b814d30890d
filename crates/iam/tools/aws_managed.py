"""Generates src/aws_managed_docs.rs: the AWS managed policies Rampart ships.

The documents below are written for Rampart from AWS's public documentation (the AWS Managed
Policy Reference Guide and each service's "AWS managed policies" page). They are NOT copied from
any third-party collection. Run: python3 crates/iam/tools/aws_managed.py > crates/iam/src/aws_managed_docs.rs

ReadOnlyAccess and SecurityAudit are, at AWS, ~150 KB lists of read actions across all 400+ AWS
services. Rampart ships a reduced but faithful form: the read actions of the services Rampart
implements (or will), plus `*:Describe*` and `*:List*` for everything else. It does NOT use
`*:Get*`, because that would grant secretsmanager:GetSecretValue, which AWS's ReadOnlyAccess
does not.
"""
import datetime
import json


def ts(s):
    return int(datetime.datetime.fromisoformat(s).replace(tzinfo=datetime.timezone.utc).timestamp())


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resource="*", **extra):
    s = {"Effect": "Allow", "Action": actions, "Resource": resource}
    s.update(extra)
    return s


# Services Rampart implements or plans (DESIGN.md): their read actions go into the reduced
# ReadOnlyAccess / SecurityAudit.
READ_SERVICES = [
    "access-analyzer", "acm-pca", "cloudhsm", "cloudtrail", "controltower", "detective", "ds",
    "fms", "guardduty", "iam", "inspector2", "kms", "macie2", "organizations", "securityhub",
    "shield", "sso", "ssm",
]

POLICIES = [
    ("AdministratorAccess", "/", "v1", "Provides full access to AWS services and resources.",
     "2015-02-06T18:39:46", "2015-02-06T18:39:46",
     doc(allow("*"))),
    ("PowerUserAccess", "/", "v7",
     "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
     "2015-02-06T18:39:47", "2023-07-06T22:04:00",
     doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
         allow(["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
                "organizations:DescribeOrganization", "organizations:DescribeEffectivePolicy",
                "account:ListRegions", "account:GetAccountInformation", "account:GetPrimaryEmail",
                "account:GetGovCloudAccountInformation"]))),
    ("IAMFullAccess", "/", "v2", "Provides full access to IAM via the AWS Management Console.",
     "2015-02-06T18:40:38", "2019-06-21T19:40:00",
     doc(allow(["iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit", "organizations:DescribePolicy",
                "organizations:ListChildren", "organizations:ListParents",
                "organizations:ListPoliciesForTarget", "organizations:ListRoots",
                "organizations:ListPolicies", "organizations:ListTargetsForPolicy"]))),
    ("IAMReadOnlyAccess", "/", "v4", "Provides read only access to IAM via the AWS Management Console.",
     "2015-02-06T18:40:39", "2018-01-25T19:11:27",
     doc(allow(["iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*", "iam:List*", "iam:SimulateCustomPolicy", "iam:SimulatePrincipalPolicy"]))),
    ("IAMUserChangePassword", "/", "v2", "Provides the ability for an IAM user to change their own password.",
     "2016-11-15T23:18:55", "2016-11-15T23:18:55",
     doc(allow(["iam:ChangePassword"], ["arn:aws:iam::*:user/${aws:username}",
                                          "arn:aws:iam::*:user/*/${aws:username}"]),
         allow(["iam:GetAccountPasswordPolicy"]))),
    ("ReadOnlyAccess", "/", "v1",
     "Provides read-only access to AWS services and resources (Rampart: reduced to the services it implements plus *:Describe* and *:List*).",
     "2015-02-06T18:39:48", "2015-02-06T18:39:48",
     doc(allow(sorted({f"{s}:{verb}*" for s in READ_SERVICES for verb in ("Describe", "Get", "List")}
                      | {"*:Describe*", "*:List*", "iam:GenerateCredentialReport",
                         "iam:GenerateServiceLastAccessedDetails", "iam:SimulateCustomPolicy",
                         "iam:SimulatePrincipalPolicy", "cloudtrail:LookupEvents",
                         "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
                         "secretsmanager:ListSecrets", "secretsmanager:ListSecretVersionIds",
                         "sts:GetCallerIdentity"}))) ),
    ("SecurityAudit", "/", "v1",
     "The security audit template grants access to read security configuration metadata (Rampart: reduced to the services it implements).",
     "2015-02-06T18:41:01", "2015-02-06T18:41:01",
     doc(allow(sorted({f"{s}:{verb}*" for s in READ_SERVICES for verb in ("Describe", "List")}
                      | {"iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails",
                         "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy",
                         "iam:GetAccountSummary", "iam:GetCredentialReport", "iam:GetGroup",
                         "iam:GetGroupPolicy", "iam:GetLoginProfile", "iam:GetPolicy",
                         "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy", "iam:GetUser",
                         "iam:GetUserPolicy", "iam:GetOpenIDConnectProvider", "iam:GetSAMLProvider",
                         "iam:GetInstanceProfile", "iam:SimulateCustomPolicy",
                         "iam:SimulatePrincipalPolicy", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                         "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
                         "secretsmanager:ListSecrets", "cloudtrail:GetEventSelectors",
                         "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:LookupEvents",
                         "ssm:GetDocument", "ssm:GetParameterHistory", "organizations:DescribeOrganization",
                         "guardduty:GetDetector", "guardduty:GetFindings", "securityhub:GetFindings",
                         "access-analyzer:GetAnalyzer", "access-analyzer:GetFinding",
                         "*:Describe*", "*:List*"})))),
    ("AWSKeyManagementServicePowerUser", "/", "v2",
     "Provides access to AWS Key Management Service (AWS KMS).",
     "2015-02-06T18:40:40", "2017-03-07T00:55:11",
     doc(allow(["kms:CreateAlias", "kms:CreateKey", "kms:DeleteAlias", "kms:Describe*",
                "kms:GenerateRandom", "kms:Get*", "kms:List*", "kms:TagResource",
                "kms:UntagResource", "iam:ListGroups", "iam:ListRoles", "iam:ListUsers"]))),
    ("SecretsManagerReadWrite", "/", "v5",
     "Provides read/write access to AWS Secrets Manager via the AWS Management Console.",
     "2018-04-04T18:05:29", "2024-03-25T00:00:00",
     doc(dict(allow(["secretsmanager:*", "cloudformation:CreateChangeSet",
                     "cloudformation:DescribeChangeSet", "cloudformation:DescribeStackResource",
                     "cloudformation:DescribeStacks", "cloudformation:ExecuteChangeSet",
                     "docdb-elastic:GetCluster", "docdb-elastic:ListClusters",
                     "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                     "kms:DescribeKey", "kms:ListAliases", "kms:ListKeys", "lambda:ListFunctions",
                     "rds:DescribeDBClusters", "rds:DescribeDBInstances", "redshift:DescribeClusters",
                     "redshift-serverless:ListWorkgroups", "redshift-serverless:GetNamespace",
                     "tag:GetResources"]), Sid="BasePermissions"),
         dict(allow(["lambda:AddPermission", "lambda:CreateFunction", "lambda:GetFunction",
                     "lambda:InvokeFunction", "lambda:UpdateFunctionConfiguration"],
                    "arn:aws:lambda:*:*:function:SecretsManager*"), Sid="LambdaPermissions"),
         dict(allow(["serverlessrepo:CreateCloudFormationChangeSet", "serverlessrepo:GetApplication"],
                    "arn:aws:serverlessrepo:*:*:applications/SecretsManager*"), Sid="SARPermissions"),
         dict(allow(["s3:GetObject"], ["arn:aws:s3:::awsserverlessrepo-changesets*",
                                       "arn:aws:s3:::secrets-manager-rotation-apps-*/*"]),
              Sid="S3Permissions"))),
    ("AmazonSSMReadOnlyAccess", "/", "v1", "Provides read only access to Amazon SSM.",
     "2015-05-29T17:44:19", "2015-05-29T17:44:19",
     doc(allow(["ssm:Describe*", "ssm:Get*", "ssm:List*"]))),
    ("AmazonSSMFullAccess", "/", "v3", "Provides full access to Amazon SSM.",
     "2015-05-29T17:39:47", "2021-11-04T00:00:00",
     doc(allow(["cloudwatch:PutMetricData", "ds:CreateComputer", "ds:DescribeDirectories",
                "ec2:DescribeInstanceStatus", "logs:*", "ssm:*", "ec2messages:*"]),
         allow("iam:CreateServiceLinkedRole", "arn:aws:iam::*:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM*",
               Condition={"StringLike": {"iam:AWSServiceName": "ssm.amazonaws.com"}}),
         allow(["iam:DeleteServiceLinkedRole", "iam:GetServiceLinkedRoleDeletionStatus"],
               "arn:aws:iam::*:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM*"),
         allow(["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]))),
    ("AWSCloudTrail_ReadOnlyAccess", "/", "v2", "Provides read only access to AWS CloudTrail.",
     "2020-11-03T00:00:00", "2022-11-15T00:00:00",
     doc(allow(["cloudtrail:Get*", "cloudtrail:Describe*", "cloudtrail:List*",
                "cloudtrail:LookupEvents"]))),
    ("AWSCloudTrail_FullAccess", "/", "v6", "Provides full access to AWS CloudTrail.",
     "2020-11-03T00:00:00", "2023-11-01T00:00:00",
     doc(dict(allow("sns:AddPermission", "*"), Sid="AllowSNS", Action=["sns:AddPermission",
              "sns:CreateTopic", "sns:SetTopicAttributes", "sns:GetTopicAttributes"],
              Resource=["arn:aws:sns:*:*:aws-cloudtrail-logs*"]),
         dict(allow(["sns:ListTopics"]), Sid="AllowSNSListTopics"),
         dict(allow(["s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock"],
                    ["arn:aws:s3:::aws-cloudtrail-logs*"]), Sid="AllowS3"),
         dict(allow(["s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketPolicy"]),
              Sid="AllowS3Read"),
         dict(allow(["cloudtrail:*"]), Sid="AllowCloudTrail"),
         dict(allow(["logs:CreateLogGroup"], ["arn:aws:logs:*:*:log-group:aws-cloudtrail-logs*"]),
              Sid="AllowLogs"),
         dict(allow(["iam:ListRoles", "iam:GetRolePolicy", "iam:GetUser"]), Sid="AllowIamRead"),
         dict(allow(["iam:PassRole"], Condition={"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}}),
              Sid="AllowPassRole"),
         dict(allow(["kms:CreateKey", "kms:CreateAlias", "kms:ListKeys", "kms:ListAliases"]),
              Sid="AllowKms"),
         dict(allow(["lambda:ListFunctions"]), Sid="AllowLambdaList"),
         dict(allow(["dynamodb:ListGlobalTables", "dynamodb:ListTables"]), Sid="AllowDynamoList"))),
    ("AWSKeyManagementServiceCustomKeyStoresFullAccess", "/", "v1",
     "Provides full access to AWS Key Management Service custom key stores.",
     "2018-11-14T00:00:00", "2018-11-14T00:00:00",
     doc(allow(["kms:CreateCustomKeyStore", "kms:DeleteCustomKeyStore", "kms:DescribeCustomKeyStores",
                "kms:ConnectCustomKeyStore", "kms:DisconnectCustomKeyStore", "kms:UpdateCustomKeyStore",
                "cloudhsm:DescribeClusters"]))),
]


def rust_str(s):
    # A raw string with enough hashes.
    hashes = "#"
    while f'"{hashes}' in s:
        hashes += "#"
    return f'r{hashes}"{s}"{hashes}'


print("//! GENERATED by `crates/iam/tools/aws_managed.py` (run it to change this file): the AWS")
print("//! managed policies Rampart ships, written for Rampart from AWS's public documentation.")
print("//! ReadOnlyAccess and SecurityAudit are reduced forms; see the generator for why.")
print("use crate::aws_managed::AwsManagedPolicy;")
print()
print("pub const POLICIES: &[AwsManagedPolicy] = &[")
for name, path, version, desc, created, updated, document in POLICIES:
    print("    AwsManagedPolicy {")
    print(f"        name: {json.dumps(name)},")
    print(f"        path: {json.dumps(path)},")
    print(f"        version_id: {json.dumps(version)},")
    print(f"        description: {json.dumps(desc)},")
    print(f"        create_date: {ts(created)},")
    print(f"        update_date: {ts(updated)},")
    print(f"        document: {rust_str(json.dumps(document, indent=4))},")
    print("    },")
print("];")
