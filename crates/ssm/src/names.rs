//! Parameter names, ARNs, selectors (`name:version`, `name:label`) and label rules, as AWS
//! documents them.
use rampart_aws_types::AwsError;

use crate::error::{self, ssm};

pub const MAX_DEPTH: usize = 15;
/// The ARN of a parameter, name included, is at most this long.
pub const MAX_ARN_CHARS: usize = 1011;
pub const REFERENCE_PREFIX: &str = "/aws/reference/secretsmanager/";

const NAME_RULES: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

pub fn arn(region: &str, account: &str, name: &str) -> String {
    let rest = name.strip_prefix('/').unwrap_or(name);
    format!("arn:aws:ssm:{region}:{account}:parameter/{rest}")
}

/// A parameter named by ARN (`arn:aws:ssm:...:parameter/a/b`) back to its name (`/a/b`).
pub fn name_from_input(given: &str) -> String {
    if let Some(rest) = given.strip_prefix("arn:")
        && let Some(idx) = rest.find(":parameter/")
    {
        let tail = rest.get(idx + ":parameter/".len()..).unwrap_or_default();
        return if tail.contains('/') {
            format!("/{tail}")
        } else {
            tail.to_string()
        };
    }
    given.to_string()
}

fn reserved_prefix(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    lower.starts_with("aws") || lower.starts_with("ssm")
}

/// Checks a name for PutParameter.
pub fn check_new_name(name: &str, region: &str, account: &str) -> Result<(), AwsError> {
    if name.contains('/') && !name.starts_with('/') {
        return Err(error::validation(
            "Parameter name must be a fully qualified name.",
        ));
    }
    let body = name.strip_prefix('/').unwrap_or(name);
    let segments: Vec<&str> = body.split('/').collect();
    if segments.len() > MAX_DEPTH {
        return Err(ssm(
            "HierarchyLevelLimitExceededException",
            format!("A hierarchy can have a maximum of {MAX_DEPTH} levels."),
        ));
    }
    let first = segments.first().copied().unwrap_or_default();
    let chars_ok = segments.iter().all(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    });
    if !chars_ok || reserved_prefix(first) {
        return Err(error::validation(NAME_RULES));
    }
    if arn(region, account, name).chars().count() > MAX_ARN_CHARS {
        return Err(error::validation(format!(
            "Parameter name, including the full length of the parameter ARN, can't exceed {MAX_ARN_CHARS} characters."
        )));
    }
    Ok(())
}

/// How many levels a name has (`/a/b` has 2, `x` has 1).
pub fn depth(name: &str) -> usize {
    name.strip_prefix('/').unwrap_or(name).split('/').count()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Latest,
    Version(u64),
    Label(String),
}

/// `name`, `name:3` or `name:label` (a name cannot contain `:`; an ARN can, so the selector is
/// what follows the last `:` after the resource part).
pub fn split_selector(given: &str) -> (String, Selector, Option<String>) {
    let (base, sel) = match given.rfind(':') {
        Some(idx)
            if !given.starts_with("arn:")
                || given.get(..idx).is_some_and(|b| b.contains(":parameter/")) =>
        {
            (given.get(..idx).unwrap_or(given), given.get(idx + 1..))
        }
        _ => (given, None),
    };
    let name = name_from_input(base);
    match sel {
        None => (name, Selector::Latest, None),
        Some(s) => {
            let selector = match s.parse::<u64>() {
                Ok(v) => Selector::Version(v),
                Err(_) => Selector::Label(s.to_string()),
            };
            (name, selector, Some(format!(":{s}")))
        }
    }
}

/// Whether a label follows AWS's rules: 1–100 characters of letters, digits, `.`, `-`, `_`,
/// not starting with a digit, `aws` or `ssm`.
pub fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.chars().count() <= 100
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !reserved_prefix(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let ok = |n: &str| check_new_name(n, "us-east-1", "111122223333").is_ok();
        assert!(ok("x"));
        assert!(ok("/app/db/password"));
        assert!(ok("a.b-c_d"));
        assert!(!ok("app/db"));
        assert!(!ok("/aws/x"));
        assert!(!ok("ssm-thing"));
        assert!(!ok("/AWSx/y"));
        assert!(!ok("/a//b"));
        assert!(!ok("/a/b/"));
        assert!(!ok("/a b"));
        assert!(ok(&format!("/{}", vec!["l"; 15].join("/"))));
        let e = check_new_name(&format!("/{}", vec!["l"; 16].join("/")), "r", "a").unwrap_err();
        assert_eq!(e.code, "HierarchyLevelLimitExceededException");
        assert!(!ok(&"n".repeat(1000)));
    }

    #[test]
    fn arns_and_selectors() {
        assert_eq!(
            arn("us-east-1", "1", "/a/b"),
            "arn:aws:ssm:us-east-1:1:parameter/a/b"
        );
        assert_eq!(
            arn("us-east-1", "1", "x"),
            "arn:aws:ssm:us-east-1:1:parameter/x"
        );
        assert_eq!(
            name_from_input("arn:aws:ssm:us-east-1:1:parameter/a/b"),
            "/a/b"
        );
        assert_eq!(name_from_input("arn:aws:ssm:us-east-1:1:parameter/x"), "x");
        assert_eq!(split_selector("/a/b").1, Selector::Latest);
        assert_eq!(
            split_selector("/a/b:3"),
            (
                "/a/b".to_string(),
                Selector::Version(3),
                Some(":3".to_string())
            )
        );
        assert_eq!(
            split_selector("/a/b:prod").1,
            Selector::Label("prod".into())
        );
        assert_eq!(
            split_selector("arn:aws:ssm:us-east-1:1:parameter/a/b").0,
            "/a/b"
        );
        assert_eq!(
            split_selector("arn:aws:ssm:us-east-1:1:parameter/a/b:2").1,
            Selector::Version(2)
        );
    }

    #[test]
    fn labels() {
        assert!(valid_label("prod"));
        assert!(valid_label("Release-1.2_x"));
        assert!(!valid_label("1st"));
        assert!(!valid_label("awsLabel"));
        assert!(!valid_label("SSM"));
        assert!(!valid_label("has space"));
        assert!(!valid_label(&"a".repeat(101)));
        assert!(!valid_label(""));
    }
}
