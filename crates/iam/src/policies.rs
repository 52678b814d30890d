//! Managed policies and their versions: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy,
//! CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion,
//! SetDefaultPolicyVersion. AWS managed policies are read-only and come from [`aws_managed`].
use std::collections::HashMap;
use std::sync::Arc;

use rampart_aws_types::{AwsError, ids};
use rampart_policy::PolicyKind;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn};
use serde_json::{Value, json};

use crate::aws_managed::{self, AwsManagedPolicy};
use crate::documents;
use crate::errors;
use crate::model::{
    KIND_POLICY, KIND_POLICY_USE, ManagedPolicyRecord, PolicyUsage, PolicyVersionRecord,
    entity_arn, entity_prefix, policy_key, policy_use_key,
};
use crate::usage;
use crate::util::{
    Conds, bool_member, encode_document, epoch, input_path, input_tags, max_items, merge_tags,
    page_vec, path_matches, put_opt, required, str_member, with_marker,
};

/// IAM keeps at most five versions of a managed policy.
pub const MAX_VERSIONS: usize = 5;

/// A managed policy's facts, whichever kind it is, for output.
pub struct PolicyView {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub path: String,
    pub default_version_id: String,
    pub description: Option<String>,
    pub create_date: i64,
    pub update_date: i64,
    pub tags: Vec<crate::model::Tag>,
}

impl PolicyView {
    pub fn of_customer(p: &ManagedPolicyRecord) -> PolicyView {
        PolicyView {
            name: p.name.clone(),
            id: p.policy_id.clone(),
            arn: p.arn.clone(),
            path: p.path.clone(),
            default_version_id: p.default_version_id.clone(),
            description: p.description.clone(),
            create_date: p.create_date,
            update_date: p.update_date,
            tags: p.tags.clone(),
        }
    }

    pub fn of_aws(p: &AwsManagedPolicy) -> PolicyView {
        PolicyView {
            name: p.name.to_string(),
            id: p.policy_id(),
            arn: p.arn(),
            path: p.path.to_string(),
            default_version_id: p.version_id.to_string(),
            description: Some(p.description.to_string()),
            create_date: p.create_date,
            update_date: p.update_date,
            tags: Vec::new(),
        }
    }

    pub fn json(&self, usage: &PolicyUsage, with_description: bool) -> Value {
        let mut v = json!({
            "PolicyName": self.name, "PolicyId": self.id, "Arn": self.arn, "Path": self.path,
            "DefaultVersionId": self.default_version_id,
            "AttachmentCount": usage.attached.len(),
            "PermissionsBoundaryUsageCount": usage.boundary_of.len(),
            "IsAttachable": true,
            "CreateDate": self.create_date, "UpdateDate": self.update_date,
        });
        if with_description {
            put_opt(
                &mut v,
                "Description",
                self.description.clone().map(Value::from),
            );
        }
        if !self.tags.is_empty() {
            put_opt(&mut v, "Tags", Some(json!(self.tags)));
        }
        v
    }
}

fn version_json(v: &PolicyVersionRecord, default: &str, with_document: bool) -> Value {
    let mut out = json!({
        "VersionId": v.version_id, "IsDefaultVersion": v.version_id == default,
        "CreateDate": v.create_date,
    });
    if with_document {
        put_opt(
            &mut out,
            "Document",
            Some(Value::from(encode_document(&v.document))),
        );
    }
    out
}

/// A customer managed policy of this account, or NoSuchEntity (AWS managed policies get
/// `aws_managed` treatment by the caller).
fn load_customer(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    arn: &str,
) -> Result<(ManagedPolicyRecord, u64), AwsError> {
    usage::check_policy_arn(arn)?;
    usage::customer_policy(tx, account, arn)?.ok_or_else(|| errors::no_such_policy(arn))
}

/// Refuses changes to AWS managed policies as IAM does.
fn refuse_aws_managed(arn: &str) -> Result<(), AwsError> {
    if aws_managed::by_arn(arn).is_some() || arn.starts_with("arn:aws:iam::aws:") {
        return Err(errors::invalid_input(format!(
            "ARN {arn} is not valid. AWS managed policies cannot be changed."
        )));
    }
    Ok(())
}

