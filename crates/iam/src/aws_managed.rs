//! AWS managed policies shipped in the binary (`arn:aws:iam::aws:policy/...`). See
//! `aws_managed_docs.rs` for the documents and where they come from.

/// One AWS managed policy.
#[derive(Debug)]
pub struct AwsManagedPolicy {
    pub name: &'static str,
    pub path: &'static str,
    pub version_id: &'static str,
    pub description: &'static str,
    /// Epoch seconds.
    pub create_date: i64,
    pub update_date: i64,
    pub document: &'static str,
}

impl AwsManagedPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }

    /// A stable `ANPA...` id derived from the name (AWS's own ids are not reproduced).
    pub fn policy_id(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.name.as_bytes());
        let tail: String = digest
            .as_ref()
            .iter()
            .take(17)
            .map(|b| {
                ALPHABET
                    .get(usize::from(*b) % ALPHABET.len())
                    .copied()
                    .unwrap_or(b'A') as char
            })
            .collect();
        format!("ANPA{tail}")
    }
}

/// Every shipped AWS managed policy.
pub fn all() -> &'static [AwsManagedPolicy] {
    crate::aws_managed_docs::POLICIES
}

pub fn by_arn(arn: &str) -> Option<&'static AwsManagedPolicy> {
    let rest = arn.strip_prefix("arn:aws:iam::aws:policy")?;
    all()
        .iter()
        .find(|p| rest.strip_prefix(p.path) == Some(p.name))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use rampart_policy::{Policy, PolicyKind};
    use serde_json::Value;

    use super::*;

    /// The policies whose shipped document must say exactly what AWS's says. The others are
    /// reduced (ReadOnlyAccess, SecurityAudit) or summarized (CloudTrail/SSM full access,
    /// SecretsManagerReadWrite), and are only checked to parse.
    const EXACT: &[&str] = &[
        "AdministratorAccess",
        "PowerUserAccess",
        "IAMFullAccess",
        "IAMReadOnlyAccess",
        "IAMUserChangePassword",
        "AWSKeyManagementServicePowerUser",
        "AmazonSSMReadOnlyAccess",
        "AWSCloudTrail_ReadOnlyAccess",
    ];

    /// The GPL-licensed vectors are read from `../shared` as test inputs, never copied here.
    fn vector(name: &str) -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/vectors/aws-managed-policies/policies")
            .join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("vector {} missing: {e}", path.display()));
        let v: Value = serde_json::from_str(&text).unwrap();
        v["PolicyVersion"]["Document"].clone()
    }

    /// A statement reduced to what it means: effect, (Not)Action set, (Not)Resource set,
    /// condition; order and single-vs-list spelling do not matter.
    fn meaning(doc: &Value) -> BTreeSet<String> {
        let list = |v: &Value| -> Vec<String> {
            match v {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => {
                    let mut out: Vec<String> = a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect();
                    out.sort();
                    out
                }
                _ => Vec::new(),
            }
        };
        let statements = match &doc["Statement"] {
            Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        };
        statements
            .iter()
            .map(|s| {
                format!(
                    "{}|A{:?}|NA{:?}|R{:?}|NR{:?}|C{}",
                    s["Effect"],
                    list(&s["Action"]),
                    list(&s["NotAction"]),
                    list(&s["Resource"]),
                    list(&s["NotResource"]),
                    s["Condition"]
                )
            })
            .collect()
    }

    #[test]
    fn shipped_documents_agree_with_aws() {
        for name in EXACT {
            let ours = all().iter().find(|p| p.name == *name).unwrap();
            let ours: Value = serde_json::from_str(ours.document).unwrap();
            assert_eq!(meaning(&ours), meaning(&vector(name)), "{name}");
        }
    }

    #[test]
    fn every_shipped_policy_is_valid_and_addressable() {
        let mut ids = BTreeSet::new();
        for p in all() {
            Policy::parse(p.document, PolicyKind::AwsManaged)
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert!(std::ptr::eq(by_arn(&p.arn()).unwrap(), p));
            let id = p.policy_id();
            assert!(id.starts_with("ANPA") && id.len() == 21);
            assert!(ids.insert(id));
        }
        assert!(by_arn("arn:aws:iam::aws:policy/NoSuchThing").is_none());
        assert!(by_arn("arn:aws:iam::aws:policy/job-function/AdministratorAccess").is_none());
        for required in [
            "AdministratorAccess",
            "PowerUserAccess",
            "ReadOnlyAccess",
            "IAMFullAccess",
            "IAMReadOnlyAccess",
            "SecurityAudit",
        ] {
            assert!(all().iter().any(|p| p.name == required), "{required}");
        }
    }

    #[test]
    fn reduced_read_only_never_reads_secrets() {
        let ro = all().iter().find(|p| p.name == "ReadOnlyAccess").unwrap();
        let doc: Value = serde_json::from_str(ro.document).unwrap();
        let actions = doc["Statement"][0]["Action"].as_array().unwrap();
        assert!(actions.iter().any(|a| a == "kms:Describe*"));
        assert!(
            !actions
                .iter()
                .any(|a| a == "*:Get*" || a == "secretsmanager:Get*")
        );
    }
}
