//! Service last accessed reports: GenerateServiceLastAccessedDetails,
//! GetServiceLastAccessedDetails, GetServiceLastAccessedDetailsWithEntities.
//!
//! Accesses come from [`crate::key_usage`]: every request a user's long-term access key signs
//! is recorded per service namespace in the user's `lastaccess` record. The report lists the
//! services of Rampart that the entity's policies grant, or that were accessed. Role sessions
//! are not tracked (their keys are temporary), so roles report grants without access times.
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use rampart_services::common::{keys, records};
use rampart_store::{Expect, ReadTxn};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::access_report::grants;
use crate::errors;
use crate::key_usage::{KeyUse, ServiceAccess};
use crate::model::{
    GroupRecord, PrincipalRef, REGION, SERVICE, UserRecord, group_key, last_access_key,
    load_principal_policies, managed_default, role_key, user_key,
};
use crate::usage;
use crate::util::{max_items, page_vec, required, str_member, with_marker};

/// The services Rampart serves, with the names AWS's reports give them.
const SERVICES: &[(&str, &str)] = &[
    ("cloudtrail", "AWS CloudTrail"),
    ("iam", "AWS Identity and Access Management"),
    ("kms", "AWS Key Management Service"),
    ("secretsmanager", "AWS Secrets Manager"),
    ("ssm", "AWS Systems Manager"),
    ("sts", "AWS Security Token Service"),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    arn: String,
    created: i64,
}

fn job_key(account: &str, id: &str) -> String {
    keys::key(account, REGION, SERVICE, "lastaccessjob", id)
}

/// A user whose accesses count for the report.
struct Accessor {
    arn: String,
    name: String,
    id: String,
    path: String,
    access: BTreeMap<String, KeyUse>,
}

fn accessor(tx: &mut dyn ReadTxn, account: &str, name: &str) -> Result<Option<Accessor>, AwsError> {
    let Some((u, _)) = records::get::<UserRecord>(tx, &user_key(account, name))? else {
        return Ok(None);
    };
    let access = records::get::<ServiceAccess>(tx, &last_access_key(account, &u.user_id))?
        .map(|(s, _)| s.services)
        .unwrap_or_default();
    Ok(Some(Accessor {
        arn: u.arn,
        name: u.name,
        id: u.user_id,
        path: u.path,
        access,
    }))
}

/// The entity's policy documents and the users whose accesses count.
fn gather(
    tx: &mut dyn ReadTxn,
    account: &str,
    arn: &str,
) -> Result<(Vec<String>, Vec<Accessor>), AwsError> {
    let bad = || errors::invalid_input(format!("ARN {arn} is not valid."));
    let rest = arn
        .strip_prefix(&format!("arn:aws:iam::{account}:"))
        .ok_or_else(bad)?;
    let (kind, path_name) = rest.split_once('/').ok_or_else(bad)?;
    let name = path_name.rsplit('/').next().unwrap_or("");
    let mut docs = Vec::new();
    let mut users = Vec::new();
    match kind {
        "user" => {
            let p = load_principal_policies(tx, account, PrincipalRef::User(name))?;
            docs.extend(p.identity.into_iter().map(|s| s.document));
            users.extend(accessor(tx, account, name)?);
        }
        "role" => {
            let p = load_principal_policies(tx, account, PrincipalRef::Role(name))?;
            docs.extend(p.identity.into_iter().map(|s| s.document));
        }
        "group" => {
            let (g, _) = records::get::<GroupRecord>(tx, &group_key(account, name))?
                .ok_or_else(|| errors::no_such_group(name))?;
            docs.extend(g.inline_policies.values().cloned());
            for a in &g.attached_policies {
                docs.extend(managed_default(tx, account, a)?.map(|(_, d, _)| d));
            }
            for m in &g.members {
                users.extend(accessor(tx, account, m)?);
            }
        }
        "policy" => {
            let (_, d, _) =
                managed_default(tx, account, arn)?.ok_or_else(|| errors::no_such_policy(arn))?;
            docs.push(d);
            for e in usage::get(tx, account, arn)?.attached {
                match e.kind {
                    crate::model::EntityKind::User => users.extend(accessor(tx, account, &e.name)?),
                    crate::model::EntityKind::Group => {
                        if let Some((g, _)) =
                            records::get::<GroupRecord>(tx, &group_key(account, &e.name))?
                        {
                            for m in &g.members {
                                users.extend(accessor(tx, account, m)?);
                            }
                        }
                    }
                    crate::model::EntityKind::Role => {
                        // Role sessions are not tracked; the role's existence is enough here.
                        let _ = records::get::<Value>(tx, &role_key(account, &e.name))?;
                    }
                }
            }
        }
        _ => return Err(bad()),
    }
    Ok((docs, users))
}

