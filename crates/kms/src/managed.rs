//! AWS managed keys (`alias/aws/<service>`): created in an account the first time a service (or
//! a caller naming the alias) needs one, with `KeyManager` `AWS` and the policy AWS writes for
//! them. They cannot be deleted, disabled or re-pointed by customers.
use rampart_aws_types::AwsError;
use rampart_crypto::kms::{KeyMaterial, KeySpec, KeyUsage};
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::Expect;

use crate::ops::keys::{NewKey, new_key_record};
use crate::policy;
use crate::record::{AliasRecord, alias_store_key, put_key};

/// Services with AWS managed keys, by alias suffix: (service principal prefix, display name).
const SERVICES: &[(&str, &str, &str)] = &[
    ("secretsmanager", "secretsmanager", "AWS Secrets Manager"),
    ("ssm", "ssm", "AWS Systems Manager"),
    ("s3", "s3", "Amazon S3"),
    ("ebs", "ec2", "Amazon EBS"),
    ("lambda", "lambda", "AWS Lambda"),
    ("rds", "rds", "Amazon RDS"),
    ("sns", "sns", "Amazon SNS"),
    ("sqs", "sqs", "Amazon SQS"),
    ("dynamodb", "dynamodb", "Amazon DynamoDB"),
    ("logs", "logs", "Amazon CloudWatch Logs"),
    ("cloudtrail", "cloudtrail", "AWS CloudTrail"),
];

/// `(service, display name)` for `alias/aws/<x>` names this server manages.
pub fn service_of_alias(alias_name: &str) -> Option<(&'static str, &'static str)> {
    let suffix = alias_name.strip_prefix("alias/aws/")?;
    SERVICES
        .iter()
        .find(|(s, _, _)| *s == suffix)
        .map(|(_, service, display)| (*service, *display))
}

/// The alias of a service's managed key: `secretsmanager` -> `alias/aws/secretsmanager`.
pub fn alias_for_service(service: &str) -> String {
    let short = service.split('.').next().unwrap_or(service);
    let suffix = SERVICES
        .iter()
        .find(|(_, s, _)| *s == short)
        .map(|(a, _, _)| *a)
        .unwrap_or(short);
    format!("alias/aws/{suffix}")
}

/// Creates the AWS managed key behind `alias_name` in the caller's account if it does not exist.
pub async fn ensure(ctx: &Ctx, alias_name: &str) -> Result<(), AwsError> {
    let Some((service, display)) = service_of_alias(alias_name) else {
        return Ok(());
    };
    let account = ctx.account().to_string();
    let region = ctx.region().to_string();
    let now = ctx.now().unix_timestamp();
    let key_id = rampart_aws_types::ids::request_id()?;
    let material = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT)?;
    let mut key = new_key_record(
        &ctx.node.master_key,
        NewKey {
            account: &account,
            region: &region,
            key_id: &key_id,
            now,
            description: format!(
                "Default key that protects my {display} data when no other key is defined"
            ),
            spec: KeySpec::SYMMETRIC_DEFAULT,
            usage: KeyUsage::ENCRYPT_DECRYPT,
            origin: "AWS_KMS",
            key_manager: "AWS",
            policy: policy::aws_managed_key_policy(&account, &region, service, display),
            tags: Default::default(),
        },
        Some(&material),
    )?;
    let alias_name = alias_name.to_string();
    key.aliases = vec![alias_name.clone()];
    ctx.store()
        .write(move |tx| {
            let alias_key = alias_store_key(&account, &region, &alias_name);
            if tx.get(&alias_key)?.is_some() {
                return Ok(()); // Someone else created it first.
            }
            put_key(tx, None, &key, Expect::Absent)?;
            let alias = AliasRecord {
                alias_name: alias_name.clone(),
                target_key_id: key.key_id.clone(),
                creation_date: now,
                last_updated_date: now,
            };
            records::put(tx, &alias_key, &alias, Expect::Absent)?;
            Ok::<_, AwsError>(())
        })
        .await
}