pub async fn create_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "PolicyName")?.to_string();
    let path = input_path(&input, "Path");
    let document = required(&input, "PolicyDocument")?.to_string();
    let tags = input_tags(&input)?;
    let account = ctx.account().to_string();
    let arn = entity_arn(&account, "policy", &path, &name);
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    ctx.authorize("iam:CreatePolicy", &arn, &conds.refs())?;
    documents::validate(&document, PolicyKind::Managed)?;
    let tags = merge_tags(&[], &tags)?;
    let now = epoch(ctx.now());
    let policy = ManagedPolicyRecord {
        name,
        policy_id: ids::unique_id("ANPA")?,
        path,
        arn,
        description: str_member(&input, "Description").map(str::to_string),
        create_date: now,
        update_date: now,
        default_version_id: "v1".into(),
        versions: vec![PolicyVersionRecord {
            version_id: "v1".into(),
            document,
            create_date: now,
        }],
        next_version: 2,
        tags,
    };
    let mut out = PolicyView::of_customer(&policy).json(&PolicyUsage::default(), false);
    if let Some(o) = out.as_object_mut() {
        o.remove("Description");
    }
    ctx.store()
        .write(move |tx| {
            let key = policy_key(&account, &policy.name);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(format!(
                    "A policy called {} already exists. Duplicate names are not allowed.",
                    policy.name
                )));
            }
            records::put(tx, &key, &policy, Expect::Absent)?;
            Ok(())
        })
        .await?;
    Ok(json!({ "Policy": out }))
}

pub async fn get_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    ctx.authorize("iam:GetPolicy", &arn, &[])?;
    usage::check_policy_arn(&arn)?;
    let account = ctx.account().to_string();
    let out = ctx
        .store()
        .read(move |tx| {
            let view = match aws_managed::by_arn(&arn) {
                Some(p) => PolicyView::of_aws(p),
                None => PolicyView::of_customer(&load_customer(tx, &account, &arn)?.0),
            };
            let u = usage::get(tx, &account, &arn)?;
            Ok::<_, AwsError>(view.json(&u, true))
        })
        .await?;
    Ok(json!({ "Policy": out }))
}

pub async fn list_policies(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize(
        "iam:ListPolicies",
        &format!("arn:aws:iam::{account}:policy/"),
        &[],
    )?;
    let scope = str_member(&input, "Scope").unwrap_or("All").to_string();
    let only_attached = bool_member(&input, "OnlyAttached").unwrap_or(false);
    let prefix = str_member(&input, "PathPrefix").map(str::to_string);
    let usage_filter = str_member(&input, "PolicyUsageFilter").map(str::to_string);
    let all = ctx
        .store()
        .read(move |tx| {
            let uses = all_usage(tx, &account)?;
            let mut views = Vec::new();
            if scope != "Local" {
                let mut aws: Vec<&AwsManagedPolicy> = aws_managed::all().iter().collect();
                aws.sort_by_key(|p| p.name);
                views.extend(aws.into_iter().map(PolicyView::of_aws));
            }
            if scope != "AWS" {
                for (key, rec) in tx.scan_all(&entity_prefix(&account, KIND_POLICY))? {
                    let p: ManagedPolicyRecord = records::decode(&key, &rec.value)?;
                    views.push(PolicyView::of_customer(&p));
                }
            }
            let empty = PolicyUsage::default();
            let mut out = Vec::new();
            for v in views {
                let u = uses.get(&v.arn).unwrap_or(&empty);
                let used = match usage_filter.as_deref() {
                    Some("PermissionsBoundary") => !u.boundary_of.is_empty(),
                    Some("PermissionsPolicy") => !u.attached.is_empty(),
                    _ => !u.attached.is_empty() || !u.boundary_of.is_empty(),
                };
                if only_attached && !used {
                    continue;
                }
                if !path_matches(&v.path, prefix.as_deref()) {
                    continue;
                }
                out.push(v.json(u, false));
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    let (page, next) = page_vec(all, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "Policies": page }), next))
}

/// Every policy usage record of the account, by policy ARN.
fn all_usage(
    tx: &mut dyn ReadTxn,
    account: &str,
) -> Result<HashMap<String, PolicyUsage>, AwsError> {
    let prefix = entity_prefix(account, KIND_POLICY_USE);
    let mut out = HashMap::new();
    for (key, rec) in tx.scan_all(&prefix)? {
        let arn = rampart_services::common::keys::unescape(key.strip_prefix(&prefix).unwrap_or(""));
        out.insert(arn, records::decode::<PolicyUsage>(&key, &rec.value)?);
    }
    Ok(out)
}

