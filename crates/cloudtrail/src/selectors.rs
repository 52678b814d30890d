//! Event selectors: which events a trail logs. Basic selectors (read/write type, management
//! events, excluded sources) and advanced selectors (field conditions on eventCategory,
//! eventSource, eventName, eventType, readOnly, errorCode, userIdentity.arn, resources.type,
//! resources.ARN). Rampart records management events only, so data resources never match.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::error;
use rampart_aws_types::AwsError;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct EventSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_write_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_management_events: Option<bool>,
    pub data_resources: Vec<Value>,
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct FieldSelector {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct AdvancedSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

/// A trail's selection: AWS's default is every management event, read and write.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum Selection {
    Basic(Vec<EventSelector>),
    Advanced(Vec<AdvancedSelector>),
}

impl Default for Selection {
    fn default() -> Self {
        Selection::Basic(vec![EventSelector {
            read_write_type: Some("All".into()),
            include_management_events: Some(true),
            ..Default::default()
        }])
    }
}

const FIELDS: [&str; 11] = [
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "errorCode",
    "userIdentity.arn",
    "resources.type",
    "resources.ARN",
    "sessionCredentialFromConsole",
    "vpcEndpointId",
];

fn invalid(message: impl Into<String>) -> AwsError {
    error("InvalidEventSelectorsException", message)
}

