//! Secret versions and their staging labels, as AWS moves them: a label is on at most one
//! version; when `AWSCURRENT` moves, the version that had it becomes `AWSPREVIOUS`; a version
//! without labels is deprecated and the oldest deprecated ones go once a secret has more than
//! 100 versions.
use std::collections::BTreeMap;

use rampart_aws_types::AwsError;
use serde::{Deserialize, Serialize};

use crate::error;

pub const CURRENT: &str = "AWSCURRENT";
pub const PREVIOUS: &str = "AWSPREVIOUS";
pub const PENDING: &str = "AWSPENDING";
/// AWS keeps at most this many versions; deprecated ones beyond it are removed.
pub const MAX_VERSIONS: usize = 100;
/// Staging labels one version may carry.
pub const MAX_LABELS_PER_VERSION: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionMeta {
    pub created: f64,
    pub stages: Vec<String>,
    #[serde(default)]
    pub last_accessed: Option<f64>,
}

pub type Versions = BTreeMap<String, VersionMeta>;

/// The version that carries `stage`, if any.
pub fn holder<'a>(versions: &'a Versions, stage: &str) -> Option<&'a str> {
    versions
        .iter()
        .find(|(_, v)| v.stages.iter().any(|s| s == stage))
        .map(|(id, _)| id.as_str())
}

fn take_label(versions: &mut Versions, stage: &str) -> Option<String> {
    let mut from = None;
    for (id, v) in versions.iter_mut() {
        if let Some(pos) = v.stages.iter().position(|s| s == stage) {
            v.stages.remove(pos);
            from = Some(id.clone());
        }
    }
    from
}

fn give_label(versions: &mut Versions, id: &str, stage: &str) -> Result<(), AwsError> {
    let v = versions
        .get_mut(id)
        .ok_or_else(|| error::version_not_found("VersionId", id))?;
    if !v.stages.iter().any(|s| s == stage) {
        if v.stages.len() >= MAX_LABELS_PER_VERSION {
            return Err(error::limit(format!(
                "A version can have at most {MAX_LABELS_PER_VERSION} staging labels."
            )));
        }
        v.stages.push(stage.to_string());
    }
    Ok(())
}

/// `AWSCURRENT` left `old` (for `new`): `old` becomes `AWSPREVIOUS`.
fn demote(versions: &mut Versions, old: Option<String>, new: &str) -> Result<(), AwsError> {
    if let Some(old) = old.filter(|o| o != new) {
        take_label(versions, PREVIOUS);
        give_label(versions, &old, PREVIOUS)?;
    }
    Ok(())
}

/// Adds a new version carrying `stages` (taken away from the versions that had them).
pub fn add(
    versions: &mut Versions,
    id: &str,
    created: f64,
    stages: &[String],
) -> Result<(), AwsError> {
    if stages.len() > MAX_LABELS_PER_VERSION {
        return Err(error::limit(format!(
            "A version can have at most {MAX_LABELS_PER_VERSION} staging labels."
        )));
    }
    versions.insert(
        id.to_string(),
        VersionMeta {
            created,
            stages: Vec::new(),
            last_accessed: None,
        },
    );
    for stage in stages {
        let old = take_label(versions, stage);
        give_label(versions, id, stage)?;
        if stage == CURRENT {
            demote(versions, old, id)?;
        }
    }
    Ok(())
}

/// `UpdateSecretVersionStage`: moves or removes one label.
pub fn move_stage(
    versions: &mut Versions,
    stage: &str,
    remove_from: Option<&str>,
    move_to: Option<&str>,
) -> Result<(), AwsError> {
    if let Some(to) = move_to
        && !versions.contains_key(to)
    {
        return Err(error::version_not_found("VersionId", to));
    }
    let current = holder(versions, stage).map(str::to_string);
    if let Some(from) = remove_from
        && current.as_deref() != Some(from)
    {
        if !versions.contains_key(from) {
            return Err(error::version_not_found("VersionId", from));
        }
        return Err(error::invalid_parameter(format!(
            "The parameter RemoveFromVersionId doesn't match. Staging label {stage} is not attached to version {from}."
        )));
    }
    if let (Some(cur), None) = (&current, remove_from)
        && move_to.is_some_and(|to| to != cur)
    {
        return Err(error::invalid_parameter(format!(
            "The staging label {stage} is currently attached to version {cur}, so you must explicitly reference that version in RemoveFromVersionId."
        )));
    }
    match move_to {
        None => {
            if stage == CURRENT {
                return Err(error::invalid_parameter(
                    "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.",
                ));
            }
            take_label(versions, stage);
        }
        Some(to) => {
            let old = take_label(versions, stage);
            give_label(versions, to, stage)?;
            if stage == CURRENT {
                demote(versions, old, to)?;
            }
        }
    }
    Ok(())
}

