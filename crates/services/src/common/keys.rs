//! Store keys: `account/region/service/kind/id` (DESIGN.md). Global services use region `global`.
//! Ids are escaped so that a name containing `/` can never reach into another namespace.

/// The key of one record.
pub fn key(account: &str, region: &str, service: &str, kind: &str, id: &str) -> String {
    format!("{}{}", prefix(account, region, service, kind), escape(id))
}

/// The prefix under which every record of one kind lives (ends with `/`).
pub fn prefix(account: &str, region: &str, service: &str, kind: &str) -> String {
    format!("{account}/{region}/{service}/{kind}/")
}

/// `%` and `/` are escaped; everything else is kept, so keys still sort by name.
pub fn escape(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
    out
}

pub fn unescape(id: &str) -> String {
    id.replace("%2F", "/").replace("%25", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_their_namespace() {
        let k = key("123456789012", "global", "iam", "user", "a/../b");
        assert_eq!(k, "123456789012/global/iam/user/a%2F..%2Fb");
        assert!(k.starts_with(&prefix("123456789012", "global", "iam", "user")));
        assert_eq!(unescape("a%2F..%2Fb%25"), "a/../b%");
    }
}
