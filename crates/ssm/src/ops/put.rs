//! PutParameter: types, tiers and their size limits, Overwrite, AllowedPattern, DataType,
//! policies, the version cap and the standard-parameter quota.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::{records, tags};
use rampart_store::Expect;
use serde_json::{Value, json};

use super::*;
use crate::record::{MAX_VERSIONS, STANDARD_QUOTA, Tag};

pub const STANDARD: &str = "Standard";
pub const ADVANCED: &str = "Advanced";
pub const STANDARD_MAX: usize = 4096;
pub const ADVANCED_MAX: usize = 8192;

/// Which tier a new version lands in.
pub fn choose_tier(
    requested: Option<&str>,
    existing: Option<&str>,
    value_len: usize,
    has_policies: bool,
) -> Result<String, AwsError> {
    let needs_advanced = value_len > STANDARD_MAX || has_policies;
    let tier = match requested {
        Some("Intelligent-Tiering") => {
            if needs_advanced || existing == Some(ADVANCED) {
                ADVANCED
            } else {
                STANDARD
            }
        }
        Some(ADVANCED) => ADVANCED,
        Some(_) => STANDARD,
        None => existing.unwrap_or(STANDARD),
    };
    if tier == STANDARD && existing == Some(ADVANCED) {
        return Err(error::validation(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
        ));
    }
    if tier == STANDARD && value_len > STANDARD_MAX {
        return Err(error::validation(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
        ));
    }
    if tier == STANDARD && has_policies {
        return Err(error::validation(
            "Standard tier parameters don't support parameter policies. To use policies, upgrade the parameter to the advanced-parameter tier.",
        ));
    }
    if value_len > ADVANCED_MAX {
        return Err(error::validation(
            "Advanced tier parameters support a maximum parameter value of 8192 characters.",
        ));
    }
    Ok(tier.to_string())
}

/// `AllowedPattern` must match the whole value.
pub fn check_pattern(pattern: &str, value: &str) -> Result<(), AwsError> {
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
        ssm(
            "InvalidAllowedPatternException",
            "The request does not meet the regular expression requirement.",
        )
    })?;
    if !re.is_match(value) {
        return Err(ssm(
            "ParameterPatternMismatchException",
            format!("Parameter value, cannot be validated against allowedPattern: {pattern}"),
        ));
    }
    Ok(())
}

pub fn check_data_type(data_type: &str, value: &str) -> Result<(), AwsError> {
    match data_type {
        "text" | "aws:ssm:integration" => Ok(()),
        "aws:ec2:image" => {
            let ok = value.strip_prefix("ami-").is_some_and(|h| {
                (8..=17).contains(&h.len()) && h.chars().all(|c| c.is_ascii_hexdigit())
            });
            if ok {
                Ok(())
            } else {
                Err(error::validation(format!(
                    "Parameter value {value} is not a valid AMI ID for data type aws:ec2:image."
                )))
            }
        }
        other => Err(error::validation(format!(
            "The following data type is not supported: {other} (Data type names are all lowercase.)"
        ))),
    }
}

