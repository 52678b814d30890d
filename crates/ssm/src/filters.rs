//! `ParameterStringFilter`s (DescribeParameters, GetParametersByPath) and the older
//! `ParametersFilter`s, with AWS's rules for which keys and options each operation accepts.
use rampart_aws_types::AwsError;
use serde_json::Value;

use crate::error::ssm;
use crate::record::Param;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub key: String,
    pub option: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Describe,
    ByPath,
}

fn invalid_key(key: &str, op: Operation) -> AwsError {
    let valid = match op {
        Operation::Describe => "[Name, Type, KeyId, Path, Tier, DataType, tag:{key}]",
        Operation::ByPath => "[Type, KeyId, Label]",
    };
    ssm(
        "InvalidFilterKey",
        format!(
            "The following filter key is not valid: {key}. Valid filter keys include: {valid}."
        ),
    )
}

fn invalid_option(option: &str, key: &str) -> AwsError {
    ssm(
        "InvalidFilterOption",
        format!(
            "The following filter option is not valid: {option}. Valid options for the {key} filter include: [BeginsWith, Equals]."
        ),
    )
}

/// Parses and checks `ParameterFilters`.
pub fn parse(input: &Value, op: Operation) -> Result<Vec<Filter>, AwsError> {
    let Some(list) = input.get("ParameterFilters").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for f in list {
        let key = f
            .get("Key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let values: Vec<String> = f
            .get("Values")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let is_tag = key.starts_with("tag:");
        let allowed = match op {
            Operation::Describe => {
                is_tag
                    || matches!(
                        key.as_str(),
                        "Name" | "Type" | "KeyId" | "Path" | "Tier" | "DataType"
                    )
            }
            Operation::ByPath => matches!(key.as_str(), "Type" | "KeyId" | "Label"),
        };
        if !allowed {
            return Err(invalid_key(&key, op));
        }
        let default = if key == "Path" { "OneLevel" } else { "Equals" };
        let option = f
            .get("Option")
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string();
        let option_ok = match key.as_str() {
            "Path" => matches!(option.as_str(), "Recursive" | "OneLevel"),
            "Name" => matches!(option.as_str(), "Equals" | "BeginsWith" | "Contains"),
            "Label" => option == "Equals",
            _ => matches!(option.as_str(), "Equals" | "BeginsWith"),
        };
        if !option_ok {
            return Err(invalid_option(&option, &key));
        }
        if values.is_empty() && !is_tag {
            return Err(ssm(
                "InvalidFilterValue",
                format!("The filter {key} requires at least one value."),
            ));
        }
        out.push(Filter {
            key,
            option,
            values,
        });
    }
    Ok(out)
}

/// The older `Filters` (Name, Type, KeyId) as string filters.
pub fn parse_legacy(input: &Value) -> Vec<Filter> {
    input
        .get("Filters")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|f| {
                    let key = f
                        .get("Key")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    Filter {
                        option: if key == "Name" {
                            "BeginsWith"
                        } else {
                            "Equals"
                        }
                        .to_string(),
                        key,
                        values: f
                            .get("Values")
                            .and_then(Value::as_array)
                            .map(|v| {
                                v.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn text_matches(option: &str, actual: &str, wanted: &str) -> bool {
    match option {
        "BeginsWith" => actual.starts_with(wanted),
        "Contains" => actual.contains(wanted),
        _ => actual == wanted,
    }
}

fn path_matches(option: &str, name: &str, path: &str) -> bool {
    let prefix = if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    };
    match name.strip_prefix(&prefix) {
        Some(rest) => option == "Recursive" || !rest.contains('/'),
        None => false,
    }
}

/// The version a `Label` filter selects (the first of its values the parameter carries).
pub fn labelled_version(p: &Param, filters: &[Filter]) -> Option<u64> {
    filters
        .iter()
        .filter(|f| f.key == "Label")
        .flat_map(|f| f.values.iter())
        .find_map(|l| p.labels.get(l).copied())
}

pub fn matches(p: &Param, filters: &[Filter]) -> bool {
    filters.iter().all(|f| {
        let v = &p.latest;
        match f.key.as_str() {
            "Name" => f.values.iter().any(|w| {
                // Names match with or without their leading slash, as in AWS.
                let w = w.strip_prefix('/').unwrap_or(w);
                let n = p.name.strip_prefix('/').unwrap_or(&p.name);
                text_matches(&f.option, n, w)
            }),
            "Type" => f.values.iter().any(|w| text_matches(&f.option, &v.kind, w)),
            "KeyId" => f.values.iter().any(|w| {
                v.key_id
                    .as_deref()
                    .is_some_and(|k| text_matches(&f.option, k, w))
            }),
            "Tier" => f.values.iter().any(|w| text_matches(&f.option, &v.tier, w)),
            "DataType" => f
                .values
                .iter()
                .any(|w| text_matches(&f.option, &v.data_type, w)),
            "Path" => f.values.iter().any(|w| path_matches(&f.option, &p.name, w)),
            // Any version may carry the label; GetParametersByPath then answers that version.
            "Label" => f.values.iter().any(|w| p.labels.contains_key(w)),
            k => {
                let Some(tag_key) = k.strip_prefix("tag:") else {
                    return false;
                };
                p.tags.iter().any(|t| {
                    t.key == tag_key
                        && (f.values.is_empty()
                            || f.values
                                .iter()
                                .any(|w| text_matches(&f.option, &t.value, w)))
                })
            }
        }
    })
}
