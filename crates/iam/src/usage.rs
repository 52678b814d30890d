//! The reverse index of managed policy use ([`PolicyUsage`]), kept in the same transaction as the
//! entity records: attach/detach, boundaries, renames and deletes go through here.
use rampart_aws_types::AwsError;
use rampart_services::common::records;
use rampart_store::{Expect, Txn};

use crate::aws_managed;
use crate::errors;
use crate::model::{
    EntityKind, EntityRef, ManagedPolicyRecord, PolicyUsage, customer_policy_name, policy_key,
    policy_use_key,
};

/// Whether `arn` has the shape of an IAM managed policy ARN; IAM's `InvalidInput` otherwise.
pub fn check_policy_arn(arn: &str) -> Result<(), AwsError> {
    let ok = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":policy/"))
        .is_some_and(|(acct, name)| {
            (acct == "aws" || (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())))
                && !name.is_empty()
                && !name.ends_with('/')
        });
    if ok {
        Ok(())
    } else {
        Err(errors::invalid_input(format!("ARN {arn} is not valid.")))
    }
}

/// The customer managed policy record behind `arn` in `account`, if it exists.
pub fn customer_policy(
    tx: &mut (impl rampart_store::ReadTxn + ?Sized),
    account: &str,
    arn: &str,
) -> Result<Option<(ManagedPolicyRecord, u64)>, AwsError> {
    let Some(name) = customer_policy_name(account, arn) else {
        return Ok(None);
    };
    match records::get::<ManagedPolicyRecord>(tx, &policy_key(account, name))? {
        Some((rec, v)) if rec.arn == arn => Ok(Some((rec, v))),
        _ => Ok(None),
    }
}

/// `Ok` when `arn` names an AWS managed policy or a customer managed policy of `account`.
pub fn require_policy(
    tx: &mut (impl rampart_store::ReadTxn + ?Sized),
    account: &str,
    arn: &str,
) -> Result<(), AwsError> {
    check_policy_arn(arn)?;
    if aws_managed::by_arn(arn).is_some() || customer_policy(tx, account, arn)?.is_some() {
        Ok(())
    } else {
        Err(errors::no_such_policy(arn))
    }
}

pub fn get(
    tx: &mut (impl rampart_store::ReadTxn + ?Sized),
    account: &str,
    arn: &str,
) -> Result<PolicyUsage, AwsError> {
    Ok(
        records::get::<PolicyUsage>(tx, &policy_use_key(account, arn))?
            .map(|(u, _)| u)
            .unwrap_or_default(),
    )
}

fn put(tx: &mut dyn Txn, account: &str, arn: &str, usage: &PolicyUsage) -> Result<(), AwsError> {
    let key = policy_use_key(account, arn);
    if usage.attached.is_empty() && usage.boundary_of.is_empty() {
        tx.delete(&key, Expect::Any)?;
    } else {
        records::put(tx, &key, usage, Expect::Any)?;
    }
    Ok(())
}

pub fn entity(kind: EntityKind, name: &str) -> EntityRef {
    EntityRef {
        kind,
        name: name.to_string(),
    }
}

/// Records that `who` attaches (`boundary == false`) or uses as boundary the policy `arn`.
pub fn add(
    tx: &mut dyn Txn,
    account: &str,
    arn: &str,
    who: EntityRef,
    boundary: bool,
) -> Result<(), AwsError> {
    let mut usage = get(tx.as_read(), account, arn)?;
    let list = if boundary {
        &mut usage.boundary_of
    } else {
        &mut usage.attached
    };
    if !list.contains(&who) {
        list.push(who);
        list.sort();
    }
    put(tx, account, arn, &usage)
}

pub fn remove(
    tx: &mut dyn Txn,
    account: &str,
    arn: &str,
    who: &EntityRef,
    boundary: bool,
) -> Result<(), AwsError> {
    let mut usage = get(tx.as_read(), account, arn)?;
    let list = if boundary {
        &mut usage.boundary_of
    } else {
        &mut usage.attached
    };
    list.retain(|e| e != who);
    put(tx, account, arn, &usage)
}

/// Renames an entity in the usage records of the given policies.
pub fn rename(
    tx: &mut dyn Txn,
    account: &str,
    arns: &[String],
    boundary: Option<&str>,
    kind: EntityKind,
    old: &str,
    new: &str,
) -> Result<(), AwsError> {
    let old_ref = entity(kind, old);
    for arn in arns {
        remove(tx, account, arn, &old_ref, false)?;
        add(tx, account, arn, entity(kind, new), false)?;
    }
    if let Some(arn) = boundary {
        remove(tx, account, arn, &old_ref, true)?;
        add(tx, account, arn, entity(kind, new), true)?;
    }
    Ok(())
}
