//! ListSecrets / BatchGetSecretValue filters, as AWS documents them: prefix matches
//! (`description` and `all` ignore case), `!` negates, values of one filter are alternatives,
//! filters combine with AND.
use crate::record::SecretRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub key: String,
    pub values: Vec<String>,
}

fn attribute_values(rec: &SecretRecord, key: &str) -> Vec<String> {
    match key {
        "name" => vec![rec.name.clone()],
        "description" => rec.description.iter().cloned().collect(),
        "tag-key" => rec.tags.iter().map(|t| t.key.clone()).collect(),
        "tag-value" => rec.tags.iter().map(|t| t.value.clone()).collect(),
        "primary-region" => rec.primary_region.iter().cloned().collect(),
        "owning-service" => rec.owning_service.iter().cloned().collect(),
        _ => Vec::new(),
    }
}

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| c.is_whitespace() || "/_+=.@-:".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn value_matches(rec: &SecretRecord, key: &str, value: &str) -> bool {
    match key {
        "all" => {
            let mut attrs: Vec<String> = Vec::new();
            for k in [
                "name",
                "description",
                "tag-key",
                "tag-value",
                "primary-region",
                "owning-service",
            ] {
                attrs.extend(attribute_values(rec, k));
            }
            let attr_words: Vec<String> = attrs
                .iter()
                .flat_map(|a| {
                    let mut w: Vec<String> = words(a).collect();
                    w.push(a.to_lowercase());
                    w
                })
                .collect();
            words(value).all(|w| attr_words.iter().any(|a| a.starts_with(&w)))
        }
        "description" => {
            let v = value.to_lowercase();
            attribute_values(rec, key)
                .iter()
                .any(|a| a.to_lowercase().starts_with(&v))
        }
        _ => attribute_values(rec, key)
            .iter()
            .any(|a| a.starts_with(value)),
    }
}

pub fn matches(rec: &SecretRecord, filters: &[Filter]) -> bool {
    filters.iter().all(|f| {
        let (neg, pos): (Vec<&String>, Vec<&String>) =
            f.values.iter().partition(|v| v.starts_with('!'));
        let positive_ok = pos.is_empty() || pos.iter().any(|v| value_matches(rec, &f.key, v));
        let negative_ok = neg.iter().all(|v| {
            let v = v.trim_start_matches('!');
            !value_matches(rec, &f.key, v)
        });
        positive_ok && negative_ok
    })
}

pub fn parse(input: &serde_json::Value) -> Vec<Filter> {
    input
        .get("Filters")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .map(|f| Filter {
                    key: f
                        .get("Key")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    values: f
                        .get("Values")
                        .and_then(serde_json::Value::as_array)
                        .map(|v| {
                            v.iter()
                                .filter_map(serde_json::Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Tag;

    fn rec(name: &str, desc: &str, tags: &[(&str, &str)]) -> SecretRecord {
        SecretRecord {
            arn: format!("arn:aws:secretsmanager:us-east-1:1:secret:{name}-abcdef"),
            name: name.into(),
            description: Some(desc.into()),
            kms_key_id: None,
            created: 0.0,
            last_changed: 0.0,
            last_accessed: None,
            deleted: None,
            purge_at: None,
            tags: tags
                .iter()
                .map(|(k, v)| Tag {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            versions: Default::default(),
            policy: None,
            rotation: Default::default(),
            owning_service: None,
            primary_region: None,
            replicas: Vec::new(),
        }
    }

    fn f(key: &str, values: &[&str]) -> Filter {
        Filter {
            key: key.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn filter_semantics() {
        let r = rec(
            "prod/db/password",
            "The Main database",
            &[("team", "Payments")],
        );
        assert!(matches(&r, &[f("name", &["prod/"])]));
        assert!(!matches(&r, &[f("name", &["Prod/"])]));
        assert!(matches(&r, &[f("name", &["dev/", "prod/"])]));
        assert!(matches(&r, &[f("description", &["the main"])]));
        assert!(matches(
            &r,
            &[f("tag-key", &["te"]), f("tag-value", &["Pay"])]
        ));
        assert!(!matches(
            &r,
            &[f("tag-key", &["te"]), f("tag-value", &["pay"])]
        ));
        assert!(!matches(&r, &[f("name", &["!prod"])]));
        assert!(matches(&r, &[f("name", &["!dev"])]));
        assert!(matches(&r, &[f("all", &["payments"])]));
        assert!(matches(&r, &[f("all", &["database main"])]));
        assert!(!matches(&r, &[f("all", &["staging"])]));
    }
}