/// Checks a PutEventSelectors request the way CloudTrail does.
pub fn validate(selection: &Selection) -> Result<(), AwsError> {
    match selection {
        Selection::Basic(list) => {
            if list.is_empty() || list.len() > 5 {
                return Err(invalid(
                    "You can configure up to five event selectors for a trail.",
                ));
            }
            for s in list {
                if let Some(t) = &s.read_write_type {
                    if !["ReadOnly", "WriteOnly", "All"].contains(&t.as_str()) {
                        return Err(invalid(format!("Invalid ReadWriteType: {t}")));
                    }
                }
            }
        }
        Selection::Advanced(list) => {
            if list.is_empty() {
                return Err(invalid("At least one advanced event selector is required."));
            }
            let conditions: usize = list
                .iter()
                .flat_map(|s| &s.field_selectors)
                .map(|f| {
                    [
                        &f.equals,
                        &f.starts_with,
                        &f.ends_with,
                        &f.not_equals,
                        &f.not_starts_with,
                        &f.not_ends_with,
                    ]
                    .iter()
                    .map(|v| v.as_ref().map_or(0, Vec::len))
                    .sum::<usize>()
                })
                .sum();
            if conditions > 500 {
                return Err(invalid(
                    "Advanced event selectors can have at most 500 conditions in all.",
                ));
            }
            for s in list {
                if !s.field_selectors.iter().any(|f| f.field == "eventCategory") {
                    return Err(invalid(
                        "Each advanced event selector must include the eventCategory field.",
                    ));
                }
                for f in &s.field_selectors {
                    if !FIELDS.contains(&f.field.as_str()) {
                        return Err(invalid(format!(
                            "Invalid field name in advanced event selector: {}",
                            f.field
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

fn field_values(event: &Value, field: &str) -> Vec<String> {
    let text = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Bool(b)) => vec![b.to_string()],
            _ => Vec::new(),
        }
    };
    match field {
        "userIdentity.arn" => text(event.get("userIdentity").and_then(|u| u.get("arn"))),
        "resources.type" | "resources.ARN" => {
            let key = if field == "resources.type" {
                "type"
            } else {
                "ARN"
            };
            event
                .get("resources")
                .and_then(Value::as_array)
                .map(|rs| rs.iter().flat_map(|r| text(r.get(key))).collect())
                .unwrap_or_default()
        }
        other => text(event.get(other)),
    }
}

fn field_matches(event: &Value, f: &FieldSelector) -> bool {
    let values = field_values(event, &f.field);
    let any = |list: &Option<Vec<String>>, test: &dyn Fn(&str, &str) -> bool| -> bool {
        match list {
            None => true,
            Some(l) => values.iter().any(|v| l.iter().any(|x| test(v, x))),
        }
    };
    let none = |list: &Option<Vec<String>>, test: &dyn Fn(&str, &str) -> bool| -> bool {
        match list {
            None => true,
            Some(l) => !values.iter().any(|v| l.iter().any(|x| test(v, x))),
        }
    };
    any(&f.equals, &|v, x| v == x)
        && any(&f.starts_with, &|v, x| v.starts_with(x))
        && any(&f.ends_with, &|v, x| v.ends_with(x))
        && none(&f.not_equals, &|v, x| v == x)
        && none(&f.not_starts_with, &|v, x| v.starts_with(x))
        && none(&f.not_ends_with, &|v, x| v.ends_with(x))
}

/// Whether a trail with this selection logs `event`.
pub fn selects(selection: &Selection, event: &Value) -> bool {
    let read_only = event
        .get("readOnly")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let source = event
        .get("eventSource")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match selection {
        Selection::Basic(list) => list.iter().any(|s| {
            s.include_management_events.unwrap_or(true)
                && match s.read_write_type.as_deref().unwrap_or("All") {
                    "ReadOnly" => read_only,
                    "WriteOnly" => !read_only,
                    _ => true,
                }
                && !s
                    .exclude_management_event_sources
                    .iter()
                    .any(|x| x == source)
        }),
        Selection::Advanced(list) => list
            .iter()
            .any(|s| s.field_selectors.iter().all(|f| field_matches(event, f))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(name: &str, ro: bool) -> Value {
        json!({"eventName": name, "readOnly": ro, "eventSource": "kms.amazonaws.com",
               "eventCategory": "Management", "userIdentity": {"arn": "arn:aws:iam::1:root"}})
    }

    #[test]
    fn basic_selectors() {
        let all = Selection::default();
        assert!(selects(&all, &ev("Encrypt", false)));
        let writes = Selection::Basic(vec![EventSelector {
            read_write_type: Some("WriteOnly".into()),
            ..Default::default()
        }]);
        assert!(selects(&writes, &ev("CreateKey", false)));
        assert!(!selects(&writes, &ev("ListKeys", true)));
        let no_kms = Selection::Basic(vec![EventSelector {
            exclude_management_event_sources: vec!["kms.amazonaws.com".into()],
            ..Default::default()
        }]);
        assert!(!selects(&no_kms, &ev("CreateKey", false)));
        let none = Selection::Basic(vec![EventSelector {
            include_management_events: Some(false),
            ..Default::default()
        }]);
        assert!(!selects(&none, &ev("CreateKey", false)));
    }

    #[test]
    fn advanced_selectors() {
        let sel = Selection::Advanced(vec![AdvancedSelector {
            name: None,
            field_selectors: vec![
                FieldSelector {
                    field: "eventCategory".into(),
                    equals: Some(vec!["Management".into()]),
                    ..Default::default()
                },
                FieldSelector {
                    field: "eventName".into(),
                    starts_with: Some(vec!["Create".into(), "Delete".into()]),
                    not_equals: Some(vec!["DeleteAlias".into()]),
                    ..Default::default()
                },
                FieldSelector {
                    field: "readOnly".into(),
                    equals: Some(vec!["false".into()]),
                    ..Default::default()
                },
            ],
        }]);
        assert!(validate(&sel).is_ok());
        assert!(selects(&sel, &ev("CreateKey", false)));
        assert!(selects(&sel, &ev("DeleteKey", false)));
        assert!(!selects(&sel, &ev("DeleteAlias", false)));
        assert!(!selects(&sel, &ev("Encrypt", false)));
        assert!(!selects(&sel, &ev("CreateKey", true)));
        let bad = Selection::Advanced(vec![AdvancedSelector {
            name: None,
            field_selectors: vec![FieldSelector {
                field: "eventName".into(),
                equals: Some(vec!["X".into()]),
                ..Default::default()
            }],
        }]);
        assert_eq!(
            validate(&bad).unwrap_err().code,
            "InvalidEventSelectorsException"
        );
    }
}