/// Removes the oldest deprecated versions beyond [`MAX_VERSIONS`]; returns their ids.
pub fn prune(versions: &mut Versions) -> Vec<String> {
    let mut deprecated: Vec<(f64, String)> = versions
        .iter()
        .filter(|(_, v)| v.stages.is_empty())
        .map(|(id, v)| (v.created, id.clone()))
        .collect();
    deprecated.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut removed = Vec::new();
    for (_, id) in deprecated {
        if versions.len() <= MAX_VERSIONS {
            break;
        }
        versions.remove(&id);
        removed.push(id);
    }
    removed
}

/// A fresh version id in UUID v4 form (what AWS generates when no token is given).
pub fn new_version_id() -> Result<String, AwsError> {
    let mut b = rampart_aws_types::ids::random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(v: &Versions, id: &str) -> Vec<String> {
        let mut s = v[id].stages.clone();
        s.sort();
        s
    }

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn current_moves_and_previous_follows() {
        let mut v = Versions::new();
        add(&mut v, "a", 1.0, &labels(&[CURRENT])).unwrap();
        add(&mut v, "b", 2.0, &labels(&[CURRENT])).unwrap();
        assert_eq!(stages(&v, "a"), vec![PREVIOUS]);
        assert_eq!(stages(&v, "b"), vec![CURRENT]);
        add(&mut v, "c", 3.0, &labels(&[CURRENT])).unwrap();
        assert!(stages(&v, "a").is_empty());
        assert_eq!(stages(&v, "b"), vec![PREVIOUS]);
        assert_eq!(holder(&v, CURRENT), Some("c"));
        // A pending version does not disturb AWSCURRENT.
        add(&mut v, "d", 4.0, &labels(&[PENDING])).unwrap();
        assert_eq!(holder(&v, CURRENT), Some("c"));
        assert_eq!(holder(&v, PENDING), Some("d"));
    }

    #[test]
    fn move_stage_rules() {
        let mut v = Versions::new();
        add(&mut v, "a", 1.0, &labels(&[CURRENT])).unwrap();
        add(&mut v, "b", 2.0, &labels(&[PENDING])).unwrap();
        // Moving AWSCURRENT needs RemoveFromVersionId naming its holder.
        let e = move_stage(&mut v, CURRENT, None, Some("b")).unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        let e = move_stage(&mut v, CURRENT, Some("b"), Some("b")).unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        move_stage(&mut v, CURRENT, Some("a"), Some("b")).unwrap();
        assert_eq!(stages(&v, "b"), vec![CURRENT, PENDING]);
        assert_eq!(stages(&v, "a"), vec![PREVIOUS]);
        // AWSCURRENT cannot simply be removed; other labels can.
        assert!(move_stage(&mut v, CURRENT, Some("b"), None).is_err());
        move_stage(&mut v, PENDING, Some("b"), None).unwrap();
        assert_eq!(stages(&v, "b"), vec![CURRENT]);
        // Custom labels attach to a version that has none yet.
        move_stage(&mut v, "blue", None, Some("a")).unwrap();
        assert_eq!(stages(&v, "a"), vec![PREVIOUS, "blue"]);
        let e = move_stage(&mut v, "blue", None, Some("nope")).unwrap_err();
        assert_eq!(e.code, "ResourceNotFoundException");
    }

    #[test]
    fn prune_keeps_labelled_and_newest() {
        let mut v = Versions::new();
        for i in 0..150 {
            add(
                &mut v,
                &format!("v{i:03}"),
                f64::from(i),
                &labels(&[CURRENT]),
            )
            .unwrap();
        }
        let removed = prune(&mut v);
        assert_eq!(v.len(), MAX_VERSIONS);
        assert_eq!(removed.len(), 50);
        assert!(removed.iter().all(|id| id.as_str() < "v050"));
        assert_eq!(holder(&v, CURRENT), Some("v149"));
        assert_eq!(holder(&v, PREVIOUS), Some("v148"));
    }

    #[test]
    fn version_ids_are_uuid_v4() {
        let id = new_version_id().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_version_id().unwrap());
    }
}