pub async fn delete_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    ctx.authorize("iam:DeletePolicy", &arn, &[])?;
    refuse_aws_managed(&arn)?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (p, v) = load_customer(tx.as_read(), &account, &arn)?;
            let u = usage::get(tx.as_read(), &account, &arn)?;
            if !u.attached.is_empty() || !u.boundary_of.is_empty() {
                return Err(errors::delete_conflict("Cannot delete a policy attached to entities."));
            }
            if p.versions.len() > 1 {
                return Err(errors::delete_conflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
                ));
            }
            tx.delete(&policy_key(&account, &p.name), Expect::Version(v))?;
            tx.delete(&policy_use_key(&account, &arn), Expect::Any)?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn create_policy_version(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    ctx.authorize("iam:CreatePolicyVersion", &arn, &[])?;
    refuse_aws_managed(&arn)?;
    let document = required(&input, "PolicyDocument")?.to_string();
    let set_default = bool_member(&input, "SetAsDefault").unwrap_or(false);
    documents::validate(&document, PolicyKind::Managed)?;
    let account = ctx.account().to_string();
    let now = epoch(ctx.now());
    let out = ctx
        .store()
        .write(move |tx| {
            let (mut p, v) = load_customer(tx.as_read(), &account, &arn)?;
            if p.versions.len() >= MAX_VERSIONS {
                return Err(errors::limit_exceeded(
                    "A managed policy can have up to 5 versions. Before you create a new version, you must delete at least one existing version.",
                ));
            }
            let version = PolicyVersionRecord {
                version_id: format!("v{}", p.next_version),
                document: document.clone(),
                create_date: now,
            };
            p.next_version = p.next_version.saturating_add(1);
            if set_default {
                p.default_version_id = version.version_id.clone();
            }
            p.update_date = now;
            let out = version_json(&version, &p.default_version_id, false);
            p.versions.push(version);
            records::put(tx, &policy_key(&account, &p.name), &p, Expect::Version(v))?;
            Ok(out)
        })
        .await?;
    Ok(json!({ "PolicyVersion": out }))
}

pub async fn get_policy_version(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    let version_id = required(&input, "VersionId")?.to_string();
    ctx.authorize("iam:GetPolicyVersion", &arn, &[])?;
    usage::check_policy_arn(&arn)?;
    if let Some(p) = aws_managed::by_arn(&arn) {
        if version_id != p.version_id {
            return Err(errors::no_such_policy_version(&arn, &version_id));
        }
        return Ok(json!({ "PolicyVersion": {
            "Document": encode_document(p.document), "VersionId": p.version_id,
            "IsDefaultVersion": true, "CreateDate": p.update_date,
        }}));
    }
    let account = ctx.account().to_string();
    let out = ctx
        .store()
        .read(move |tx| {
            let (p, _) = load_customer(tx, &account, &arn)?;
            let v = p
                .versions
                .iter()
                .find(|v| v.version_id == version_id)
                .ok_or_else(|| errors::no_such_policy_version(&arn, &version_id))?;
            Ok::<_, AwsError>(version_json(v, &p.default_version_id, true))
        })
        .await?;
    Ok(json!({ "PolicyVersion": out }))
}

pub async fn list_policy_versions(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    ctx.authorize("iam:ListPolicyVersions", &arn, &[])?;
    usage::check_policy_arn(&arn)?;
    let versions = if let Some(p) = aws_managed::by_arn(&arn) {
        vec![
            json!({"VersionId": p.version_id, "IsDefaultVersion": true, "CreateDate": p.update_date}),
        ]
    } else {
        let account = ctx.account().to_string();
        ctx.store()
            .read(move |tx| {
                let (p, _) = load_customer(tx, &account, &arn)?;
                Ok::<_, AwsError>(
                    p.versions
                        .iter()
                        .rev()
                        .map(|v| version_json(v, &p.default_version_id, false))
                        .collect::<Vec<_>>(),
                )
            })
            .await?
    };
    let (page, next) = page_vec(versions, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "Versions": page }), next))
}

pub async fn delete_policy_version(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    let version_id = required(&input, "VersionId")?.to_string();
    ctx.authorize("iam:DeletePolicyVersion", &arn, &[])?;
    refuse_aws_managed(&arn)?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (mut p, v) = load_customer(tx.as_read(), &account, &arn)?;
            if !p.versions.iter().any(|x| x.version_id == version_id) {
                return Err(errors::no_such_policy_version(&arn, &version_id));
            }
            if p.default_version_id == version_id {
                return Err(errors::delete_conflict(
                    "Cannot delete the default version of a policy.",
                ));
            }
            p.versions.retain(|x| x.version_id != version_id);
            records::put(tx, &policy_key(&account, &p.name), &p, Expect::Version(v))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn set_default_policy_version(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    let version_id = required(&input, "VersionId")?.to_string();
    ctx.authorize("iam:SetDefaultPolicyVersion", &arn, &[])?;
    refuse_aws_managed(&arn)?;
    let account = ctx.account().to_string();
    let now = epoch(ctx.now());
    ctx.store()
        .write(move |tx| {
            let (mut p, v) = load_customer(tx.as_read(), &account, &arn)?;
            if !p.versions.iter().any(|x| x.version_id == version_id) {
                return Err(errors::no_such_policy_version(&arn, &version_id));
            }
            p.default_version_id = version_id.clone();
            p.update_date = now;
            records::put(tx, &policy_key(&account, &p.name), &p, Expect::Version(v))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}
