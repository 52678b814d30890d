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