pub async fn put_parameter(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = names::name_from_input(str_field(&input, "Name").unwrap_or_default());
    let new_tags: Vec<(String, String)> = input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| {
                    (
                        str_field(t, "Key").unwrap_or_default().to_string(),
                        str_field(t, "Value").unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut conds = Vec::new();
    for (k, v) in &new_tags {
        conds.push((format!("aws:RequestTag/{k}"), v.clone()));
        conds.push(("aws:TagKeys".to_string(), k.clone()));
    }
    let existing = load(&ctx, &name).await?;
    authorize_param(
        &ctx,
        "ssm:PutParameter",
        &name,
        existing.as_ref().map(|(p, _)| p),
        &conds,
    )?;
    names::check_new_name(&name, ctx.region(), ctx.account())?;
    let overwrite = bool_field(&input, "Overwrite");
    if overwrite && !new_tags.is_empty() {
        return Err(error::validation(
            "Invalid parameter - Tags and Overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
        ));
    }
    if existing.is_some() && !overwrite {
        return Err(error::already_exists());
    }
    let prev = existing.as_ref().map(|(p, _)| &p.latest);
    let kind = match (str_field(&input, "Type"), prev) {
        (Some(t), _) => t.to_string(),
        (None, Some(p)) => p.kind.clone(),
        (None, None) => {
            return Err(error::validation(
                "A parameter type is required when you create a parameter.",
            ));
        }
    };
    if let Some(p) = prev
        && p.kind != kind
        && name.contains('/')
    {
        return Err(ssm(
            "HierarchyTypeMismatchException",
            format!(
                "The parameter type can't be changed from {} to {kind} for a parameter in a hierarchy.",
                p.kind
            ),
        ));
    }
    let key_id = str_field(&input, "KeyId").map(str::to_string);
    if key_id.is_some() && kind != SECURE {
        return Err(error::validation(
            "KeyId is required for SecureString type parameter only.",
        ));
    }
    let value = str_field(&input, "Value").unwrap_or_default().to_string();
    let (policies, _expires) = match str_field(&input, "Policies") {
        Some(text) => crate::policies::parse(text)?,
        None => (prev.map(|p| p.policies.clone()).unwrap_or_default(), None),
    };
    let tier = choose_tier(
        str_field(&input, "Tier"),
        prev.map(|p| p.tier.as_str()),
        value.len(),
        !policies.is_empty(),
    )?;
    let allowed_pattern = str_field(&input, "AllowedPattern")
        .map(str::to_string)
        .or_else(|| prev.and_then(|p| p.allowed_pattern.clone()));
    if let Some(pattern) = &allowed_pattern {
        check_pattern(pattern, &value)?;
    }
    let data_type = str_field(&input, "DataType")
        .map(str::to_string)
        .or_else(|| prev.map(|p| p.data_type.clone()))
        .unwrap_or_else(|| "text".to_string());
    check_data_type(&data_type, &value)?;
    if let Some(v) = &existing
        && v.0.versions.len() >= MAX_VERSIONS
        && let Some(oldest) = v.0.versions.first()
        && !v.0.labels_of(*oldest).is_empty()
    {
        return Err(ssm(
            "ParameterMaxVersionLimitExceeded",
            format!(
                "You attempted to create a new version of {name} by calling the PutParameter API with the overwrite flag. Version {oldest}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."
            ),
        ));
    }
    let mut tag_list = existing
        .as_ref()
        .map(|(p, _)| p.tags.clone())
        .unwrap_or_default();
    if !new_tags.is_empty() {
        let merged =
            tags::merge(&Default::default(), &new_tags, tags::MAX_TAGS).map_err(|v| match v {
                tags::TagViolation::TooMany { .. } => ssm(
                    "TooManyTagsError",
                    "You exceeded the maximum number of tags allowed for this resource.",
                ),
                other => error::validation(other.message()),
            })?;
        tag_list = merged
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect();
    }
    let arn = param_arn(&ctx, &name);
    let (stored_value, key_id) = if kind == SECURE {
        let k = key_id
            .or_else(|| prev.and_then(|p| p.key_id.clone()))
            .unwrap_or_else(|| DEFAULT_KEY.to_string());
        (encrypt(&ctx, &arn, Some(&k), &value).await?, Some(k))
    } else {
        (value, None)
    };
    let description = str_field(&input, "Description")
        .map(str::to_string)
        .or_else(|| prev.and_then(|p| p.description.clone()));
    let base_version = existing.as_ref().map(|(_, v)| *v);
    let next = prev.map_or(1, |p| p.version + 1);
    let version = Version {
        version: next,
        kind,
        value: stored_value,
        key_id,
        description,
        allowed_pattern,
        tier: tier.clone(),
        data_type,
        policies,
        modified: epoch(ctx.now()),
        modified_by: ctx.principal.arn.clone(),
    };
    let account = ctx.account().to_string();
    let region = ctx.region().to_string();
    let (labels, tags_final) = existing
        .as_ref()
        .map(|(p, _)| (p.labels.clone(), tag_list.clone()))
        .unwrap_or((Default::default(), tag_list.clone()));
    let old_tier = prev.map(|p| p.tier.clone());
    let versions = existing
        .as_ref()
        .map(|(p, _)| p.versions.clone())
        .unwrap_or_default();
    let n = name.clone();
    ctx.store()
        .write(move |tx| {
            let key = record::param_key(&account, &region, &n);
            let found = tx.get(&key)?.map(|r| r.version);
            if found != base_version {
                return Err(if base_version.is_none() && !overwrite {
                    error::already_exists()
                } else {
                    ssm(
                        "TooManyUpdates",
                        "There are concurrent updates for the resource that you're attempting to update. Try again later.",
                    )
                });
            }
            // The standard-parameter quota counts parameters, whatever their versions.
            let was_standard = old_tier.as_deref() == Some(STANDARD);
            let is_standard = version.tier == STANDARD;
            if was_standard != is_standard {
                let ck = record::standard_count_key(&account, &region);
                let count: u64 = records::get::<u64>(tx, &ck)?.map(|(c, _)| c).unwrap_or(0);
                let count = if is_standard {
                    if count >= STANDARD_QUOTA {
                        return Err(ssm(
                            "ParameterLimitExceeded",
                            "You have reached the maximum number of standard parameters for this AWS account and Region (10000). To add more parameters, either delete existing parameters or upgrade to the advanced-parameter tier (charges apply).",
                        ));
                    }
                    count + 1
                } else {
                    count.saturating_sub(1)
                };
                records::put(tx, &ck, &count, Expect::Any)?;
            }
            let mut vs = versions.clone();
            if vs.len() >= MAX_VERSIONS
                && let Some(oldest) = vs.first().copied()
            {
                vs.remove(0);
                tx.delete(&record::version_key(&account, &region, &n, oldest), Expect::Any)?;
            }
            vs.push(version.version);
            // Policy actions follow the latest version: the old ones go, the new ones come.
            if let Some((old, _)) = records::get::<Param>(tx, &key)? {
                for d in &old.due {
                    tx.delete(d, Expect::Any)?;
                }
            }
            let mut due = Vec::new();
            for (at, action) in crate::policies::due_actions(&version.policies, version.modified as i64) {
                let k = record::due_key(at, action, &account, &region, &n);
                records::put(tx, &k, &version.version, Expect::Any)?;
                due.push(k);
            }
            let p = Param {
                name: n.clone(),
                arn: names::arn(&region, &account, &n),
                latest: version.clone(),
                versions: vs,
                labels: labels.clone(),
                tags: tags_final.clone(),
                due,
            };
            records::put(tx, &key, &p, Expect::Any)?;
            records::put(
                tx,
                &record::version_key(&account, &region, &n, version.version),
                &version,
                Expect::Any,
            )?;
            Ok::<_, AwsError>(())
        })
        .await?;
    ctx.record_resource(&arn, "AWS::SSM::Parameter");
    Ok(json!({ "Version": next, "Tier": tier }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers() {
        assert_eq!(choose_tier(None, None, 10, false).unwrap(), STANDARD);
        assert_eq!(
            choose_tier(Some("Intelligent-Tiering"), None, 5000, false).unwrap(),
            ADVANCED
        );
        assert_eq!(
            choose_tier(Some("Intelligent-Tiering"), None, 50, false).unwrap(),
            STANDARD
        );
        assert_eq!(
            choose_tier(Some("Intelligent-Tiering"), None, 50, true).unwrap(),
            ADVANCED
        );
        assert_eq!(
            choose_tier(Some("Intelligent-Tiering"), Some(ADVANCED), 50, false).unwrap(),
            ADVANCED
        );
        assert!(choose_tier(Some(STANDARD), None, 4097, false).is_err());
        assert!(choose_tier(Some(STANDARD), Some(ADVANCED), 1, false).is_err());
        assert!(choose_tier(Some(ADVANCED), None, 8193, false).is_err());
        assert_eq!(
            choose_tier(Some(ADVANCED), None, 8192, false).unwrap(),
            ADVANCED
        );
        assert_eq!(
            choose_tier(None, Some(ADVANCED), 1, false).unwrap(),
            ADVANCED
        );
    }

    #[test]
    fn patterns_and_data_types() {
        assert!(check_pattern("^\\d+$", "123").is_ok());
        assert!(check_pattern("\\d+", "12a").is_err());
        assert_eq!(
            check_pattern("(", "x").unwrap_err().code,
            "InvalidAllowedPatternException"
        );
        assert!(check_data_type("aws:ec2:image", "ami-0123456789abcdef0").is_ok());
        assert!(check_data_type("aws:ec2:image", "not-an-ami").is_err());
        assert!(check_data_type("Text", "x").is_err());
    }
}