pub async fn generate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "Arn")?.to_string();
    ctx.authorize("iam:GenerateServiceLastAccessedDetails", &arn, &[])?;
    let account = ctx.account().to_string();
    let id = ids::request_id()?;
    let job = Job {
        arn,
        created: ctx.now().unix_timestamp(),
    };
    let job_id = id.clone();
    ctx.store()
        .write(move |tx| {
            // The entity must exist now.
            gather(tx.as_read(), &account, &job.arn)?;
            records::put(tx, &job_key(&account, &job_id), &job, Expect::Absent)?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(json!({ "JobId": id }))
}

async fn load_job(
    ctx: &Ctx,
    input: &Value,
    action: &str,
) -> Result<(Job, Vec<String>, Vec<Accessor>), AwsError> {
    let id = required(input, "JobId")?.to_string();
    ctx.authorize(action, "*", &[])?;
    let account = ctx.account().to_string();
    let (job, docs, users) = ctx
        .store()
        .read_offloaded(move |tx| {
            let (job, _) = records::get::<Job>(tx, &job_key(&account, &id))?
                .ok_or_else(|| errors::no_such_entity(format!("Job {id} does not exist.")))?;
            let (docs, users) = gather(tx, &account, &job.arn)?;
            Ok::<_, AwsError>((
                job,
                docs,
                users
                    .into_iter()
                    .map(|a| (a.arn, a.name, a.id, a.path, a.access))
                    .collect::<Vec<_>>(),
            ))
        })
        .await?;
    let users = users
        .into_iter()
        .map(|(arn, name, id, path, access)| Accessor {
            arn,
            name,
            id,
            path,
            access,
        })
        .collect();
    Ok((job, docs, users))
}

pub async fn get(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let (job, docs, users) = load_job(&ctx, &input, "iam:GetServiceLastAccessedDetails").await?;
    let mut items = Vec::new();
    for (ns, display) in SERVICES {
        let accessed: Vec<(&Accessor, &KeyUse)> = users
            .iter()
            .filter_map(|u| u.access.get(*ns).map(|k| (u, k)))
            .collect();
        if accessed.is_empty() && !docs.iter().any(|d| grants(d, ns)) {
            continue;
        }
        let mut v = json!({
            "ServiceName": display, "ServiceNamespace": ns,
            "TotalAuthenticatedEntities": accessed.len(),
        });
        if let Some((who, last)) = accessed.iter().max_by_key(|(_, k)| k.when) {
            if let Some(o) = v.as_object_mut() {
                o.insert("LastAuthenticated".into(), json!(last.when));
                o.insert("LastAuthenticatedEntity".into(), json!(who.arn));
                o.insert("LastAuthenticatedRegion".into(), json!(last.region));
            }
        }
        items.push(v);
    }
    let (page, next) = page_vec(items, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(
        json!({
            "JobStatus": "COMPLETED", "JobType": "SERVICE_LEVEL",
            "JobCreationDate": job.created, "JobCompletionDate": job.created,
            "ServicesLastAccessed": page,
        }),
        next,
    ))
}

pub async fn get_with_entities(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let ns = required(&input, "ServiceNamespace")?.to_string();
    let (job, _, users) = load_job(
        &ctx,
        &input,
        "iam:GetServiceLastAccessedDetailsWithEntities",
    )
    .await?;
    let items: Vec<Value> = users
        .iter()
        .map(|u| {
            let mut v = json!({ "EntityInfo": {
                "Arn": u.arn, "Name": u.name, "Type": "USER", "Id": u.id, "Path": u.path,
            }});
            if let (Some(o), Some(k)) = (v.as_object_mut(), u.access.get(&ns)) {
                o.insert("LastAuthenticated".into(), json!(k.when));
            }
            v
        })
        .collect();
    let (page, next) = page_vec(items, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(
        json!({
            "JobStatus": "COMPLETED", "JobCreationDate": job.created,
            "JobCompletionDate": job.created, "EntityDetailsList": page,
        }),
        next,
    ))
}
