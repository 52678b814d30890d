//! How a KMS operation asks for its authorization decision.
//!
//! Every operation on a key calls [`authorize_key`]: the key's own policy is the resource policy
//! (kind `KeyPolicy`: it must allow the caller or delegate to the account before IAM policies
//! count), and KMS's condition keys describe the request. Grants take part as AWS has them take
//! part: the key policy handed to the authorizer is the stored one plus an `Allow` statement for
//! every grant that matches this caller, operation and encryption context (see
//! [`crate::policy::with_grants`]). So a grant allows where the policies say nothing, and an
//! explicit `Deny` (key policy, IAM policy, SCP) still overrides it — AWS's rule.
use std::collections::BTreeMap;

use rampart_aws_types::AwsError;
use rampart_services::{Ctx, ResourcePolicy, ResourcePolicyKind};

use crate::grants;
use crate::policy;
use crate::record::{GrantRecord, KeyRecord};

/// Condition keys of one request, in the order they are added. Multi-valued keys repeat.
#[derive(Debug, Clone, Default)]
pub struct Conditions(Vec<(String, String)>);

impl Conditions {
    /// The keys every operation on `key` supplies: `kms:CallerAccount`, `kms:KeySpec`,
    /// `kms:KeyUsage`, `kms:KeyOrigin`, `kms:KeyManager` (AWS's names), `kms:ResourceAliases` and
    /// `aws:ResourceTag/*`.
    pub fn for_key(ctx: &Ctx, key: &KeyRecord) -> Conditions {
        let mut c = Conditions::default();
        c.push("kms:CallerAccount", ctx.account());
        c.push("kms:KeySpec", &key.key_spec);
        c.push("kms:KeyUsage", &key.key_usage);
        c.push("kms:KeyOrigin", &key.origin);
        c.push("kms:KeyManager", &key.key_manager);
        for (k, v) in &key.tags {
            c.push(&format!("aws:ResourceTag/{k}"), v);
        }
        for alias in &key.aliases {
            c.push("kms:ResourceAliases", alias);
        }
        c
    }

    /// [`Conditions::for_key`] plus `kms:RequestAlias` when the request named the key by alias.
    pub fn for_loaded(ctx: &Ctx, loaded: &crate::ops::Loaded) -> Conditions {
        let mut c = Conditions::for_key(ctx, &loaded.key);
        if let Some(alias) = &loaded.request_alias {
            c.push("kms:RequestAlias", alias);
        }
        c
    }

    /// For operations without a key (CreateKey, ListKeys, ...).
    pub fn for_account(ctx: &Ctx) -> Conditions {
        let mut c = Conditions::default();
        c.push("kms:CallerAccount", ctx.account());
        c
    }

    pub fn push(&mut self, key: &str, value: &str) {
        self.0.push((key.to_string(), value.to_string()));
    }

    /// `kms:EncryptionContext:<k>` for each pair and `kms:EncryptionContextKeys` for each key.
    pub fn encryption_context(&mut self, context: &BTreeMap<String, String>) {
        for (k, v) in context {
            self.push(&format!("kms:EncryptionContext:{k}"), v);
        }
        for k in context.keys() {
            self.push("kms:EncryptionContextKeys", k);
        }
    }

    /// `aws:RequestTag/<k>` and `aws:TagKeys`.
    pub fn request_tags(&mut self, tags: &[(String, String)]) {
        for (k, v) in tags {
            self.push(&format!("aws:RequestTag/{k}"), v);
        }
        for (k, _) in tags {
            self.push("aws:TagKeys", k);
        }
    }

    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Asks for the decision on `kms:<operation>` on `key`. `grant_context` is the encryption context
/// grant constraints are checked against (empty for operations without one); `grants` are the
/// key's grants (empty when the operation cannot be granted).
pub fn authorize_key(
    ctx: &Ctx,
    operation: &str,
    key: &KeyRecord,
    conditions: &Conditions,
    grants_of_key: &[GrantRecord],
    grant_context: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let action = format!("kms:{operation}");
    // CloudTrail's `resources` of a KMS event name the key.
    ctx.record_resource(&key.arn, "AWS::KMS::Key");
    let matching = if grants::GRANT_OPERATIONS.contains(&operation) {
        grants::matching(grants_of_key, &ctx.principal, operation, grant_context)
    } else {
        Vec::new()
    };
    let document = policy::with_grants(&key.policy, &matching, &action);
    ctx.authorize_on(
        &action,
        &key.arn,
        &key.account,
        &conditions.pairs(),
        Some(ResourcePolicy {
            document: &document,
            kind: ResourcePolicyKind::KeyPolicy,
        }),
    )
}

/// For operations without a key resource (`CreateKey`, `ListKeys`, `ListAliases`, ...): AWS
/// authorizes these with IAM policies alone, on resource `*`.
pub fn authorize_account(
    ctx: &Ctx,
    operation: &str,
    conditions: &Conditions,
) -> Result<(), AwsError> {
    ctx.authorize(&format!("kms:{operation}"), "*", &conditions.pairs())
}
